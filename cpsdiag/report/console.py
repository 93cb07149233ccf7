"""The console view of a check (Rich): verdict, steps, card and holder panel, remedies.

Works without colour (NO_COLOR, pipes): every line carries a word or a mark,
never colour alone.
"""

from __future__ import annotations

from typing import Any

from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from cpsdiag import __version__
from cpsdiag.diag.catalog import Rendered, render
from cpsdiag.diag.check import CheckResult
from cpsdiag.diag.collect import CertFacts
from cpsdiag.i18n import _

MARKS = {"ok": ("✔", "green"), "info": ("ℹ", "cyan"), "warning": ("!", "yellow"), "error": ("✖", "red")}
OID_O, OID_OU, OID_CN = "2.5.4.10", "2.5.4.11", "2.5.4.3"


def make_console(**kwargs: Any) -> Console:
    return Console(highlight=False, soft_wrap=False, **kwargs)


def _verdict_text(verdict: str) -> Text:
    label = {"ok": _("OK: the card and the workstation are ready"),
             "warning": _("Works, with warnings"),
             "error": _("Problem found")}[verdict]
    mark, colour = MARKS["ok" if verdict == "ok" else verdict]
    return Text.assemble((f"{mark} ", f"bold {colour}"), (label, f"bold {colour}"))


def _steps(rendered: list[Rendered]) -> Table:
    table = Table.grid(padding=(0, 1))
    table.add_column(no_wrap=True)
    table.add_column()
    for r in rendered:
        mark, colour = MARKS[r.severity]
        line = Text(r.title, style="bold" if r.severity in ("warning", "error") else "")
        if r.detail:
            line.append("\n" + r.detail, style="dim")
        table.add_row(Text(mark, style=colour), line)
    return table


def _issuer_part(cf: CertFacts, oid: str) -> str:
    values = [v for o, v in cf.info.issuer_attributes if o == oid]
    return " / ".join(values) if values else "-"


def _grid() -> Table:
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold", no_wrap=True)
    table.add_column()
    return table


def _section(table: Table, title: str) -> None:
    table.add_row(Text(title, style="bold underline"), "")


def _identity_rows(table: Table, cf: CertFacts) -> None:
    """What ANS's Test SSL page shows: the issuing authority, then the holder."""
    info = cf.info
    _section(table, _("IGC CPS"))
    table.add_row(_("Organisation"), _issuer_part(cf, OID_O))
    table.add_row(_("Authority"), _issuer_part(cf, OID_OU))
    table.add_row(_("Class"), _issuer_part(cf, OID_CN))
    h = info.holder
    _section(table, _("Identity"))
    table.add_row(_("Given name"), h.given_name or "-")
    table.add_row(_("Surname"), h.surname or "-")
    nid = h.national_id
    ident = h.common_name or "-"
    if nid is not None and nid.type_label:
        ident += f"  ({nid.type_label})"
    table.add_row(_("Identifier"), ident)
    if nid is not None and nid.to_type:
        table.add_row(_("To type for e-CPS / Pro Santé Connect"), nid.to_type)
    if info.profession_label or h.title:
        code = f" ({info.profession_code})" if info.profession_code is not None else ""
        table.add_row(_("Profession"), (info.profession_label or h.title) + code)
    if h.structure is not None and h.structure.name:
        table.add_row(_("Structure"), " — ".join(filter(None, [h.structure.name, h.structure.unit, h.structure.state])))


