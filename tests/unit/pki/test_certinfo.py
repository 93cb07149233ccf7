"""parse_certificate / load_certificates on the real TEST card certificates.

Expected values: shared/pki/test-leaves/README.md and research/pki.md §2.3.
"""

from __future__ import annotations

import base64
import re
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cpsdiag.errors import MalformedDataError
from cpsdiag.pki.certinfo import CertInfo, load_certificates, parse_certificate
from tests.support.paths import DATA

DATA = DATA / "pki"
CPS_SIGN = DATA / "cps-infirmier-signature-TEST.pem"
CPE_AUTH = DATA / "cpe-etablissement-auth-TEST.pem"
UTC = timezone.utc


def pem_to_der(pem: bytes) -> bytes:
    body = re.search(rb"-----BEGIN CERTIFICATE-----(.*?)-----END CERTIFICATE-----", pem, re.DOTALL)
    assert body is not None
    return base64.b64decode(b"".join(body.group(1).split()))


@pytest.fixture(scope="module")
def cps() -> CertInfo:
    return parse_certificate(CPS_SIGN.read_bytes(), where=CPS_SIGN.name)


@pytest.fixture(scope="module")
def cpe() -> CertInfo:
    return parse_certificate(CPE_AUTH.read_bytes(), where=CPE_AUTH.name)


def test_cps_signature_holder(cps: CertInfo) -> None:
    h = cps.holder
    assert (h.given_name, h.surname, h.common_name, h.title) == ("OLIVIER", "INFIRMCS ADELI8751", "00B6087510", "Infirmier")
    assert h.national_id is not None
    assert h.national_id.kind == "ADELI" and h.national_id.identifier == "0B6087510"
    assert h.national_id.to_type == "00B6087510"
    assert h.structure is None


def test_cps_signature_card_data(cps: CertInfo) -> None:
    assert (cps.card_type, cps.card_type_short) == (0, "CPS")
    assert cps.product_category == 0x80 and cps.test_card is True
    assert cps.card_identifier == "8025000001/2800636234"
    assert cps.card_number == "2800636234"
    assert (cps.profession_code, cps.profession_label) == (60, "Infirmier")
    assert cps.title_matches_profession is True
    assert cps.is_card
    assert cps.problems == ()


def test_cps_signature_usage_and_dates(cps: CertInfo) -> None:
    assert cps.role == "signature"
    assert cps.key_usage == ("nonRepudiation",)
    assert cps.extended_key_usage == ("emailProtection",)
    assert cps.subject_alt_names == ()
    assert (cps.key_type, cps.key_size) == ("RSA", 2048)
    assert cps.signature_algorithm == "sha256WithRSAEncryption"
    assert cps.not_before.date().isoformat() == "2020-09-15"
    assert cps.not_after.date().isoformat() == "2023-09-15"
    assert cps.not_after.tzinfo is not None and cps.not_after.utcoffset() == timedelta(0)
    assert cps.serial_hex == "63DAFFCFC8034BDCE06765D525029B44"
    assert cps.serial == int("63DAFFCFC8034BDCE06765D525029B44", 16)
    assert cps.version == 3 and not cps.is_ca and not cps.self_issued


def test_cps_signature_issuer(cps: CertInfo) -> None:
    assert cps.issuer_display == "TEST AC IGC-SANTE FORT PERSONNES"
    assert (cps.issuer_family, cps.issuer_class, cps.issuer_range) == ("igc-sante-test", "FORT", "PERSONNES")
    assert cps.issuer == "CN=TEST AC IGC-SANTE FORT PERSONNES,OU=IGC-SANTE TEST,OU=0002 187512751,O=ASIP-SANTE,C=FR"
    assert cps.subject == "GN=OLIVIER+CN=00B6087510+SN=INFIRMCS ADELI8751,title=Infirmier,C=FR"
    assert cps.authority_key_id == "3A:F1:E7:F5:CE:EB:ED:F7:8D:C9:C9:B2:9F:ED:D4:65:29:DC:1F:FD"


def test_cps_signature_endpoints(cps: CertInfo) -> None:
    assert cps.policies == ("1.2.250.1.213.1.7.2.1.1.1.1",)
    assert cps.crl_urls[0] == "http://igc-sante.esante.gouv.fr/CRL/ACI-FO-PP-TEST.crl"
    assert cps.crl_urls[1].startswith("ldap://annuaire-igc.esante.gouv.fr/cn=TEST%20AC%20IGC-SANTE%20FORT%20PERSONNES,")
    assert cps.delta_crl_urls[0].endswith("?deltarevocationlist;binary?base?objectClass=pkiCA")
    assert cps.ocsp_urls == ("http://ocsp.esante.gouv.fr",)
    assert cps.ca_issuers_urls == ("http://igc-sante.esante.gouv.fr/AC%20TEST/ACI-FO-PP-TEST.cer",)


