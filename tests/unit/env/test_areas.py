"""The registry of probed areas drives the collector, the judge and the views (issue 13, item 4).

An area registered here, beside the real ones, is probed on the fake
workstations of tests/data/env (after the areas it needs), judged in registry
order and shown in the panel, the bundle text and the section list; leaving an
area out of the registry leaves out its probe, findings and rows.
"""

from __future__ import annotations

import io

import pytest
from rich.console import Console

from cpsdiag.env.area import INFO, Area, Context, Row, Section, finding
from cpsdiag.env.areas.pcsc import PcscFacts
from cpsdiag.env.collect import collect_environment, collection_order
from cpsdiag.env.facts import AREAS, EnvironmentFacts
from cpsdiag.env.judge import judge_environment
from cpsdiag.env.record import EnvironmentSection
from cpsdiag.env.render import environment_text, render_environment, sections
from cpsdiag.findings.model import Finding
from cpsdiag.host.layout import load_layout
from tests.support.paths import DATA

ENV = DATA / "env"


class ReaderCount:
    """A test area: reads a file of the workstation, and what the PC/SC area found before it."""

    def __init__(self, platforms: frozenset[str] | None = None) -> None:
        self.seen: list[tuple[str, int]] = []
        self.area: Area[EnvironmentFacts] = Area("readers-count", self.collect, self.judge, self.sections,
                                                 stage="files", needs=("pcsc",), platforms=platforms)

    def collect(self, ctx: Context) -> None:
        os_release = ctx.system.read_text("/etc/os-release") or ""
        self.seen.append((os_release.split("\n", 1)[0], len(ctx.get("pcsc", PcscFacts).readers)))

    def judge(self, facts: EnvironmentFacts, out: list[Finding]) -> None:
        # A code of the catalogue (findings must have one), told apart by its parameter.
        out.append(finding("PCSC_NOT_PROBED", INFO, reason=f"test area: {len(facts.pcsc.readers)} reader(s)"))

    def sections(self, env: EnvironmentSection) -> list[Section]:
        return [Section("Test area", [Row("Readers", str(len(env.pcsc.readers)))])]


def test_an_area_in_the_registry_is_collected_after_what_it_needs_judged_and_shown():
    extra = ReaderCount()
    # Registered first, it is still collected after the PC/SC area it needs.
    areas = (extra.area, *AREAS)
    facts = collect_environment(load_layout(ENV / "linux"), card_serial="90000001", areas=areas)
    assert extra.seen == [('PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"', 1)]

    findings = judge_environment(facts, areas)
    assert findings[0].code == "PCSC_NOT_PROBED" and findings[0].params == {"reason": "test area: 1 reader(s)"}
    assert [f.code for f in findings[1:]] == [f.code for f in judge_environment(facts)]

    titles = [s.title for s in sections(facts, areas)]
    assert titles[0] == "Test area" and titles[1:] == [s.title for s in sections(facts)]
    assert environment_text(facts, areas).startswith("[Test area]\n  Readers: 1\n\n[")
    assert environment_text(facts, areas).endswith(environment_text(facts))
    console = Console(file=io.StringIO(), width=100, color_system=None)
    render_environment(facts, console, areas=areas)
    assert "Test area" in console.file.getvalue()


def test_an_area_of_one_system_is_probed_only_there_and_shown_after_the_others():
    extra = ReaderCount(platforms=frozenset({"darwin"}))
    areas = (*AREAS[:2], extra.area, *AREAS[2:])
    linux = collect_environment(load_layout(ENV / "linux"), areas=areas)
    assert extra.seen == []
    darwin = collect_environment(load_layout(ENV / "darwin"), areas=areas)
    assert len(extra.seen) == 1
    titles = [s.title for s in sections(darwin, areas)]
    assert titles[-1] == "Test area" and titles[:-1] == [s.title for s in sections(darwin)]
    # Its rules still run: they say themselves when the facts are not theirs.
    assert {"reason": "test area: 1 reader(s)"} in [f.params for f in judge_environment(linux, areas)]


def test_an_area_left_out_of_the_registry_gives_no_probe_no_finding_no_row():
    without_proxy = tuple(a for a in AREAS if a.name != "proxy")
    facts = collect_environment(load_layout(ENV / "darwin"), areas=without_proxy)
    assert facts.proxy == ()
    assert "proxy" not in facts.timings_ms
    full = collect_environment(load_layout(ENV / "darwin"))
    assert full.proxy and "proxy" in full.timings_ms
    assert "Proxy" not in [s.title for s in sections(facts, without_proxy)]
    assert "Proxy" in [s.title for s in sections(full)]


def test_the_timings_keep_their_stages_in_collection_order():
    facts = collect_environment(load_layout(ENV / "win32"))
    assert list(facts.timings_ms) == ["system", "pcsc", "files", "pkcs11", "windows", "proxy", "total"]
    facts = collect_environment(load_layout(ENV / "linux"))
    assert list(facts.timings_ms) == ["system", "pcsc", "files", "pkcs11", "proxy", "total"]


def test_the_collection_order_refuses_a_need_missing_or_circular():
    def area(name: str, *needs: str) -> Area[EnvironmentFacts]:
        return Area(name, lambda ctx: None, lambda facts, out: None, lambda env: [], stage="x", needs=needs)

    assert [a.name for a in collection_order([area("b", "a"), area("a"), area("c")])] == ["a", "b", "c"]
    with pytest.raises(ValueError, match="not registered"):
        collection_order([area("a", "nowhere")])
    with pytest.raises(ValueError, match="need each other"):
        collection_order([area("a", "b"), area("b", "a")])
    # The real registry: the modules area loads the browsers' modules, so it is collected after them.
    assert [a.name for a in collection_order(AREAS)] == ["session", "pcsc", "cryptolib", "browsers", "modules",
                                                         "windows", "proxy"]
    assert [a.name for a in AREAS] == ["session", "pcsc", "cryptolib", "modules", "browsers", "windows", "proxy"]
