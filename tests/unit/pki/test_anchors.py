"""Bundled anchors: pins from shared/pki/README.md, chain facts from research/pki.md §1.1 and §9."""

from __future__ import annotations

import shutil
from datetime import datetime, timezone
from importlib import resources
from pathlib import Path

import pytest

from cpsdiag.errors import MalformedDataError, UsageError
from cpsdiag.pki import anchors
from cpsdiag.pki.anchors import AnchorIntegrityError, bundled_anchors, load_anchor_files
from tests.support.paths import DATA

# Straight from shared/pki/README.md, not from the module under test.
README_FINGERPRINTS = {
    "acr-el.pem": "2D:9E:22:CA:19:F7:77:C6:B7:45:25:7C:72:3E:CB:8D:F3:C3:5F:A6:F1:F6:EC:36:B8:36:00:C9:73:46:96:7F",
    "acr-st.pem": "58:91:81:5E:86:45:06:C6:62:AF:B3:2F:8D:E5:B8:DE:38:BF:FA:1A:F7:21:78:0B:69:E1:9A:0C:05:03:86:C3",
    "acr-fo.pem": "53:D3:0A:19:57:08:26:BD:E0:C0:76:25:01:F1:F1:C7:A6:59:F9:76:C6:C0:23:12:3D:F5:23:9D:F3:4A:4E:EA",
    "aci-el-pp.pem": "19:C1:EA:EA:B4:77:B6:FB:C2:33:CD:A3:B5:3F:BD:BC:3F:4E:9B:F6:CF:69:73:E4:6F:7D:FA:EF:89:C0:6C:6C",
    "aci-el-org.pem": "D8:34:EE:5B:40:68:6B:73:57:3F:60:54:7B:F6:05:2C:6D:40:4D:94:2A:56:65:CD:B2:C0:B9:13:7B:5D:27:B2",
    "aci-st-pp.pem": "6C:33:9E:BC:B3:E1:B0:10:2B:14:3C:96:94:22:5C:2A:4A:B2:EF:6F:ED:F7:D3:64:DA:8D:B3:05:E7:F7:D9:97",
    "aci-st-org.pem": "C0:52:0A:2B:14:FB:68:83:6A:80:7B:F8:6A:B2:B3:E0:7D:1B:60:61:D9:1B:C9:C7:B8:6A:6F:8D:E4:B5:63:8E",
    "aci-fo-pp.pem": "38:28:4E:4F:61:07:45:6E:70:C7:43:9C:85:DA:7D:56:4D:0F:E1:FE:1A:96:8C:9E:B6:D4:3E:1F:C0:D6:3C:3A",
    "aci-fo-org.pem": "23:F6:96:74:00:2D:1D:D4:B0:18:BA:EC:D9:08:DC:92:68:79:42:BB:48:E5:14:0F:F8:95:E2:F5:6B:C4:9C:0D",
    "acr-el-test.pem": "01:32:5A:EB:19:38:71:EE:C9:0F:A8:95:56:80:4E:41:85:CB:36:2E:0C:A8:7A:3D:79:93:9C:71:18:6D:A8:05",
    "aci-el-org-test.pem": "DC:52:8E:37:88:69:1B:3F:79:50:16:40:76:F9:5B:02:C6:43:34:C6:86:62:BD:ED:E5:75:0B:4E:0E:53:38:F6",
    "gip-cps-anonyme.pem": "14:8F:E9:68:85:08:BF:F7:A2:FC:15:74:39:99:DC:B0:AC:48:F1:3B:49:A9:91:97:AC:7A:6E:80:65:BC:67:F2",
}

# Intermediate -> root, research/pki.md §1.1 / §9 (openssl verify results).
ISSUED_BY = {
    "AC IGC-SANTE ELEMENTAIRE PERSONNES": "AC RACINE IGC-SANTE ELEMENTAIRE",
    "AC IGC-SANTE ELEMENTAIRE ORGANISATIONS": "AC RACINE IGC-SANTE ELEMENTAIRE",
    "AC IGC-SANTE STANDARD PERSONNES": "AC RACINE IGC-SANTE STANDARD",
    "AC IGC-SANTE STANDARD ORGANISATIONS": "AC RACINE IGC-SANTE STANDARD",
    "AC IGC-SANTE FORT PERSONNES": "AC RACINE IGC-SANTE FORT",
    "AC IGC-SANTE FORT ORGANISATIONS": "AC RACINE IGC-SANTE FORT",
    "TEST AC IGC-SANTE ELEMENTAIRE ORGANISATIONS": "TEST AC RACINE IGC-SANTE ELEMENTAIRE",
}


