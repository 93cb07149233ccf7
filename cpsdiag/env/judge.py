"""Judge the workstation facts: pure, facts in, findings out (step ``environment``).

Each area of the registry (``cpsdiag.env.facts.AREAS``) appends its findings,
in registry order; an area's rules are in its module.
"""

from __future__ import annotations

from typing import Sequence

from cpsdiag.env.area import Area
from cpsdiag.env.facts import AREAS, EnvironmentFacts
from cpsdiag.findings.model import Finding


def judge_environment(facts: EnvironmentFacts, areas: Sequence[Area[EnvironmentFacts]] = AREAS) -> list[Finding]:
    out: list[Finding] = []
    for area in areas:
        area.judge(facts, out)
    return out
