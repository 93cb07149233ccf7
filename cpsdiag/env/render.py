"""The environment's one set of rows, made from its record, and the views that show them.

The report's ``environment`` section (``record.EnvironmentSection``), the
plain text of the helpdesk bundle (environment.txt), the ``cpsdiag env``
panel, the ``check`` console's short workstation panel (the rows marked
``brief``) and the HTML page all show these rows, so they never disagree.
Rich is imported only by ``render_environment``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cpsdiag.env.record import EnvironmentSection, Module, ModuleProbe, ProxySource, environment_section
from cpsdiag.i18n import N_, _, pgettext


def _record(env: Any) -> EnvironmentSection:
    return env if isinstance(env, EnvironmentSection) else environment_section(env)


def environment_dict(facts: Any) -> dict[str, Any]:
    """The JSON section "environment" (docs/environment.md describes every field)."""
    import msgspec

    return msgspec.to_builtins(_record(facts))


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


def _module_line(m: Module) -> str:
    where = m.path or m.declared
    parts = [f"{m.name}: {where}"]
    if not m.exists:
        parts.append(_("(file missing)"))
    if m.claims:
        parts.append(_("drives {cards}").format(cards="/".join(m.claims)))
    return " ".join(parts)


def sections(env: Any) -> list[Section]:
    """Every part of the environment (facts or their record), in the user's language."""
    facts = _record(env)
    s, p, lib = facts.system, facts.pcsc, facts.cryptolib
    out: list[Section] = []

    rows: list[Row] = [
        Row(_("Operating system"), " ".join(x for x in (s.os_name, s.os_version) if x) or "-", brief=True),
        Row(_("Kernel / build"), s.kernel or "-"),
        Row(_("Architecture"), s.architecture or "-"),
        Row("Python / cpsdiag", f"{s.python} / {s.cpsdiag}"),
        Row(_("Locale"), f"{s.locale or '-'} ({s.language})"),
    ]
    if s.remote is None:
        rows.append(Row(_("Session"), _("local")))
    else:
        client = f", {s.remote.client}" if s.remote.client else ""
        rows.append(Row(_("Session"), _("remote: {kind} ({evidence}{client})").format(
            kind=s.remote.kind, evidence=s.remote.evidence, client=client)))
    out.append(Section(_("System"), rows))

    svc = p.service
    state = _("running") if svc.running else (_("not running") if svc.running is False else "-")
    if svc.pids:
        state += f" (pid {', '.join(str(x) for x in svc.pids)})"
    rows = [
        Row(_("Client library"), (p.library or "-") + (f" ({p.library_version})" if p.library_version else "")),
        Row(_("Service"), f"{svc.name} {svc.version or ''}".strip() + f": {state}", brief=True),
    ]
    if svc.start_mode:
        rows.append(Row(_("Start mode"), svc.start_mode))
    if facts.system.platform == "linux":
        rows.append(Row(_("Socket"), svc.socket or _("absent")))
    if p.library_error:
        rows.append(Row(_("Error"), p.library_error))
    elif p.service_error:
        rows.append(Row(_("Error"), f"{p.service_error.operation}: {p.service_error.message}"))
    elif not p.probed:
        rows.append(Row(_("Live query"), p.probe_error or "-"))
    if p.how:
        rows.append(Row(_("Readers obtained by"), p.how))
    for b in p.drivers:
        kind = " " + _("(CCID class driver)") if b.class_driver else ""
        rows.append(Row(_("Driver"), f"{b.name} {b.version or ''}{kind}: "
                     + _("{n} readers listed").format(n=b.devices)))
    out.append(Section("PC/SC", rows))

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
        rows.append(Row(r.name, line, alert=not r.answering))
        if r.features:
            rows.append(Row("", _("Reader features: {names}").format(names=", ".join(f.name for f in r.features))))
        if r.usb:
            rows.append(Row("", _("USB {ids}, driver {driver}").format(
                ids=f"{r.usb.vendor_id}:{r.usb.product_id}", driver=r.usb.driver or r.usb.class_driver or "-")))
    listed = {r.usb.path for r in p.readers if r.usb}
    for d in p.usb_devices:
        if d.path not in listed:
            rows.append(Row(f"USB {d.vendor_id}:{d.product_id}",
                         f"{d.manufacturer or ''} {d.product or ''}".strip() + " — " + _("not listed by PC/SC")))
    if not rows:
        rows.append(Row("-", _("no reader") if p.answers else _("unknown")))
    out.append(Section(_("Readers"), rows))

    if lib.installed:
        version = lib.version or (_("older than 5 (CPS2ter era)") if lib.legacy else _("unknown"))
        rows = [Row(pgettext("Cryptolib CPS", "Installed"), _("yes")),
                Row(_("Version"), version + (f" ({lib.version_source}: {lib.package})" if lib.version_source else ""),
                    brief=True)]
        rows.append(Row(_("PKCS#11 module"), lib.module or "-"))
        rows.append(Row(_("Module"), _probe_text(lib.probe)))
        rows += [Row(_("File"), f) for f in lib.files if f != lib.module]
        if lib.cache_dir:
            rows.append(Row(_("Cache"), _("{dir}: {n} file(s), card(s) {serials}").format(
                dir=lib.cache_dir, n=lib.cache_files, serials=", ".join(lib.cache_serials) or "-")))
        if lib.mozilla_manifest:
            rows.append(Row(_("Firefox registration"), lib.mozilla_manifest))
    else:
        rows = [Row(pgettext("Cryptolib CPS", "Installed"), _("no"), brief=True)]
    card = facts.card_generation or "-"
    if facts.card_source == "atr":
        card += " " + _("(from the ATR)")
    rows.append(Row(_("Card"), card + (f", {facts.card_serial}" if facts.card_serial else "")))
    out.append(Section("Cryptolib CPS", rows))

    rows = [Row(_("p11-kit"), _module_line(m), brief=m.kind != "nss") for m in facts.modules]
    for m in [m for db in facts.firefox for m in db.modules] + list(facts.chrome.modules if facts.chrome else ()):
        if m.probe is not None and m.kind != "cryptolib":
            rows.append(Row(m.name, _probe_text(m.probe)))
    if rows:
        out.append(Section(_("Other PKCS#11 modules"), rows))

    rows = []
    for db in facts.firefox:
        mods = "; ".join(_module_line(m) for m in db.modules) or _("no external module")
        flag = _("loads the CPS module") if db.loads_cps else _("does NOT load the CPS module")
        rows.append(Row(f"Firefox « {db.name} »" + (" *" if db.default else ""), f"{flag} — {mods}",
                        alert=not db.loads_cps))
    if not facts.firefox:
        rows.append(Row("Firefox", _("installed, no profile") if facts.firefox_installed else _("not found")))
    if facts.system.platform == "linux":
        if facts.chrome is not None:
            flag = _("loads the CPS module") if facts.chrome.loads_cps else _("does NOT load the CPS module")
            rows.append(Row("Chrome/Chromium", f"{flag} — {facts.chrome.path}",
                            alert=not facts.chrome.loads_cps))
        else:
            rows.append(Row("Chrome/Chromium", _("installed, no NSS database") if facts.chrome_installed
                         else _("not found")))
    out.append(Section(_("Browsers"), rows))

    out.append(Section(_("Proxy"), proxy_rows(facts.proxy)))

    if facts.windows is not None:
        w = facts.windows
        cp = w.certprop
        running, stopped = _("running"), _("not running")
        cp_state = running if cp.running else (stopped if cp.running is False else "-")
        ccm_state = "" if w.ccm_running is None else " — " + (running if w.ccm_running else stopped)
        rows = [Row(_("Certificate Propagation"), cp_state + (f" ({cp.start_mode})" if cp.start_mode else "")),
                Row("CCM", (w.ccm or _("not installed")) + ccm_state),
                Row(_("Personal certificates"), "-" if w.user_certificates is None else str(w.user_certificates))]
        for r in w.registrations:
            mark = " ← " + _("matches the card") if r.matches else ""
            rows.append(Row(_("Registered card"), f"{r.name}: {r.minidriver or r.provider or '-'}{mark}"))
        out.append(Section("Windows", rows))
    return out