def package_anchor_dir() -> Path:
    return Path(str(resources.files("cpsdiag.pki").joinpath("anchors")))


def test_pins_match_readme() -> None:
    assert {name: pin.sha256 for name, pin in anchors.PINS.items()} == README_FINGERPRINTS


def test_every_bundled_file_is_pinned_and_loads() -> None:
    loaded = bundled_anchors()
    assert sorted(a.pin.filename for a in loaded) == sorted(README_FINGERPRINTS)
    for anchor in loaded:
        assert anchor.info.sha256_fingerprint == README_FINGERPRINTS[anchor.pin.filename]
        assert anchor.info.subject_display == anchor.name


def test_names_and_roles() -> None:
    prod = {a.name: a for a in anchors.production_anchors()}
    assert set(prod) == {
        "AC RACINE IGC-SANTE ELEMENTAIRE", "AC RACINE IGC-SANTE STANDARD", "AC RACINE IGC-SANTE FORT",
        *[k for k in ISSUED_BY if not k.startswith("TEST")],
    }
    assert prod["AC RACINE IGC-SANTE FORT"].role == "root"
    assert prod["AC IGC-SANTE FORT PERSONNES"].role == "intermediate"
    assert {a.name for a in anchors.igc_sante_test_anchors()} == {
        "TEST AC RACINE IGC-SANTE ELEMENTAIRE", "TEST AC IGC-SANTE ELEMENTAIRE ORGANISATIONS"}
    found = anchors.anchor_by_name("ACR-FO")
    assert found is not None and found.name == "AC RACINE IGC-SANTE FORT"
    assert anchors.anchor_by_name("ac igc-sante fort personnes") is not None
    assert anchors.anchor_by_name("nope") is None


def test_ca_facts() -> None:
    for anchor in bundled_anchors():
        info = anchor.info
        assert info.is_ca
        if anchor.environment == "legacy":
            assert info.issuer_family == "gip-cps"
            assert info.not_after == datetime(2014, 12, 31, 23, 59, 59, tzinfo=timezone.utc)
            continue
        assert (info.key_type, info.key_size) == ("RSA", 4096)
        assert info.not_before == datetime(2013, 6, 25, tzinfo=timezone.utc)
        expected_end = 25 if anchor.role == "root" else 24
        assert info.not_after == datetime(2033, 6, expected_end, tzinfo=timezone.utc)
        assert info.issuer_family == ("igc-sante-test" if anchor.environment == "test" else "igc-sante")
        assert info.key_usage == ("keyCertSign", "cRLSign")


def test_roots_are_self_signed_and_intermediates_verify_under_their_root() -> None:
    by_name = {a.name: a for a in bundled_anchors()}
    for anchor in bundled_anchors():
        cert = anchor.info.certificate
        if anchor.environment == "legacy":
            # sha1WithRSA: verify_directly_issued_by refuses SHA-1, so check the raw PKCS#1 v1.5 signature.
            from cryptography.hazmat.primitives import hashes
            from cryptography.hazmat.primitives.asymmetric import padding, rsa

            assert anchor.info.signature_algorithm == "sha1WithRSAEncryption"
            key = cert.public_key()
            assert isinstance(key, rsa.RSAPublicKey)
            key.verify(cert.signature, cert.tbs_certificate_bytes, padding.PKCS1v15(), hashes.SHA1())
        elif anchor.role == "root":
            assert anchor.info.self_issued
            cert.verify_directly_issued_by(cert)
        else:
            root = by_name[ISSUED_BY[anchor.name]]
            assert anchor.info.authority_key_id == root.info.subject_key_id
            cert.verify_directly_issued_by(root.info.certificate)


def test_intermediate_does_not_verify_under_another_root() -> None:
    from cryptography.exceptions import InvalidSignature

    by_name = {a.name: a for a in bundled_anchors()}
    fo_pp = by_name["AC IGC-SANTE FORT PERSONNES"].info.certificate
    st_root = by_name["AC RACINE IGC-SANTE STANDARD"].info.certificate
    # Names differ, so cryptography refuses before the signature; either way it must not pass.
    with pytest.raises((ValueError, InvalidSignature)):
        fo_pp.verify_directly_issued_by(st_root)


def copy_anchors(tmp_path: Path) -> Path:
    target = tmp_path / "anchors"
    shutil.copytree(package_anchor_dir(), target)
    return target


def test_copied_directory_loads(tmp_path: Path) -> None:
    assert len(bundled_anchors(copy_anchors(tmp_path))) == len(README_FINGERPRINTS)


