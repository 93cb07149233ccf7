"""What the console and HTML views show, computed from a ``cpsdiag.report/1`` dict alone.

The console (``check`` and ``report show``), ``report summarize`` and the
HTML page all work from the report dict, so they cannot disagree: nothing
here needs live objects, and a bundle read years later shows what the check
showed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from cpsdiag.diag.catalog import Rendered
from cpsdiag.i18n import N_, _, language, pgettext
from cpsdiag.report.redact import parse_rfc4514

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
    status: str | None = None      # "ok" | "error" for the verification row


def verdict_label(verdict: str) -> str:
    return _(VERDICT_LABELS.get(verdict, VERDICT_LABELS["error"]))


def rendered_findings(report: dict[str, Any]) -> list[Rendered]:
    """The findings' texts: as stored when the report is in the current language, else from the catalogue."""
    same_language = report.get("language") == language()
    out = []
    for f in report.get("findings") or []:
        severity = str(f.get("severity"))
        stored = Rendered(str(f.get("code")), severity if severity in SEVERITIES else "error", str(f.get("step")),
                          f.get("title") or "", f.get("detail") or "", f.get("remedy"))
        out.append(stored if same_language else _rerender(f, stored))
    return out


def _rerender(f: dict[str, Any], stored: Rendered) -> Rendered:
    from cpsdiag.diag.catalog import render
    from cpsdiag.diag.findings import Finding, Severity

    try:
        return render(Finding(stored.code, Severity(stored.severity), stored.step, dict(f.get("params") or {})))
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


def parse_time(value: Any) -> datetime | None:
    """An ISO time from a report (trailing Z allowed), as an aware UTC datetime; None when it is not one."""
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def utc_minutes(iso: str | None) -> str:
    """2028-11-22T21:42:04Z -> 2028-11-22 21:42 UTC, as the console prints dates."""
    if not iso:
        return "-"
    try:
        moment = datetime.fromisoformat(iso.replace("Z", "+00:00"))
    except ValueError:
        return iso
    if moment.tzinfo is not None:
        moment = moment.astimezone(timezone.utc)
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def issuer_part(cert: dict[str, Any], short: str) -> str:
    """Values of one issuer attribute in certificate order (Test SSL's ORGANISATION, AUTORITE, CLASSE)."""
    names = _ISSUER_TYPES[short]
    rdns = parse_rfc4514(str(cert.get("issuer") or ""))
    values = [v for rdn in reversed(rdns) for t, v in rdn if t in names]
    return " / ".join(values) if values else "-"


def parsed_certificates(report: dict[str, Any]) -> list[dict[str, Any]]:
    """Certificates that could be parsed (an unreadable one has only role, label, path and error)."""
    return [c for c in report.get("certificates") or [] if "serial" in c]


def main_certificate(report: dict[str, Any]) -> dict[str, Any] | None:
    certs = parsed_certificates(report)
    return next((c for c in certs if c.get("role") == "authentication"), certs[0] if certs else None)


def card_was_read(report: dict[str, Any]) -> bool:
    # card.pkcs15 is filled exactly when the card's files were read (jsonreport.card_dict).
    card = report.get("card") or {}
    return card.get("pkcs15") is not None


def identity_rows(cert: dict[str, Any]) -> list[PanelRow]:
    """What ANS's Test SSL page shows: the issuing authority, then the holder."""
    rows = [PanelRow(_("IGC CPS"), section=True),
            PanelRow(_("Organisation"), issuer_part(cert, "O")),
            PanelRow(_("Authority"), issuer_part(cert, "OU")),
            PanelRow(_("Class"), issuer_part(cert, "CN"))]
    h = cert.get("holder") or {}
    rows += [PanelRow(_("Identity"), section=True),
             PanelRow(_("Given name"), h.get("given_name") or "-"),
             PanelRow(_("Surname"), h.get("surname") or "-")]
    ident = h.get("national_id") or "-"
    if h.get("id_type"):
        ident += f"  ({h['id_type']})"
    rows.append(PanelRow(_("Identifier"), ident))
    if h.get("login_id"):
        rows.append(PanelRow(_("To type for e-CPS / Pro Santé Connect"), h["login_id"]))
    if h.get("profession") or h.get("title"):
        code = f" ({h['profession_code']})" if h.get("profession_code") is not None else ""
        rows.append(PanelRow(_("Profession"), (h.get("profession") or h.get("title")) + code))
    structure = h.get("structure") or {}
    if structure.get("name"):
        rows.append(PanelRow(_("Structure"), " — ".join(
            filter(None, [structure.get("name"), structure.get("unit"), structure.get("state")]))))
    return rows


