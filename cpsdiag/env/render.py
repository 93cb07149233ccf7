"""The environment's one set of rows, made from its record, and the views that show them.

The report's ``environment`` section (``record.EnvironmentSection``), the
plain text of the helpdesk bundle (environment.txt), the ``cpsdiag env``
panel, the ``check`` console's short workstation panel (the rows marked
``brief``) and the HTML page all show these rows, so they never disagree.
Each area of the registry (``cpsdiag.env.facts.AREAS``) makes its own
sections. Rich is imported only by ``render_environment``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Sequence

from cpsdiag.env.area import Area, Row, Section
from cpsdiag.env.facts import AREAS, EnvironmentFacts, environment_section
from cpsdiag.env.record import EnvironmentSection
from cpsdiag.i18n import _

if TYPE_CHECKING:
    from rich.console import Console

__all__ = ["Row", "Section", "environment_dict", "environment_text", "render_environment", "sections"]


def _record(env: EnvironmentFacts | EnvironmentSection) -> EnvironmentSection:
    return env if isinstance(env, EnvironmentSection) else environment_section(env)


def environment_dict(facts: EnvironmentFacts | EnvironmentSection) -> dict[str, Any]:
    """The JSON section "environment" (docs/environment.md describes every field)."""
    import msgspec

    section: dict[str, Any] = msgspec.to_builtins(_record(facts))
    return section


def shown_order(areas: Sequence[Area[EnvironmentFacts]]) -> list[Area[EnvironmentFacts]]:
    """Registry order, the areas probed on one system only last (the panel closes on that system's own part)."""
    return [a for a in areas if a.platforms is None] + [a for a in areas if a.platforms is not None]


def sections(env: EnvironmentFacts | EnvironmentSection,
             areas: Sequence[Area[EnvironmentFacts]] = AREAS) -> list[Section]:
    """Every part of the environment (facts or their record), in the user's language."""
    record = _record(env)
    return [section for area in shown_order(areas) for section in area.sections(record)]


def environment_text(env: EnvironmentFacts | EnvironmentSection,
                     areas: Sequence[Area[EnvironmentFacts]] = AREAS) -> str:
    """Plain text (the helpdesk bundle's environment.txt): one section per part, one "label: value" per line."""
    lines = []
    for section in sections(env, areas):
        lines.append(f"[{section.title}]")
        for row in section.rows:
            lines.append(f"  {row.label}: {row.value}" if row.label else f"    {row.value}")
        lines.append("")
    return "\n".join(lines)


def render_environment(env: EnvironmentFacts | EnvironmentSection, console: Console, brief: bool = False,
                       areas: Sequence[Area[EnvironmentFacts]] = AREAS) -> None:
    """A Rich panel of the rows (only the ``brief`` ones for ``check``); every value is words, never colour alone."""
    from cpsdiag.richview import KeyValues
    from cpsdiag.richview import Row as Shown
    from cpsdiag.richview import panel

    shown: list[Shown] = []
    for section in sections(env, areas):
        rows = [r for r in section.rows if r.brief or not brief]
        if not rows:
            continue
        if shown and not brief:
            shown.append(Shown("", section=True))
        shown.append(Shown(section.title, section=True))
        shown += [Shown(r.label, r.value, style="red" if r.alert else "") for r in rows]
    if shown:
        console.print(panel(KeyValues(shown), _("Workstation"), console))
