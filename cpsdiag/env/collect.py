"""Collect the workstation facts: every area of the registry (``cpsdiag.env.facts.AREAS``) probed in turn.

Collecting only gathers: nothing here decides what is wrong
(cpsdiag.env.judge does). A probe that cannot tell leaves ``None`` in the
facts; expected failures (no library, no service, a module that will not
load) are facts too, never exceptions.
"""

from __future__ import annotations

import time
from typing import Sequence

from cpsdiag.env.area import Area, Context
from cpsdiag.env.facts import AREAS, EnvironmentFacts
from cpsdiag.host.system import System


def collection_order(areas: Sequence[Area[EnvironmentFacts]]) -> list[Area[EnvironmentFacts]]:
    """The areas in registry order, except that an area comes after the areas it ``needs``."""
    names = {a.name for a in areas}
    missing = [(a.name, n) for a in areas for n in a.needs if n not in names]
    if missing:
        raise ValueError(f"an area needs one that is not registered: {missing}")
    done: set[str] = set()
    order: list[Area[EnvironmentFacts]] = []
    pending = list(areas)
    while pending:
        ready = next((a for a in pending if set(a.needs) <= done), None)
        if ready is None:
            raise ValueError(f"areas that need each other: {[a.name for a in pending]}")
        pending.remove(ready)
        order.append(ready)
        done.add(ready.name)
    return order


def collect_environment(system: System | None = None, *, card_generation: str | None = None,
                        card_serial: str | None = None, live: bool = True,
                        areas: Sequence[Area[EnvironmentFacts]] = AREAS) -> EnvironmentFacts:
    """Everything the workstation diagnosis looks at. ``card_*`` come from ``check`` when it read the card.

    ``live=False`` (what ``check`` uses) reads only files, registry and package
    data: no PC/SC helper (check has just talked to the service itself) and no
    PKCS#11 module loaded (a module reads the whole card: seconds at T=0 speed).
    ``areas``: the registry (tests pass their own).
    """
    ctx = Context(system=system or System.local(), live=live, card_generation=card_generation,
                  card_serial=card_serial)
    for area in collection_order(areas):
        if area.applies(ctx.system.platform):
            area.collect(ctx)
            ctx.lap(area.stage)
    ctx.timings["total"] = round((time.perf_counter() - ctx.started) * 1000, 2)
    return EnvironmentFacts(**ctx.found, card_generation=ctx.card_generation, card_serial=ctx.card_serial,
                            card_source=ctx.card_source, card_atrs=ctx.card_atrs, timings_ms=ctx.timings)
