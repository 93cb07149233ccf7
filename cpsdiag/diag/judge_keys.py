"""Judge the key tests: PIN presentation, signature self-test, TLS probe. Pure, like judge.py."""

from __future__ import annotations

from typing import TYPE_CHECKING, Mapping

from cpsdiag.findings.model import Finding, Severity

if TYPE_CHECKING:
    from cpsdiag.diag.facts import CheckFacts
    from cpsdiag.diag.situations import SituationFacts
    from cpsdiag.tls.probe import TlsProbeResult

OK, INFO, WARNING, ERROR = Severity.OK, Severity.INFO, Severity.WARNING, Severity.ERROR

SCHEME_NAMES = {"pkcs1-sha256": "PKCS#1 v1.5, SHA-256", "pss-sha256": "RSA-PSS, SHA-256"}

# Server alerts that mean "your certificate is refused", with what they say (RFC 8446 §6.2, RFC 5246 §7.2).
CLIENT_CERT_ALERTS = {
    "bad_certificate": "bad_certificate: the server found the certificate corrupt or its signature invalid",
    "unsupported_certificate": "unsupported_certificate: the server does not support this kind of certificate",
    "certificate_revoked": "certificate_revoked: the certificate has been revoked",
    "certificate_expired": "certificate_expired: the server considers the certificate expired",
    "certificate_unknown": "certificate_unknown: the server refused the certificate",
    "unknown_ca": "unknown_ca: the server does not trust the authority that issued the card",
    "access_denied": "access_denied: the certificate is valid but this card is not allowed on this service",
    "decrypt_error": "decrypt_error: the signature made by the card did not verify on the server",
    "certificate_required": "certificate_required: the server received no certificate",
}


def judge_keys(facts: CheckFacts, out: list[Finding], personal: Mapping[str, object]) -> None:
    keys = facts.keys
    if keys is None:
        return
    if keys.module_error:
        out.append(Finding("PKCS11_MODULE_FAILED", ERROR, "keys",
                           {"module": str(keys.options.module), "error": keys.module_error}))
        return
    pin = keys.pin
    if pin is not None:
        how = {"verified": "pinpad" if pin.via_pinpad else keys.options.pin_from, "already_verified": "already"}
        if pin.outcome in ("verified", "already_verified"):
            out.append(Finding("PIN_VERIFIED", OK, "keys", {"how": how[pin.outcome]}))
        elif pin.outcome == "wrong":
            out.append(Finding("PIN_WRONG", ERROR, "keys", {"tries_left": pin.tries_left}))
        elif pin.outcome == "blocked_now":
            out.append(Finding("PIN_WRONG", ERROR, "keys", {"tries_left": 0}))
            out.append(Finding("PIN_BLOCKED", ERROR, "keys", dict(personal)))
        elif pin.outcome == "last_try_refused":
            out.append(Finding("PIN_LAST_TRY_REFUSED", WARNING, "keys", {"tries_left": 1}))
        elif pin.outcome == "not_given":
            out.append(Finding("PIN_NOT_GIVEN", WARNING, "keys"))
        elif pin.outcome == "blocked":
            out.append(Finding("KEY_TESTS_SKIPPED", WARNING, "keys", {"reason": "pin_blocked"}))
        elif pin.outcome == "counter_unknown":
            out.append(Finding("KEY_TESTS_SKIPPED", WARNING, "keys", {"reason": "counter_unknown"}))
    if not keys.keys_usable:
        return
    if keys.situations is not None:
        _judge_situations(keys.situations, out)
    for check in keys.signatures:
        params = {"role": check.role, "scheme": SCHEME_NAMES.get(check.scheme, check.scheme),
                  "ms": round(check.seconds * 1000)}
        if check.outcome == "ok":
            out.append(Finding("KEY_SIGN_OK", OK, "keys", params))
        elif check.outcome == "mismatch":
            out.append(Finding("KEY_MISMATCH", ERROR, "keys", params))
        else:
            if keys.options.via == "pkcs11":
                params["module"] = str(keys.options.module)
            out.append(Finding("KEY_SIGN_FAILED", ERROR, "keys", {**params, "error": check.error}))
    if keys.signatures or keys.tls is not None:
        pkcs1 = "pkcs1" in keys.card_schemes and not any(
            c.scheme == "pkcs1-sha256" and c.role == "authentication" and c.outcome != "ok" for c in keys.signatures)
        pss = "pss" in keys.card_schemes and not any(
            c.scheme == "pss-sha256" and c.outcome != "ok" for c in keys.signatures)
        out.append(Finding("KEY_CAPABILITIES", INFO, "keys",
                           {"pkcs1": pkcs1, "pss": pss, "tls12": pkcs1 or pss, "tls13": pss}))
    if keys.tls_error:
        out.append(Finding("TLS_HANDSHAKE_FAILED", ERROR, "tls", {"url": keys.options.tls_url,
                                                                 "error": keys.tls_error}))
    elif keys.tls is not None:
        _judge_tls(keys.tls, facts, out)