def _certificate_rows(table: Table, cf: CertFacts, at: Any, title: str | None = None) -> None:
    info = cf.info
    _section(table, title or {"authentication": _("Authentication certificate"),
                              "signature": _("Signature certificate")}.get(cf.role, cf.label))
    table.add_row(_("Serial number"), info.serial_hex)
    table.add_row(_("Valid from"), info.not_before.strftime("%Y-%m-%d %H:%M UTC"))
    days = info.days_left(at)
    table.add_row(_("Expires on"), info.not_after.strftime("%Y-%m-%d %H:%M UTC") + "  " +
                  (_("({days} days left)").format(days=days) if days >= 0 else _("(expired)")))
    chain = cf.chain
    if chain is not None and chain.trusted:
        verification = Text(_("SUCCESS") + f"  ({chain.anchor})", style="green")
    else:
        verification = Text(_("FAILURE") + (f"  ({chain.detail})" if chain else ""), style="red")
    table.add_row(_("Verification"), verification)


def _holder_panel(result: CheckResult) -> Panel | None:
    facts = result.facts
    certs = [cf for cf in facts.certificates if cf.info is not None]
    if not certs and facts.card is None:
        return None
    table = _grid()
    main = next((cf for cf in certs if cf.role == "authentication"), certs[0] if certs else None)
    if main is not None:
        _identity_rows(table, main)
    card = facts.card
    if card is not None or facts.model is not None:
        _section(table, _("Card"))
        parts = []
        if facts.model is not None:
            parts.append(facts.model.label)
        if main is not None and main.info.card_type_label:
            parts.append(main.info.card_type_label)
        if any(cf.info.test_card for cf in certs):
            parts.append(_("TEST card"))
        table.add_row(_("Type"), ", ".join(parts) or "-")
        if card is not None and card.serial is not None:
            table.add_row(_("Card number"), card.serial.card_number)
        if card is not None and card.pin_status is not None:
            st = card.pin_status
            maximum = st.max_tries if st.max_tries is not None else "?"
            table.add_row(_("PIN"), _("blocked") if st.blocked else _("{left} of {max} tries left").format(
                left=st.tries_left, max=maximum))
    for cf in certs:
        _certificate_rows(table, cf, facts.at)
    return Panel(table, title=_("Card and holder"), title_align="left", expand=False)


def _remedies(rendered: list[Rendered]) -> Group | None:
    todo = [r for r in rendered if r.remedy]
    if not todo:
        return None
    table = Table.grid(padding=(0, 1))
    table.add_column(no_wrap=True, style="bold")
    table.add_column()
    seen: set[str] = set()
    for r in todo:
        if r.remedy in seen:      # the same advice for both certificates is given once
            continue
        seen.add(r.remedy)
        colour = MARKS[r.severity][1]
        table.add_row(f"{len(seen)}.", Text.assemble((r.title, f"bold {colour}"), "\n", r.remedy))
    return Group(Text(_("What to do"), style="bold underline"), table)


def render_check(result: CheckResult, console: Console) -> None:
    rendered = [render(f) for f in result.findings]
    console.print(Text(f"cpsdiag {__version__} — " + _("CPS card diagnosis"), style="bold"))
    console.print(_verdict_text(str(result.verdict)))
    console.print()
    console.print(_steps(rendered))
    panel = _holder_panel(result)
    if panel is not None:
        console.print()
        console.print(panel)
    remedies = _remedies(rendered)
    if remedies is not None:
        console.print()
        console.print(remedies)
    facts = result.facts
    if facts.trace is not None:
        console.print()
        console.print(Text(_("{count} commands exchanged with the card in {ms:.0f} ms.").format(
            count=facts.trace.count, ms=facts.timings_ms.get("total", 0)), style="dim"))


