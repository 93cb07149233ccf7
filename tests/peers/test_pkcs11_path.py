"""The middleware path (--via pkcs11): Debian's OpenSC PKCS#11 module on the emulated CPS3."""

from __future__ import annotations

import subprocess
from collections import Counter

import pytest

from tests.support.cli import cpsdiag_json

pytestmark = [pytest.mark.stack, pytest.mark.peer, pytest.mark.usefixtures("pykcs11")]


def check(pki, module, pin: str, *args: str, tmp_home=None) -> tuple[dict, subprocess.CompletedProcess]:
    # OpenSC caches card files under $HOME: each test gets its own.
    return cpsdiag_json("check", "--json", "--no-env", "--anchors", str(pki.anchors), "--via", "pkcs11", "--module",
                        module, "--pin-stdin", *args, stdin=pin + "\n",
                        env={"HOME": str(tmp_home)} if tmp_home else None)


def keys(report: dict) -> Counter:
    return Counter(f["code"] for f in report["findings"] if f["step"] in ("keys", "tls"))


def test_authentication_key_through_opensc(insert_card, pki, opensc_module, tmp_path):
    insert_card("cps3-medecin")
    report, proc = check(pki, opensc_module, "1234", "--sign", tmp_home=tmp_path)
    assert keys(report) == Counter(["PIN_VERIFIED", "KEY_SIGN_OK", "KEY_CAPABILITIES"]), report["findings"]
    assert proc.returncode == 0


def test_non_repudiation_key_refused_by_opensc(insert_card, pki, opensc_module, tmp_path):
    # OpenSC 0.23 built with OpenSSL 3 cannot sign with a CPx non-repudiation key (opensc-cpx.md §6):
    # the refusal is reported and blamed on the module, not on the card.
    insert_card("cps3-medecin")
    report, proc = check(pki, opensc_module, "1234", "--sign-all", tmp_home=tmp_path)
    failed = [f for f in report["findings"] if f["code"] == "KEY_SIGN_FAILED"]
    assert len(failed) == 1 and failed[0]["params"]["role"] == "signature"
    assert "PKCS#11 module" in failed[0]["remedy"] and proc.returncode == 1


def test_wrong_pin_through_opensc_reports_tries_left(insert_card, pki, opensc_module, tmp_path):
    insert_card("cps3-medecin")
    report, proc = check(pki, opensc_module, "9999", "--sign", tmp_home=tmp_path)
    wrong = next(f for f in report["findings"] if f["code"] == "PIN_WRONG")
    assert wrong["params"]["tries_left"] == 2 and proc.returncode == 1


def test_tls_through_opensc(insert_card, pki, opensc_module, nginx, server_cert, tmp_path):
    insert_card("cps3-medecin")
    port = nginx("TLSv1.2")
    report, proc = check(pki, opensc_module, "1234", "--tls", f"https://localhost:{port}/", "--tls-ca", str(server_cert[2]),
                         tmp_home=tmp_path)
    assert Counter(f["code"] for f in report["findings"] if f["step"] == "tls") == Counter(["TLS_OK"])
