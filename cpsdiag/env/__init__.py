"""Workstation diagnosis: PC/SC service, readers and drivers, the Cryptolib CPS and other middleware, browsers,
remote session, proxy: one module per probed area (``cpsdiag/env/areas/``).

Public API (imported lazily, so that importing the catalogue stays light)::

    collect_environment(system=None, *, card_generation=None, card_serial=None) -> EnvironmentFacts
    judge_environment(facts) -> list[Finding]          # step "environment"
    environment_dict(facts) -> dict                     # the report's "environment" section
    environment_text(facts) -> str                      # plain text (helpdesk bundle)
    render_environment(facts, console)                  # Rich panel
    System, load_layout                                 # the probed system; fake layouts for tests
    AREAS                                               # the registry of probed areas (cpsdiag/env/areas/)

docs/environment.md describes what is probed, the fake layouts and every finding code.
"""

from __future__ import annotations

from cpsdiag.lazy import lazy_getattr

_API = {
    "collect_environment": "cpsdiag.env.collect",
    "judge_environment": "cpsdiag.env.judge",
    "environment_dict": "cpsdiag.env.render",
    "environment_text": "cpsdiag.env.render",
    "render_environment": "cpsdiag.env.render",
    "EnvironmentFacts": "cpsdiag.env.facts",
    "AREAS": "cpsdiag.env.facts",
    "System": "cpsdiag.host.system",
    "load_layout": "cpsdiag.host.layout",
}

__all__ = sorted(_API)

__getattr__ = lazy_getattr(__name__, _API)
