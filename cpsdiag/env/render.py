"""The environment facts as JSON (section "environment" of the report), plain text, and a Rich panel.

The three views are made from the same rows so they never disagree. Rich is
imported only by ``render_environment``.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from cpsdiag.env.facts import EnvironmentFacts, Feature, ModuleFacts, ModuleProbe, NssDatabase, ReaderFacts
from cpsdiag.i18n import N_, _

# -- JSON -------------------------------------------------------------------------------

_PROPERTIES = {ReaderFacts: ("pinpad",), NssDatabase: ("loads_cps",)}


def _plain(value: Any) -> Any:
    if isinstance(value, Feature):
        return {"tag": f"{value.tag:02X}", "name": value.name, "control_code": f"0x{value.control_code:08X}"}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        out = {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
        for prop in _PROPERTIES.get(type(value), ()):
            out[prop] = getattr(value, prop)
        return out
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)


def proxy_source_dict(source: Any) -> dict[str, Any]:
    """One place proxies are set, as the report shows it: never a credential."""
    return {"source": source.name, "where": source.where,
            "servers": {scheme: server.describe() for scheme, server in sorted(source.servers.items())},
            "bypass": list(source.bypass), "exclude_simple_hostnames": source.exclude_simple,
            "pac": source.pac_url, "auto_detect": source.auto_detect, "errors": list(source.errors)}


def environment_dict(facts: EnvironmentFacts) -> dict[str, Any]:
    """The JSON section "environment" (docs/environment.md describes every field)."""
    out = _plain(dataclasses.replace(facts, proxy=()))
    out["pcsc"]["answers"] = facts.pcsc.answers
    out["proxy"] = [proxy_source_dict(s) for s in facts.proxy]
    return out


# -- rows shared by the text and the console ---------------------------------------------

def _yes(value: bool | None) -> str:
    return "-" if value is None else (_("yes") if value else _("no"))


def _probe_text(probe: ModuleProbe | None) -> str:
    if probe is None:
        return _("not loaded")
    if probe.error_kind == "pykcs11_missing":
        return _("not loaded: PyKCS11 is not installed (pip install 'cpsdiag[pkcs11]')")
    if probe.error_kind == "not_run":
        return _("not loaded")
    if not probe.loaded:
        return _("does not load: {error}").format(error=probe.error or probe.error_kind)
    info = " ".join(p for p in (probe.manufacturer, probe.description) if p)
    tokens = ", ".join(f"{s.token_label or '?'} ({s.description})" for s in probe.tokens) or _("none")
    return _("loads: {info} {version}, PKCS#11 {cryptoki}; {slots} slot(s), card(s) seen: {tokens}").format(
        info=info, version=probe.library_version or "", cryptoki=probe.cryptoki_version or "?",
        slots=len(probe.slots), tokens=tokens)


def _module_line(m: ModuleFacts) -> str:
    where = m.path or m.declared
    parts = [f"{m.name}: {where}"]
    if not m.exists:
        parts.append(_("(file missing)"))
    if m.claims:
        parts.append(_("drives {cards}").format(cards="/".join(m.claims)))
    return " ".join(parts)


class Row(tuple):
    """(label, value) and whether the value reports a problem (shown in red, and always in words)."""

    def __new__(cls, label: str, value: str, alert: bool = False) -> "Row":
        return super().__new__(cls, (label, value, alert))


def sections(facts: EnvironmentFacts) -> list[tuple[str, list[tuple]]]:
    """(title, [(label, value)]) for every part of the environment, in the user's language."""
    s, p, lib = facts.system, facts.pcsc, facts.cryptolib
    out: list[tuple[str, list[tuple]]] = []

    rows: list[tuple] = [
        (_("Operating system"), " ".join(x for x in (s.os_name, s.os_version) if x) or "-"),
        (_("Kernel / build"), s.kernel or "-"),
        (_("Architecture"), s.architecture or "-"),
        ("Python / cpsdiag", f"{s.python} / {s.cpsdiag}"),
        (_("Locale"), f"{s.locale or '-'} ({s.language})"),
    ]
    if s.remote is None:
        rows.append((_("Session"), _("local")))
    else:
        client = f", {s.remote.client}" if s.remote.client else ""
        rows.append((_("Session"), _("remote: {kind} ({evidence}{client})").format(
            kind=s.remote.kind, evidence=s.remote.evidence, client=client)))
    out.append((_("System"), rows))

    svc = p.service
    state = _("running") if svc.running else (_("not running") if svc.running is False else "-")
    if svc.pids:
        state += f" (pid {', '.join(str(x) for x in svc.pids)})"
    rows = [
        (_("Client library"), (p.library or "-") + (f" ({p.library_version})" if p.library_version else "")),
        (_("Service"), f"{svc.name} {svc.version or ''}".strip() + f": {state}"),
    ]
    if svc.start_mode:
        rows.append((_("Start mode"), svc.start_mode))
    if facts.system.platform == "linux":
        rows.append((_("Socket"), svc.socket or _("absent")))
    if p.library_error:
        rows.append((_("Error"), p.library_error))
    elif p.service_error:
        rows.append((_("Error"), f"{p.service_error.operation}: {p.service_error.message}"))
    elif not p.probed:
        rows.append((_("Live query"), p.probe_error or "-"))
    if p.how:
        rows.append((_("Readers obtained by"), p.how))
    for b in p.drivers:
        kind = " " + _("(CCID class driver)") if b.class_driver else ""
        rows.append((_("Driver"), f"{b.name} {b.version or ''}{kind}: "
                     + _("{n} readers listed").format(n=b.devices)))
    out.append(("PC/SC", rows))

    rows = []
    for r in p.readers:
        line = r.card or (_("card present") if r.card_present else _("no card"))
        if r.atr:
            line += f" — ATR {r.atr}"
        if not r.answering:
            line += " — " + _("NOT ANSWERING") + (f": {r.error.message}" if r.error else "")
        if r.exclusive:
            line += " — " + _("held exclusively by another program")
        if r.card_error:
            line += " — " + r.card_error.message
        rows.append(Row(r.name, line, not r.answering))
        if r.features:
            rows.append(("", _("Reader features: {names}").format(names=", ".join(f.name for f in r.features))))
        if r.usb:
            rows.append(("", _("USB {ids}, driver {driver}").format(
                ids=f"{r.usb.vendor_id}:{r.usb.product_id}", driver=r.usb.driver or r.usb.class_driver or "-")))
    listed = {r.usb.path for r in p.readers if r.usb}
    for d in p.usb_devices:
        if d.path not in listed:
            rows.append((f"USB {d.vendor_id}:{d.product_id}",
                         f"{d.manufacturer or ''} {d.product or ''}".strip() + " — " + _("not listed by PC/SC")))
    if not rows:
        rows.append(("-", _("no reader") if p.answers else _("unknown")))
    out.append((_("Readers"), rows))

    if lib.installed:
        version = lib.version or (_("older than 5 (CPS2ter era)") if lib.legacy else _("unknown"))
        rows = [(_("Installed"), _("yes")), (_("Version"), version + (f" ({lib.version_source}: {lib.package})"
                                                                     if lib.version_source else ""))]
        rows.append((_("PKCS#11 module"), lib.module or "-"))
        rows.append((_("Module"), _probe_text(lib.probe)))
        rows += [(_("File"), f) for f in lib.files if f != lib.module]
        if lib.cache_dir:
            rows.append((_("Cache"), _("{dir}: {n} file(s), card(s) {serials}").format(
                dir=lib.cache_dir, n=lib.cache_files, serials=", ".join(lib.cache_serials) or "-")))
        if lib.mozilla_manifest:
            rows.append((_("Firefox registration"), lib.mozilla_manifest))
    else:
        rows = [(_("Installed"), _("no"))]
    card = facts.card_generation or "-"
    if facts.card_source == "atr":
        card += " " + _("(from the ATR)")
    rows.append((_("Card"), card + (f", {facts.card_serial}" if facts.card_serial else "")))
    out.append(("Cryptolib CPS", rows))

    rows = [(_("p11-kit"), _module_line(m)) for m in facts.modules]
    for m in [m for db in facts.firefox for m in db.modules] + list(facts.chrome.modules if facts.chrome else ()):
        if m.probe is not None and m.kind != "cryptolib":
            rows.append((m.name, _probe_text(m.probe)))
    if rows:
        out.append((_("Other PKCS#11 modules"), rows))

    rows = []
    for db in facts.firefox:
        mods = "; ".join(_module_line(m) for m in db.modules) or _("no external module")
        flag = _("loads the CPS module") if db.loads_cps else _("does NOT load the CPS module")
        rows.append(Row(f"Firefox « {db.name} »" + (" *" if db.default else ""), f"{flag} — {mods}", not db.loads_cps))
    if not facts.firefox:
        rows.append(("Firefox", _("installed, no profile") if facts.firefox_installed else _("not found")))
    if facts.system.platform == "linux":
        if facts.chrome is not None:
            flag = _("loads the CPS module") if facts.chrome.loads_cps else _("does NOT load the CPS module")
            rows.append(Row("Chrome/Chromium", f"{flag} — {facts.chrome.path}", not facts.chrome.loads_cps))
        else:
            rows.append(("Chrome/Chromium", _("installed, no NSS database") if facts.chrome_installed
                         else _("not found")))
    out.append((_("Browsers"), rows))

    out.append((_("Proxy"), proxy_rows(facts.proxy)))

    if facts.windows is not None:
        w = facts.windows
        cp = w.certprop
        running, stopped = _("running"), _("not running")
        cp_state = running if cp.running else (stopped if cp.running is False else "-")
        ccm_state = "" if w.ccm_running is None else " — " + (running if w.ccm_running else stopped)
        rows = [(_("Certificate Propagation"), cp_state + (f" ({cp.start_mode})" if cp.start_mode else "")),
                ("CCM", (w.ccm or _("not installed")) + ccm_state),
                (_("Personal certificates"), "-" if w.user_certificates is None else str(w.user_certificates))]
        for r in w.registrations:
            mark = " ← " + _("matches the card") if r.matches else ""
            rows.append((_("Registered card"), f"{r.name}: {r.minidriver or r.provider or '-'}{mark}"))
        out.append(("Windows", rows))
    return out