PROXY_SOURCES = {"environment": N_("Environment variables"), "windows": N_("Windows Internet settings"),
                 "macos": N_("macOS network settings")}


def proxy_rows(sources: list[ProxySource]) -> list[Row]:
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


def environment_text(env: Any) -> str:
    """Plain text (the helpdesk bundle's environment.txt): one section per part, one "label: value" per line."""
    lines = []
    for section in sections(env):
        lines.append(f"[{section.title}]")
        for row in section.rows:
            lines.append(f"  {row.label}: {row.value}" if row.label else f"    {row.value}")
        lines.append("")
    return "\n".join(lines)


def render_environment(env: Any, console: Any, brief: bool = False) -> None:
    """A Rich panel of the rows (only the ``brief`` ones for ``check``); every value is words, never colour alone."""
    from cpsdiag.richview import KeyValues
    from cpsdiag.richview import Row as Shown
    from cpsdiag.richview import panel

    shown: list[Shown] = []
    for section in sections(env):
        rows = [r for r in section.rows if r.brief or not brief]
        if not rows:
            continue
        if shown and not brief:
            shown.append(Shown("", section=True))
        shown.append(Shown(section.title, section=True))
        shown += [Shown(r.label, r.value, style="red" if r.alert else "") for r in rows]
    if shown:
        console.print(panel(KeyValues(shown), _("Workstation"), console))
