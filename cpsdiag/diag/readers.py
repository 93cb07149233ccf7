"""The ``readers`` and ``atr`` commands' library side: what PC/SC lists, what an ATR alone says, their findings.

The CLI only calls these and renders the result; the finding codes are
decided by ``cpsdiag.diag.judge`` (``judge_readers``, ``judge_atr``), like the
check's.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from cpsdiag import errors
from cpsdiag.findings.model import Finding, Judged

if TYPE_CHECKING:
    from cpsdiag.card.identify import CardModel
    from cpsdiag.iso7816.atr import Atr


@dataclass
class ReadersResult(Judged):
    # One row per reader, in the shape of the `cpsdiag.readers/1` JSON and of the console table.
    rows: list[dict[str, Any]] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)


@dataclass
class AtrResult(Judged):
    decoded: Atr
    model: CardModel | None
    guessed: bool                 # no known ATR matched; ``model`` is the nearest family, if any
    findings: list[Finding] = field(default_factory=list)


def list_readers() -> ReadersResult:
    """The PC/SC readers, whether they hold a card and which (from its ATR), and what is wrong."""
    from cpsdiag.diag.collect import ReaderFacts, describe_card
    from cpsdiag.diag.judge import judge_readers
    from cpsdiag.transport import pcsc

    error: errors.PcscError | None = None
    try:
        with pcsc.PcscContext() as ctx:
            states = ctx.states(ctx.readers())
    except errors.PcscError as exc:
        error, states = exc, []
    rows = []
    for s in states:
        card = describe_card(ReaderFacts(s.name, s.card_present, s.atr, s.exclusive)) if s.card_present else None
        rows.append({"name": s.name, "card_present": s.card_present, "atr": s.atr.hex(" ").upper() or None,
                     "card": card, "exclusive": s.exclusive, "in_use": s.in_use})
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
