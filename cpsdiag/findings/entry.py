"""A catalogue entry: the English templates of one finding code's title, detail and remedy."""

from __future__ import annotations

from dataclasses import dataclass, field

from cpsdiag.i18n import N_

# No-break spaces keep the phone number on one line when the console wraps.
ANS_SUPPORT = N_("ANS support: 0 825 852 000 (0.06 €/min plus call price, 24/7) or "
                 "monserviceclient.cartes@asipsante.fr.")


@dataclass(frozen=True)
class Entry:
    title: str
    detail: str
    remedy: str | None = None
    # (parameter, sentence): the sentence is appended to the remedy when the parameter is known.
    extras: tuple[tuple[str, str], ...] = field(default_factory=tuple)
    # (parameter, detail): the detail to use instead when the parameter is not known.
    detail_without: tuple[str, str] | None = None
