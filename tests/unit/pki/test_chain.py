"""Chain validation on a synthetic PKI laid out like IGC-Santé, and on the real TEST leaves.

The synthetic certificates use the emulator's names (brief) and the card layout of
research/pki.md §2.2-2.3: C, title, one GN+CN+SN RDN, private extensions, KU/EKU, AKI/SKI.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID, ObjectIdentifier

from cpsdiag.pki.certinfo import CertInfo, load_certificates, parse_certificate
from cpsdiag.pki.chain import ChainResult, validate_chain
from tests.support.paths import DATA

UTC = timezone.utc
DATA = DATA / "pki"
T0 = datetime(2024, 1, 1, tzinfo=UTC)
EMU = "CPSDIAG EMULATEUR"


def ca_name(cn: str, org: str = EMU, unit: str = "IGC-SANTE EMULATION") -> x509.Name:
    return x509.Name([
        x509.NameAttribute(NameOID.COUNTRY_NAME, "FR"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, org),
        x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, unit),
        x509.NameAttribute(NameOID.COMMON_NAME, cn),
    ])


def card_subject(gn: str, cn: str, sn: str, title: str) -> x509.Name:
    return x509.Name([
        x509.RelativeDistinguishedName([x509.NameAttribute(NameOID.COUNTRY_NAME, "FR")]),
        x509.RelativeDistinguishedName([x509.NameAttribute(NameOID.TITLE, title)]),
        x509.RelativeDistinguishedName([
            x509.NameAttribute(NameOID.GIVEN_NAME, gn),
            x509.NameAttribute(NameOID.COMMON_NAME, cn),
            x509.NameAttribute(NameOID.SURNAME, sn),
        ]),
    ])


@dataclass
class Ca:
    name: x509.Name
    key: rsa.RSAPrivateKey
    cert: x509.Certificate

    @property
    def pem(self) -> bytes:
        return self.cert.public_bytes(Encoding.PEM)


def new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def make_ca(
    name: x509.Name,
    key: rsa.RSAPrivateKey,
    issuer: Ca | None = None,
    *,
    not_before: datetime = datetime(2020, 1, 1, tzinfo=UTC),
    not_after: datetime = datetime(2040, 1, 1, tzinfo=UTC),
    ca: bool = True,
) -> Ca:
    signer_key = issuer.key if issuer else key
    signer_name = issuer.name if issuer else name
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(signer_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None if issuer is None or not ca else 0), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(signer_key.public_key()), critical=False)
    )
    return Ca(name, key, builder.sign(signer_key, hashes.SHA256()))


def private(oid: str, der_hex: str) -> x509.UnrecognizedExtension:
    return x509.UnrecognizedExtension(ObjectIdentifier(oid), bytes.fromhex(der_hex))


def make_leaf(
    issuer: Ca,
    *,
    role: str = "authentication",
    not_before: datetime = datetime(2023, 1, 1, tzinfo=UTC),
    not_after: datetime = datetime(2026, 1, 1, tzinfo=UTC),
    category: str = "80",
    card_type: int | None = 0,
    signing_key: rsa.RSAPrivateKey | None = None,
    cn: str = "899700209812",
) -> bytes:
    key = new_key()
    upn = f"{cn}@carte-cps.fr".encode()
    builder = (
        x509.CertificateBuilder()
        .subject_name(card_subject("ALAIN", cn, "D0000020981", "Médecin"))
        .issuer_name(issuer.name)
        .public_key(key.public_key())
        .serial_number(0x63DAFFCFC8034BDCE06765D525029B44)
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.key.public_key()), critical=False)
        .add_extension(private("1.2.250.1.71.1.2.5", "0401" + category), critical=False)
        .add_extension(private("1.2.250.1.71.1.2.3", "1315" + b"8025000001/2800000042".hex()), critical=False)
        .add_extension(private("1.2.250.1.71.1.2.7", "02010A"), critical=False)
    )
    if card_type is not None:
        builder = builder.add_extension(private("1.2.250.1.71.1.2.2", f"0201{card_type:02X}"), critical=False)
    if role == "authentication":
        builder = (
            builder.add_extension(x509.KeyUsage(True, False, False, False, False, False, False, False, False), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH, ExtendedKeyUsageOID.SMARTCARD_LOGON]),
                           critical=False)
            .add_extension(x509.SubjectAlternativeName([x509.OtherName(
                ObjectIdentifier("1.3.6.1.4.1.311.20.2.3"), bytes([0x0C, len(upn)]) + upn)]), critical=False)
        )
    else:
        # Like the real CPS signature certificate: nonRepudiation only, emailProtection, no SAN.
        builder = (
            builder.add_extension(x509.KeyUsage(False, True, False, False, False, False, False, False, False), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False)
        )
    cert = builder.sign(signing_key or issuer.key, hashes.SHA256())
    return cert.public_bytes(Encoding.DER)


@dataclass
class Pki:
    root: Ca
    fort_pp: Ca
    fort_org: Ca


@pytest.fixture(scope="module")
def pki() -> Pki:
    root = make_ca(ca_name(f"{EMU} AC RACINE"), new_key())
    fort_pp = make_ca(ca_name(f"{EMU} AC FORT PERSONNES"), new_key(), root)
    fort_org = make_ca(ca_name(f"{EMU} AC FORT ORGANISATIONS"), new_key(), root)
    return Pki(root, fort_pp, fort_org)


@pytest.fixture(scope="module")
def auth_leaf(pki: Pki) -> bytes:
    return make_leaf(pki.fort_pp)


@pytest.fixture(scope="module")
def sign_leaf(pki: Pki) -> bytes:
    return make_leaf(pki.fort_pp, role="signature")


def check(result: ChainResult, error: str | None) -> None:
    assert result.error == error, result.detail
    assert result.trusted is (error is None)
    assert result.detail and result.detail.endswith(".")


# --- the synthetic certificate itself parses like a card certificate -------------------


def test_synthetic_leaf_parses_like_a_card(auth_leaf: bytes, sign_leaf: bytes) -> None:
    info = parse_certificate(auth_leaf)
    assert info.holder.national_id is not None and info.holder.national_id.kind == "RPPS"
    assert (info.holder.given_name, info.holder.surname, info.holder.title) == ("ALAIN", "D0000020981", "Médecin")
    assert (info.issuer_family, info.issuer_class, info.issuer_range) == ("other", "FORT", "PERSONNES")
    assert (info.card_type_short, info.test_card, info.card_number, info.profession_label) == (
        "CPS", True, "2800000042", "Médecin")
    assert info.title_matches_profession is True
    assert info.role == "authentication"
    assert info.subject_alt_names == ("UPN:899700209812@carte-cps.fr",)
    assert info.serial_hex == "63DAFFCFC8034BDCE06765D525029B44"
    sign = parse_certificate(sign_leaf)
    assert sign.role == "signature" and sign.subject_alt_names == ()


# --- trusted -------------------------------------------------------------------------------


def test_trusted_authentication_leaf(pki: Pki, auth_leaf: bytes) -> None:
    result = validate_chain(auth_leaf, anchors=[pki.root.cert], intermediates=[pki.fort_pp.cert], at=T0)
    check(result, None)
    assert result.anchor == f"{EMU} AC RACINE"
    assert result.path == ["899700209812", f"{EMU} AC FORT PERSONNES", f"{EMU} AC RACINE"]
    assert result.at == T0


def test_trusted_signature_leaf_without_san(pki: Pki, sign_leaf: bytes) -> None:
    result = validate_chain(sign_leaf, anchors=[pki.root.pem, pki.fort_pp.pem], at=T0)
    check(result, None)
    assert result.path[-1] == f"{EMU} AC RACINE"


def test_anchor_bundle_file_as_loaded_by_the_cli(pki: Pki, auth_leaf: bytes) -> None:
    bundle = load_certificates(pki.fort_pp.pem + pki.root.pem, where="emulator-anchors.pem")
    check(validate_chain(parse_certificate(auth_leaf), anchors=bundle, at=T0), None)


def test_intermediate_alone_is_a_partial_trust_anchor(pki: Pki, auth_leaf: bytes) -> None:
    result = validate_chain(auth_leaf, anchors=[pki.fort_pp.cert], at=T0)
    check(result, None)
    assert result.anchor == f"{EMU} AC FORT PERSONNES"
    assert result.path == ["899700209812", f"{EMU} AC FORT PERSONNES"]


def test_software_certificate_under_organisations_is_fine(pki: Pki) -> None:
    leaf = make_leaf(pki.fort_org, category="83", card_type=None)
    check(validate_chain(leaf, anchors=[pki.root.cert, pki.fort_org.cert], at=T0), None)


# --- dates ---------------------------------------------------------------------------------


def test_expired_leaf_with_chain_present(pki: Pki, auth_leaf: bytes) -> None:
    at = datetime(2026, 1, 2, tzinfo=UTC)
    result = validate_chain(auth_leaf, anchors=[pki.root.cert, pki.fort_pp.cert], at=at)
    check(result, "expired")
    assert result.date == datetime(2026, 1, 1, tzinfo=UTC)
    assert "2026-01-01" in result.detail
    assert result.anchor == f"{EMU} AC RACINE"  # the path was complete; only the date failed


def test_not_yet_valid(pki: Pki, auth_leaf: bytes) -> None:
    result = validate_chain(auth_leaf, anchors=[pki.root.cert, pki.fort_pp.cert], at=datetime(2022, 12, 31, tzinfo=UTC))
    check(result, "not_yet_valid")
    assert result.date == datetime(2023, 1, 1, tzinfo=UTC)
    assert "2023-01-01" in result.detail


def test_validity_bounds_are_inclusive(pki: Pki, auth_leaf: bytes) -> None:
    anchors = [pki.root.cert, pki.fort_pp.cert]
    check(validate_chain(auth_leaf, anchors=anchors, at=datetime(2023, 1, 1, tzinfo=UTC)), None)
    check(validate_chain(auth_leaf, anchors=anchors, at=datetime(2026, 1, 1, tzinfo=UTC)), None)


def test_naive_at_is_utc(pki: Pki, auth_leaf: bytes) -> None:
    result = validate_chain(auth_leaf, anchors=[pki.root.cert, pki.fort_pp.cert], at=datetime(2026, 1, 1, 0, 0, 1))
    check(result, "expired")
    assert result.at.tzinfo is not None


def test_default_time_is_now(pki: Pki) -> None:
    now = datetime.now(UTC)
    leaf = make_leaf(pki.fort_pp, not_before=now - timedelta(days=1), not_after=now + timedelta(days=30))
    result = validate_chain(leaf, anchors=[pki.root.cert, pki.fort_pp.cert])
    check(result, None)
    assert abs((result.at - now).total_seconds()) < 60


def test_expired_intermediate(pki: Pki) -> None:
    short_ca = make_ca(ca_name(f"{EMU} AC STANDARD PERSONNES"), new_key(), pki.root,
                       not_after=datetime(2024, 6, 1, tzinfo=UTC))
    leaf = make_leaf(short_ca)
    result = validate_chain(leaf, anchors=[pki.root.cert, short_ca.cert], at=datetime(2024, 7, 1, tzinfo=UTC))
    check(result, "ca_expired")
    assert result.concerns == f"{EMU} AC STANDARD PERSONNES"
    assert result.date == datetime(2024, 6, 1, tzinfo=UTC)


# --- path errors ---------------------------------------------------------------------------


def test_missing_intermediate(pki: Pki, auth_leaf: bytes) -> None:
    result = validate_chain(auth_leaf, anchors=[pki.root.cert], at=T0)
    check(result, "issuer_not_found")
    assert result.missing_issuer == f"{EMU} AC FORT PERSONNES"
    assert f"{EMU} AC FORT PERSONNES" in result.detail
    assert result.path == ["899700209812"] and result.anchor is None


def test_missing_root_with_bundled_store_only(pki: Pki, auth_leaf: bytes) -> None:
    result = validate_chain(auth_leaf, intermediates=[pki.fort_pp.cert], at=T0)
    check(result, "issuer_not_found")
    assert result.missing_issuer == f"{EMU} AC RACINE"
    assert result.path == ["899700209812", f"{EMU} AC FORT PERSONNES"]


def test_root_passed_as_intermediate_is_not_trusted(pki: Pki, auth_leaf: bytes) -> None:
    result = validate_chain(auth_leaf, intermediates=[pki.fort_pp.cert, pki.root.cert], at=T0)
    check(result, "issuer_not_found")
    assert result.concerns == f"{EMU} AC RACINE"


def test_forged_signature(pki: Pki) -> None:
    forged = make_leaf(pki.fort_pp, signing_key=new_key())  # right names and AKI, wrong key
    result = validate_chain(forged, anchors=[pki.root.cert, pki.fort_pp.cert], at=T0)
    check(result, "bad_signature")
    assert result.concerns == "899700209812"


def test_same_name_other_key_is_not_the_issuer(pki: Pki, auth_leaf: bytes) -> None:
    impostor = make_ca(ca_name(f"{EMU} AC FORT PERSONNES"), new_key(), pki.root)
    result = validate_chain(auth_leaf, anchors=[pki.root.cert, impostor.cert], at=T0)
    check(result, "issuer_not_found")
    assert "key identifier" in result.detail


def test_card_under_organisations_ca(pki: Pki) -> None:
    leaf = make_leaf(pki.fort_org)
    result = validate_chain(leaf, anchors=[pki.root.cert, pki.fort_org.cert], at=T0)
    check(result, "wrong_intermediate")
    assert f"{EMU} AC FORT ORGANISATIONS" in result.detail


def test_verifier_only_failure_is_other(pki: Pki) -> None:
    not_a_ca = make_ca(ca_name(f"{EMU} AC FORT PERSONNES BIS"), new_key(), pki.root, ca=False)
    leaf = make_leaf(not_a_ca)
    result = validate_chain(leaf, anchors=[pki.root.cert, not_a_ca.cert], at=T0)
    check(result, "other")


def test_test_family_without_its_chain(pki: Pki) -> None:
    test_pp = make_ca(ca_name("TEST AC IGC-SANTE FORT PERSONNES", "ASIP-SANTE", "IGC-SANTE TEST"), new_key(), pki.root)
    leaf = make_leaf(test_pp)
    result = validate_chain(leaf, at=T0)
    check(result, "test_chain_missing")
    assert result.missing_issuer == "TEST AC IGC-SANTE FORT PERSONNES"
    # Once the TEST chain is supplied, an expired TEST leaf is reported as expired.
    expired = validate_chain(leaf, anchors=[pki.root.cert, test_pp.cert], at=datetime(2027, 1, 1, tzinfo=UTC))
    check(expired, "expired")
    check(validate_chain(leaf, anchors=[pki.root.cert, test_pp.cert], at=T0), None)


def test_legacy_gip_cps_issuer(pki: Pki) -> None:
    gip = make_ca(x509.Name([
        x509.NameAttribute(NameOID.COUNTRY_NAME, "FR"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "GIP-CPS"),
        x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "GIP-CPS CLASSE-1"),
    ]), new_key())
    leaf = make_leaf(gip)
    result = validate_chain(leaf, anchors=[gip.cert], at=T0)
    check(result, "legacy_gip_cps")
    assert "GIP-CPS CLASSE-1" in result.detail


# --- real certificates -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("filename", "issuer"),
    [
        ("cps-infirmier-signature-TEST.pem", "TEST AC IGC-SANTE FORT PERSONNES"),
        ("cpe-etablissement-auth-TEST.pem", "TEST AC IGC-SANTE STANDARD PERSONNES"),
    ],
)
def test_real_test_leaves_need_their_test_chain(filename: str, issuer: str) -> None:
    leaf = (DATA / filename).read_bytes()
    for at in (None, datetime(2019, 6, 1, tzinfo=UTC), datetime(2022, 1, 1, tzinfo=UTC)):
        for include_test in (False, True):
            result = validate_chain(leaf, at=at, include_test_anchors=include_test)
            check(result, "test_chain_missing")
            assert result.missing_issuer == issuer
            assert issuer in result.detail


@pytest.mark.parametrize("name", ["AC IGC-SANTE FORT PERSONNES", "AC IGC-SANTE STANDARD PERSONNES"])
def test_bundled_intermediates_validate_against_bundled_roots(name: str) -> None:
    from cpsdiag.pki.anchors import anchor_by_name

    anchor = anchor_by_name(name)
    assert anchor is not None
    result = validate_chain(anchor.info, at=datetime(2025, 1, 1, tzinfo=UTC))
    check(result, None)
    assert result.anchor == name.replace("AC IGC-SANTE", "AC RACINE IGC-SANTE").replace(" PERSONNES", "")
    late = validate_chain(anchor.info, at=datetime(2033, 6, 24, 0, 0, 1, tzinfo=UTC))
    check(late, "expired")


def test_leaf_input_types(pki: Pki, auth_leaf: bytes) -> None:
    anchors = [pki.root.cert, pki.fort_pp.cert]
    info: CertInfo = parse_certificate(auth_leaf)
    for leaf in (auth_leaf, info, info.certificate, x509.load_der_x509_certificate(auth_leaf)):
        check(validate_chain(leaf, anchors=anchors, at=T0), None)


def test_emulator_test_pki_validates_with_its_anchor_bundle(tmp_path: Path) -> None:
    """The emulator's own PKI (cpsdiag.emulator.pkigen) is what --anchors will be fed with in the stack tests."""
    import tomllib

    from cpsdiag.emulator import pkigen

    out = pkigen.make_pki(tmp_path)
    anchors = load_certificates(out.anchors.read_bytes(), where=str(out.anchors))
    # Every shipped profile has a [holder] table: each certificate its card.toml names must be there and parse.
    shipped = sorted(p.parent.name for p in (Path(pkigen.__file__).parent / "profiles").glob("*/card.toml"))
    assert sorted(out.profiles) == shipped and len(shipped) >= 9
    checked = 0
    for name in shipped:
        doc = tomllib.loads((out.cards / name / "card.toml").read_text())
        for role in ("auth", "signature"):
            if role not in doc:
                continue
            pem = out.cards / name / doc[role]["certificate"]
            info = parse_certificate(pem.read_bytes(), where=str(pem))
            assert info.issuer_family == "other" and info.issuer_range == "PERSONNES"
            assert info.issuer_class in ("FORT", "STANDARD")
            assert info.problems == ()
            result = validate_chain(info, anchors=anchors)
            assert result.error in (None, "expired", "not_yet_valid"), result.detail
            assert result.anchor == "CPSDIAG EMULATEUR AC RACINE"
            checked += 1
    assert checked > len(shipped)         # a signature certificate too on every contact card
