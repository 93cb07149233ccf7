"""Key operations on a card, by role, whatever carries them (APDUs here, PKCS#11 in cpsdiag.pkcs11).

The self-test and the TLS probe only see this interface, so the same tests run
on the card directly and through the middleware browsers use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from cpsdiag.card.pkcs15 import PrivateKeyObject

if TYPE_CHECKING:
    from cpsdiag.card.commands import CardCommands
    from cpsdiag.card.reader import DataObjectFile


class KeyOps(Protocol):
    schemes: tuple[str, ...]           # what the authentication key can sign for TLS: "pkcs1", "pss"

    def sign_pkcs1(self, role: str, digest_info: bytes) -> bytes: ...
    def sign_pss(self, role: str, hash_name: str, digest: bytes) -> bytes: ...
    def sign_message(self, role: str, message: bytes) -> bytes: ...
    def read_data(self, file: DataObjectFile) -> bytes: ...


class ApduKeyOps:
    """The card's own commands (CPS3: INTERNAL AUTHENTICATE, PSO HASH; CPS4: raw RSA, MSE SET DST)."""

    def __init__(self, commands: CardCommands, keys: dict[str, PrivateKeyObject]):
        self.commands = commands
        self.keys = keys
        self.schemes = tuple(commands.schemes)

    # Each generation's command set knows how it signs (card/cps3.py, card/cps4.py): no generation test here.
    def sign_pkcs1(self, role: str, digest_info: bytes) -> bytes:
        return self.commands.sign_pkcs1(self.keys[role], digest_info)

    def sign_pss(self, role: str, hash_name: str, digest: bytes) -> bytes:
        return self.commands.sign_pss(self.keys[role], hash_name, digest)

    def sign_message(self, role: str, message: bytes) -> bytes:
        return self.commands.sign_message(self.keys[role], message)

    def read_data(self, file: DataObjectFile) -> bytes:
        """A data object's contents (a private one once the PIN was verified)."""
        self.commands.select_path(file.path)
        return self.commands.s.read_all(size=file.size)
