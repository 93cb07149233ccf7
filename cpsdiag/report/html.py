"""report.html: one self-contained page (inline CSS and SVG, no script, no external asset) that prints well.

Rendered from the report record alone (its texts made safe first), in the current language: the verdict
first, then the steps, the card and holder panel, the certificates with a
validity timeline, the environment, and what to do. Every status carries a
mark and a word, never colour alone, so a black and white print reads the same.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from html import escape
from cpsdiag import __version__
from cpsdiag.findings.catalog import ROLE_LABELS
from cpsdiag.i18n import N_, _, language
from cpsdiag.record import displayable
from cpsdiag.report.schema import Certificate, Report
from cpsdiag.report.view import (PanelRow, holder_panel, parse_time, parsed_certificates, remedies,
                                 rendered_findings, trace_summary, utc_minutes, verdict_label)

MARKS = {"ok": "✔", "info": "ℹ", "warning": "!", "error": "✖"}
SEVERITY_WORDS = {"ok": N_("OK"), "info": N_("Information"), "warning": N_("Warning"), "error": N_("Error")}
ALERT = ' class="status-error"'
COLOURS = {"ok": "#1b6e20", "info": "#01579b", "warning": "#a84300", "error": "#b71c1c", "muted": "#9e9e9e"}

CSS = """
:root { color-scheme: light; }
* { box-sizing: border-box; }
body { font: 15px/1.45 "DejaVu Sans", "Segoe UI", Helvetica, Arial, sans-serif; color: #1a1a1a; background: #fff;
       max-width: 62rem; margin: 0 auto; padding: 1.2rem 1.5rem 3rem; }
