"""What the console and HTML views show, computed from a ``cpsdiag.report/1`` record alone.

The console (``check`` and ``report show``), ``report summarize`` and the
HTML page all work from the report record (``schema.Report``), so they cannot disagree: nothing
here needs live objects, and a bundle read years later shows what the check
showed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

from cpsdiag.findings.catalog import Rendered
from cpsdiag.i18n import N_, _, language
from cpsdiag.report.redact import parse_rfc4514
from cpsdiag.report.schema import Certificate, Report
from cpsdiag.report.schema import Finding as FindingRecord

SEVERITIES = ("ok", "info", "warning", "error")
VERDICT_LABELS = {"ok": N_("OK: the card and the workstation are ready"),
                  "warning": N_("Works, with warnings"),
                  "error": N_("Problem found")}
# `cpsdiag cert` judges certificate files: its verdict speaks of them, not of a card or a workstation.
CERTFILE_VERDICT_LABELS = {"ok": N_("OK: the certificates are valid and trusted"),
                           "warning": N_("Valid, with warnings"),
                           "error": N_("Problem found")}
# The issuer attributes Test SSL shows: RFC 4514 short names and their OIDs.
_ISSUER_TYPES = {"O": ("O", "2.5.4.10"), "OU": ("OU", "2.5.4.11"), "CN": ("CN", "2.5.4.3")}


@dataclass(frozen=True)
class PanelRow:
    label: str
    value: str = ""
    section: bool = False
    status: str | None = None      # "ok" | "warning" | "error" for the verification and revocation rows


def verdict_label(verdict: str) -> str:
    return _(VERDICT_LABELS.get(verdict, VERDICT_LABELS["error"]))


def rendered_findings(report: Report) -> list[Rendered]:
    """The findings' texts: as stored when the report is in the current language, else from the catalogue."""
    same_language = report.language == language()
    out = []
    for f in report.findings:
        stored = Rendered(f.code, f.severity, f.step, f.title, f.detail, f.remedy)
        out.append(stored if same_language else _rerender(f, stored))
    return out


def _rerender(f: FindingRecord, stored: Rendered) -> Rendered:
    from cpsdiag.findings.catalog import render
    from cpsdiag.findings.model import Finding, Severity

    try:
        return render(Finding(stored.code, Severity(stored.severity), stored.step, dict(f.params)))
    except (ValueError, KeyError, IndexError):
        return stored          # a code this version does not know: the report's own words


def remedies(rendered: list[Rendered]) -> list[Rendered]:
    """Findings with something to do, the same advice given once (as for both certificates)."""
    seen: set[str] = set()
    out = []
    for r in rendered:
        if r.remedy and r.remedy not in seen:
            seen.add(r.remedy)
            out.append(r)
    return out


def parse_time(value: object) -> datetime | None:
    """An ISO time from a report (trailing Z allowed), as an aware UTC datetime; None when it is not one."""
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def utc_minutes(iso: object) -> str:
    """2028-11-22T21:42:04Z -> 2028-11-22 21:42 UTC, as the console prints dates."""
    if not isinstance(iso, str) or not iso:
        return "-"
    moment = parse_time(iso)
    if moment is None:
        return iso
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def issuer_part(cert: Certificate, short: str) -> str:
    """Values of one issuer attribute in certificate order (Test SSL's ORGANISATION, AUTORITE, CLASSE)."""
    names = _ISSUER_TYPES[short]
    rdns = parse_rfc4514(cert.issuer or "")
    values = [v for rdn in reversed(rdns) for t, v in rdn if t in names]
    return " / ".join(values) if values else "-"


def parsed_certificates(report: Report) -> list[Certificate]:
    """Certificates that could be parsed (an unreadable one has only role, label, path and error)."""
    return [c for c in report.certificates if c.parsed]


def main_certificate(report: Report) -> Certificate | None:
    certs = parsed_certificates(report)
    return next((c for c in certs if c.role == "authentication"), certs[0] if certs else None)


def card_was_read(report: Report) -> bool:
    # card.pkcs15 is filled exactly when the card's files were read (jsonreport.card_record).
    return report.card is not None and report.card.pkcs15 is not None


def identity_rows(cert: Certificate) -> list[PanelRow]:
    """What ANS's Test SSL page shows: the issuing authority, then the holder."""
    rows = [PanelRow(_("IGC CPS"), section=True),
            PanelRow(_("Organisation"), issuer_part(cert, "O")),
            PanelRow(_("Authority"), issuer_part(cert, "OU")),
            PanelRow(_("Class"), issuer_part(cert, "CN"))]
    h = cert.holder or None
    if h is None:
        return rows
    rows += [PanelRow(_("Identity"), section=True),
             PanelRow(_("Given name"), h.given_name or "-"),
             PanelRow(_("Surname"), h.surname or "-")]
    ident = h.national_id or "-"
    if h.id_type:
        ident += f"  ({h.id_type})"
    rows.append(PanelRow(_("Identifier"), ident))
    if h.login_id:
        rows.append(PanelRow(_("To type for e-CPS / Pro Santé Connect"), h.login_id))
    if h.profession or h.title:
        code = f" ({h.profession_code})" if h.profession_code is not None else ""
        rows.append(PanelRow(_("Profession"), (h.profession or h.title or "") + code))
    structure = h.structure
    if structure is not None and structure.name:
        rows.append(PanelRow(_("Structure"), " — ".join(filter(None, [structure.name, structure.unit,
                                                                       structure.state]))))
    return rows


