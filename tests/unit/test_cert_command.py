"""``cpsdiag cert`` on certificate files: real IGC-Santé CA certificates, real TEST card certificates, bad files."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parents[1] / "data" / "pki"
ANCHORS = Path(__file__).resolve().parents[2] / "cpsdiag" / "pki" / "anchors"


def run(*args: str) -> tuple[dict | None, subprocess.CompletedProcess]:
    proc = subprocess.run([sys.executable, "-m", "cpsdiag", "cert", *args], capture_output=True, text=True,
                          timeout=60, env={"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"})
    assert "Traceback" not in proc.stderr, proc.stderr
    doc = json.loads(proc.stdout) if "--json" in args and proc.stdout.strip() else None
    return doc, proc


# A fixed date inside the validity of the real CA certificates (2013-06-25 to 2033-06-24, per `openssl x509
# -dates`): the test gives the same answer on any day, and keeps passing after 2033.
CA_DATE = "2026-01-15"


@pytest.mark.parametrize("name", ["acr-fo.pem", "aci-fo-pp.pem", "aci-st-pp.pem", "acr-el.pem", "aci-el-org.pem"])
def test_real_igc_sante_ca_certificates_are_trusted(name):
    from cryptography import x509

    cert = x509.load_pem_x509_certificate((ANCHORS / name).read_bytes())
    assert cert.not_valid_before_utc.date().isoformat() < CA_DATE < cert.not_valid_after_utc.date().isoformat()
    doc, proc = run(str(ANCHORS / name), "--json", "--at", CA_DATE)
    assert proc.returncode == 0
    [cert] = doc["files"][0]["certificates"]
    assert cert["chain"]["trusted"] is True
    assert cert["chain"]["anchor"].startswith("AC RACINE IGC-SANTE")
    assert cert["issuer_family"] == "igc-sante"


def test_real_test_card_certificate():
    doc, proc = run(str(SHARED / "cps-infirmier-signature-TEST.pem"), "--json", "--at", "2022-01-01")
    assert proc.returncode == 0           # valid at that date; its TEST chain is missing: a warning
    f = doc["files"][0]
    codes = sorted(x["code"] for x in f["findings"])
    assert codes == ["CERT_TEST_CARD", "CERT_TEST_CHAIN_MISSING"]
    cert = f["certificates"][0]
    assert cert["role"] == "signature"
    assert (cert["holder"]["given_name"], cert["holder"]["surname"]) == ("OLIVIER", "INFIRMCS ADELI8751")
    assert cert["holder"]["national_id"] == "00B6087510" and cert["holder"]["profession_code"] == 60
    assert cert["card_number"] == "2800636234" and cert["test_card"] is True
    missing = next(x for x in f["findings"] if x["code"] == "CERT_TEST_CHAIN_MISSING")
    assert "TEST AC IGC-SANTE FORT PERSONNES" in missing["detail"]


def test_real_test_card_today_is_expired_with_personal_remedy():
    doc, proc = run(str(SHARED / "cps-infirmier-signature-TEST.pem"), "--json", "--lang", "fr")
    assert proc.returncode == 1
    expired = next(x for x in doc["files"][0]["findings"] if x["code"] == "CERT_EXPIRED")
    assert "ordre-infirmiers.fr" in expired["remedy"] and "00B6087510" in expired["remedy"]


def test_cpe_certificate_console_view():
    _, proc = run(str(SHARED / "cpe-etablissement-auth-TEST.pem"), "--lang", "fr")
    out = proc.stdout
    assert "HOPITAL DES 3 DAMES" in out and "CHARLES" in out and "30B0057881/CPET0002" in out
    assert "Certificat d'authentification" in out or "authentification" in out


def test_garbage_and_missing_files(tmp_path):
    bad = tmp_path / "bad.pem"
    bad.write_text("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")
    doc, proc = run(str(bad), "--json")
    assert proc.returncode == 1
    finding = doc["files"][0]["findings"][0]
    assert finding["code"] == "CERT_MALFORMED" and str(bad) in finding["detail"]
    _, proc = run(str(tmp_path / "nope.pem"))
    assert proc.returncode == 2 and "nope.pem" in proc.stderr


def test_a_bad_anchors_file_is_a_usage_error_naming_the_option_and_the_file(tmp_path):
    card = str(SHARED / "cps-infirmier-signature-TEST.pem")
    _, missing = run(card, "--anchors", str(tmp_path / "absent.pem"))
    assert missing.returncode == 2 and f"--anchors {tmp_path / 'absent.pem'}: cannot read" in missing.stderr
    (tmp_path / "empty.pem").write_text("no PEM block here\n")
    _, empty = run(card, "--anchors", str(tmp_path / "empty.pem"))
    assert empty.returncode == 2 and "--anchors" in empty.stderr and "empty.pem" in empty.stderr
    # A good anchors file is read: the TEST card's own issuer is not in it, a warning, not an error.
    _, good = run(card, "--anchors", str(ANCHORS / "acr-el-test.pem"), "--at", "2022-01-01")
    assert good.returncode == 0 and good.stderr == ""