h1 { font-size: 1.6rem; margin: 0; }
h2 { font-size: 1.2rem; margin: 2rem 0 .6rem; padding-bottom: .2rem; border-bottom: 2px solid #ddd; }
h3 { font-size: 1rem; margin: 1.2rem 0 .4rem; }
.verdict { border: 3px solid; border-radius: 6px; padding: .8rem 1rem; margin: 0 0 .4rem; }
.verdict-ok { border-color: #1b6e20; background: #e8f5e9; color: #1b6e20; }
.verdict-warning { border-color: #a84300; background: #fff3e0; color: #7a3000; }
.verdict-error { border-color: #b71c1c; background: #ffebee; color: #b71c1c; }
.meta { color: #555; font-size: .9rem; margin: 0 0 .2rem; }
.privacy { font-size: .9rem; margin: .2rem 0 0; }
.privacy.exposed { font-weight: bold; color: #b71c1c; }
ol.steps, ol.remedies { padding-left: 0; list-style: none; margin: 0; }
ol.steps li { display: grid; grid-template-columns: 1.6rem 1fr auto; column-gap: .5rem; padding: .35rem 0;
              border-bottom: 1px solid #eee; break-inside: avoid; }
.mark { font-weight: bold; text-align: center; }
.sev { font-size: .8rem; text-transform: uppercase; letter-spacing: .03em; align-self: start; padding-top: .15rem; }
.detail { color: #444; font-size: .92rem; }
.sev-ok .mark, .sev-ok .sev { color: #1b6e20; }
.sev-info .mark, .sev-info .sev { color: #01579b; }
.sev-warning .mark, .sev-warning .sev { color: #a84300; }
.sev-error .mark, .sev-error .sev { color: #b71c1c; }
.sev-warning .title, .sev-error .title { font-weight: bold; }
table { border-collapse: collapse; }
table.panel { border: 1px solid #ccc; border-radius: 4px; min-width: 60%; }
table.panel th, table.panel td, table.kv th, table.kv td { text-align: left; vertical-align: top;
                                                           padding: .2rem .8rem; }
table.panel th { font-weight: 600; white-space: nowrap; }
table.panel tr.section th { padding-top: .7rem; text-decoration: underline; background: #fafafa; }
table.kv { margin: .2rem 0; }
table.kv th { font-weight: 600; color: #333; white-space: nowrap; }
table.kv table.kv { border-left: 2px solid #e0e0e0; }
table.list { width: 100%; font-size: .92rem; }
table.list th, table.list td { text-align: left; border-bottom: 1px solid #eee; padding: .25rem .5rem; }
.status-ok { color: #1b6e20; font-weight: bold; }
.status-error { color: #b71c1c; font-weight: bold; }
.status-warning { color: #8a5300; font-weight: bold; }
code, .hex { font-family: "DejaVu Sans Mono", Consolas, monospace; font-size: .88em; overflow-wrap: anywhere; }
figure { margin: .4rem 0 1rem; }
figure svg { width: 100%; height: auto; }
figcaption { font-size: .85rem; color: #555; }
ol.remedies { counter-reset: remedy; }
ol.remedies li { counter-increment: remedy; margin: 0 0 .8rem; padding-left: 2rem; position: relative;
                 break-inside: avoid; }
ol.remedies li::before { content: counter(remedy) "."; position: absolute; left: 0; font-weight: bold; }
ol.remedies p { margin: .15rem 0 0; }
footer { margin-top: 2.5rem; color: #666; font-size: .85rem; border-top: 1px solid #ddd; padding-top: .5rem; }
@media print {
  body { font-size: 10pt; max-width: none; padding: 0; }
  * { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  h2 { break-after: avoid; }
  section { break-inside: auto; }
  table.panel, figure { break-inside: avoid; }
}
@page { margin: 15mm; }
"""


def _e(value: object) -> str:
    return escape("" if value is None else str(value), quote=True)


def _with_code(text: str) -> str:
    """Escaped text where `commands` (as the catalogue writes them) become <code>."""
    return re.sub(r"`([^`]+)`", r"<code>\1</code>", _e(text))


# -- sections --------------------------------------------------------------------------------------


def _verdict(report: Report) -> str:
    verdict = report.verdict
    return (f'<h1 class="verdict verdict-{verdict}" id="verdict"><span class="mark" aria-hidden="true">'
            f'{MARKS[verdict]}</span> {_e(verdict_label(verdict))}</h1>')


def _meta(report: Report) -> str:
    parts = [f"cpsdiag {_e(report.tool.version or __version__)} — {_e(_('CPS card diagnosis'))}",
             _e(_("made on {date}").format(date=utc_minutes(report.generated_at)))]
    if report.validity_date and utc_minutes(report.validity_date) != utc_minutes(report.generated_at):
        parts.append(_e(_("certificates judged on {date}").format(date=utc_minutes(report.validity_date))))
    out = f'<p class="meta">{" · ".join(parts)}</p>'
    redaction = report.redaction or None
    if redaction is not None:
        if redaction.applied:
            text = _("Redacted: names, identifiers, card numbers and certificate serials are masked and replaced "
                     "by a code that only matches reports of the same card.")
            cls = "privacy"
        else:
            text = _("NOT redacted (--no-redact): this report names the holder and shows their identifiers.")
            cls = "privacy exposed"
        if redaction.certificates_included:
            text += " " + _("The card's certificates are included.")
        out += f'<p class="{cls}">{_e(text)}</p>'
    return out


def _steps(report: Report) -> str:
    items = []
    for r in rendered_findings(report):
        detail = f'<div class="detail">{_with_code(r.detail)}</div>' if r.detail else ""
        items.append(f'<li class="sev-{r.severity}"><span class="mark" aria-hidden="true">{MARKS[r.severity]}</span>'
                     f'<div><span class="title">{_e(r.title)}</span>{detail}</div>'
                     f'<span class="sev">{_e(_(SEVERITY_WORDS[r.severity]))}</span></li>')
    return (f'<section id="steps"><h2>{_e(_("Steps"))}</h2><ol class="steps">{"".join(items)}</ol>'
            f'{_summary_line(report)}</section>')


def _summary_line(report: Report) -> str:
    line = trace_summary(report)
    return f'<p class="meta">{_e(line)}</p>' if line else ""


def _panel_table(rows: list[PanelRow]) -> str:
    out = []
    for row in rows:
        if row.section:
            out.append(f'<tr class="section"><th colspan="2">{_e(row.label)}</th></tr>')
        else:
            cls = f' class="status-{row.status}"' if row.status else ""
            out.append(f"<tr><th>{_e(row.label)}</th><td{cls}>{_e(row.value)}</td></tr>")
    return f'<table class="panel">{"".join(out)}</table>'


def _holder(report: Report) -> str:
    rows = holder_panel(report)
    body = _panel_table(rows) if rows is not None else f'<p>{_e(_("No card was read."))}</p>'
    readers = report.readers
    if readers:
        lines = []
        for r in readers:
            state = _("card present") if r.card_present else _("no card")
            if r.exclusive:
                state += " " + _("(held exclusively by another program)")
            chosen = " ◀" if r.selected else ""
            lines.append(f"<tr><td>{_e(r.name)}{chosen}</td><td>{_e(state)}</td>"
                         f'<td class="hex">{_e(r.atr or "")}</td></tr>')
        body += (f'<h3>{_e(_("Readers"))}</h3><table class="list"><tr><th>{_e(_("Reader"))}</th>'
                 f'<th>{_e(_("Card"))}</th><th>ATR</th></tr>{"".join(lines)}</table>')
    return f'<section id="card"><h2>{_e(_("Card and holder"))}</h2>{body}</section>'


def _role(cert: Certificate) -> str:
    """The certificate's name as the console panel gives it; its card label when the role is not a usual one."""
    role = cert.role
    titles = {"authentication": _("Authentication certificate"), "signature": _("Signature certificate")}
    if role in titles:
        return titles[role]
    label = str(cert.label or _(ROLE_LABELS.get(role, role)))
    return label[:1].upper() + label[1:]


def _cert_state(cert: Certificate, at: datetime) -> str:
    start, end = parse_time(cert.not_before), parse_time(cert.not_after)
    if start and at < start:
        return "muted"
    if end and at > end:
        return "error"
    days = cert.days_left
    if isinstance(days, int) and days <= 30:
        return "warning"
    return "ok"


def timeline_svg(report: Report) -> str:
    """The certificates' validity periods on one time axis, with the date they were judged at."""
    periods = [(c, start, end) for c in parsed_certificates(report)
               if (start := parse_time(c.not_before)) is not None and (end := parse_time(c.not_after)) is not None]
    at = parse_time(report.validity_date) or parse_time(report.generated_at)
    if not periods or at is None:
        return ""
    lo = min([*(start for _c, start, _end in periods), at])
    hi = max([*(end for _c, _start, end in periods), at])
    pad = (hi - lo) * 0.04 or timedelta(days=30)
    lo, hi = lo - pad, hi + pad
    width, left, right, row_h, top = 1000, 250, 20, 44, 34
    height = top + row_h * len(periods) + 40
    span = (hi - lo).total_seconds()

    def x(moment: datetime) -> float:
        return left + (width - left - right) * (moment - lo).total_seconds() / span

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" '
             f'aria-labelledby="timeline-title" font-family="DejaVu Sans, Helvetica, Arial, sans-serif" '
             f'font-size="14"><title id="timeline-title">{_e(_("Validity of the certificates"))}</title>']
    axis_y = top + row_h * len(periods) + 6
    parts.append(f'<line x1="{left}" y1="{axis_y}" x2="{width - right}" y2="{axis_y}" stroke="#555"/>')
    year = lo.year + 1
    while year <= hi.year:
        tick = datetime(year, 1, 1, tzinfo=timezone.utc)
        tx = x(tick)
        parts.append(f'<line x1="{tx:.1f}" y1="{top - 6}" x2="{tx:.1f}" y2="{axis_y + 5}" stroke="#ddd"/>'
                     f'<text x="{tx:.1f}" y="{axis_y + 22}" text-anchor="middle" fill="#555">{year}</text>')
        year += 1
    ax = x(at)
    for i, (cert, start, end) in enumerate(periods):
        y = top + i * row_h
        state = _cert_state(cert, at)
        colour = COLOURS[state]
        x0, x1 = x(start), x(end)
        days = cert.days_left
        until = _("until {date}").format(date=end.strftime("%Y-%m-%d"))
        if isinstance(days, int):
            until += " · " + (_("{days} days left").format(days=days) if days >= 0 else _("expired"))
        parts.append(f'<text x="{left - 10}" y="{y + 20}" text-anchor="end" fill="#1a1a1a">{_e(_role(cert))}</text>')
        parts.append(f'<rect x="{x0:.1f}" y="{y + 4}" width="{max(x1 - x0, 2):.1f}" height="24" rx="4" '
                     f'fill="{colour}" fill-opacity="0.18" stroke="{colour}" stroke-width="2"/>')
        label_x = x0 + 8
        if x0 <= ax <= x1 and x1 - ax > 280:
            label_x = ax + 8            # keep the text clear of the "judged on" line
        label_x = min(max(label_x, left + 4), width - right - 8)
        parts.append(f'<text x="{label_x:.1f}" y="{y + 21}" fill="{colour}" font-weight="bold">'
                     f'{_e(MARKS["ok" if state == "ok" else "error" if state == "error" else "warning"])} '
                     f'{_e(until)}</text>')
    parts.append(f'<line x1="{ax:.1f}" y1="{top - 14}" x2="{ax:.1f}" y2="{axis_y}" stroke="#1a1a1a" '
                 f'stroke-width="2" stroke-dasharray="5 3"/>')
    anchor = "end" if ax > width * 0.75 else "start"
    shift = -6 if anchor == "end" else 6
    parts.append(f'<text x="{ax + shift:.1f}" y="{top - 18}" text-anchor="{anchor}" fill="#1a1a1a">'
                 f'{_e(_("judged on {date}").format(date=at.strftime("%Y-%m-%d")))}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _certificates(report: Report) -> str:
    certs = report.certificates
    if not certs:
        return f'<section id="certificates"><h2>{_e(_("Certificates"))}</h2><p>{_e(_("No certificate was read."))}' \
               f"</p></section>"
    svg = timeline_svg(report)
    figure = (f'<figure>{svg}<figcaption>{_e(_("Validity of the certificates"))}</figcaption></figure>'
              if svg else "")
    tables = []
    for cert in certs:
        title = _role(cert) + (f" — {cert.label}" if cert.label and cert.label != _role(cert) else "")
        if not cert.parsed:
            tables.append(f"<h3>{_e(title)}</h3><p class=\"status-error\">{_e(cert.error or '')}</p>")
            continue
        rows: list[tuple[str, str]] = [
            (_("Subject"), cert.subject or "-"),
            (_("Issuer"), cert.issuer or "-"),
            (_("Serial number"), cert.serial or "-"),
            (_("Valid from"), utc_minutes(cert.not_before)),
            (_("Expires on"), utc_minutes(cert.not_after)),
            (_("Key"), " ".join(str(p) for p in (cert.key_type, cert.key_size) if p)),
            (_("Key usage"), ", ".join([*(cert.key_usage or []), *(cert.extended_key_usage or [])]) or "-"),
            ("SHA-256", cert.sha256 or "-"),
        ]
        chain = cert.chain or None
        trusted = chain is not None and chain.trusted
        trust = (_("SUCCESS") + f"  ({chain.anchor})" if chain is not None and chain.trusted
                 else _("FAILURE") + (f"  ({chain.detail})" if chain is not None and chain.detail else ""))
        body = "".join(f"<tr><th>{_e(k)}</th><td>{_e(v)}</td></tr>" for k, v in rows)
        cls = "status-ok" if trusted else "status-error"
        body += f'<tr><th>{_e(_("Verification"))}</th><td class="{cls}">{_e(trust)}</td></tr>'
        tables.append(f'<h3>{_e(title)}</h3><table class="kv">{body}</table>')
    return f'<section id="certificates"><h2>{_e(_("Certificates"))}</h2>{figure}{"".join(tables)}</section>'


def _environment(report: Report) -> str:
    from cpsdiag.env.render import sections

    if report.environment is None:
        missing = _("The workstation inventory was not collected by this version of cpsdiag.")
        return f'<section id="environment"><h2>{_e(_("Environment"))}</h2><p>{_e(missing)}</p></section>'
    parts = []
    for section in sections(report.environment):
        rows = "".join(f"<tr><th>{_e(r.label)}</th><td{ALERT if r.alert else ''}>{_e(r.value)}</td></tr>"
                       for r in section.rows)
        parts.append(f'<h3>{_e(section.title)}</h3><table class="kv">{rows}</table>')
    return f'<section id="environment"><h2>{_e(_("Environment"))}</h2>{"".join(parts)}</section>'


def _remedies(report: Report) -> str:
    todo = remedies(rendered_findings(report))
    if not todo:
        body = f'<p>{_e(_("Nothing to do."))}</p>'
    else:
        body = '<ol class="remedies">' + "".join(
            f'<li class="sev-{r.severity}"><span class="title">{_e(r.title)}</span><p>{_with_code(r.remedy or "")}</p>'
            f"</li>" for r in todo) + "</ol>"
    return f'<section id="remedies"><h2>{_e(_("What to do"))}</h2>{body}</section>'


def _footer(report: Report) -> str:
    parts = [f"{_e(k)} {float(v):.0f} ms" for k, v in report.timings_ms.items()]
    text = _e(_("Timings")) + ": " + ", ".join(parts) if parts else ""
    return f"<footer><p>{text}</p><p>schema {_e(report.schema)}</p></footer>"


def render_html(report: Report) -> str:
    """The whole page. The verdict is the first thing in the body."""
    report = displayable(report)
    lang = language()
    title = f"{verdict_label(report.verdict)} — cpsdiag"
    return (
        f'<!DOCTYPE html>\n<html lang="{_e(lang)}"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<meta name="generator" content="cpsdiag {_e(__version__)}">'
        f"<title>{_e(title)}</title><style>{CSS}</style></head>\n<body>\n"
        f"{_verdict(report)}\n{_meta(report)}\n{_steps(report)}\n{_holder(report)}\n{_certificates(report)}\n"
        f"{_environment(report)}\n{_remedies(report)}\n{_footer(report)}\n</body></html>\n"
    )
