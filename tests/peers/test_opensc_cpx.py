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

from tests.support.prerequisites import require

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


def _situation_tlv(name: str, structure_id: str, sector: str) -> bytes:
    """EE { 84 name, 85 Struct_IdNat, 86 sector }: the one public reading of a practice situation."""
    def tlv(tag: int, value: bytes) -> bytes:
        return bytes([tag, len(value)]) + value

    return tlv(0xEE, tlv(0x84, name.encode()) + tlv(0x85, structure_id.encode()) + tlv(0x86, sector.encode()))


@pytest.fixture
def data_card(tmp_path, pki):
    """cps3-medecin with data objects of known contents, given in its [data] table."""
    import shutil

    folder = tmp_path / "card"
    shutil.copytree(pki.cards / "cps3-medecin", folder)
    toml = folder / "card.toml"
    text = toml.read_text().replace("cps_data_size = 2048", 'cps_data = "C0 FF EE 00 01 02"\n'
                                    'objects = { CPS_NAME_PS = "0C 0B 45 4D 55 4C 41 54 45 55 52 20 43" }')
    toml.write_text(text)
    return folder


def test_opensc_lists_the_data_objects_of_the_dodf(insert_card, tmp_path):
    insert_card("cps3-medecin")
    listing = run(_tool("pkcs15-tool"), "--list-data-objects", tmp=tmp_path)
    blocks = {b.split("'")[1]: b for b in listing.split("Data object ")[1:]}
    assert list(blocks) == ["CPS_DATA", "CPS_ID_CARD", "CPS_NAME_PS", "CPS_LANG_PS", "CPS_INFO_PS",
                            "CPS_ACTIVITY_01_PS", "CPS_ACTIVITY_02_PS"]
    for label, block in blocks.items():
        assert "applicationName: CPS" in block
        # OpenSC reads the public objects while listing; the practice situations need the PIN (Auth ID 01).
        assert ("Auth ID:         01" in block) == label.startswith("CPS_ACTIVITY")
    # The CPS3 lists neither CPS_SIT_FACT nor CPS2TER_*: the Cryptolib builds them from the CPS2ter side.
    assert "CPS_SIT_FACT" not in listing and "CPS2TER" not in listing


def test_opensc_reads_the_data_objects_the_profile_gives(insert_card, data_card, tmp_path):
    insert_card("cps3-medecin", data_card)
    out = tmp_path / "out.bin"
    run(_tool("pkcs15-tool"), "--read-data-object", "CPS_DATA", "--output", str(out), tmp=tmp_path)
    assert out.read_bytes() == bytes.fromhex("C0FFEE000102")
    run(_tool("pkcs15-tool"), "--read-data-object", "CPS_NAME_PS", "--output", str(out), tmp=tmp_path)
    assert out.read_bytes() == bytes.fromhex("0C0B454D554C415445555220 43".replace(" ", ""))
    # A practice situation: refused without the PIN, read with it.
    out.unlink()
    run(_tool("pkcs15-tool"), "--read-data-object", "CPS_ACTIVITY_01_PS", "--output", str(out), stdin="\n",
        tmp=tmp_path)
    assert not out.exists() or out.read_bytes() == b""
    run(_tool("pkcs15-tool"), "--read-data-object", "CPS_ACTIVITY_01_PS", "--pin", "1234", "--output", str(out),
        tmp=tmp_path)
    assert out.read_bytes() == _situation_tlv("CABINET DU DR EMULATEUR-MEDECIN", "399999999900019", "SA07")
