"""The command set of a card generation, behind one interface."""

from __future__ import annotations

from typing import Protocol

from cpsdiag.card.generation import Generation
from cpsdiag.card.pin import PinStatus
from cpsdiag.card.pkcs15 import PrivateKeyObject
from cpsdiag.card.session import CardSession
from cpsdiag.transport.base import CardLink


class CardCommands(Protocol):
    spec: Generation                # what the generation is (card/generation.py)
    generation: str
    supports_sfi: bool
    schemes: tuple[str, ...]        # signature paddings the card can produce for TLS: "pkcs1", "pss"
    s: CardSession

    def start(self) -> None: ...
    def select_path(self, path: bytes) -> None: ...
    def file_size(self, path: bytes) -> int | None: ...
    def read_pin_status(self, reference: int, path: bytes | None) -> PinStatus: ...
    def verify_pin(self, reference: int, path: bytes | None, pin: bytes) -> None: ...
    # Signing with a key of the PrKDF; a scheme the generation cannot produce raises card.signing.CannotSign.
    def sign_pkcs1(self, key: PrivateKeyObject, digest_info: bytes) -> bytes: ...
    def sign_pss(self, key: PrivateKeyObject, hash_name: str, digest: bytes) -> bytes: ...
    def sign_message(self, key: PrivateKeyObject, message: bytes) -> bytes: ...


def commands_for(generation: str, link: CardLink) -> CardCommands:
    from cpsdiag.card.cps3 import Cps3Commands
    from cpsdiag.card.cps4 import Cps4Commands

    # One command set per generation; anything not a CPS4 is driven as a CPS3, as before.
    sets: dict[str, type[Cps3Commands] | type[Cps4Commands]] = {"CPS3": Cps3Commands, "CPS4": Cps4Commands}
    return sets.get(generation, Cps3Commands)(link)
