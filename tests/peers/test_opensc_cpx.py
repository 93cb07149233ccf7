"""Debian's OpenSC judges the emulated CPS3: it must take it for an "IAS/ECC CPx" and use it.

If OpenSC disagrees with the emulator, the emulator is wrong until shown otherwise.
"""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from prerequisites import require

pytestmark = [pytest.mark.stack, pytest.mark.peer]

AUTH_ID = "e828bd080f8025000001ff001002"
SIGN_ID = "e828bd080f8025000001ff001001"


def _tool(name: str) -> str:
    return require(name)


def run(*args: str, stdin: str | None = None, env: dict | None = None, tmp: Path | None = None) -> str:
    environ = {**os.environ, **(env or {})}
    if tmp is not None:
        # OpenSC caches card files under $HOME; a fresh HOME keeps runs independent.
        environ["HOME"] = str(tmp)
    proc = subprocess.run(args, input=stdin, capture_output=True, text=True, env=environ, timeout=60)
    return proc.stdout + proc.stderr


def test_opensc_matches_cpx_and_names_the_driver(insert_card, tmp_path):
    insert_card("cps3-medecin")
    out = run(_tool("opensc-tool"), "-n", tmp=tmp_path)
    assert "IAS-ECC" in out
    debug = run(_tool("opensc-tool"), "-n", env={"OPENSC_DEBUG": "9"}, tmp=tmp_path)
    assert "'IAS/ECC CPx' card matched" in debug
    assert "iasecc_init_cpx: returning with: 0 (Success)" in debug


def test_opensc_lists_both_certificates_with_the_profile_bytes(insert_card, pki, tmp_path):
    insert_card("cps3-medecin")
    listing = run(_tool("pkcs15-tool"), "--list-certificates", tmp=tmp_path)
    assert "Certificat d'Authentification CPS" in listing and "Certificat de Signature CPS" in listing
    assert AUTH_ID in listing and SIGN_ID in listing
    for cert_id, pem in ((AUTH_ID, "auth.pem"), (SIGN_ID, "signature.pem")):
        out = run(_tool("pkcs15-tool"), "--read-certificate", cert_id, tmp=tmp_path)
        block = out[out.index("-----BEGIN CERTIFICATE-----"):]
        read = x509.load_pem_x509_certificate(block.encode())
        expected = x509.load_pem_x509_certificate((pki.cards / "cps3-medecin" / pem).read_bytes())
        assert read == expected


@pytest.mark.parametrize("profile,tries", [("cps3-medecin", 3), ("cps3-pin-last-try", 1)])
def test_opensc_reports_the_profile_pin_tries(insert_card, tmp_path, profile, tries):
    # Debian's pkcs15-tool 0.23 never prints tries left; opensc-explorer asks the card.
    insert_card(profile)
    out = run(_tool("opensc-explorer"), stdin="pin_info CHV1\n", tmp=tmp_path)
    assert re.search(rf"\b{tries} tries left", out), out


def test_opensc_blocked_pin_is_reported_blocked(insert_card, tmp_path, opensc_module):
    insert_card("cps3-pin-blocked")
    out = run(_tool("pkcs11-tool"), "--module", opensc_module, "-L", tmp=tmp_path)
    assert "user PIN locked" in out


def test_opensc_signs_with_the_authentication_key(insert_card, pki, tmp_path, opensc_module):
    insert_card("cps3-medecin")
    message = os.urandom(32)
    digest_info = bytes.fromhex("3031300d060960864801650304020105000420") + hashlib.sha256(message).digest()
    (tmp_path / "in.bin").write_bytes(digest_info)
    out = run(_tool("pkcs11-tool"), "--module", opensc_module, "--login", "--pin", "1234", "--sign", "-m", "RSA-PKCS",
              "--id", AUTH_ID, "-i", str(tmp_path / "in.bin"), "-o", str(tmp_path / "sig.bin"), tmp=tmp_path)
    assert (tmp_path / "sig.bin").exists(), out
    cert = x509.load_pem_x509_certificate((pki.cards / "cps3-medecin" / "auth.pem").read_bytes())
    cert.public_key().verify((tmp_path / "sig.bin").read_bytes(), message, padding.PKCS1v15(), hashes.SHA256())
