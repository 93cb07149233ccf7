"""The JSON report, schema ``cpsdiag.report/1`` (docs/report-schema.md)."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

from cpsdiag import __version__
from cpsdiag.diag.catalog import render
from cpsdiag.diag.check import CheckResult
from cpsdiag.diag.collect import CertFacts, CheckFacts
from cpsdiag.i18n import language

SCHEMA = "cpsdiag.report/1"


def _iso(moment: datetime | None) -> str | None:
    return moment.astimezone(timezone.utc).isoformat().replace("+00:00", "Z") if moment else None


def _hex(data: bytes | None) -> str | None:
    return data.hex(" ").upper() if data else None


def _json_safe(value: Any) -> Any:
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    return str(value)


def _holder(info: Any) -> dict[str, Any]:
    h = info.holder
    nid = h.national_id
    structure = h.structure
    return {
        "given_name": h.given_name,
        "surname": h.surname,
        "national_id": h.common_name,
        "id_type": nid.type_label if nid else None,
        "id_kind": nid.kind if nid else None,
        "identifier": nid.identifier if nid else None,
        "login_id": nid.to_type if nid else None,
        "title": h.title,
        "profession_code": info.profession_code,
        "profession": info.profession_label,
        "structure": None if structure is None else {
            "name": structure.name, "unit": structure.unit, "id_type": structure.id_type_label,
            "identifier": structure.identifier, "state": structure.state,
        },
    }


def certificate_dict(cf: CertFacts, at: datetime) -> dict[str, Any]:
    out: dict[str, Any] = {"role": cf.role, "label": cf.label, "path": cf.path,
                           "error": str(cf.error) if cf.error else None}
    info = cf.info
    if info is None:
        return out
    chain = cf.chain
    out.update({
        "subject": info.subject,
        "issuer": info.issuer,
        "issuer_name": info.issuer_display,
        "issuer_family": info.issuer_family,
        "issuer_class": info.issuer_class,
        "issuer_range": info.issuer_range,
        "serial": info.serial_hex,
        "not_before": _iso(info.not_before),
        "not_after": _iso(info.not_after),
        "days_left": info.days_left(at),
        "holder": _holder(info),
        "card_type": info.card_type,
        "card_type_label": info.card_type_label,
        "test_card": info.test_card,
        "card_number": info.card_number,
        "key_usage": list(info.key_usage),
        "extended_key_usage": list(info.extended_key_usage),
        "key_type": info.key_type,
        "key_size": info.key_size,
        "private_key_size": cf.key_bits,
        "policies": list(info.policies),
        "crl_urls": list(info.crl_urls),
        "ocsp_urls": list(info.ocsp_urls),
        "ca_issuers_urls": list(info.ca_issuers_urls),
        "sha256": info.sha256_fingerprint,
        "chain": None if chain is None else {
            "trusted": chain.trusted, "anchor": chain.anchor, "path": list(chain.path),
            "error": chain.error, "detail": chain.detail,
        },
    })
    return out


def card_dict(facts: CheckFacts) -> dict[str, Any] | None:
    if facts.reader is None or (facts.atr is None and facts.card is None):
        return None
    model, card = facts.model, facts.card
    out: dict[str, Any] = {
        "reader": facts.reader,
        "atr": _hex(facts.atr),
        "protocol": facts.protocol,
        "generation": model.generation if model else None,
        "interface": model.interface if model else None,
        "model": model.label if model else None,
        "identified": bool(model) and not facts.model_guessed,
        "atr_decoded": facts.atr_info.to_dict() if facts.atr_info is not None else None,
        "card_number": None, "pan": None, "card_number_check_ok": None, "pin": None, "pkcs15": None,
    }
    if card is None:
        return out
    if card.serial is not None:
        out.update(card_number=card.serial.card_number, pan=card.serial.pan,
                   card_number_check_ok=card.serial.check_ok)
    status = card.pin_status
    if status is not None:
        out["pin"] = {"tries_left": status.tries_left, "max_tries": status.max_tries, "blocked": status.blocked,
                      "verified": status.verified, "source": status.source}
    app = card.application
    out["pkcs15"] = {
        "application": None if app is None else {"aid": _hex(app.aid), "label": app.label, "path": _hex(app.path)},
        "pins": [{"label": p.label, "reference": p.reference, "min_length": p.min_length,
                  "max_length": p.max_length} for p in card.pins],
        "keys": [{"label": k.label, "id": _hex(k.id), "usage": list(k.usage), "reference": k.reference,
                  "modulus_bits": k.modulus_bits} for k in card.keys],
        "certificates": [{"label": c.object.label, "id": _hex(c.object.id), "path": _hex(c.object.path),
                          "size": len(c.der) if c.der else None} for c in card.certificates],
        "problems": [{"step": p.step, "target": p.target, "error": str(p.error)} for p in card.problems],
    }
    return out


def keys_dict(keys: Any) -> dict[str, Any] | None:
    if keys is None:
        return None
    pin = keys.pin
    return {
        "requested": {"sign": keys.options.sign, "sign_all": keys.options.sign_all, "tls": keys.options.tls_url},
        "pin": None if pin is None else {"outcome": pin.outcome, "tries_left": pin.tries_left,
                                         "via_pinpad": pin.via_pinpad},
        "signatures": [{"role": c.role, "scheme": c.scheme, "outcome": c.outcome, "error": c.error,
                        "ms": round(c.seconds * 1000, 1)} for c in keys.signatures],
        "card_schemes": list(keys.card_schemes),
    }


def tls_dict(keys: Any) -> dict[str, Any] | None:
    result = getattr(keys, "tls", None)
    if result is None:
        return None
    server, route = result.server, result.route
    proxy = route.proxy if route is not None else None
    return {
        "url": result.target.url, "host": result.target.host, "port": result.target.port,
        # Never the proxy's credentials: its URL without them, and whether it has some.
        "proxy": None if proxy is None else {"url": proxy.url, "source": proxy.source, "origin": proxy.origin,
                                             "credentials": proxy.has_credentials},
        "route": None if route is None else {"direct": route.direct, "bypassed_by": route.bypassed_by,
                                             "pac": route.pac_url},
        "connect_error": result.connect_error, "connect_reason": result.connect_reason,
        "server": None if server is None else {"trusted": server.trusted, "subject": server.subject,
                                               "issuer": result.server_issuer,
                                               "issuer_known": result.server_issuer_known,
                                               "detail": server.detail or None, "store": server.store},
        "card_issuer_accepted": result.card_issuer_accepted,
        "attempts": [{
            "name": a.name, "outcome": a.outcome, "alert": a.alert, "alert_by": a.alert_by,
            "version": a.version, "cipher": a.cipher, "signature_schemes": a.schemes_used,
            "certificate_request": None if a.cert_request is None else {
                "ca_names": a.cert_request.ca_names, "signature_algorithms": a.cert_request.signature_algorithms},
            "http_status": a.http_status, "http_reason": a.http_reason, "ms": round(a.seconds * 1000, 1),
            "error": a.error,
        } for a in result.attempts],
    }


def _environment(env: Any) -> dict[str, Any] | None:
    if env is None:
        return None
    from cpsdiag.env import environment_dict

    return environment_dict(env)


def report_dict(result: CheckResult) -> dict[str, Any]:
    facts = result.facts
    trace = facts.trace
    return {
        "schema": SCHEMA,
        "tool": {"name": "cpsdiag", "version": __version__},
        "generated_at": _iso(facts.started_at),
        "language": language(),
        "validity_date": _iso(facts.at),
        "verdict": str(result.verdict),
        "exit_status": result.exit_status,
        "findings": findings_list(result.findings),
        "pcsc": {"library": facts.library,
                 "error": None if facts.pcsc_error is None else {
                     "operation": facts.pcsc_error.operation, "hresult": f"0x{facts.pcsc_error.hresult:08X}",
                     "message": str(facts.pcsc_error)}},
        "readers": [{"name": r.name, "card_present": r.card_present, "atr": _hex(r.atr),
                     "exclusive": r.exclusive, "selected": r.name == facts.reader} for r in facts.readers],
        "card": card_dict(facts),
        "certificates": [certificate_dict(cf, facts.at) for cf in facts.certificates],
        "keys": keys_dict(facts.keys),
        "environment": _environment(facts.environment),
        "tls": tls_dict(facts.keys),
        "timings_ms": dict(facts.timings_ms),
        "apdu": {"count": trace.count if trace else 0, "bytes_sent": trace.bytes_sent if trace else 0,
                 "bytes_received": trace.bytes_received if trace else 0},
    }


def dumps(result: CheckResult) -> str:
    return json.dumps(report_dict(result), ensure_ascii=False, indent=2)


def findings_list(findings: list[Any]) -> list[dict[str, Any]]:
    out = []
    for f in findings:
        r = render(f)
        out.append({"code": r.code, "severity": r.severity, "step": r.step, "title": r.title,
                    "detail": r.detail, "remedy": r.remedy, "params": _json_safe(f.params)})
    return out


def certfile_dict(result: Any) -> dict[str, Any]:
    return {
        "file": result.path,
        "validity_date": _iso(result.at),
        "verdict": str(result.verdict),
        "findings": findings_list(result.findings),
        "certificates": [certificate_dict(cf, result.at) for cf in result.certificates],
    }