def certificate_rows(cert: dict[str, Any], title: str | None = None) -> list[PanelRow]:
    role_titles = {"authentication": _("Authentication certificate"), "signature": _("Signature certificate")}
    rows = [PanelRow(title or role_titles.get(str(cert.get("role")), str(cert.get("label"))), section=True),
            PanelRow(_("Serial number"), str(cert.get("serial") or "-")),
            PanelRow(_("Valid from"), utc_minutes(cert.get("not_before")))]
    days = cert.get("days_left")
    left = (_("({days} days left)").format(days=days) if isinstance(days, int) and days >= 0 else _("(expired)"))
    rows.append(PanelRow(_("Expires on"), utc_minutes(cert.get("not_after")) + "  " + left))
    chain = cert.get("chain")
    if chain is not None and chain.get("trusted"):
        rows.append(PanelRow(_("Verification"), _("SUCCESS") + f"  ({chain.get('anchor')})", status="ok"))
    else:
        detail = f"  ({chain.get('detail')})" if chain is not None else ""
        rows.append(PanelRow(_("Verification"), _("FAILURE") + detail, status="error"))
    return rows


def holder_panel(report: dict[str, Any]) -> list[PanelRow] | None:
    """The card and holder panel, or None when there is neither a certificate nor a card read."""
    certs = parsed_certificates(report)
    read = card_was_read(report)
    if not certs and not read:
        return None
    card = report.get("card") or {}
    main = main_certificate(report)
    rows: list[PanelRow] = []
    if main is not None:
        rows += identity_rows(main)
    if read or card.get("model") is not None:
        rows.append(PanelRow(_("Card"), section=True))
        parts = []
        if card.get("model") is not None:
            parts.append(str(card["model"]))
        if main is not None and main.get("card_type_label"):
            parts.append(str(main["card_type_label"]))
        if any(c.get("test_card") for c in certs):
            parts.append(_("TEST card"))
        rows.append(PanelRow(_("Type"), ", ".join(parts) or "-"))
        if read and card.get("card_number") is not None:
            rows.append(PanelRow(_("Card number"), str(card["card_number"])))
        pin = card.get("pin")
        if read and pin is not None:
            maximum = pin.get("max_tries") if pin.get("max_tries") is not None else "?"
            rows.append(PanelRow(_("PIN"), _("blocked") if pin.get("blocked") else _(
                "{left} of {max} tries left").format(left=pin.get("tries_left"), max=maximum)))
    for cert in certs:
        rows += certificate_rows(cert)
    return rows


def trace_summary(report: dict[str, Any]) -> str | None:
    """The closing line of the console, when the card was connected (the trace exists)."""
    card = report.get("card") or {}
    # card.protocol is set exactly when a connection was made, which is when the trace exists.
    if card.get("protocol") is None:
        return None
    count = (report.get("apdu") or {}).get("count", 0)
    ms = (report.get("timings_ms") or {}).get("total", 0)
    return _("{count} commands exchanged with the card in {ms:.0f} ms.").format(count=count, ms=ms)


def environment_rows(report: dict[str, Any]) -> list[PanelRow]:
    """A short workstation summary for the console (the full inventory is ``cpsdiag env``)."""
    env = report.get("environment")
    if not isinstance(env, dict):
        return []
    rows: list[PanelRow] = []
    system = env.get("system") or {}
    if system:
        rows.append(PanelRow(_("System"), " ".join(str(p) for p in (system.get("os_name"), system.get("os_version"),
                                                                    system.get("architecture")) if p) or "-"))
    pcsc = env.get("pcsc") or {}
    service = pcsc.get("service") or {}
    if service:
        state = _("running") if service.get("running") else _("not running")
        rows.append(PanelRow(_("PC/SC service"), f"{service.get('name') or '-'}: {state}"
                             + (f", {service['version']}" if service.get("version") else "")))
    cryptolib = env.get("cryptolib") or {}
    if cryptolib:
        rows.append(PanelRow("Cryptolib CPS", (cryptolib.get("version") or _("version unknown"))
                             if cryptolib.get("installed") else pgettext("Cryptolib CPS", "not installed")))
    modules = [m.get("name") or m.get("path") for m in env.get("modules") or [] if m.get("kind") not in ("nss",)]
    if modules:
        rows.append(PanelRow(_("PKCS#11 modules"), ", ".join(str(m) for m in modules)))
    return rows
