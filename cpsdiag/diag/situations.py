"""The holder's practice situations (CPS_ACTIVITY_nn_PS), read once the PIN was presented.

Billing software (SESAM-Vitale) bills in the name of one of these situations;
a card without any cannot bill. They are private data objects: reading them
needs the PIN, so only ``check --sign``/``--tls`` (which present it) read them,
through the same path as the key tests (the card's commands or a PKCS#11
module). Their raw bytes go to the report; they are decoded only when they
have the one publicly described form (cpsdiag.card.situation).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable

from cpsdiag import errors

if TYPE_CHECKING:
    from cpsdiag.card.reader import CardData, DataObjectFile
    from cpsdiag.card.situation import PracticeSituation


@dataclass(frozen=True)
class SituationRead:
    label: str
    size: int | None
    raw: bytes | None
    error: str | None = None
    decoded: PracticeSituation | None = None


@dataclass
class SituationFacts:
    via: str                          # "apdu" | "pkcs11"
    listed: bool                      # the DODF was read (else nobody knows how many the card holds)
    items: list[SituationRead] = field(default_factory=list)
    error: str | None = None          # why the DODF could not be read

    @property
    def count(self) -> int:
        return len(self.items)


def situation_objects(card: CardData) -> list[DataObjectFile]:
    from cpsdiag.card.situation import is_situation

    return [f for f in card.data_objects if is_situation(f.object.label)]


def read_situations(card: CardData, read: Callable[[DataObjectFile], bytes], via: str,
                    on_read: Callable[[str], None] | None = None) -> SituationFacts:
    """Each situation the DODF lists, read with ``read`` (which raises a cpsdiag error when it cannot)."""
    from cpsdiag.card.situation import parse_situation

    problem = next((p for p in card.problems if p.step == "dodf"), None)
    out = SituationFacts(via, listed=problem is None, error=str(problem.error) if problem else None)
    for file in situation_objects(card):
        label = file.object.label
        if on_read is not None:
            on_read(label)
        try:
            raw = read(file)
        except (errors.ApduError, errors.CardProtocolError, errors.Pkcs11Error) as exc:
            out.items.append(SituationRead(label, file.size, None, str(exc)))
            continue
        try:
            decoded = parse_situation(raw, where=label)
        except errors.MalformedDataError:
            decoded = None            # another form than the public one: reported raw
        out.items.append(SituationRead(label, file.size, raw, None, decoded))
    return out