def test_cpe_authentication(cpe: CertInfo) -> None:
    h = cpe.holder
    assert (h.given_name, h.surname, h.common_name, h.title) == (
        "CHARLES", "ADMINISTRATIF-CH057880002", "30B0057881/CPET0002", "Personnel santé ou social")
    assert h.national_id is not None and h.national_id.kind == "STRUCTURE"
    assert (h.national_id.type_code, h.national_id.identifier, h.national_id.registration) == (3, "0B0057881", "CPET0002")
    s = h.structure
    assert s is not None
    assert (s.name, s.unit, s.id_type_code, s.identifier, s.state) == (
        "HOPITAL DES 3 DAMES", "10B0057881", 1, "0B0057881", "Paris (75)")
    assert s.matches_cn is True
    assert (cpe.card_type, cpe.card_type_short) == (2, "CPE")
    assert cpe.test_card is True
    assert cpe.card_number == "2600301752"
    assert cpe.profession_code is None and cpe.title_matches_profession is None
    assert cpe.role == "authentication"
    assert cpe.key_usage == ("digitalSignature",)
    assert cpe.extended_key_usage == ("clientAuth", "smartcardLogon")
    assert cpe.subject_alt_names == ("UPN:30B0057881/CPET0002@carte-cps.fr",)
    assert (cpe.not_before.date().isoformat(), cpe.not_after.date().isoformat()) == ("2017-03-23", "2020-03-23")
    assert (cpe.issuer_family, cpe.issuer_class, cpe.issuer_range) == ("igc-sante-test", "STANDARD", "PERSONNES")
    assert cpe.authority_key_id == "F8:A1:85:89:03:DA:52:FF:D3:36:BE:03:D8:A8:D9:61:09:36:3D:92"
    assert cpe.ca_issuers_urls == ("http://igc-sante.esante.gouv.fr/AC%20TEST/ACI-ST-PP-TEST.cer",)


def test_days_left(cps: CertInfo) -> None:
    assert cps.days_left(datetime(2023, 9, 14, 12, 20, tzinfo=UTC)) == 1
    assert cps.days_left(datetime(2023, 9, 15, 12, 20, tzinfo=UTC)) == 0
    assert cps.days_left(datetime(2023, 9, 16, 12, 20, tzinfo=UTC)) == -1
    # A naive date is read as UTC.
    assert cps.days_left(datetime(2023, 9, 14, 12, 20)) == 1
    assert cps.days_left() < 0  # expired since 2023
    assert cps.is_valid_at(datetime(2022, 1, 1, tzinfo=UTC))
    assert not cps.is_valid_at(datetime(2024, 1, 1, tzinfo=UTC))


def test_der_and_pem_give_the_same_record(cps: CertInfo) -> None:
    der = pem_to_der(CPS_SIGN.read_bytes())
    from_der = parse_certificate(der, where=CPS_SIGN.name)
    assert from_der == cps
    assert from_der.der == der


def test_fingerprint_is_sha256_of_der(cps: CertInfo) -> None:
    import hashlib

    digest = hashlib.sha256(pem_to_der(CPS_SIGN.read_bytes())).hexdigest().upper()
    assert cps.sha256_fingerprint.replace(":", "") == digest


def test_load_certificates_from_pem_bundle_with_text() -> None:
    bundle = b"Bag Attributes\n" + CPS_SIGN.read_bytes() + b"\nsome comment\n" + CPE_AUTH.read_bytes()
    certs = load_certificates(bundle, where="bundle.pem")
    assert [c.holder.common_name for c in certs] == ["00B6087510", "30B0057881/CPET0002"]
    assert [c.where for c in certs] == ["bundle.pem, certificate 1", "bundle.pem, certificate 2"]


def test_load_certificates_from_der_and_pkcs7() -> None:
    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import Encoding, pkcs7

    der = pem_to_der(CPE_AUTH.read_bytes())
    assert [c.card_number for c in load_certificates(der)] == ["2600301752"]
    certs = [x509.load_der_x509_certificate(pem_to_der(p.read_bytes())) for p in (CPS_SIGN, CPE_AUTH)]
    p7_der = pkcs7.serialize_certificates(certs, Encoding.DER)
    assert [c.card_number for c in load_certificates(p7_der)] == ["2800636234", "2600301752"]
    p7_pem = pkcs7.serialize_certificates(certs, Encoding.PEM)
    assert [c.card_number for c in load_certificates(p7_pem)] == ["2800636234", "2600301752"]