def certificate_rows(cert: Certificate, title: str | None = None) -> list[PanelRow]:
    role_titles = {"authentication": _("Authentication certificate"), "signature": _("Signature certificate")}
    rows = [PanelRow(title or role_titles.get(cert.role, str(cert.label)), section=True),
            PanelRow(_("Serial number"), cert.serial or "-"),
            PanelRow(_("Valid from"), utc_minutes(cert.not_before))]
    days = cert.days_left
    left = (_("({days} days left)").format(days=days) if isinstance(days, int) and days >= 0 else _("(expired)"))
    rows.append(PanelRow(_("Expires on"), utc_minutes(cert.not_after) + "  " + left))
    chain = cert.chain or None
    if chain is not None and chain.trusted:
        rows.append(PanelRow(_("Verification"), _("SUCCESS") + f"  ({chain.anchor})", status="ok"))
    else:
        detail = f"  ({chain.detail})" if chain is not None else ""
        rows.append(PanelRow(_("Verification"), _("FAILURE") + detail, status="error"))
    revocation = revocation_row(cert)
    if revocation is not None:
        rows.append(revocation)
    return rows


def revocation_row(cert: Certificate) -> PanelRow | None:
    """The "Revocation" line: who said the certificate is (not) revoked, or why nobody could."""
    r = cert.revocation or None
    if r is None:
        return None
    source = {"ocsp": "OCSP", "crl": "CRL"}.get(r.source or "", "")
    if r.status == "good":
        cached = " " + _("(kept from an earlier download)") if r.cached else ""
        return PanelRow(_("Revocation"), _("not revoked") + f"  ({source} {r.url}, {utc_minutes(r.produced_at)})"
                        + cached, status="ok")
    if r.status == "revoked":
        reason = f", {r.reason}" if r.reason else ""
        return PanelRow(_("Revocation"), _("REVOKED on {date}").format(date=utc_minutes(r.revoked_at))
                        + f"  ({source} {r.url}{reason})", status="error")
    if r.status == "unknown":
        return PanelRow(_("Revocation"), _("unknown") + f"  ({r.error})", status="warning")
    return PanelRow(_("Revocation"), _("not checked") + (f"  ({r.error})" if r.error else ""))


def printed_number(ef_sn_number: str, cert: Certificate | None) -> str:
    """The number printed on the card: a real card's has 10 digits, its certificates carry them all and
    EF.SN.ICC only the last 8 (docs/decisions.md); shown whole when the certificate's ends with EF.SN.ICC's."""
    number = cert.card_number if cert is not None else None
    if isinstance(number, str) and len(number) == 10 and len(ef_sn_number) == 8 and number.endswith(ef_sn_number):
        return number
    return ef_sn_number


def holder_panel(report: Report) -> list[PanelRow] | None:
    """The card and holder panel, or None when there is neither a certificate nor a card read."""
    certs = parsed_certificates(report)
    read = card_was_read(report)
    if not certs and not read:
        return None
    card = report.card
    main = main_certificate(report)
    rows: list[PanelRow] = []
    if main is not None:
        rows += identity_rows(main)
    if read or (card is not None and card.model is not None):
        rows.append(PanelRow(_("Card"), section=True))
        parts = []
        if card is not None and card.model is not None:
            parts.append(card.model)
        if main is not None and main.card_type_label:
            parts.append(main.card_type_label)
        if any(c.test_card for c in certs):
            parts.append(_("TEST card"))
        rows.append(PanelRow(_("Type"), ", ".join(parts) or "-"))
        if read and card is not None and card.card_number is not None:
            rows.append(PanelRow(_("Card number"), printed_number(card.card_number, main)))
        pin = card.pin if card is not None else None
        if read and pin is not None:
            maximum = pin.max_tries if pin.max_tries is not None else "?"
            rows.append(PanelRow(_("PIN"), _("blocked") if pin.blocked else _(
                "{left} of {max} tries left").format(left=pin.tries_left, max=maximum)))
    rows += data_object_rows(report)
    for cert in certs:
        rows += certificate_rows(cert)
    return rows


def data_object_rows(report: Report) -> list[PanelRow]:
    """The data objects the card lists (name, size, public or private, writable), then the practice situations
    read after the PIN."""
    pkcs15 = report.card.pkcs15 if report.card is not None else None
    objects = pkcs15.data_objects if pkcs15 is not None else []
    rows: list[PanelRow] = []
    if objects:
        private = sum(1 for o in objects if o.private)
        rows.append(PanelRow(_("Data objects"), section=True))
        rows.append(PanelRow(_("Listed"), _("{count}: {public} public, {private} readable after the PIN").format(
            count=len(objects), public=len(objects) - private, private=private)))
        for o in objects:
            size = _("{size} bytes").format(size=o.size) if o.size is not None else _("size unknown")
            access = _("after the PIN") if o.private else _("public")
            rows.append(PanelRow(o.label, ", ".join([size, access] + ([_("writable")] if o.modifiable else []))))
    situations = report.situations
    if situations is not None and situations.listed:
        rows.append(PanelRow(_("Practice situations"), section=True))
        rows.append(PanelRow(_("Count"), str(situations.count)))
        for item in situations.items:
            d = item.decoded
            if d is not None:
                sector = f"{d.sector} {d.sector_label}" if d.sector_label else d.sector
                value = " — ".join([d.structure_name, d.structure_id, sector])
            elif item.raw is not None:
                value = _("{size} bytes, format not known").format(size=len(item.raw) // 2)
            else:
                value = _("not read: {error}").format(error=item.error or "?")
            rows.append(PanelRow(item.label, value))
    return rows


def trace_summary(report: Report) -> str | None:
    """The closing line of the console, when the card was connected (the trace exists)."""
    # card.protocol is set exactly when a connection was made, which is when the trace exists.
    if report.card is None or report.card.protocol is None:
        return None
    ms = report.timings_ms.get("total", 0)
    return _("{count} commands exchanged with the card in {ms:.0f} ms.").format(count=report.apdu.count, ms=ms)