def _route_params(result: TlsProbeResult) -> dict[str, object]:
    """How the probe went: the proxy (never its credentials) or why it went direct."""
    route = result.route
    if route is None:
        return {}
    if route.proxy is not None:
        return {"proxy": route.proxy.url, "origin": route.proxy.origin, "source": route.proxy.source}
    return {"direct": route.direct, "bypassed_by": route.bypassed_by}


def _judge_connect_failure(result: TlsProbeResult, out: list[Finding]) -> None:
    from cpsdiag.net import errors as net

    url, exc = result.target.url, result.net_error
    params = {"url": url, "target": result.target.authority, **_route_params(result)}
    if isinstance(exc, net.ProxyUnreachable):
        out.append(Finding("PROXY_CONNECT_FAILED", ERROR, "tls", {**params, "error": str(exc), "cause": exc.cause}))
    elif isinstance(exc, net.ProxyAuthRequired):
        out.append(Finding("PROXY_AUTH_REQUIRED", ERROR, "tls", {
            **params, "schemes": ", ".join(exc.schemes) or "-", "credentials_sent": exc.credentials_sent,
            "credentials_refused": True if exc.credentials_sent else None}))
    elif isinstance(exc, net.ProxyRefused):
        out.append(Finding("PROXY_REFUSED", ERROR, "tls", {
            **params, "status": exc.status, "status_line": exc.status_line or "-"}))
    else:
        out.append(Finding("TLS_CONNECT_FAILED", ERROR, "tls",
                           {**params, "error": result.connect_error, "reason": result.connect_reason}))


def _intercepted(result: TlsProbeResult) -> bool:
    """A proxy in the path answered with a certificate of its own making (docs/network.md).

    The evidence: nothing asked for the card, and the certificate presented
    was issued by no public or IGC-Santé authority (trusted or not: companies
    install their inspection authority on their workstations).
    """
    route = result.route
    if route is None or route.proxy is None or not result.attempts:
        return False
    asked = any(a.cert_request is not None for a in result.attempts)
    return not asked and result.server_issuer_known is False


def _judge_situations(situations: SituationFacts, out: list[Finding]) -> None:
    """How many practice situations the card holds: none means billing software cannot bill on it."""
    if not situations.listed:
        out.append(Finding("SITUATIONS_UNREADABLE", WARNING, "situations",
                           {"target": "DODF", "error": situations.error or "?"}))
        return
    if not situations.items:
        out.append(Finding("SITUATIONS_NONE", WARNING, "situations"))
        return
    unread = [s for s in situations.items if s.raw is None]
    for item in unread:
        out.append(Finding("SITUATIONS_UNREADABLE", WARNING, "situations",
                           {"target": item.label, "error": item.error or "?"}))
    if len(unread) < len(situations.items):
        out.append(Finding("SITUATIONS_READ", OK, "situations", {
            "count": situations.count, "labels": ", ".join(s.label for s in situations.items if s.raw is not None)}))