def test_swapped_file_is_a_fingerprint_mismatch(tmp_path: Path) -> None:
    directory = copy_anchors(tmp_path)
    (directory / "acr-fo.pem").write_bytes((directory / "acr-st.pem").read_bytes())
    with pytest.raises(AnchorIntegrityError) as info:
        bundled_anchors(directory)
    assert "acr-fo.pem" in str(info.value)
    assert isinstance(info.value, MalformedDataError)


def test_one_flipped_signature_bit_is_a_mismatch() -> None:
    from cpsdiag.pki.certinfo import parse_certificate

    der = bytearray(parse_certificate((package_anchor_dir() / "aci-fo-pp.pem").read_bytes()).der)
    der[-1] ^= 0x01  # last byte of the signature: still parses, different bytes
    files = [(name, (package_anchor_dir() / name).read_bytes()) for name in README_FINGERPRINTS]
    files = [(n, bytes(der) if n == "aci-fo-pp.pem" else d) for n, d in files]
    with pytest.raises(AnchorIntegrityError, match="does not match the pinned"):
        load_anchor_files(files)


def test_reformatted_pem_still_matches(tmp_path: Path) -> None:
    directory = copy_anchors(tmp_path)
    path = directory / "acr-el.pem"
    path.write_bytes(b"comment line\n" + path.read_bytes().replace(b"\n", b"\r\n") + b"\n\n")
    assert len(bundled_anchors(directory)) == len(README_FINGERPRINTS)


def test_unpinned_extra_file_is_refused(tmp_path: Path) -> None:
    directory = copy_anchors(tmp_path)
    data_dir = DATA / "pki"
    shutil.copy(data_dir / "cps-infirmier-signature-TEST.pem", directory / "extra.pem")
    with pytest.raises(AnchorIntegrityError, match="not pinned"):
        bundled_anchors(directory)


def test_missing_pinned_file_is_refused(tmp_path: Path) -> None:
    directory = copy_anchors(tmp_path)
    (directory / "aci-st-pp.pem").unlink()
    with pytest.raises(AnchorIntegrityError, match="aci-st-pp.pem"):
        bundled_anchors(directory)


