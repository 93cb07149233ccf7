"""validate_chain in detail: each outcome's exact English sentence, the path, which certificate it concerns.

The certificates are built here with ``cryptography``'s builder (EC keys, IGC-Santé-like names); the expected
sentences are the ones docs/findings.md relays to users, written out in full, and the expected paths follow
from how each test wired its certificates. The real bundled IGC-Santé CAs are used where they suffice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID, ObjectIdentifier

from cpsdiag.errors import MalformedDataError
from cpsdiag.pki import anchors as bundled
from cpsdiag.pki.certinfo import parse_certificate
from cpsdiag.pki.chain import MAX_PATH_LENGTH, validate_chain

UTC = timezone.utc
T0 = datetime(2024, 1, 1, tzinfo=UTC)
TEXT_T0 = "2024-01-01 00:00:00 UTC"


def name(cn: str, org: str = "CPSDIAG ESSAI", unit: str = "IGC ESSAI") -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "FR"),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, org),
                      x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, unit),
                      x509.NameAttribute(NameOID.COMMON_NAME, cn)])


@dataclass
class Ca:
    name: x509.Name
    key: ec.EllipticCurvePrivateKey
    cert: x509.Certificate


def make(subject: x509.Name, key, issuer_name: x509.Name, signer, *, ca: bool = True, aki_key=None,
         not_before=datetime(2020, 1, 1, tzinfo=UTC), not_after=datetime(2040, 1, 1, tzinfo=UTC),
         extra: tuple[x509.ExtensionType, ...] = ()) -> x509.Certificate:
    builder = (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer_name).public_key(key.public_key())
               .serial_number(x509.random_serial_number()).not_valid_before(not_before).not_valid_after(not_after)
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
               .add_extension(x509.KeyUsage(not ca, False, False, False, False, ca, ca, False, False), critical=True)
               .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
               .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key((aki_key or signer).public_key()),
                              critical=False))
    for extension in extra:
        builder = builder.add_extension(extension, critical=False)
    return builder.sign(signer, hashes.SHA256())


def new_key():
    return ec.generate_private_key(ec.SECP256R1())


def root(cn: str = "ESSAI AC RACINE", **kwargs) -> Ca:
    key = new_key()
    return Ca(name(cn), key, make(name(cn), key, name(cn), key, **kwargs))


def sub_ca(cn: str, parent: Ca, **kwargs) -> Ca:
    key = new_key()
    return Ca(name(cn), key, make(name(cn), key, parent.name, parent.key, **kwargs))


def leaf(parent: Ca, cn: str = "LEAF 1", **kwargs) -> x509.Certificate:
    key = new_key()
    return make(name(cn), key, parent.name, parent.key, ca=False, **kwargs)


@pytest.fixture(scope="module")
def pki():
    r = root()
    pp = sub_ca("ESSAI AC FORT PERSONNES", r)
    return r, pp


# -- trusted --------------------------------------------------------------------------------------------------

def test_trusted_sentence_path_and_anchor(pki):
    r, pp = pki
    result = validate_chain(leaf(pp), anchors=[r.cert], intermediates=[pp.cert], at=T0)
    assert result.detail == f"The chain LEAF 1 -> ESSAI AC FORT PERSONNES -> ESSAI AC RACINE is trusted on {TEXT_T0}."
    assert (result.trusted, result.error, result.anchor) == (True, None, "ESSAI AC RACINE")
    assert result.path == ["LEAF 1", "ESSAI AC FORT PERSONNES", "ESSAI AC RACINE"]
    assert (result.missing_issuer, result.concerns, result.date, result.at) == (None, None, None, T0)


def test_inputs_of_every_kind(pki):
    r, pp = pki
    one = leaf(pp)
    der = one.public_bytes(Encoding.DER)
    root_anchor = bundled.Anchor(bundled.PINS["acr-fo.pem"], parse_certificate(
        r.cert.public_bytes(Encoding.DER)))
    for form in (bytearray(der), memoryview(der)):
        assert validate_chain(form, anchors=[root_anchor], intermediates=[pp.cert], at=T0).trusted
    with pytest.raises(MalformedDataError) as caught:
        validate_chain(42, at=T0)           # type: ignore[arg-type]
    assert str(caught.value) == "certificate (leaf certificate): unsupported input type int"
    with pytest.raises(MalformedDataError) as caught:
        validate_chain(der, intermediates=[pp.cert, b"\x02\x01\x00"], at=T0)
    assert str(caught.value) == "certificate (intermediate #2): starts with tag 0x02, not a SEQUENCE at offset 0"
    with pytest.raises(MalformedDataError) as caught:
        validate_chain(der, anchors=[b"\x04\x00"], at=T0)
    assert str(caught.value) == "certificate (anchor #1): starts with tag 0x04, not a SEQUENCE at offset 0"


def test_a_ca_given_as_anchor_but_known_to_be_issued_is_a_link_not_an_end(pki):
    r, pp = pki
    # The root is only an untrusted intermediate here, and the sub-CA's issuer is known: nothing is trusted.
    result = validate_chain(leaf(pp), anchors=[pp.cert], intermediates=[r.cert], at=T0)
    assert result.error == "issuer_not_found" and result.anchor is None
    assert result.detail == "The self-signed certificate 'ESSAI AC RACINE' is not among the trust anchors."
    assert (result.concerns, result.missing_issuer) == ("ESSAI AC RACINE", "ESSAI AC RACINE")
    assert result.path == ["LEAF 1", "ESSAI AC FORT PERSONNES", "ESSAI AC RACINE"]
    # Given as an anchor too, the root wins over its intermediate copy.
    trusted = validate_chain(leaf(pp), anchors=[pp.cert, r.cert], intermediates=[r.cert, pp.cert], at=T0)
    assert trusted.trusted and trusted.anchor == "ESSAI AC RACINE"


def test_a_self_signed_leaf_not_trusted():
    r = root("ESSAI AUTOSIGNE")
    result = validate_chain(r.cert, at=T0)
    assert result.detail == "The self-signed certificate 'ESSAI AUTOSIGNE' is not among the trust anchors."
    assert (result.path, result.anchor, result.concerns) == (["ESSAI AUTOSIGNE"], None, "ESSAI AUTOSIGNE")
    assert validate_chain(r.cert, anchors=[r.cert], at=T0).anchor == "ESSAI AUTOSIGNE"


# -- path errors ----------------------------------------------------------------------------------------------

def test_issuer_nowhere(pki):
    _r, pp = pki
    result = validate_chain(leaf(pp), at=T0)
    assert result.detail == ("The issuer 'ESSAI AC FORT PERSONNES' of 'LEAF 1' is neither a trust anchor nor a "
                             "supplied intermediate.")
    assert (result.error, result.missing_issuer, result.concerns, result.path) == (
        "issuer_not_found", "ESSAI AC FORT PERSONNES", "LEAF 1", ["LEAF 1"])


def test_same_name_other_key(pki):
    r, pp = pki
    impostor = sub_ca("ESSAI AC FORT PERSONNES", r)
    result = validate_chain(leaf(pp), anchors=[r.cert, impostor.cert], at=T0)
    assert result.detail == ("A certificate named 'ESSAI AC FORT PERSONNES' is available but its key identifier does "
                             "not match the one 'LEAF 1' was signed with.")
    assert (result.missing_issuer, result.concerns) == ("ESSAI AC FORT PERSONNES", "LEAF 1")


def test_a_leaf_without_authority_key_id_is_matched_by_name_and_signature(pki):
    r, pp = pki
    key = new_key()
    bare = (x509.CertificateBuilder().subject_name(name("LEAF NO AKI")).issuer_name(pp.name)
            .public_key(key.public_key()).serial_number(7).not_valid_before(datetime(2023, 1, 1, tzinfo=UTC))
            .not_valid_after(datetime(2026, 1, 1, tzinfo=UTC))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .sign(pp.key, hashes.SHA256()))
    result = validate_chain(bare, anchors=[r.cert, pp.cert], at=T0)
    assert result.path == ["LEAF NO AKI", "ESSAI AC FORT PERSONNES", "ESSAI AC RACINE"]
    assert result.trusted, result.detail


def test_bad_signature_sentence(pki):
    r, pp = pki
    forged = make(name("LEAF 1"), new_key(), pp.name, new_key(), ca=False, aki_key=pp.key)
    result = validate_chain(forged, anchors=[r.cert, pp.cert], at=T0)
    assert result.detail == ("The signature of 'LEAF 1' does not verify with the public key of "
                             "'ESSAI AC FORT PERSONNES'.")
    assert (result.error, result.concerns, result.path, result.anchor) == (
        "bad_signature", "LEAF 1", ["LEAF 1"], None)


def test_a_signature_that_cannot_be_checked_is_other(pki):
    r, pp = pki
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    odd = make(name("LEAF 1"), new_key(), pp.name, rsa_key, ca=False, aki_key=pp.key)   # RSA signature, EC issuer
    result = validate_chain(odd, anchors=[r.cert, pp.cert], at=T0)
    assert result.error == "other" and result.concerns == "LEAF 1"
    assert result.detail.startswith("The signature of 'LEAF 1' could not be checked with the key of "
                                    "'ESSAI AC FORT PERSONNES': ")
    assert result.detail.endswith(".") and len(result.detail) > 100


def test_certificates_that_loop(pki):
    ka, kb = new_key(), new_key()
    a = make(name("ESSAI AC A"), ka, name("ESSAI AC B"), kb)
    b = make(name("ESSAI AC B"), kb, name("ESSAI AC A"), ka)
    one = make(name("LEAF 1"), new_key(), name("ESSAI AC A"), ka, ca=False)
    result = validate_chain(one, intermediates=[a, b], at=T0)
    assert result.detail == "The certificates loop back to 'ESSAI AC A' without reaching a trust anchor."
    assert (result.error, result.concerns, result.anchor) == ("other", "ESSAI AC A", None)
    assert result.path == ["LEAF 1", "ESSAI AC A", "ESSAI AC B"]


def ladder(count: int):
    """A root and COUNT intermediates under it, each under the previous one."""
    top = root()
    cas = [top]
    for i in range(count):
        cas.append(sub_ca(f"ESSAI AC NIVEAU {i + 1}", cas[-1]))
    return cas


def test_path_length_limit():
    assert MAX_PATH_LENGTH == 6
    cas = ladder(5)
    ok = validate_chain(leaf(cas[-1]), anchors=[cas[0].cert], intermediates=[c.cert for c in cas[1:]], at=T0)
    assert ok.path == ["LEAF 1", *[f"ESSAI AC NIVEAU {i}" for i in range(5, 0, -1)], "ESSAI AC RACINE"]
    assert ok.anchor == "ESSAI AC RACINE"
    cas = ladder(6)
    too_long = validate_chain(leaf(cas[-1]), anchors=[cas[0].cert], intermediates=[c.cert for c in cas[1:]], at=T0)
    assert too_long.detail == "No trust anchor was reached within 6 certificates."
    assert (too_long.error, too_long.concerns, too_long.anchor) == ("other", "ESSAI AC NIVEAU 1", None)
    assert len(too_long.path) == 7


def test_test_hierarchy_sentence():
    test_root = root("TEST AC RACINE ESSAI")
    test_pp = Ca(name("TEST AC IGC-SANTE FORT PERSONNES", "ASIP-SANTE", "IGC-SANTE TEST"), new_key(), None)
    test_pp.cert = make(test_pp.name, test_pp.key, test_root.name, test_root.key)
    result = validate_chain(leaf(test_pp), at=T0)
    assert result.detail == (
        "The certificate belongs to the IGC-Santé TEST hierarchy and its issuer 'TEST AC IGC-SANTE FORT PERSONNES' "
        "was not supplied; the TEST CA certificates must be given as extra anchors.")
    assert (result.missing_issuer, result.concerns) == ("TEST AC IGC-SANTE FORT PERSONNES", "LEAF 1")
    # The TEST intermediate given, its own root missing: said of the intermediate, still a TEST chain.
    upper = validate_chain(leaf(test_pp), intermediates=[test_pp.cert], at=T0)
    assert upper.error == "test_chain_missing" and upper.concerns == "TEST AC IGC-SANTE FORT PERSONNES"
    assert upper.missing_issuer == "TEST AC RACINE ESSAI"


def test_the_public_test_cas_only_with_include_test_anchors():
    org_test = bundled.anchor_by_name("ACI-EL-ORG-TEST")
    at = datetime(2025, 1, 1, tzinfo=UTC)
    without = validate_chain(org_test, at=at)
    assert without.error == "test_chain_missing" and without.missing_issuer == "TEST AC RACINE IGC-SANTE ELEMENTAIRE"
    with_test = validate_chain(org_test, at=at, include_test_anchors=True)
    assert with_test.trusted and with_test.anchor == "TEST AC RACINE IGC-SANTE ELEMENTAIRE"
    assert with_test.path == ["TEST AC IGC-SANTE ELEMENTAIRE ORGANISATIONS", "TEST AC RACINE IGC-SANTE ELEMENTAIRE"]
    # Bundled intermediates are links, never ends: the anchor reported is the root.
    pp = validate_chain(bundled.anchor_by_name("ACI-FO-PP"), at=at)
    assert pp.path == ["AC IGC-SANTE FORT PERSONNES", "AC RACINE IGC-SANTE FORT"]
    assert pp.detail == ("The chain AC IGC-SANTE FORT PERSONNES -> AC RACINE IGC-SANTE FORT is trusted on "
                         "2025-01-01 00:00:00 UTC.")


# -- card rules and dates -------------------------------------------------------------------------------------

CARD = x509.UnrecognizedExtension(ObjectIdentifier("1.2.250.1.71.1.2.2"), bytes.fromhex("020100"))


def test_card_under_an_organisations_ca_sentence():
    r = root()
    org = sub_ca("ESSAI AC FORT ORGANISATIONS", r)
    result = validate_chain(leaf(org, extra=(CARD,)), anchors=[r.cert, org.cert], at=T0)
    assert result.detail == ("This card certificate was issued by 'ESSAI AC FORT ORGANISATIONS', an ORGANISATIONS "
                             "CA, whereas card certificates come from a PERSONNES CA.")
    assert (result.error, result.concerns, result.anchor) == ("wrong_intermediate", "LEAF 1", "ESSAI AC RACINE")
    # Not a card: a server certificate under an ORGANISATIONS CA is what such CAs are for.
    assert validate_chain(leaf(org), anchors=[r.cert, org.cert], at=T0).trusted


def test_leaf_date_sentences(pki):
    r, pp = pki
    one = leaf(pp, not_before=datetime(2023, 1, 1, 8, 30, tzinfo=UTC), not_after=datetime(2026, 1, 1, 8, 30, tzinfo=UTC))
    early = validate_chain(one, anchors=[r.cert, pp.cert], at=datetime(2023, 1, 1, 8, 29, 59, tzinfo=UTC))
    assert early.detail == ("The certificate is not valid before 2023-01-01 08:30:00 UTC (validation date "
                            "2023-01-01 08:29:59 UTC).")
    assert (early.error, early.concerns, early.date) == ("not_yet_valid", "LEAF 1",
                                                          datetime(2023, 1, 1, 8, 30, tzinfo=UTC))
    late = validate_chain(one, anchors=[r.cert, pp.cert], at=datetime(2026, 1, 1, 8, 30, 1, tzinfo=UTC))
    assert late.detail == ("The certificate expired on 2026-01-01 08:30:00 UTC (validation date "
                           "2026-01-01 08:30:01 UTC).")
    assert (late.error, late.concerns, late.date, late.anchor) == (
        "expired", "LEAF 1", datetime(2026, 1, 1, 8, 30, tzinfo=UTC), "ESSAI AC RACINE")


def test_ca_date_sentences():
    r = root(not_before=datetime(2023, 6, 1, tzinfo=UTC))
    pp = sub_ca("ESSAI AC FORT PERSONNES", r, not_after=datetime(2025, 6, 1, tzinfo=UTC))
    one = leaf(pp, not_before=datetime(2023, 1, 1, tzinfo=UTC), not_after=datetime(2027, 1, 1, tzinfo=UTC))
    early = validate_chain(one, anchors=[r.cert], intermediates=[pp.cert], at=datetime(2023, 3, 1, tzinfo=UTC))
    assert early.detail == "The CA certificate 'ESSAI AC RACINE' is not valid before 2023-06-01 00:00:00 UTC."
    assert (early.error, early.concerns, early.date) == ("ca_expired", "ESSAI AC RACINE",
                                                          datetime(2023, 6, 1, tzinfo=UTC))
    late = validate_chain(one, anchors=[r.cert], intermediates=[pp.cert], at=datetime(2025, 6, 1, 0, 0, 1, tzinfo=UTC))
    assert late.detail == "The CA certificate 'ESSAI AC FORT PERSONNES' expired on 2025-06-01 00:00:00 UTC."
    assert (late.concerns, late.date) == ("ESSAI AC FORT PERSONNES", datetime(2025, 6, 1, tzinfo=UTC))
    # On the CA's last second it is still valid.
    assert validate_chain(one, anchors=[r.cert], intermediates=[pp.cert], at=datetime(2025, 6, 1, tzinfo=UTC)).trusted


def test_legacy_sentence():
    gip_name = x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "FR"),
                          x509.NameAttribute(NameOID.ORGANIZATION_NAME, "GIP-CPS"),
                          x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "GIP-CPS CLASSE-2")])
    key = new_key()
    gip = Ca(gip_name, key, make(gip_name, key, gip_name, key))
    result = validate_chain(leaf(gip), anchors=[gip.cert], at=T0)
    assert result.detail == ("The certificate was issued by 'GIP-CPS CLASSE-2' of the GIP-CPS hierarchy, which "
                             "stopped operating in January 2021.")
    assert (result.error, result.concerns, result.path, result.anchor, result.missing_issuer) == (
        "legacy_gip_cps", "LEAF 1", ["LEAF 1"], None, None)


def test_verifier_rejection_sentence(pki):
    r, _pp = pki
    not_ca = Ca(name("ESSAI PAS UNE AC"), new_key(), None)
    not_ca.cert = make(not_ca.name, not_ca.key, r.name, r.key, ca=False)
    result = validate_chain(leaf(not_ca), anchors=[r.cert], intermediates=[not_ca.cert], at=T0)
    assert result.error == "other" and result.anchor == "ESSAI AC RACINE"
    assert result.detail.startswith("The X.509 path validation rejected the chain: ")
    assert result.detail.endswith(".") and not result.detail.endswith("..") and "\n" not in result.detail
    assert (result.concerns, result.missing_issuer, result.date) == (None, None, None)
    assert result.path == ["LEAF 1", "ESSAI PAS UNE AC", "ESSAI AC RACINE"]


def test_the_verifiers_reason_is_relayed():
    r = root()
    not_ca = Ca(name("ESSAI PAS UNE AC"), new_key(), None)
    not_ca.cert = make(not_ca.name, not_ca.key, r.name, r.key, ca=False)
    result = validate_chain(leaf(not_ca), anchors=[r.cert], intermediates=[not_ca.cert], at=T0)
    # cryptography's words for an intermediate without cA=TRUE (RFC 5280 §4.2.1.9), not a placeholder.
    assert "basicConstraints" in result.detail and "rejected." not in result.detail


def test_an_unverifiable_signature_gives_cryptographys_reason(pki):
    r, pp = pki
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    odd = make(name("LEAF 1"), new_key(), pp.name, rsa_key, ca=False, aki_key=pp.key)
    try:
        odd.verify_directly_issued_by(pp.cert)
    except (ValueError, TypeError) as exc:
        reason = str(exc) or type(exc).__name__
    result = validate_chain(odd, anchors=[r.cert, pp.cert], at=T0)
    assert result.detail == (f"The signature of 'LEAF 1' could not be checked with the key of "
                             f"'ESSAI AC FORT PERSONNES': {reason}.")


def test_a_test_ca_above_a_non_test_intermediate_is_a_missing_test_chain():
    test_root = Ca(name("TEST AC RACINE IGC-SANTE FORT", "ASIP-SANTE", "IGC-SANTE TEST"), new_key(), None)
    test_root.cert = make(test_root.name, test_root.key, test_root.name, test_root.key)
    middle = sub_ca("ESSAI AC FORT PERSONNES", test_root)
    one = leaf(middle)
    assert parse_certificate(one.public_bytes(Encoding.DER)).issuer_family != "igc-sante-test"
    result = validate_chain(one, intermediates=[middle.cert], at=T0)
    assert (result.error, result.missing_issuer, result.concerns) == (
        "test_chain_missing", "TEST AC RACINE IGC-SANTE FORT", "ESSAI AC FORT PERSONNES")


def test_date_failures_keep_the_path_that_was_built():
    r = root()
    pp = sub_ca("ESSAI AC FORT PERSONNES", r, not_after=datetime(2025, 6, 1, tzinfo=UTC))
    one = leaf(pp, not_before=datetime(2023, 1, 1, tzinfo=UTC), not_after=datetime(2027, 1, 1, tzinfo=UTC))
    full = ["LEAF 1", "ESSAI AC FORT PERSONNES", "ESSAI AC RACINE"]
    for at in (datetime(2022, 1, 1, tzinfo=UTC), datetime(2026, 1, 1, tzinfo=UTC)):
        result = validate_chain(one, anchors=[r.cert], intermediates=[pp.cert], at=at)
        assert result.error in ("not_yet_valid", "ca_expired")
        assert (result.path, result.anchor) == (full, "ESSAI AC RACINE")


def test_a_path_of_the_longest_length_reaches_its_anchor_even_when_a_date_fails():
    cas = ladder(5)
    old = leaf(cas[-1], not_before=datetime(2021, 1, 1, tzinfo=UTC), not_after=datetime(2022, 1, 1, tzinfo=UTC))
    result = validate_chain(old, anchors=[cas[0].cert], intermediates=[c.cert for c in cas[1:]], at=T0)
    assert (result.error, result.anchor, len(result.path)) == ("expired", "ESSAI AC RACINE", 7)


def test_a_partial_anchor_after_a_root():
    r, other = root(), root("ESSAI AUTRE RACINE")
    pp = sub_ca("ESSAI AC FORT PERSONNES", r)
    result = validate_chain(leaf(pp), anchors=[other.cert, pp.cert], at=T0)
    assert (result.trusted, result.anchor) == (True, "ESSAI AC FORT PERSONNES")


def test_test_anchors_are_added_to_the_production_ones():
    at = datetime(2025, 1, 1, tzinfo=UTC)
    result = validate_chain(bundled.anchor_by_name("ACI-FO-PP"), at=at, include_test_anchors=True)
    assert (result.trusted, result.anchor) == (True, "AC RACINE IGC-SANTE FORT")


def test_a_certificate_object_that_cpsdiag_cannot_read_is_named(pki):
    _r, pp = pki
    der = leaf(pp).public_bytes(Encoding.DER)
    # SubjectKeyIdentifier: extnValue 04 16 { 04 14 <20 bytes> }; the inner OCTET STRING made a NULL.
    ski = bytes.fromhex("0603551d0e04160414")
    assert der.count(ski) == 1
    broken = x509.load_der_x509_certificate(der.replace(ski, bytes.fromhex("0603551d0e04160514")))   # lazy: loads
    with pytest.raises(MalformedDataError) as caught:
        validate_chain(broken, at=T0)
    assert (caught.value.what, caught.value.where) == ("certificate", "leaf certificate")


def test_a_ca_is_valid_from_its_first_second():
    r = root(not_before=datetime(2023, 6, 1, tzinfo=UTC))
    pp = sub_ca("ESSAI AC FORT PERSONNES", r)
    one = leaf(pp, not_before=datetime(2023, 1, 1, tzinfo=UTC), not_after=datetime(2027, 1, 1, tzinfo=UTC))
    assert validate_chain(one, anchors=[r.cert], intermediates=[pp.cert], at=datetime(2023, 6, 1, tzinfo=UTC)).trusted
    early = validate_chain(one, anchors=[r.cert], intermediates=[pp.cert], at=datetime(2023, 5, 31, tzinfo=UTC))
    assert (early.error, early.anchor, early.path) == (
        "ca_expired", "ESSAI AC RACINE", ["LEAF 1", "ESSAI AC FORT PERSONNES", "ESSAI AC RACINE"])


def test_the_issuers_certificate_is_handed_on_for_the_revocation_check(pki):
    r, pp = pki
    pp_der = pp.cert.public_bytes(Encoding.DER)
    assert validate_chain(leaf(pp), anchors=[r.cert, pp.cert], at=T0).issuer_der == pp_der
    # A path of two (the sub-CA trusted as given) still names its issuer; a lone certificate has none.
    assert validate_chain(leaf(pp), anchors=[pp.cert], at=T0).issuer_der == pp_der
    assert validate_chain(leaf(pp), at=T0).issuer_der is None
