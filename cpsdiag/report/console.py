"""The console views (Rich): a check's verdict, steps, card and holder panel, remedies; certificate files;
readers; ATRs.

A check is rendered from its report dict (cpsdiag.report/1), the same one
the JSON, the bundle and the HTML page use, so ``check`` and ``report show``
print the same thing. Works without colour (NO_COLOR, pipes): every line
carries a word or a mark, never colour alone.
"""

from __future__ import annotations

from typing import Any

from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from cpsdiag import __version__
from cpsdiag.diag.catalog import Rendered, render
from cpsdiag.i18n import _
from cpsdiag.report.view import (PanelRow, certificate_rows, environment_rows, holder_panel, identity_rows,
                                 remedies, rendered_findings, trace_summary)

MARKS = {"ok": ("✔", "green"), "info": ("ℹ", "cyan"), "warning": ("!", "yellow"), "error": ("✖", "red")}


def make_console(**kwargs: Any) -> Console:
    return Console(highlight=False, soft_wrap=False, **kwargs)


def _verdict_text(verdict: str, labels: dict[str, str] | None = None) -> Text:
    label = _(labels[verdict]) if labels else {"ok": _("OK: the card and the workstation are ready"),
                                               "warning": _("Works, with warnings"),
                                               "error": _("Problem found")}[verdict]
    mark, colour = MARKS["ok" if verdict == "ok" else verdict]
    return Text.assemble((f"{mark} ", f"bold {colour}"), (label, f"bold {colour}"))


def _steps(rendered: list[Rendered]) -> Table:
    table = Table.grid(padding=(0, 1))
    table.add_column(no_wrap=True)
    table.add_column(overflow="fold")      # long URLs wrap instead of being cut
    for r in rendered:
        mark, colour = MARKS[r.severity]
        line = Text(r.title, style="bold" if r.severity in ("warning", "error") else "")
        if r.detail:
            line.append("\n" + r.detail, style="dim")
        table.add_row(Text(mark, style=colour), line)
    return table


def _grid() -> Table:
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold", no_wrap=True)
    table.add_column()
    return table


def _panel(rows: list[PanelRow], title: str) -> Panel:
    table = _grid()
    for row in rows:
        if row.section:
            table.add_row(Text(row.label, style="bold underline"), "")
        elif row.status is not None:
            table.add_row(row.label, Text(row.value, style="green" if row.status == "ok" else "red"))
        else:
            table.add_row(row.label, row.value)
    return Panel(table, title=title, title_align="left", expand=False)


def _remedies(rendered: list[Rendered]) -> Group | None:
    todo = remedies(rendered)      # the same advice for both certificates is given once
    if not todo:
        return None
    table = Table.grid(padding=(0, 1))
    table.add_column(no_wrap=True, style="bold")
    table.add_column(overflow="fold")      # a URL is given whole, even when it is wider than the screen
    for n, r in enumerate(todo, 1):
        colour = MARKS[r.severity][1]
        table.add_row(f"{n}.", Text.assemble((r.title, f"bold {colour}"), "\n", r.remedy or ""))
    return Group(Text(_("What to do"), style="bold underline"), table)


def render_report(report: dict[str, Any], console: Console) -> None:
    """A cpsdiag.report/1 document as ``cpsdiag check`` prints it, live or from a bundle (``report show``)."""
    rendered = rendered_findings(report)
    version = (report.get("tool") or {}).get("version") or __version__
    console.print(Text(f"cpsdiag {version} — " + _("CPS card diagnosis"), style="bold"))
    verdict = str(report.get("verdict"))
    console.print(_verdict_text(verdict if verdict in MARKS and verdict != "info" else "error"))
    console.print()
    console.print(_steps(rendered))
    rows = holder_panel(report)
    if rows is not None:
        console.print()
        console.print(_panel(rows, _("Card and holder")))
    environment = environment_rows(report)
    if environment:
        console.print()
        console.print(_panel(environment, _("Workstation")))
    todo = _remedies(rendered)
    if todo is not None:
        console.print()
        console.print(todo)
    line = trace_summary(report)
    if line is not None:
        console.print()
        console.print(Text(line, style="dim"))
    redaction = report.get("redaction") or {}
    if redaction.get("applied"):
        console.print(Text(_("Redacted report: names, identifiers, card numbers and certificate serials are "
                             "masked."), style="dim"))


def render_check(result: Any, console: Console) -> None:
    from cpsdiag.report.jsonreport import report_dict

    render_report(report_dict(result), console)


def render_certfile(result: Any, console: Console) -> None:
    from cpsdiag.report.jsonreport import certfile_dict
    from cpsdiag.report.view import CERTFILE_VERDICT_LABELS

    doc = certfile_dict(result)
    rendered = [render(f) for f in result.findings]
    console.print(Text(f"{result.path}", style="bold"))
    console.print(_verdict_text(str(result.verdict), CERTFILE_VERDICT_LABELS))
    for cert in doc["certificates"]:
        rows: list[PanelRow] = []
        if cert.get("card_type") is not None or (cert.get("holder") or {}).get("given_name"):
            rows += identity_rows(cert)
            if cert.get("card_type_label") or cert.get("card_number"):
                parts = [p for p in (cert.get("card_type_label"), _("TEST card") if cert.get("test_card") else None)
                         if p]
                rows += [PanelRow(_("Card"), section=True), PanelRow(_("Type"), ", ".join(parts) or "-")]
                if cert.get("card_number"):
                    rows.append(PanelRow(_("Card number"), cert["card_number"]))
        else:
            rows += [PanelRow(_("Certificate"), section=True), PanelRow(_("Subject"), cert.get("subject") or "-"),
                     PanelRow(_("Issuer"), cert.get("issuer") or "-")]
        rows += certificate_rows(cert, title=_("Certificate details"))
        rows += [PanelRow(_("Key usage"), ", ".join(cert.get("key_usage", []) + cert.get("extended_key_usage", []))
                          or "-"),
                 PanelRow(_("Key"), f"{cert.get('key_type') or ''} {cert.get('key_size') or ''}".strip()),
                 PanelRow("SHA-256", cert.get("sha256") or "-")]
        console.print(_panel(rows, cert.get("path") or result.path))
    console.print(_steps(rendered))
    todo = _remedies(rendered)
    if todo is not None:
        console.print()
        console.print(todo)


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
        rate=atr.baud_rate(4e6), bps=1 / atr.byte_time_seconds(4e6)))
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