def test_parse_certificate_takes_the_first_pem_block() -> None:
    assert parse_certificate(CPE_AUTH.read_bytes() + CPS_SIGN.read_bytes()).card_number == "2600301752"


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"   \n",
        b"hello",
        b"-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n",
        b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
        b"\x30\x03\x02\x01\x01",
        b"\x30\x82\xff\xff",
    ],
)
def test_garbage_is_malformed(data: bytes) -> None:
    with pytest.raises(MalformedDataError) as info:
        parse_certificate(data, where="input.pem")
    assert info.value.where == "input.pem"
    with pytest.raises(MalformedDataError):
        load_certificates(data)


def test_truncated_and_trailing_der() -> None:
    der = pem_to_der(CPS_SIGN.read_bytes())
    with pytest.raises(MalformedDataError):
        parse_certificate(der[:-1])
    with pytest.raises(MalformedDataError) as info:
        parse_certificate(der + b"\x00")
    assert "trailing" in info.value.reason


def test_non_bytes_input() -> None:
    with pytest.raises(MalformedDataError):
        parse_certificate(12345)  # type: ignore[arg-type]


def test_broken_private_extension_is_a_problem_not_a_failure() -> None:
    der = bytearray(pem_to_der(CPS_SIGN.read_bytes()))
    # Ext .7 is "06 08 <oid 1.2.250.1.71.1.2.7> 04 03 02 01 3C"; make the INTEGER negative.
    marker = bytes.fromhex("06082a817a0147010207" + "040302013c")
    at = der.find(marker)
    assert at > 0
    der[at + len(marker) - 1] = 0xFF
    info = parse_certificate(bytes(der))
    assert info.profession_code is None
    assert any("1.2.250.1.71.1.2.7" in p for p in info.problems)
    assert info.card_type == 0  # the others still decode


def agrees_with_asn1crypto(info: CertInfo, der: bytes) -> None:
    """What cpsdiag read from a certificate, as asn1crypto (an independent DER decoder) reads it."""
    from asn1crypto import x509 as a509

    theirs = a509.Certificate.load(der)
    tbs = theirs["tbs_certificate"]
    assert info.der == der
    assert info.serial == tbs["serial_number"].native
    assert info.not_before == tbs["validity"]["not_before"].native
    assert info.not_after == tbs["validity"]["not_after"].native
    assert info.version == {"v1": 1, "v2": 2, "v3": 3}[tbs["version"].native]
    assert info.sha256_fingerprint.replace(":", "").lower() == theirs.sha256.hex()


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=2000))
def test_arbitrary_bytes_are_refused_unless_they_are_a_certificate(data: bytes) -> None:
    for fn in (parse_certificate, load_certificates):
        try:
            fn(data)
        except MalformedDataError:
            continue
        raise AssertionError(f"{fn.__name__} accepted {data[:40].hex()}...")


_REAL_DER = pem_to_der(CPS_SIGN.read_bytes())


@settings(suppress_health_check=[HealthCheck.too_slow], max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.integers(0, len(_REAL_DER) - 1), st.integers(0, 255)), min_size=1, max_size=4))
def test_an_edited_certificate_is_read_as_asn1crypto_reads_it_or_refused(edits: list[tuple[int, int]]) -> None:
    der = bytearray(_REAL_DER)
    for pos, value in edits:
        der[pos] = value
    try:
        info = parse_certificate(bytes(der))
    except MalformedDataError:
        return
    agrees_with_asn1crypto(info, bytes(der))


def test_the_real_certificates_are_read_as_asn1crypto_reads_them() -> None:
    for path in (CPS_SIGN, CPE_AUTH):
        der = pem_to_der(path.read_bytes())
        agrees_with_asn1crypto(parse_certificate(path.read_bytes()), der)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300), st.integers(0, 4))
def test_a_pem_block_gives_the_certificate_its_base64_spells(body: str, cut: int) -> None:
    # Most examples are the real certificate's base64, wrapped at some width, and cut short by CUT - 1 characters.
    if cut:
        text = base64.b64encode(_REAL_DER).decode()
        text = text[:len(text) - (cut - 1)]
        width = 60 + 4 * cut
        body = "\n".join(text[i:i + width] for i in range(0, len(text), width))
    data = f"-----BEGIN CERTIFICATE-----\n{body}\n-----END CERTIFICATE-----\n".encode()
    try:
        [info] = load_certificates(data)
    except MalformedDataError:
        assert cut != 1, "the whole certificate, wrapped, was refused"
        return
    assert info.der == base64.b64decode("".join(body.split()), validate=True)
    agrees_with_asn1crypto(info, info.der)
