"""What a probed area of the workstation is: its probe, its judging rules, its rows; and what they share.

An area (``cpsdiag/env/areas/``: the session, PC/SC, the Cryptolib CPS, the
PKCS#11 modules, the browsers, Windows, the proxy) is one module that holds
its facts, the probe that gathers them, the rules that judge them and the rows
that show them, and ends with its ``AREA``. ``cpsdiag.env.facts`` lists the
areas in ``AREAS``; the collector, the judge and the views only walk that list
(docs/environment.md, "Adding an area").

This module is below the areas: it knows none of them. An area's rules read
other areas' facts through a ``Protocol`` of its own (the fields it reads of
``EnvironmentFacts``), so that no area module has to import the whole.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Callable, Generic, TypeVar

from cpsdiag.findings.model import Finding, Severity
from cpsdiag.host.system import System

if TYPE_CHECKING:
    from cpsdiag.env.record import EnvironmentSection

STEP = "environment"
OK, INFO, WARNING, ERROR = Severity.OK, Severity.INFO, Severity.WARNING, Severity.ERROR

T = TypeVar("T")
F = TypeVar("F", contravariant=True)


def finding(code: str, severity: Severity, **params: object) -> Finding:
    """A finding of step ``environment``; parameters that are None are left out."""
    return Finding(code, severity, STEP, {k: v for k, v in params.items() if v is not None})


class CardSource(StrEnum):
    """Where the card's generation comes from."""

    CHECK = "check"     # check read the card
    ATR = "atr"         # the ATR of a CPS card in a reader


@dataclass
class Context:
    """What the areas collected so far, passed to each area's probe in turn.

    ``found`` holds the fields of ``EnvironmentFacts`` by name, as each area
    sets them (heterogeneous by nature: the dataclass checks the names when the
    collector builds it, ``get`` checks a type when an area reads another's).
    The card (``card_*``) is check's when it read it, else the readers' (the
    PC/SC area fills it in).
    """

    system: System
    live: bool
    card_generation: str | None = None
    card_serial: str | None = None
    card_source: CardSource | None = None
    card_atrs: tuple[str, ...] = ()
    found: dict[str, Any] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    started: float = field(default_factory=time.perf_counter)
    _since: float = field(default=0.0, repr=False)

    def __post_init__(self) -> None:
        self._since = self.started

    def get(self, name: str, kind: type[T]) -> T:
        """A field another area set, of the type it must have."""
        value = self.found[name]
        if not isinstance(value, kind):
            raise TypeError(f"environment field {name!r} is {type(value).__name__}, not {kind.__name__}")
        return value

    def lap(self, stage: str) -> None:
        """Add the time since the last lap to ``stage`` (timings_ms): several areas may share one stage."""
        now = time.perf_counter()
        self.timings[stage] = round(self.timings.get(stage, 0.0) + (now - self._since) * 1000, 2)
        self._since = now


# -- the rows ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Row:
    """A label and its value; ``alert``: the value reports a problem (red, and always in words); ``brief``:
    also in the short workstation panel of ``check``."""

    label: str
    value: str
    alert: bool = False
    brief: bool = False


@dataclass(frozen=True)
class Section:
    title: str
    rows: list[Row]


# -- the area ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Area(Generic[F]):
    """One probed area. ``F``: what its rules read (a Protocol that ``EnvironmentFacts`` satisfies).

    ``collect`` sets the area's fields in the context (and may complete those of
    the areas it ``needs``, which are collected before it); the collector then
    adds the time taken to ``stage``. ``judge`` appends the area's findings;
    ``sections`` makes its rows from the record (facts or a bundle read back).
    An area with ``platforms`` is probed only there (its fields keep their
    default) and its sections come after those of the areas probed everywhere.
    """

    name: str
    collect: Callable[[Context], None]
    judge: Callable[[F, list[Finding]], None]
    sections: Callable[[EnvironmentSection], list[Section]]
    stage: str
    needs: tuple[str, ...] = ()
    platforms: frozenset[str] | None = None

    def applies(self, platform: str) -> bool:
        return self.platforms is None or platform in self.platforms