def test_corrupt_file_is_malformed(tmp_path: Path) -> None:
    directory = copy_anchors(tmp_path)
    (directory / "acr-st.pem").write_bytes(b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")
    with pytest.raises(MalformedDataError):
        bundled_anchors(directory)


# shared/pki/README.md, column "role": root or intermediate; TEST CAs are the "test" environment, the GIP-CPS
# CA expired in 2014 the "legacy" one. ANS names each file after the CA's short name (ACR-FO = acr-fo.pem).
README_ROLES = {
    "acr-el.pem": ("root", "production"), "acr-st.pem": ("root", "production"), "acr-fo.pem": ("root", "production"),
    "aci-el-pp.pem": ("intermediate", "production"), "aci-el-org.pem": ("intermediate", "production"),
    "aci-st-pp.pem": ("intermediate", "production"), "aci-st-org.pem": ("intermediate", "production"),
    "aci-fo-pp.pem": ("intermediate", "production"), "aci-fo-org.pem": ("intermediate", "production"),
    "acr-el-test.pem": ("root", "test"), "aci-el-org-test.pem": ("intermediate", "test"),
    "gip-cps-anonyme.pem": ("root", "legacy"),
}


def test_every_pin_role_environment_and_short_name() -> None:
    loaded = bundled_anchors()
    assert [a.pin.filename for a in loaded] == list(README_ROLES)          # the pin table's order is kept
    for anchor in loaded:
        assert (anchor.role, anchor.environment) == README_ROLES[anchor.pin.filename], anchor.pin.filename
        assert anchor.short_name == anchor.pin.filename.removesuffix(".pem").upper()
        assert anchor.name == anchor.pin.name == anchor.info.subject_display
    assert "info" not in repr(loaded[0]) and "ACR-EL" in repr(loaded[0])


def test_the_legacy_ca_is_neither_production_nor_test() -> None:
    names = {a.name for a in anchors.production_anchors()} | {a.name for a in anchors.igc_sante_test_anchors()}
    assert "GIP-CPS ANONYME" not in names and len(names) == 11
    assert [a.short_name for a in anchors.production_anchors()][:3] == ["ACR-EL", "ACR-ST", "ACR-FO"]


def test_anchor_by_short_or_full_name_trimmed() -> None:
    assert anchors.anchor_by_name("  acr-el-test ").pin.filename == "acr-el-test.pem"
    assert anchors.anchor_by_name("GIP-CPS ANONYME").pin.filename == "gip-cps-anonyme.pem"
    assert anchors.anchor_by_name("ACI-FO") is None


def anchor_files(**replace: bytes) -> list[tuple[str, bytes]]:
    return [(name, replace.get(name.replace("-", "_").removesuffix(".pem"), (package_anchor_dir() / name).read_bytes()))
            for name in README_FINGERPRINTS]


def test_refusal_messages_name_the_file_and_the_fingerprints() -> None:
    st_root = (package_anchor_dir() / "acr-st.pem").read_bytes()
    with pytest.raises(AnchorIntegrityError) as caught:
        load_anchor_files(anchor_files(acr_fo=st_root))
    st = README_FINGERPRINTS["acr-st.pem"].replace(":", "")
    fo = README_FINGERPRINTS["acr-fo.pem"].replace(":", "")
    assert str(caught.value) == (f"bundled anchor (bundled anchor acr-fo.pem): SHA-256 {st} does not match the "
                                 f"pinned {fo}")
    with pytest.raises(AnchorIntegrityError) as caught:
        load_anchor_files([*anchor_files(), ("zz.pem", st_root)])
    assert str(caught.value) == "bundled anchor (bundled anchor zz.pem): file is not pinned"
    with pytest.raises(AnchorIntegrityError) as caught:
        load_anchor_files([f for f in anchor_files() if f[0] not in ("acr-st.pem", "aci-el-pp.pem")])
    assert str(caught.value) == "bundled anchors: pinned files missing: aci-el-pp.pem, acr-st.pem"


def test_a_pin_with_the_right_bytes_but_another_name_is_refused() -> None:
    # A pin table whose name for acr-fo.pem is wrong (the fingerprint is right): the subject is checked too.
    pins = dict(anchors.PINS)
    fo = pins["acr-fo.pem"]
    pins["acr-fo.pem"] = anchors.Pin(fo.filename, fo.short_name, "AC RACINE IGC-SANTE FORTE", fo.sha256, fo.role,
                                     fo.environment)
    with pytest.raises(AnchorIntegrityError) as caught:
        load_anchor_files(anchor_files(), pins)
    assert str(caught.value) == ("bundled anchor (bundled anchor acr-fo.pem): subject 'AC RACINE IGC-SANTE FORT' "
                                 "where 'AC RACINE IGC-SANTE FORTE' was pinned")


def test_a_fingerprint_pinned_with_spaces_or_lower_case_still_matches() -> None:
    pins = {name: anchors.Pin(p.filename, p.short_name, p.name, p.sha256.replace(":", " ").lower(), p.role,
                              p.environment) for name, p in anchors.PINS.items()}
    assert len(load_anchor_files(anchor_files(), pins)) == 12


def test_a_directory_with_other_files_reads_only_pem(tmp_path: Path) -> None:
    directory = copy_anchors(tmp_path)
    (directory / "README.txt").write_text("not a certificate")
    assert len(bundled_anchors(directory)) == 12


def test_extra_anchors_are_read_as_given_and_bad_ones_named(tmp_path: Path) -> None:
    data = DATA / "pki"
    certs = anchors.load_extra_anchors([data / "cps-infirmier-signature-TEST.pem", data / "cpe-etablissement-auth-TEST.pem"])
    assert [c.card_number for c in certs] == ["2800636234", "2600301752"]
    assert anchors.load_extra_anchors([]) == []
    missing = tmp_path / "none.pem"
    with pytest.raises(UsageError) as caught:
        anchors.load_extra_anchors([missing])
    assert str(caught.value) == f"--anchors {missing}: cannot read (No such file or directory)"
    junk = tmp_path / "junk.pem"
    junk.write_bytes(b"\x02\x01\x00")
    with pytest.raises(UsageError) as caught:
        anchors.load_extra_anchors([junk])
    assert str(caught.value) == f"--anchors certificate ({junk}): starts with tag 0x02, not a SEQUENCE at offset 0"


def test_the_package_copy_is_read_in_name_order_and_checked_each_time() -> None:
    # bundled_anchors() is cached for the process: these read the package copy afresh.
    files = anchors._read_directory(None)
    assert [name for name, _ in files] == sorted(README_FINGERPRINTS)
    assert all(data.startswith(b"-----BEGIN CERTIFICATE-----") for _, data in files)
    loaded = load_anchor_files(files)
    assert [(a.pin.filename, a.info.sha256_fingerprint) for a in loaded] == list(README_FINGERPRINTS.items())


def test_a_corrupt_bundled_file_is_named() -> None:
    bad = b"-----BEGIN CERTIFICATE-----\nAgEA\n-----END CERTIFICATE-----\n"       # DER 02 01 00
    with pytest.raises(MalformedDataError) as caught:
        load_anchor_files(anchor_files(acr_st=bad))
    assert str(caught.value) == ("certificate (bundled anchor acr-st.pem): starts with tag 0x02, not a SEQUENCE "
                                 "at offset 0")
