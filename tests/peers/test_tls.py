"""The TLS client-authentication probe against real servers: nginx (TLS 1.2 only, TLS 1.3 only),
``openssl s_server`` (CA names) and cpsdiag's own testssl-server, with the virtual card signing."""

from __future__ import annotations

import json
import subprocess
from collections import Counter

import pytest

from tests.support.cli import codes, cpsdiag_json
from tests.support.net import free_port, running_testssl_server

pytestmark = [pytest.mark.stack, pytest.mark.peer]

PINS = {"cps3-medecin": "1234", "cps4-infirmier": "4321"}


def check_tls(pki, server_cert, url: str, pin: str, *extra: str) -> tuple[dict, subprocess.CompletedProcess]:
    return tls_check(pki, url, pin, "--tls-ca", str(server_cert[2]), *extra)


def tls_check(pki, url: str, pin: str, *extra: str) -> tuple[dict, subprocess.CompletedProcess]:
    return cpsdiag_json("check", "--json", "--no-env", "--anchors", str(pki.anchors), "--tls", url, "--pin-stdin",
                        *extra, stdin=pin + "\n")


def tls_codes(report: dict) -> Counter:
    return codes(report, "tls")


@pytest.mark.parametrize("profile,protocols,expected,version,status", [
    ("cps3-medecin", "TLSv1.2", ["TLS_OK"], "TLS 1.2", 0),
    ("cps3-medecin", "TLSv1.3", ["TLS13_PSS_UNSUPPORTED"], None, 1),
    ("cps4-infirmier", "TLSv1.2", ["TLS_OK"], "TLS 1.2", 0),
    ("cps4-infirmier", "TLSv1.3", ["TLS_OK"], "TLS 1.3", 0),
])
def test_nginx_requiring_client_certificates(insert_card, pki, server_cert, nginx, profile, protocols, expected,
                                             version, status):
    insert_card(profile)
    port = nginx(protocols)
    report, proc = check_tls(pki, server_cert, f"https://localhost:{port}/probe", PINS[profile])
    assert tls_codes(report) == Counter(expected), report["findings"]
    assert proc.returncode == status
    if version:
        ok = next(a for a in report["tls"]["attempts"] if a["outcome"] == "ok")
        assert ok["version"] == version and ok["http_status"] == 200
        # nginx sends the CA names it trusts: the card's issuer is among them.
        assert report["tls"]["card_issuer_accepted"] is True
        scheme = ok["signature_schemes"][0]
        assert scheme.startswith("rsa_pss" if profile.startswith("cps4") else "rsa_pkcs1")
    else:
        tls13 = report["findings"][-1]
        assert tls13["code"] == "TLS13_PSS_UNSUPPORTED" and tls13["severity"] == "error"
        assert "CPS4" in tls13["remedy"]


def test_server_not_trusted_without_its_ca(insert_card, pki, nginx):
    insert_card("cps4-infirmier")
    port = nginx("TLSv1.2 TLSv1.3")
    report, proc = tls_check(pki, f"https://localhost:{port}/", "4321")
    assert tls_codes(report)["TLS_SERVER_UNTRUSTED"] == 1 and proc.returncode == 1
    assert report["tls"]["server"]["trusted"] is False
    # Reading the system's store prints no library warning, and the reason reads as an explanation.
    assert proc.stderr == ""
    untrusted = next(f for f in report["findings"] if f["code"] == "TLS_SERVER_UNTRUSTED")
    assert "candidates exhausted" not in untrusted["detail"]
    assert "an authority not in this computer's trust store" in untrusted["detail"]
    assert "cpsdiag testssl-server CA" in untrusted["detail"]


def test_connection_refused(insert_card, pki, server_cert):
    insert_card("cps4-infirmier")
    report, proc = check_tls(pki, server_cert, f"https://127.0.0.1:{free_port()}/", "4321")
    assert tls_codes(report) == Counter(["TLS_CONNECT_FAILED"]) and proc.returncode == 1
    assert report["tls"]["connect_reason"] == "refused"


def test_ca_names_from_openssl_s_server(insert_card, pki, server_cert, s_server):
    insert_card("cps4-infirmier")
    port = s_server(pki.anchors)
    report, proc = check_tls(pki, server_cert, f"https://localhost:{port}/", "4321")
    assert tls_codes(report) == Counter(["TLS_OK"])
    request = next(a["certificate_request"] for a in report["tls"]["attempts"] if a["certificate_request"])
    assert any("CPSDIAG EMULATEUR AC FORT PERSONNES" in name for name in request["ca_names"])
    assert "rsa_pss_rsae_sha256" in request["signature_algorithms"]


def test_server_trusting_another_authority(insert_card, pki, server_cert, s_server):
    insert_card("cps4-infirmier")
    port = s_server(server_cert[2])           # trusts only the server's own CA: not the card's issuer
    report, proc = check_tls(pki, server_cert, f"https://localhost:{port}/", "4321")
    found = tls_codes(report)
    assert found["TLS_CA_NOT_ACCEPTED"] == 1 and found["TLS_CLIENT_CERT_REJECTED"] == 1, (found, report["tls"])
    assert proc.returncode == 1
    rejected = next(f for f in report["findings"] if f["code"] == "TLS_CLIENT_CERT_REJECTED")
    assert rejected["params"]["alert"] in ("unknown_ca", "bad_certificate", "certificate_unknown")


def test_builtin_testssl_server_shows_the_card(insert_card, pki, tmp_path):
    insert_card("cps3-medecin")
    with running_testssl_server(pki.anchors, tmp_path) as (port, ca):
        report, proc = tls_check(pki, f"https://localhost:{port}/", "1234", "--tls-ca", str(ca))
        assert tls_codes(report) == Counter(["TLS_OK"]) and proc.returncode == 0
        # The page the server answered (JSON: the probe sends Accept: application/json).
        from cpsdiag.diag.check import CheckOptions
        from cpsdiag.diag.collect import collect
        from cpsdiag.diag.facts import KeyOptions
        from cpsdiag.pinentry import Pin

        keys = KeyOptions(tls_url=f"https://localhost:{port}/", tls_ca=ca, pin_source=lambda lo, hi: Pin(b"1234"))
        facts = collect(CheckOptions(keys=keys, environment=False))
        ok = next(a for a in facts.keys.tls.attempts if a.outcome == "ok")
        data = json.loads(ok.http_body)
        cert = next(c for c in report["certificates"] if c["role"] == "authentication")
        assert data["given_name"] == cert["holder"]["given_name"] == "CAMILLE"
        assert data["identifier"] == "899900000011" and data["serial"] == cert["serial"]
        assert data["class"] == "CPSDIAG EMULATEUR AC FORT PERSONNES" and data["verification"] == "SUCCESS"
        assert data["tls"].startswith("TLSv1.2")