PROXY_SOURCES = {"environment": N_("Environment variables"), "windows": N_("Windows Internet settings"),
                  "macos": N_("macOS network settings")}


def proxy_rows(sources: tuple) -> list[tuple]:
    """The proxy settings found: servers by scheme (credentials only said to exist), exclusions, scripts."""
    rows: list[tuple] = []
    for src in sources:
        label = _(PROXY_SOURCES.get(src.name, src.name))
        servers = []
        for scheme, server in sorted(src.servers.items()):
            text = f"{scheme}: {server.url}"
            if server.has_credentials:
                text += " " + _("(with user name and password)")
            if server.problem:
                text += f" — {server.problem}"
            servers.append(text)
        rows.append((label, "; ".join(servers) or _("no proxy")))
        if src.where:
            rows.append(("", _("read from {where}").format(where=src.where)))
        if src.bypass or src.exclude_simple:
            bypass = list(src.bypass) + ([_("names without a dot")] if src.exclude_simple else [])
            rows.append((_("Exclusions"), ", ".join(bypass)))
        if src.pac_url:
            rows.append((_("Configuration script"), src.pac_url + " " + _("(not run by cpsdiag)")))
        if src.auto_detect:
            rows.append((_("Automatic detection"), _("on (WPAD)")))
        rows += [Row(_("Error"), e, True) for e in src.errors]
    return rows or [(_("Proxy"), _("none: direct connections"))]


def environment_text(facts: EnvironmentFacts) -> str:
    """Plain text (the helpdesk bundle's environment.txt): one section per part, one "label: value" per line."""
    lines = []
    for title, rows in sections(facts):
        lines.append(f"[{title}]")
        for label, value, *_alert in rows:
            lines.append(f"  {label}: {value}" if label else f"    {value}")
        lines.append("")
    return "\n".join(lines)


def render_environment(facts: EnvironmentFacts, console: Any) -> None:
    """A Rich panel of the facts; every value is words, never colour alone."""
    from rich.panel import Panel
    from rich.table import Table
    from rich.text import Text

    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold", no_wrap=True)
    table.add_column()
    for i, (title, rows) in enumerate(sections(facts)):
        if i:
            table.add_row("", "")
        table.add_row(Text(title, style="bold underline"), "")
        for label, value, *alert in rows:
            table.add_row(label, Text(value, style="red" if alert and alert[0] else ""))
    console.print(Panel(table, title=_("Workstation"), title_align="left", expand=False))
