"""``cpsdiag cert`` on certificate files: real IGC-Santé CA certificates, real TEST card certificates, bad files."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.support.paths import DATA, ROOT

SHARED = DATA / "pki"
ANCHORS = ROOT / "cpsdiag" / "pki" / "anchors"


def run(*args: str) -> tuple[dict | None, subprocess.CompletedProcess]:
    # --offline: unit tests never reach ANS's OCSP responder (tests/stack/test_revocation.py checks without it).
    proc = subprocess.run([sys.executable, "-m", "cpsdiag", "cert", "--offline", *args], capture_output=True, text=True,
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
    assert codes == ["CERT_REVOCATION_NOT_CHECKED", "CERT_TEST_CARD", "CERT_TEST_CHAIN_MISSING"]
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


CARD_ADVICE = ("insert it again", "damaged", "contact ANS", "0 825 852 000")


@pytest.mark.parametrize("content", [
    b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",   # a broken PEM block
    b"",                                                                   # an empty file
    bytes(range(256)) * 12,                                                # binary junk
    b"hello, this is not a certificate\n",
], ids=["broken-pem", "empty", "binary", "text"])
def test_a_file_that_is_no_certificate_is_said_so_without_card_advice(tmp_path, content):
    bad = tmp_path / "bad.pem"
    bad.write_bytes(content)
    doc, proc = run(str(bad), "--json")
    assert proc.returncode == 1
    [finding] = doc["files"][0]["findings"]
    assert finding["code"] == "CERT_FILE_NOT_CERTIFICATE"
    assert finding["title"] == f"{bad} is not a certificate" and str(bad) in finding["detail"]
    # A file a helpdesk received says nothing about a card: no "take the card out", no "the card is damaged".
    assert not any(words in finding["remedy"] for words in CARD_ADVICE), finding["remedy"]
    _, console = run(str(bad))
    words = " ".join(console.stdout.split())      # the console wraps long lines
    assert "is not a certificate" in words
    assert not any(advice in words for advice in CARD_ADVICE), console.stdout


def test_a_missing_file_is_a_usage_error(tmp_path):
    _, proc = run(str(tmp_path / "nope.pem"))
    assert proc.returncode == 2 and "nope.pem" in proc.stderr


def _rsa_key_and_certificate():
    import datetime as dt

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "someone")])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(1).not_valid_before(now).not_valid_after(now + dt.timedelta(days=1))
            .sign(key, hashes.SHA256()))
    return key, cert, serialization


@pytest.mark.parametrize("form", ["pkcs8-pem", "traditional-pem", "encrypted-pem", "pkcs8-der", "pkcs12",
                                  "certificate-and-key-pem"])
def test_a_private_key_handed_over_is_flagged_and_never_shown(tmp_path, form):
    from cryptography.hazmat.primitives.serialization import pkcs12

    key, cert, ser = _rsa_key_and_certificate()
    plain = ser.NoEncryption()
    data = {
        "pkcs8-pem": lambda: key.private_bytes(ser.Encoding.PEM, ser.PrivateFormat.PKCS8, plain),
        "traditional-pem": lambda: key.private_bytes(ser.Encoding.PEM, ser.PrivateFormat.TraditionalOpenSSL, plain),
        "encrypted-pem": lambda: key.private_bytes(ser.Encoding.PEM, ser.PrivateFormat.PKCS8,
                                                   ser.BestAvailableEncryption(b"secret")),
        "pkcs8-der": lambda: key.private_bytes(ser.Encoding.DER, ser.PrivateFormat.PKCS8, plain),
        "pkcs12": lambda: pkcs12.serialize_key_and_certificates(b"me", key, cert, None,
                                                                ser.BestAvailableEncryption(b"secret")),
        "certificate-and-key-pem": lambda: cert.public_bytes(ser.Encoding.PEM)
        + key.private_bytes(ser.Encoding.PEM, ser.PrivateFormat.PKCS8, plain),
    }[form]()
    path = tmp_path / "from-the-user.pem"
    path.write_bytes(data)
    doc, proc = run(str(path), "--json")
    assert proc.returncode == 1
    findings = doc["files"][0]["findings"]
    flagged = findings[0]
    assert flagged["code"] == "CERT_FILE_PRIVATE_KEY" and flagged["severity"] == "error"
    assert "must never be sent" in flagged["detail"] and "compromised" in flagged["remedy"]
    assert ("CERT_FILE_NOT_CERTIFICATE" in [f["code"] for f in findings]) is False
    if form == "certificate-and-key-pem":          # the certificate next to the key is still judged
        assert doc["files"][0]["certificates"][0]["subject"] == "CN=someone"
    # Nothing of the key itself is printed, in JSON or on the console.
    _, console = run(str(path))
    numbers = key.private_numbers()
    for output in (proc.stdout, console.stdout + console.stderr):
        assert "PRIVATE KEY-----" not in output
        for secret in (numbers.d, numbers.p, numbers.q):
            assert f"{secret:x}"[:16] not in output.lower() and str(secret)[:16] not in output
    assert "holds a private key" in " ".join(console.stdout.split())


def test_two_good_certificates_end_with_a_verdict_on_certificates():
    _, proc = run(str(ANCHORS / "acr-el.pem"), str(ANCHORS / "acr-fo.pem"))
    assert proc.returncode == 0
    assert "the card and the workstation are ready" not in proc.stdout
    assert proc.stdout.count("OK: the certificates are valid and trusted") == 2


def test_a_bad_anchors_file_is_a_usage_error_naming_the_option_and_the_file(tmp_path):
    card = str(SHARED / "cps-infirmier-signature-TEST.pem")
    _, missing = run(card, "--anchors", str(tmp_path / "absent.pem"))
    assert missing.returncode == 2 and "'--anchors'" in missing.stderr and "absent.pem' does not exist" in missing.stderr
    (tmp_path / "empty.pem").write_text("no PEM block here\n")
    _, empty = run(card, "--anchors", str(tmp_path / "empty.pem"))
    assert empty.returncode == 2 and "--anchors" in empty.stderr and "empty.pem" in empty.stderr
    # A good anchors file is read: the TEST card's own issuer is not in it, a warning, not an error.
    _, good = run(card, "--anchors", str(ANCHORS / "acr-el-test.pem"), "--at", "2022-01-01")
    assert good.returncode == 0 and good.stderr == ""
