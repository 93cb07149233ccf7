"""The ``readers`` and ``atr`` commands' library side: what PC/SC lists, what an ATR alone says, their findings.

The CLI only calls these and renders the result; the finding codes are
decided by ``cpsdiag.diag.judge`` (``judge_readers``, ``judge_atr``), like the
check's.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypedDict

from cpsdiag import errors
from cpsdiag.findings.model import Finding, Judged

if TYPE_CHECKING:
    from cpsdiag.card.identify import CardModel
    from cpsdiag.iso7816.atr import Atr


class ReaderRow(TypedDict):
    """One reader, in the shape of the `cpsdiag.readers/1` JSON and of the console table."""

    name: str
    card_present: bool
    atr: str | None             # hex with spaces
    card: str | None            # what the ATR says the card is
    exclusive: bool             # another program holds it exclusively
    in_use: bool


@dataclass
class ReadersResult(Judged):
    rows: list[ReaderRow] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)


@dataclass
class AtrResult(Judged):
    decoded: Atr
    model: CardModel | None
    guessed: bool                 # no known ATR matched; ``model`` is the nearest family, if any
    findings: list[Finding] = field(default_factory=list)


def list_readers() -> ReadersResult:
    """The PC/SC readers, whether they hold a card and which (from its ATR), and what is wrong."""
    from cpsdiag.diag.collect import describe_card
    from cpsdiag.diag.facts import ReaderFacts
    from cpsdiag.diag.judge import judge_readers
    from cpsdiag.transport import pcsc

    error: errors.PcscError | None = None
    try:
        with pcsc.PcscContext() as ctx:
            states = ctx.states(ctx.readers())
    except errors.PcscError as exc:
        error, states = exc, []
    rows: list[ReaderRow] = []
    for s in states:
        card = describe_card(ReaderFacts(s.name, s.card_present, s.atr, s.exclusive)) if s.card_present else None
        rows.append(ReaderRow(name=s.name, card_present=s.card_present, atr=s.atr.hex(" ").upper() or None,
                              card=card, exclusive=s.exclusive, in_use=s.in_use))
    return ReadersResult(rows, judge_readers(error, len(states)))


def decode_atr(text: str, where: str = "command line") -> AtrResult:
    """Decode an ATR typed as hex and identify the card; ``MalformedDataError`` when it is not an ATR."""
    from cpsdiag.card.identify import guess, identify
    from cpsdiag.diag.judge import judge_atr
    from cpsdiag.iso7816.atr import parse_atr

    decoded = parse_atr(text, where=where)
    model = identify(decoded)
    guessed = model is None
    if guessed:
        model = guess(decoded)
    return AtrResult(decoded, model, guessed, judge_atr(decoded.hex, model, guessed))
