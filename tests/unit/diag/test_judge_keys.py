"""The key-test judge on hand-built facts: each outcome of the PIN, the signature self-test and the TLS probe gives
the finding the catalogue promises, with every parameter (what the remedies and the report show)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from cpsdiag.findings.model import Finding, Severity
from cpsdiag.diag.judge_keys import judge_keys
from cpsdiag.diag.facts import KeyFacts, KeyOptions, PinOutcome, SignatureCheck
from cpsdiag.net import errors as net
from cpsdiag.net.proxy import ProxyServer, Route
from cpsdiag.net.url import Endpoint
from cpsdiag.tls.probe import CertRequest, TlsAttempt, TlsProbeResult
from cpsdiag.tls.trust import ServerTrust

OK, INFO, WARNING, ERROR = Severity.OK, Severity.INFO, Severity.WARNING, Severity.ERROR
URL = "https://service.example:8443/login"
PERSONAL = {"ordre": "Ordre des médecins", "login_id": "899900000011"}


def findings(keys: KeyFacts | None, generation: str = "CPS3", issuer: str | None = "AC IGC-SANTE FORT PERSONNES"):
    auth = SimpleNamespace(role="authentication", info=SimpleNamespace(issuer_display=issuer)) if issuer else None
    facts = SimpleNamespace(keys=keys, model=SimpleNamespace(generation=generation) if generation else None,
                            certificates=[auth] if auth else [])
    out: list[Finding] = []
    judge_keys(facts, out, dict(PERSONAL))
    return [(f.code, f.severity, f.step, f.params) for f in out]


def keys(pin: str | None = "verified", *, via: str = "apdu", tries: int | None = None, pinpad: bool = False,
         signatures=(), schemes=("pkcs1",), tls=None, tls_error=None, module_error=None) -> KeyFacts:
    options = KeyOptions(sign=True, tls_url=URL, via=via, module=Path("/usr/lib/opensc-pkcs11.so") if via == "pkcs11"
                         else None)
    return KeyFacts(options, pin=PinOutcome(pin, tries, pinpad) if pin else None, signatures=list(signatures),
                    card_schemes=tuple(schemes), tls=tls, tls_error=tls_error, module_error=module_error)


def test_no_key_test_asked_says_nothing():
    assert findings(None) == []
    assert findings(keys(pin=None)) == []


def test_a_module_that_does_not_load_is_all_that_is_said():
    assert findings(keys(via="pkcs11", module_error="dlopen failed", signatures=[SignatureCheck("authentication",
                                                                                              "pkcs1-sha256", "ok")])) \
        == [("PKCS11_MODULE_FAILED", ERROR, "keys", {"module": "/usr/lib/opensc-pkcs11.so", "error": "dlopen failed"})]


@pytest.mark.parametrize("outcome,pinpad,tries,expected", [
    ("verified", False, None, [("PIN_VERIFIED", OK, "keys", {"how": "keyboard"})]),
    ("verified", True, None, [("PIN_VERIFIED", OK, "keys", {"how": "pinpad"})]),
    ("already_verified", False, None, [("PIN_VERIFIED", OK, "keys", {"how": "already"})]),
    ("wrong", False, 2, [("PIN_WRONG", ERROR, "keys", {"tries_left": 2})]),
    ("blocked_now", False, 0, [("PIN_WRONG", ERROR, "keys", {"tries_left": 0}),
                               ("PIN_BLOCKED", ERROR, "keys", PERSONAL)]),
    ("last_try_refused", False, 1, [("PIN_LAST_TRY_REFUSED", WARNING, "keys", {"tries_left": 1})]),
    ("not_given", False, None, [("PIN_NOT_GIVEN", WARNING, "keys", {})]),
    ("blocked", False, 0, [("KEY_TESTS_SKIPPED", WARNING, "keys", {"reason": "pin_blocked"})]),
    ("counter_unknown", False, None, [("KEY_TESTS_SKIPPED", WARNING, "keys", {"reason": "counter_unknown"})]),
    ("not_needed", False, None, []),
])
def test_each_pin_outcome(outcome, pinpad, tries, expected):
    # A signature check is there: only an outcome that opens the keys lets it be judged.
    check = SignatureCheck("authentication", "pkcs1-sha256", "ok", seconds=0.0424)
    got = findings(keys(outcome, tries=tries, pinpad=pinpad, signatures=[check]))
    usable = outcome in ("verified", "already_verified", "not_needed")
    signed = [("KEY_SIGN_OK", OK, "keys", {"role": "authentication", "scheme": "PKCS#1 v1.5, SHA-256", "ms": 42}),
              ("KEY_CAPABILITIES", INFO, "keys", {"pkcs1": True, "pss": False, "tls12": True, "tls13": False})]
    assert got == expected + (signed if usable else [])


def test_signature_outcomes_and_what_the_card_can_do():
    checks = [SignatureCheck("authentication", "pkcs1-sha256", "ok", seconds=0.0015),
              SignatureCheck("authentication", "pss-sha256", "mismatch", seconds=0.2),
              SignatureCheck("signature", "pkcs1-sha256", "refused", error="6982", seconds=1.0006),
              SignatureCheck("signature", "sha1-odd", "ok", seconds=0)]
    assert findings(keys(signatures=checks, schemes=("pkcs1", "pss")))[1:] == [
        ("KEY_SIGN_OK", OK, "keys", {"role": "authentication", "scheme": "PKCS#1 v1.5, SHA-256", "ms": 2}),
        ("KEY_MISMATCH", ERROR, "keys", {"role": "authentication", "scheme": "RSA-PSS, SHA-256", "ms": 200}),
        ("KEY_SIGN_FAILED", ERROR, "keys", {"role": "signature", "scheme": "PKCS#1 v1.5, SHA-256", "ms": 1001,
                                            "error": "6982"}),
        ("KEY_SIGN_OK", OK, "keys", {"role": "signature", "scheme": "sha1-odd", "ms": 0}),
        # PSS failed once: not a capability; PKCS#1 works for the authentication key (a signature-key failure
        # does not take it away: TLS signs with the authentication key).
        ("KEY_CAPABILITIES", INFO, "keys", {"pkcs1": True, "pss": False, "tls12": True, "tls13": False}),
    ]


@pytest.mark.parametrize("schemes,checks,capabilities", [
    (("pkcs1", "pss"), [("authentication", "pkcs1-sha256", "ok"), ("authentication", "pss-sha256", "ok")],
     (True, True, True, True)),
    (("pss",), [("authentication", "pss-sha256", "ok")], (False, True, True, True)),
    (("pkcs1",), [("authentication", "pkcs1-sha256", "refused")], (False, False, False, False)),
    (("pkcs1", "pss"), [("signature", "pss-sha256", "refused")], (True, False, True, False)),
    ((), [("authentication", "pkcs1-sha256", "ok")], (False, False, False, False)),
])
def test_capabilities_follow_the_card_s_schemes_and_the_failures(schemes, checks, capabilities):
    got = findings(keys(signatures=[SignatureCheck(*c) for c in checks], schemes=schemes))
    pkcs1, pss, tls12, tls13 = capabilities
    assert got[-1] == ("KEY_CAPABILITIES", INFO, "keys", {"pkcs1": pkcs1, "pss": pss, "tls12": tls12, "tls13": tls13})


def test_a_failure_through_pkcs11_names_the_module():
    got = findings(keys(via="pkcs11", signatures=[SignatureCheck("authentication", "pkcs1-sha256", "refused",
                                                                 error="CKR_FUNCTION_FAILED", seconds=0.01)]))
    assert got[1] == ("KEY_SIGN_FAILED", ERROR, "keys", {"role": "authentication", "scheme": "PKCS#1 v1.5, SHA-256",
                                                         "ms": 10, "module": "/usr/lib/opensc-pkcs11.so",
                                                         "error": "CKR_FUNCTION_FAILED"})


def test_a_tls_probe_that_could_not_run():
    got = findings(keys(tls_error="--tls-ca unreadable"))
    # Nothing was signed and no handshake made: no capability can be told.
    assert got == [("PIN_VERIFIED", OK, "keys", {"how": "keyboard"}),
                   ("TLS_HANDSHAKE_FAILED", ERROR, "tls", {"url": URL, "error": "--tls-ca unreadable"})]


def probe(*attempts: TlsAttempt, **kwargs) -> TlsProbeResult:
    return TlsProbeResult(Endpoint(URL, "https", "service.example", 8443, "/login", False), list(attempts), **kwargs)


def tls_findings(result: TlsProbeResult, **kwargs):
    return [f for f in findings(keys(tls=result), **kwargs) if f[2] == "tls"]


REQUEST = CertRequest(["CN=AC IGC-SANTE FORT PERSONNES"], [b"der"], ["rsa_pkcs1_sha256"])


def test_tls_ok():
    ok = TlsAttempt("tls12-pkcs1", "ok", version="TLS 1.2", cipher="ECDHE-RSA-AES128-GCM-SHA256",
                    schemes_used=["rsa_pkcs1_sha256"], cert_request=REQUEST, http_status=200, http_reason="OK",
                    seconds=0.1234)
    assert tls_findings(probe(ok)) == [("TLS_OK", OK, "tls", {
        "url": URL, "version": "TLS 1.2", "cipher": "ECDHE-RSA-AES128-GCM-SHA256", "scheme": "rsa_pkcs1_sha256",
        "http_status": 200, "http_reason": "OK", "ms": 123})]
    bare = TlsAttempt("tls12-pkcs1", "ok", version="TLS 1.2", cipher="C", cert_request=REQUEST, http_status=404)
    assert tls_findings(probe(bare))[0][3] | {} == {"url": URL, "version": "TLS 1.2", "cipher": "C", "scheme": "-",
                                                    "http_status": 404, "http_reason": "", "ms": 0}


def test_tls_without_client_authentication():
    assert tls_findings(probe(TlsAttempt("tls13", "ok", version="TLS 1.3"))) == [
        ("TLS_NO_CLIENT_AUTH", WARNING, "tls", {"url": URL})]


def test_tls_connection_failure_stops_there():
    result = probe(TlsAttempt("tls13", "ok", cert_request=REQUEST), connect_error="refused", connect_reason="refused",
                   server=ServerTrust(False, "self-signed", "localhost", "system"))
    assert tls_findings(result) == [("TLS_CONNECT_FAILED", ERROR, "tls",
                                     {"url": URL, "target": "service.example:8443", "error": "refused",
                                      "reason": "refused"})]


def test_an_untrusted_server_is_said_beside_the_outcome():
    result = probe(TlsAttempt("tls13", "ok", version="TLS 1.3", cert_request=REQUEST),
                   server=ServerTrust(False, "unable to get local issuer", None, "ca.pem"))
    got = tls_findings(result)
    assert got[0] == ("TLS_SERVER_UNTRUSTED", ERROR, "tls", {
        "url": URL, "subject": "?", "detail": "unable to get local issuer", "store": "ca.pem", "why": "rejected",
        "authority": None, "host": "service.example", "names": None, "not_before": None, "not_after": None,
        "verifier": None})
    assert got[1][0] == "TLS_OK" and len(got) == 2
    trusted = probe(TlsAttempt("tls13", "ok", cert_request=REQUEST), server=ServerTrust(True, "", "x", "system"))
    assert [f[0] for f in tls_findings(trusted)] == ["TLS_OK"]


@pytest.mark.parametrize("alert", ["bad_certificate", "unsupported_certificate", "certificate_revoked",
                                   "certificate_expired", "certificate_unknown", "unknown_ca", "access_denied",
                                   "decrypt_error", "certificate_required"])
def test_each_server_alert_about_the_client_certificate(alert):
    # RFC 8446 §6.2 / RFC 5246 §7.2: the alerts a server sends about the client's certificate.
    got = tls_findings(probe(TlsAttempt("tls13", "alert", alert=alert, alert_by="server")))
    assert len(got) == 1
    code, severity, step, params = got[0]
    assert (code, severity, step) == ("TLS_CLIENT_CERT_REJECTED", ERROR, "tls")
    assert params["url"] == URL and params["alert"] == alert and params["version"] == "tls13"
    assert params["reason"].startswith(alert + ": ") and len(params["reason"]) > len(alert) + 10


def test_other_alerts_and_failures_end_as_a_failed_handshake():
    assert tls_findings(probe(TlsAttempt("tls13", "alert", alert="handshake_failure", alert_by="server"))) == [
        ("TLS_HANDSHAKE_FAILED", ERROR, "tls", {"url": URL, "error": "handshake_failure (server)"})]
    assert tls_findings(probe(TlsAttempt("tls13", "timeout", error="no answer in 10 s"))) == [
        ("TLS_HANDSHAKE_FAILED", ERROR, "tls", {"url": URL, "error": "no answer in 10 s"})]
    assert tls_findings(probe(TlsAttempt("tls13", "closed"))) == [
        ("TLS_HANDSHAKE_FAILED", ERROR, "tls", {"url": URL, "error": "closed"})]
    assert tls_findings(probe()) == [("TLS_HANDSHAKE_FAILED", ERROR, "tls", {"url": URL, "error": "?"})]
    # An unknown alert from the client is no key problem.
    assert tls_findings(probe(TlsAttempt("tls12", "alert", alert="internal_error", alert_by="client",
                                         alert_message="oops"))) == [
        ("TLS_HANDSHAKE_FAILED", ERROR, "tls", {"url": URL, "error": "internal_error (client)"})]


def test_the_server_refusing_at_http_level():
    attempt = TlsAttempt("tls12-pkcs1", "ok", version="TLS 1.2", cert_request=REQUEST, http_status=403,
                         http_reason="Forbidden", http_hint="no client certificate")
    assert tls_findings(probe(attempt)) == [("TLS_CLIENT_CERT_REJECTED", ERROR, "tls", {
        "url": URL, "reason": "HTTP 403 Forbidden: no client certificate", "http_status": 403})]


def test_the_card_s_signature_refused_or_failing_during_the_handshake():
    bad = TlsAttempt("tls12-pkcs1", "alert", alert="decrypt_error", alert_by="client",
                     alert_message="Signature failed to verify", schemes_used=["rsa_pkcs1_sha256"])
    assert tls_findings(probe(bad)) == [("KEY_MISMATCH", ERROR, "tls",
                                         {"role": "authentication", "scheme": "rsa_pkcs1_sha256"})]
    failing = TlsAttempt("tls12-pkcs1", "card_error", error="6982")
    assert tls_findings(probe(failing)) == [("KEY_SIGN_FAILED", ERROR, "tls",
                                             {"role": "authentication", "error": "6982", "scheme": "?"})]


@pytest.mark.parametrize("fallback_ok", [False, True])
def test_tls13_needs_pss_which_a_cps3_lacks(fallback_ok):
    attempts = [TlsAttempt("tls13-pss", "card_cannot_sign")]
    if fallback_ok:
        attempts.append(TlsAttempt("tls12-pkcs1", "ok", version="TLS 1.2", cert_request=REQUEST))
    got = tls_findings(probe(*attempts))
    expected = {"url": URL, "generation": "CPS3", **({"tls12_ok": True} if fallback_ok else {})}
    assert got[0] == ("TLS13_PSS_UNSUPPORTED", WARNING if fallback_ok else ERROR, "tls", expected)
    assert [f[0] for f in got[1:]] == (["TLS_OK"] if fallback_ok else [])
    assert tls_findings(probe(*attempts), generation=None)[0][3]["generation"] == "?"


def test_the_server_not_accepting_the_card_s_authority():
    request = CertRequest(["CN=Other CA", "CN=Another"], [b"a", b"b"], [])
    result = probe(TlsAttempt("tls13", "alert", alert="certificate_required", alert_by="server",
                              cert_request=request), card_issuer_accepted=False)
    got = tls_findings(result)
    assert got[-1] == ("TLS_CA_NOT_ACCEPTED", ERROR, "tls", {"url": URL, "ca_names": "CN=Other CA; CN=Another",
                                                            "issuer": "AC IGC-SANTE FORT PERSONNES"})
    assert tls_findings(result, issuer=None)[-1][3]["issuer"] == "?"
    assert len(got) == 2 and got[0][0] == "TLS_CLIENT_CERT_REJECTED"


def test_schemes_are_listed_comma_separated_and_the_first_authority_list_is_named():
    two = ["rsa_pss_rsae_sha256", "rsa_pkcs1_sha256"]
    bad = TlsAttempt("tls12-pkcs1", "alert", alert="decrypt_error", alert_by="client",
                     alert_message="Signature failed to verify", schemes_used=two)
    failing = TlsAttempt("tls12-pkcs1", "card_error", error="6982", schemes_used=two)
    ok = TlsAttempt("tls12-pkcs1", "ok", cert_request=REQUEST, schemes_used=two)
    got = tls_findings(probe(bad, failing, ok))
    assert [f[3]["scheme"] for f in got] == ["rsa_pss_rsae_sha256, rsa_pkcs1_sha256"] * 3
    nothing = TlsAttempt("tls12-pkcs1", "alert", alert="decrypt_error", alert_by="client",
                         alert_message="signature failed")
    assert tls_findings(probe(nothing))[0][3]["scheme"] == "?"
    # The authority list comes from the first request that named authorities; the issuer from the certificate
    # whose role is authentication, wherever it is in the list.
    empty = CertRequest([], [], [])
    result = probe(TlsAttempt("tls13", "closed", cert_request=empty),
                   TlsAttempt("tls12", "closed", cert_request=CertRequest(["CN=X"], [b"x"], [])),
                   card_issuer_accepted=False)
    facts = SimpleNamespace(keys=keys(tls=result), model=None, certificates=[
        SimpleNamespace(role="signature", info=SimpleNamespace(issuer_display="SIGNATURE CA")),
        SimpleNamespace(role="authentication", info=None),
        SimpleNamespace(role="authentication", info=SimpleNamespace(issuer_display="AUTH CA"))])
    out: list[Finding] = []
    judge_keys(facts, out, {})
    assert [(f.code, f.params.get("ca_names"), f.params.get("issuer")) for f in out if f.step == "tls"] == [
        ("TLS_CA_NOT_ACCEPTED", "CN=X", "AUTH CA"), ("TLS_HANDSHAKE_FAILED", None, None)]


# -- the network: proxies and TLS inspection ---------------------------------------------------------------------

PROXY = ProxyServer("proxy.chu.test", 3128, "windows", r"HKCU\...\ProxyServer")
VIA_PROXY = {"proxy": "http://proxy.chu.test:3128", "origin": r"HKCU\...\ProxyServer", "source": "windows"}
TARGET = {"url": URL, "target": "service.example:8443"}


def test_how_the_connection_went_is_in_every_connection_failure():
    direct = probe(connect_error="x: refused", connect_reason="refused", net_error=net.ConnectRefused("x: refused"),
                   route=Route(None, "bypassed", "environment: .example"))
    assert tls_findings(direct) == [("TLS_CONNECT_FAILED", ERROR, "tls", {
        **TARGET, "direct": "bypassed", "bypassed_by": "environment: .example", "error": "x: refused",
        "reason": "refused"})]
    through = probe(connect_error="x: timeout", connect_reason="timeout", net_error=net.Timeout("x: timeout"),
                    route=Route(PROXY))
    assert tls_findings(through) == [("TLS_CONNECT_FAILED", ERROR, "tls", {
        **TARGET, **VIA_PROXY, "error": "x: timeout", "reason": "timeout"})]


def test_each_proxy_failure_has_its_finding():
    def failing(exc: net.NetError) -> list:
        return tls_findings(probe(connect_error=str(exc), connect_reason=exc.reason, net_error=exc,
                                  route=Route(PROXY)))

    down = net.ProxyUnreachable("proxy.chu.test:3128: refused", "http://proxy.chu.test:3128", "windows", "refused")
    assert failing(down) == [("PROXY_CONNECT_FAILED", ERROR, "tls", {
        **TARGET, **VIA_PROXY, "error": "proxy.chu.test:3128: refused", "cause": "refused"})]
    asked = net.ProxyAuthRequired("407", "http://proxy.chu.test:3128", "windows", ("Basic", "NTLM"), False)
    assert failing(asked) == [("PROXY_AUTH_REQUIRED", ERROR, "tls", {
        **TARGET, **VIA_PROXY, "schemes": "Basic, NTLM", "credentials_sent": False, "credentials_refused": None})]
    refused = net.ProxyAuthRequired("407", "http://proxy.chu.test:3128", "windows", (), True)
    assert failing(refused) == [("PROXY_AUTH_REQUIRED", ERROR, "tls", {
        **TARGET, **VIA_PROXY, "schemes": "-", "credentials_sent": True, "credentials_refused": True})]
    forbidden = net.ProxyRefused("403", "http://proxy.chu.test:3128", "windows", 403, "HTTP/1.1 403 Forbidden")
    assert failing(forbidden) == [("PROXY_REFUSED", ERROR, "tls", {
        **TARGET, **VIA_PROXY, "status": 403, "status_line": "HTTP/1.1 403 Forbidden"})]
    silent = net.ProxyRefused("no answer", "http://proxy.chu.test:3128", "windows", None, "")
    assert failing(silent)[0][3]["status_line"] == "-"


def test_a_pac_script_is_said_before_the_outcome():
    ok = TlsAttempt("tls13", "ok", version="TLS 1.3", cert_request=REQUEST)
    got = tls_findings(probe(ok, route=Route(None, "pac_not_evaluated", None, "http://wpad.chu.test/proxy.pac")))
    assert got[0] == ("PROXY_PAC", INFO, "tls", {"url": URL, "pac": "http://wpad.chu.test/proxy.pac",
                                                 "direct": "pac_not_evaluated", "bypassed_by": None})
    assert [f[0] for f in got[1:]] == ["TLS_OK"]


@pytest.mark.parametrize("trusted", [False, True])
def test_a_proxy_answering_with_its_own_certificate_is_an_inspection(trusted):
    seen = TlsAttempt("tls13", "ok", version="TLS 1.3")        # nothing asked for the card
    server = ServerTrust(trusted, "" if trusted else "unknown issuer", "CN=service.example", "system")
    result = probe(seen, route=Route(PROXY), server=server, server_issuer="CHU Inspection TLS, CHU",
                   server_issuer_known=False)
    assert tls_findings(result) == [("TLS_INTERCEPTED", ERROR, "tls", {
        "url": URL, "host": "service.example", **VIA_PROXY, "issuer": "CHU Inspection TLS, CHU",
        "subject": "CN=service.example", "trusted": True if trusted else None})]


def test_no_inspection_is_said_without_the_evidence():
    seen = TlsAttempt("tls13", "ok", version="TLS 1.3")
    server = ServerTrust(True, "", "CN=service.example", "system")
    # A public authority behind the proxy, or a request for the card, or no proxy at all: the usual findings.
    public = probe(seen, route=Route(PROXY), server=server, server_issuer="R3, Let's Encrypt",
                   server_issuer_known=True)
    asked = probe(TlsAttempt("tls13", "ok", version="TLS 1.3", cert_request=REQUEST), route=Route(PROXY),
                  server=server, server_issuer="X", server_issuer_known=False)
    direct = probe(seen, route=Route(None, "no_proxy_configured"), server=server, server_issuer_known=False)
    assert [f[0] for f in tls_findings(public)] == ["TLS_NO_CLIENT_AUTH"]
    assert [f[0] for f in tls_findings(asked)] == ["TLS_OK"]
    assert [f[0] for f in tls_findings(direct)] == ["TLS_NO_CLIENT_AUTH"]
    assert [f[0] for f in tls_findings(probe(route=Route(PROXY), server_issuer_known=False))] == [
        "TLS_HANDSHAKE_FAILED"]
