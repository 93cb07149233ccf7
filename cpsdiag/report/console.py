"""The console views (Rich): a check's verdict, steps, card and holder panel, remedies; certificate files;
readers; ATRs.

A check is rendered from its report dict (cpsdiag.report/1), the same one
the JSON, the bundle and the HTML page use, so ``check`` and ``report show``
print the same thing. Works without colour (NO_COLOR, pipes): every line
carries a word or a mark, never colour alone.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.console import Console
from rich.table import Table
from rich.text import Text

from cpsdiag import __version__
from cpsdiag.findings.catalog import Rendered
from cpsdiag.i18n import _
from msgspec import UNSET

from cpsdiag.record import Record, displayable
from cpsdiag.report.schema import Finding as FindingRecord
from cpsdiag.report.view import (CERTFILE_VERDICT_LABELS, VERDICT_LABELS, PanelRow, certificate_rows, holder_panel,
                                 identity_rows, remedies, rendered_findings, trace_summary)
from cpsdiag.richview import KeyValues, Row, dash, make_console, marks, panel, print_prose

if TYPE_CHECKING:
    from cpsdiag.card.identify import CardModel
    from cpsdiag.diag.certfile import CertFileResult
    from cpsdiag.diag.readers import ReaderRow
    from cpsdiag.diag.check import CheckResult
    from cpsdiag.findings.model import Finding
    from cpsdiag.iso7816.atr import Atr
    from cpsdiag.report.schema import Report


class _Findings(Record, frozen=True, kw_only=True):
    items: list[FindingRecord]

__all__ = ["make_console", "render_report", "render_check", "render_certfile", "render_findings",
           "render_readers", "render_atr", "render_notices"]


def _verdict_text(verdict: str, console: Console, labels: dict[str, str] | None = None) -> Text:
    label = _((labels or VERDICT_LABELS)[verdict])
    mark, colour = marks(console)["ok" if verdict == "ok" else verdict]
    return Text.assemble((f"{mark} ", f"bold {colour}"), (label, f"bold {colour}"))


def _steps(rendered: list[Rendered], console: Console) -> None:
    """One line per finding: its mark and title, its detail under it (words never cut)."""
    for r in rendered:
        mark, colour = marks(console)[r.severity]
        print_prose(console, r.title, first=mark, indent=2, first_style=colour,
                    style="bold" if r.severity in ("warning", "error") else "")
        if r.detail:
            print_prose(console, r.detail, indent=2, style="dim")


def _rows(rows: list[PanelRow]) -> KeyValues:
    return KeyValues(Row(r.label, r.value, section=r.section,
                         style="" if r.status is None else "green" if r.status == "ok" else
                         "yellow" if r.status == "warning" else "red") for r in rows)


def _remedies(rendered: list[Rendered], console: Console) -> None:
    """What to do, numbered; a URL is given whole, on a line of its own when it is wider than the screen."""
    todo = remedies(rendered)      # the same advice for both certificates is given once
    if not todo:
        return
    console.print()
    console.print(Text(_("What to do"), style="bold underline"))
    for n, r in enumerate(todo, 1):
        colour = marks(console)[r.severity][1]
        print_prose(console, r.title, first=f"{n}.", indent=3, style=f"bold {colour}", first_style="bold")
        print_prose(console, r.remedy or "", indent=3)


def render_notices(notices: list[Rendered], console: Console) -> None:
    """Findings about the report itself (a bundle edited after it was written), above everything else."""
    if not notices:
        return
    _steps(notices, console)
    _remedies(notices, console)
    console.print()


def render_report(report: Report, console: Console) -> None:
    """A cpsdiag.report/1 record as ``cpsdiag check`` prints it, live or from a bundle (``report show``)."""
    report = displayable(report)
    rendered = rendered_findings(report)
    version = report.tool.version or __version__
    print_prose(console, f"cpsdiag {version} {dash(console)} " + _("CPS card diagnosis"), style="bold")
    console.print(_verdict_text(report.verdict, console))
    console.print()
    _steps(rendered, console)
    rows = holder_panel(report)
    if rows is not None:
        console.print()
        console.print(panel(_rows(rows), _("Card and holder"), console))
    if report.environment is not None:
        from cpsdiag.env.render import render_environment

        console.print()
        render_environment(report.environment, console, brief=True)
    _remedies(rendered, console)
    line = trace_summary(report)
    if line is not None:
        console.print()
        print_prose(console, line, style="dim")
    redaction = report.redaction
    if redaction and redaction.applied:
        print_prose(console, _("Redacted report: names, identifiers, card numbers and certificate serials are "
                               "masked."), style="dim")


def render_check(result: CheckResult, console: Console) -> None:
    from cpsdiag.report.jsonreport import build_report

    render_report(build_report(result), console)


def render_certfile(result: CertFileResult, console: Console) -> None:
    from cpsdiag.report.jsonreport import certfile_record

    doc = displayable(certfile_record(result))
    rendered = rendered_findings_of(doc.findings)
    print_prose(console, doc.file, style="bold")
    verdict = doc.verdict if doc.verdict in ("ok", "warning") else "error"
    console.print(_verdict_text(verdict, console, CERTFILE_VERDICT_LABELS))
    for cert in doc.certificates:
        rows: list[PanelRow] = []
        holder = cert.holder or None
        if cert.card_type is not None and cert.card_type is not UNSET or (holder is not None and holder.given_name):
            rows += identity_rows(cert)
            if cert.card_type_label or cert.card_number:
                parts = [p for p in (cert.card_type_label, _("TEST card") if cert.test_card else None) if p]
                rows += [PanelRow(_("Card"), section=True), PanelRow(_("Type"), ", ".join(parts) or "-")]
                if cert.card_number:
                    rows.append(PanelRow(_("Card number"), cert.card_number))
        else:
            rows += [PanelRow(_("Certificate"), section=True), PanelRow(_("Subject"), cert.subject or "-"),
                     PanelRow(_("Issuer"), cert.issuer or "-")]
        rows += certificate_rows(cert, title=_("Certificate details"))
        rows += [PanelRow(_("Key usage"), ", ".join([*(cert.key_usage or []), *(cert.extended_key_usage or [])])
                          or "-"),
                 PanelRow(_("Key"), f"{cert.key_type or ''} {cert.key_size or ''}".strip()),
                 PanelRow("SHA-256", cert.sha256 or "-")]
        console.print(panel(_rows(rows), cert.path or doc.file, console))
    _steps(rendered, console)
    _remedies(rendered, console)


def rendered_findings_of(findings: list[FindingRecord]) -> list[Rendered]:
    return [Rendered(f.code, f.severity, f.step, f.title, f.detail, f.remedy) for f in findings]


def render_findings(findings: list[Finding], console: Console) -> None:
    """Findings and their remedies, for commands that have no panel of their own."""
    from cpsdiag.report.jsonreport import finding_records

    rendered = rendered_findings_of(displayable(_Findings(items=finding_records(findings))).items)
    _steps(rendered, console)
    _remedies(rendered, console)


def render_readers(rows: list[ReaderRow], console: Console) -> None:
    from cpsdiag.termtext import clean

    if not rows:
        return
    table = Table(box=None, padding=(0, 2), show_edge=False)
    table.add_column(_("Reader"), overflow="fold")
    table.add_column(_("Card"), overflow="fold")
    table.add_column("ATR", overflow="fold")
    for row in rows:
        if not row["card_present"]:
            card = Text(_("no card"), style="dim")
        else:
            card = Text(clean(row["card"] or _("unknown card")))
            if row["exclusive"]:
                card.append("  " + _("(held exclusively by another program)"), style="yellow")
        table.add_row(clean(row["name"]), card, row["atr"] or "")
    console.print(table)


def render_atr(atr: Atr, model: CardModel | None, guessed: bool, console: Console) -> None:
    rows = [Row("ATR", atr.hex),
            Row("TS", f"{atr.raw[0]:02X}  " + (_("direct convention") if atr.convention == "direct"
                                               else _("inverse convention"))),
            Row("T0", f"{atr.t0:02X}  " + _("{k} historical bytes").format(k=len(atr.historical)))]
    for g in atr.groups:
        parts = [f"T{n}{g.index}={v:02X}" for n, v in (("A", g.ta), ("B", g.tb), ("C", g.tc), ("D", g.td))
                 if v is not None]
        if parts:
            rows.append(Row(_("Interface bytes {i}").format(i=g.index), "  ".join(parts)))
    rows += [Row(_("Protocols"), ", ".join(f"T={p}" for p in atr.protocols)),
             Row("Fi / Di", f"{atr.fi} / {atr.di}  (f max {atr.f_max_mhz} MHz)"),
             Row(_("Speed at 4 MHz"), _("{rate:.0f} bit/s, about {bps:.0f} bytes/s").format(
                 rate=atr.baud_rate(4e6), bps=1 / atr.byte_time_seconds(4e6)))]
    if atr.historical:
        rows.append(Row(_("Historical bytes"), atr.historical.hex(" ").upper()))
        rows += [Row("", f"{obj.tag:X}  {obj.name}: {obj.value.hex(' ').upper()}") for obj in atr.objects]
        if atr.status:
            rows.append(Row("", _("status") + f": {atr.status.hex(' ').upper()}"))
    if atr.tck is not None:
        rows.append(Row("TCK", f"{atr.tck:02X}  " + (_("correct") if atr.tck_ok else _("WRONG"))))
    rows += [Row("!", problem, style="yellow") for problem in atr.problems]
    if model is not None:
        label = model.label + (" " + _("(guessed)") if guessed else "")
        rows.append(Row(_("Card"), label, style="bold"))
        if model.min_cryptolib:
            rows.append(Row(_("Cryptolib CPS"), _("version {v} or later").format(v=model.min_cryptolib)))
        if model.note:
            rows.append(Row("", model.note))
    console.print(panel(KeyValues(rows), "ATR", console))
