"""Area "proxy": the proxy settings of the workstation (environment variables, then the system's own).

Read by ``cpsdiag.net.settings`` (docs/network.md), which the network code uses
too; this area reports them and says when a script decides (PAC, WPAD), which
cpsdiag does not run.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from cpsdiag.env.area import INFO, Area, Context, Row, Section, finding
from cpsdiag.findings.model import Finding
from cpsdiag.i18n import N_, _

if TYPE_CHECKING:
    from cpsdiag.env.record import EnvironmentSection, ProxySource as ProxyRecord
    from cpsdiag.net.proxy import ProxySource


def collect(ctx: Context) -> None:
    from cpsdiag.net.settings import workstation_proxies

    ctx.found["proxy"] = workstation_proxies(ctx.system)


# -- judging -----------------------------------------------------------------------------------

class Reads(Protocol):
    @property
    def proxy(self) -> tuple[ProxySource, ...]: ...


def judge(facts: Reads, out: list[Finding]) -> None:
    for source in facts.proxy:
        if source.automatic:
            out.append(finding("PROXY_PAC", INFO, pac=source.automatic, source=source.name))


# -- rows --------------------------------------------------------------------------------------

PROXY_SOURCES = {"environment": N_("Environment variables"), "windows": N_("Windows Internet settings"),
                 "macos": N_("macOS network settings")}


def proxy_rows(sources: list[ProxyRecord]) -> list[Row]:
    """The proxy settings found: servers by scheme (credentials only said to exist), exclusions, scripts."""
    rows: list[Row] = []
    for src in sources:
        servers = []
        for scheme, server in sorted(src.servers.items()):
            text = f"{scheme}: {server.url}"
            if server.credentials:
                text += " " + _("(with user name and password)")
            if server.problem:
                text += f" — {server.problem}"
            servers.append(text)
        rows.append(Row(_(PROXY_SOURCES.get(src.source, src.source)), "; ".join(servers) or _("no proxy"),
                        brief=bool(servers)))
        if src.where:
            rows.append(Row("", _("read from {where}").format(where=src.where)))
        if src.bypass or src.exclude_simple_hostnames:
            bypass = list(src.bypass) + ([_("names without a dot")] if src.exclude_simple_hostnames else [])
            rows.append(Row(_("Exclusions"), ", ".join(bypass)))
        if src.pac:
            rows.append(Row(_("Configuration script"), src.pac + " " + _("(not run by cpsdiag)"), brief=True))
        if src.auto_detect:
            rows.append(Row(_("Automatic detection"), _("on (WPAD)")))
        rows += [Row(_("Error"), e, alert=True) for e in src.errors]
    return rows or [Row(_("Proxy"), _("none: direct connections"))]


def sections(env: EnvironmentSection) -> list[Section]:
    return [Section(_("Proxy"), proxy_rows(env.proxy))]


AREA: Area[Reads] = Area("proxy", collect, judge, sections, stage="proxy")