def render_certfile(result: Any, console: Console) -> None:
    rendered = [render(f) for f in result.findings]
    console.print(Text(f"{result.path}", style="bold"))
    console.print(_verdict_text(str(result.verdict)))
    for cf in result.certificates:
        table = _grid()
        info = cf.info
        if info.is_card:
            _identity_rows(table, cf)
            if info.card_type_label or info.card_number:
                _section(table, _("Card"))
                parts = [p for p in (info.card_type_label, _("TEST card") if info.test_card else None) if p]
                table.add_row(_("Type"), ", ".join(parts) or "-")
                if info.card_number:
                    table.add_row(_("Card number"), info.card_number)
        else:
            _section(table, _("Certificate"))
            table.add_row(_("Subject"), info.subject)
            table.add_row(_("Issuer"), info.issuer)
        _certificate_rows(table, cf, result.at, title=_("Certificate details"))
        table.add_row(_("Key usage"), ", ".join(info.key_usage + info.extended_key_usage) or "-")
        table.add_row(_("Key"), f"{info.key_type} {info.key_size or ''}".strip())
        table.add_row("SHA-256", info.sha256_fingerprint)
        console.print(Panel(table, title=cf.path, title_align="left", expand=False))
    console.print(_steps(rendered))
    remedies = _remedies(rendered)
    if remedies is not None:
        console.print()
        console.print(remedies)


def render_findings(findings: list[Any], console: Console) -> None:
    """Findings and their remedies, for commands that have no panel of their own."""
    rendered = [render(f) for f in findings]
    console.print(_steps(rendered))
    remedies = _remedies(rendered)
    if remedies is not None:
        console.print()
        console.print(remedies)


def render_readers(rows: list[dict[str, Any]], console: Console) -> None:
    if not rows:
        return
    table = Table(box=None, padding=(0, 2), show_edge=False)
    table.add_column(_("Reader"), no_wrap=True)
    table.add_column(_("Card"))
    table.add_column("ATR")
    for row in rows:
        if not row["card_present"]:
            card = Text(_("no card"), style="dim")
        else:
            card = Text(row["card"] or _("unknown card"))
            if row["exclusive"]:
                card.append("  " + _("(held exclusively by another program)"), style="yellow")
        table.add_row(row["name"], card, row["atr"] or "")
    console.print(table)


def render_atr(atr: Any, model: Any, guessed: bool, console: Console) -> None:
    table = _grid()
    table.add_row("ATR", atr.hex)
    table.add_row("TS", f"{atr.raw[0]:02X}  " + (_("direct convention") if atr.convention == "direct"
                                                 else _("inverse convention")))
    table.add_row("T0", f"{atr.t0:02X}  " + _("{k} historical bytes").format(k=len(atr.historical)))
    for g in atr.groups:
        parts = [f"T{n}{g.index}={v:02X}" for n, v in (("A", g.ta), ("B", g.tb), ("C", g.tc), ("D", g.td))
                 if v is not None]
        if parts:
            table.add_row(_("Interface bytes {i}").format(i=g.index), "  ".join(parts))
    table.add_row(_("Protocols"), ", ".join(f"T={p}" for p in atr.protocols))
    table.add_row("Fi / Di", f"{atr.fi} / {atr.di}  (f max {atr.f_max_mhz} MHz)")
    table.add_row(_("Speed at 4 MHz"), _("{rate:.0f} bit/s, about {bps:.0f} bytes/s").format(
        rate=atr.baud_rate(4e6), bps=1 / atr.byte_seconds(4e6)))
    if atr.historical:
        table.add_row(_("Historical bytes"), atr.historical.hex(" ").upper())
        for obj in atr.objects:
            table.add_row("", f"{obj.tag:X}  {obj.name}: {obj.value.hex(' ').upper()}")
        if atr.status:
            table.add_row("", _("status") + f": {atr.status.hex(' ').upper()}")
    if atr.tck is not None:
        table.add_row("TCK", f"{atr.tck:02X}  " + (_("correct") if atr.tck_ok else _("WRONG")))
    for problem in atr.problems:
        table.add_row(Text("!", style="yellow"), problem)
    if model is not None:
        label = model.label + (" " + _("(guessed)") if guessed else "")
        table.add_row(_("Card"), Text(label, style="bold"))
        if model.min_cryptolib:
            table.add_row(_("Cryptolib CPS"), _("version {v} or later").format(v=model.min_cryptolib))
        if model.note:
            table.add_row("", model.note)
    console.print(Panel(table, title="ATR", title_align="left", expand=False))