def _judge_tls(result: TlsProbeResult, facts: CheckFacts, out: list[Finding]) -> None:
    url = result.target.url
    route = result.route
    if route is not None and route.pac_url:
        out.append(Finding("PROXY_PAC", INFO, "tls", {"url": url, "pac": route.pac_url, **_route_params(result)}))
    if result.net_error is not None or result.connect_error:
        _judge_connect_failure(result, out)
        return
    if _intercepted(result):
        server = result.server
        out.append(Finding("TLS_INTERCEPTED", ERROR, "tls", {
            "url": url, "host": result.target.host, **_route_params(result),
            "issuer": result.server_issuer or "?", "subject": server.subject if server else "?",
            "trusted": True if server is not None and server.trusted else None}))
        return
    server = result.server
    if server is not None and not server.trusted:
        out.append(Finding("TLS_SERVER_UNTRUSTED", ERROR, "tls", {
            "url": url, "subject": server.subject or "?", "detail": server.detail, "store": server.store,
            "why": server.reason or "rejected", "authority": server.issuer, "host": result.target.host,
            "names": ", ".join(server.names) or None, "not_before": (server.not_before or "")[:10] or None,
            "not_after": (server.not_after or "")[:10] or None, "verifier": server.verifier}))
    success = next((a for a in result.attempts if a.outcome == "ok" and not a.http_hint), None)
    needs_pss = any(a.outcome == "card_cannot_sign" for a in result.attempts)
    problems = False
    for a in result.attempts:
        if a.outcome == "ok" and a.http_hint:
            problems = True
            out.append(Finding("TLS_CLIENT_CERT_REJECTED", ERROR, "tls", {
                "url": url, "reason": f"HTTP {a.http_status} {a.http_reason}: {a.http_hint}",
                "http_status": a.http_status}))
        elif a.outcome == "alert" and a.alert_by == "server" and a.alert in CLIENT_CERT_ALERTS:
            problems = True
            out.append(Finding("TLS_CLIENT_CERT_REJECTED", ERROR, "tls", {
                "url": url, "reason": CLIENT_CERT_ALERTS[a.alert], "alert": a.alert, "version": a.name}))
        elif a.outcome == "alert" and a.alert_by == "client" and "signature failed" in (a.alert_message or "").lower():
            problems = True
            out.append(Finding("KEY_MISMATCH", ERROR, "tls", {"role": "authentication",
                                                             "scheme": ", ".join(a.schemes_used) or "?"}))
        elif a.outcome == "card_error":
            problems = True
            out.append(Finding("KEY_SIGN_FAILED", ERROR, "tls", {"role": "authentication", "error": a.error,
                                                                "scheme": ", ".join(a.schemes_used) or "?"}))
    if needs_pss:
        generation = facts.model.generation if facts.model else "?"
        params: dict[str, object] = {"url": url, "generation": generation}
        if success is not None:
            params["tls12_ok"] = True
        out.append(Finding("TLS13_PSS_UNSUPPORTED", WARNING if success else ERROR, "tls", params))
        problems = True
    if result.card_issuer_accepted is False:
        request = next(a.cert_request for a in result.attempts if a.cert_request and a.cert_request.ca_names)
        auth = next((cf.info for cf in facts.certificates if cf.role == "authentication" and cf.info), None)
        out.append(Finding("TLS_CA_NOT_ACCEPTED", ERROR, "tls", {
            "url": url, "ca_names": "; ".join(request.ca_names),
            "issuer": auth.issuer_display if auth else "?"}))
    if success is not None:
        if success.cert_request is None:
            out.append(Finding("TLS_NO_CLIENT_AUTH", WARNING, "tls", {"url": url}))
        else:
            out.append(Finding("TLS_OK", OK, "tls", {
                "url": url, "version": success.version, "cipher": success.cipher,
                "scheme": ", ".join(success.schemes_used) or "-", "http_status": success.http_status,
                "http_reason": success.http_reason or "", "ms": round(success.seconds * 1000)}))
    elif not problems:
        last = result.attempts[-1] if result.attempts else None
        error = "?"
        if last is not None:
            error = last.alert and f"{last.alert} ({last.alert_by})" or last.error or last.outcome
        out.append(Finding("TLS_HANDSHAKE_FAILED", ERROR, "tls", {"url": url, "error": error}))
