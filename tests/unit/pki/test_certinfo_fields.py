"""Each field of CertInfo, and each refusal of the input framing, on certificates built for the purpose.

The certificates here are written by ``cryptography``'s builder (an encoder that is not cpsdiag's code) with
chosen contents; the expectations are those chosen contents in the notation cpsdiag documents (OpenSSL-style
"DNS:...", RFC names of the algorithms and usages), and the exact English sentences of the refusals and problems,
which reach the user as they are. The real card certificates are judged in test_certinfo.py.
"""

from __future__ import annotations

import base64
import ipaddress
import warnings
from datetime import datetime, timedelta, timezone

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, padding, rsa
from cryptography.x509.oid import AuthorityInformationAccessOID, ExtendedKeyUsageOID, NameOID, ObjectIdentifier

from cpsdiag.errors import MalformedDataError, UsageError
from cpsdiag.pki import certinfo
from cpsdiag.pki.certinfo import MAX_INPUT_BYTES, as_utc, load_certificates, parse_certificate, read_certificate_file
from tests.support.paths import DATA

UTC = timezone.utc
DATA = DATA / "pki"
CPS_SIGN = DATA / "cps-infirmier-signature-TEST.pem"
START = datetime(2024, 1, 1, tzinfo=UTC)
ISSUER_KEY = ec.generate_private_key(ec.SECP256R1())
RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=1024)


def dsa_key():
    # cryptography warns that DSA is deprecated; cpsdiag still names such keys, so one is made here.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return dsa.generate_private_key(1024)


def name(cn: str, *more: x509.NameAttribute) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn), *more])


def build(*extensions: x509.ExtensionType, key=None, signer=None, algorithm=hashes.SHA256(), serial: int = 4242,
          subject: x509.Name | None = None, issuer: x509.Name | None = None, rsa_padding=None) -> bytes:
    signer = signer or ISSUER_KEY
    key = key or ec.generate_private_key(ec.SECP256R1())
    builder = (x509.CertificateBuilder()
               .subject_name(subject or name("leaf"))
               .issuer_name(issuer or name("issuer"))
               .public_key(key.public_key())
               .serial_number(serial)
               .not_valid_before(START)
               .not_valid_after(START + timedelta(days=30)))
    for extension in extensions:
        builder = builder.add_extension(extension, critical=False)
    cert = builder.sign(signer, algorithm, rsa_padding=rsa_padding)
    return cert.public_bytes(serialization.Encoding.DER)


def pem(der: bytes, label: str = "CERTIFICATE") -> bytes:
    body = base64.encodebytes(der).decode()
    return f"-----BEGIN {label}-----\n{body}-----END {label}-----\n".encode()


def refusal(fn, data, **kwargs) -> MalformedDataError:
    with pytest.raises(MalformedDataError) as caught:
        fn(data, **kwargs)
    return caught.value


# -- keys and signature algorithms ----------------------------------------------------------------------------

@pytest.mark.parametrize(("key", "expected"), [
    (ed25519.Ed25519PrivateKey.generate(), ("Ed25519", 256)),
    (ed448.Ed448PrivateKey.generate(), ("Ed448", 456)),
    (ec.generate_private_key(ec.SECP384R1()), ("EC secp384r1", 384)),
    (dsa_key(), ("DSA", 1024)),
    (RSA_KEY, ("RSA", 1024)),
])
def test_key_type_and_size(key, expected):
    info = parse_certificate(build(key=key))
    assert (info.key_type, info.key_size) == expected
    assert info.problems == ()


@pytest.mark.parametrize(("signer", "algorithm", "rsa_padding", "expected"), [
    (ISSUER_KEY, hashes.SHA256(), None, "ecdsa-with-SHA256"),
    (ISSUER_KEY, hashes.SHA384(), None, "ecdsa-with-SHA384"),
    (ISSUER_KEY, hashes.SHA512(), None, "ecdsa-with-SHA512"),
    (RSA_KEY, hashes.SHA256(), None, "sha256WithRSAEncryption"),
    (RSA_KEY, hashes.SHA384(), None, "sha384WithRSAEncryption"),
    (RSA_KEY, hashes.SHA512(), None, "sha512WithRSAEncryption"),
    (RSA_KEY, hashes.SHA256(), padding.PSS(padding.MGF1(hashes.SHA256()), 32), "RSASSA-PSS"),
    (RSA_KEY, hashes.SHA224(), None, "1.2.840.113549.1.1.14"),      # not in the table: the dotted OID
    (ed25519.Ed25519PrivateKey.generate(), None, None, "Ed25519"),
    (ed448.Ed448PrivateKey.generate(), None, None, "Ed448"),
])
def test_signature_algorithm_names(signer, algorithm, rsa_padding, expected):
    assert parse_certificate(build(signer=signer, algorithm=algorithm, rsa_padding=rsa_padding)).signature_algorithm \
        == expected


def test_sha1_with_rsa_is_named():
    # cryptography no longer signs with SHA-1: the real TEST card certificate's outer algorithm OID (sha256, 1.1.11,
    # tbs and outer) is rewritten to sha1WithRSAEncryption (1.1.5); the signature is not checked when reading.
    der = (DATA / "cps-infirmier-signature-TEST.pem").read_bytes()
    raw = base64.b64decode(b"".join(der.split(b"-----")[2].split()))
    sha256_oid = bytes.fromhex("06092A864886F70D01010B")
    assert raw.count(sha256_oid) == 2
    edited = raw.replace(sha256_oid, bytes.fromhex("06092A864886F70D010105"))
    assert parse_certificate(edited).signature_algorithm == "sha1WithRSAEncryption"


def test_unknown_public_key_algorithm_is_a_problem_not_a_failure():
    der = build(key=ed25519.Ed25519PrivateKey.generate())
    ed25519_oid = bytes.fromhex("06032B6570")
    assert der.count(ed25519_oid) == 1
    info = parse_certificate(der.replace(ed25519_oid, bytes.fromhex("06032B6563")))    # 1.3.101.99: no such key
    assert (info.key_type, info.key_size) == ("unknown", None)
    assert len(info.problems) == 1 and info.problems[0].startswith("public key: ")


# -- usages and role ------------------------------------------------------------------------------------------

def key_usage(**set_bits: bool) -> x509.KeyUsage:
    bits = dict(digital_signature=False, content_commitment=False, key_encipherment=False, data_encipherment=False,
                key_agreement=False, key_cert_sign=False, crl_sign=False, encipher_only=False, decipher_only=False)
    bits.update(set_bits)
    return x509.KeyUsage(**bits)


def test_every_key_usage_bit_in_rfc_5280_order():
    info = parse_certificate(build(key_usage(digital_signature=True, content_commitment=True, key_encipherment=True,
                                             data_encipherment=True, key_agreement=True, key_cert_sign=True,
                                             crl_sign=True, encipher_only=True)))
    assert info.key_usage == ("digitalSignature", "nonRepudiation", "keyEncipherment", "dataEncipherment",
                              "keyAgreement", "keyCertSign", "cRLSign", "encipherOnly")
    other = parse_certificate(build(key_usage(key_agreement=True, decipher_only=True)))
    assert other.key_usage == ("keyAgreement", "decipherOnly")
    assert parse_certificate(build(key_usage(key_cert_sign=True))).key_usage == ("keyCertSign",)
    assert parse_certificate(build()).key_usage == ()


def test_every_named_extended_key_usage_and_an_unnamed_one():
    oids = [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH, ExtendedKeyUsageOID.CODE_SIGNING,
            ExtendedKeyUsageOID.EMAIL_PROTECTION, ExtendedKeyUsageOID.TIME_STAMPING, ExtendedKeyUsageOID.OCSP_SIGNING,
            ObjectIdentifier("1.3.6.1.4.1.311.20.2.2"), ObjectIdentifier("2.5.29.37.0"),
            ObjectIdentifier("1.2.250.1.213.99")]
    info = parse_certificate(build(x509.ExtendedKeyUsage(oids)))
    assert info.extended_key_usage == ("serverAuth", "clientAuth", "codeSigning", "emailProtection", "timeStamping",
                                       "OCSPSigning", "smartcardLogon", "anyExtendedKeyUsage", "1.2.250.1.213.99")
    assert parse_certificate(build()).extended_key_usage == ()


@pytest.mark.parametrize(("usage", "eku", "role"), [
    (key_usage(content_commitment=True), None, "signature"),
    (None, [ExtendedKeyUsageOID.EMAIL_PROTECTION], "signature"),
    (key_usage(digital_signature=True), [ExtendedKeyUsageOID.CLIENT_AUTH], "authentication"),
    (key_usage(digital_signature=True, content_commitment=True), [ExtendedKeyUsageOID.CLIENT_AUTH], "signature"),
    (key_usage(digital_signature=True), None, "unknown"),
    (None, [ExtendedKeyUsageOID.CLIENT_AUTH], "unknown"),
    (key_usage(key_encipherment=True), [ExtendedKeyUsageOID.SERVER_AUTH], "unknown"),
])
def test_role_from_usages(usage, eku, role):
    extensions = [e for e in (usage, x509.ExtendedKeyUsage(eku) if eku else None) if e is not None]
    assert parse_certificate(build(*extensions)).role == role


# -- names, identifiers, constraints -------------------------------------------------------------------------

def test_subject_names_and_short_attribute_names():
    subject = x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "FR"),
                         x509.NameAttribute(NameOID.PSEUDONYM, "P1"),
                         x509.NameAttribute(NameOID.TITLE, "Médecin"),
                         x509.NameAttribute(NameOID.SURNAME, "DUPONT"),
                         x509.NameAttribute(NameOID.GIVEN_NAME, "JEAN")])
    info = parse_certificate(build(subject=subject))
    assert info.subject == "GN=JEAN,SN=DUPONT,title=Médecin,pseudonym=P1,C=FR"
    assert info.subject_attributes == (("2.5.4.6", "FR"), ("2.5.4.65", "P1"), ("2.5.4.12", "Médecin"),
                                       ("2.5.4.4", "DUPONT"), ("2.5.4.42", "JEAN"))
    assert info.issuer == "CN=issuer" and info.issuer_attributes == (("2.5.4.3", "issuer"),)
    assert not info.self_issued


def test_a_binary_name_attribute_is_shown_in_hex():
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "x"),
                         x509.NameAttribute(NameOID.X500_UNIQUE_IDENTIFIER, b"\x01\xab",
                                            _type=x509.name._ASN1Type.BitString)])
    assert parse_certificate(build(subject=subject)).subject_attributes == (("2.5.4.3", "x"), ("2.5.4.45", "01ab"))


def test_ca_self_issued_and_key_identifiers():
    key = ec.generate_private_key(ec.SECP256R1())
    ski = x509.SubjectKeyIdentifier(bytes(range(1, 21)))
    aki = x509.AuthorityKeyIdentifier(bytes([0xA0]) + bytes(19), None, None)
    info = parse_certificate(build(x509.BasicConstraints(ca=True, path_length=0), ski, aki, key=key, signer=key,
                                   subject=name("root"), issuer=name("root")))
    assert info.is_ca and info.self_issued
    assert info.subject_key_id == ":".join(f"{i:02X}" for i in range(1, 21))
    assert info.authority_key_id == "A0:" + ":".join(["00"] * 19)
    assert parse_certificate(build(x509.BasicConstraints(ca=False, path_length=None))).is_ca is False
    plain = parse_certificate(build())
    assert (plain.is_ca, plain.subject_key_id, plain.authority_key_id) == (False, None, None)


def test_authority_key_identifier_without_key_id():
    aki = x509.AuthorityKeyIdentifier(None, [x509.DirectoryName(name("root"))], 7)
    assert parse_certificate(build(aki)).authority_key_id is None


@pytest.mark.parametrize(("serial", "hex_text"), [(1, "01"), (0x80, "80"), (0x0100, "0100"), (2**159 - 1, "7F" + "FF" * 19)])
def test_serial_hex(serial, hex_text):
    info = parse_certificate(build(serial=serial))
    assert (info.serial, info.serial_hex, info.problems) == (serial, hex_text, ())


def with_serial(content: int) -> bytes:
    """The certificate built with serial 0x42 (02 01 42), its serial byte replaced by CONTENT (same length)."""
    der = build(serial=0x42)
    assert der.count(bytes.fromhex("020142")) == 1
    return der.replace(bytes.fromhex("020142"), bytes([2, 1, content]))


def test_non_positive_serials_are_a_problem():
    negative = parse_certificate(with_serial(0x80))     # -128 in two's complement
    assert (negative.serial, negative.serial_hex) == (-128, "80")
    assert negative.problems == ("the serial number is not positive (RFC 5280 forbids it)",)
    # Below -128 a second byte is needed: such a certificate used to be refused (OverflowError), not read.
    der = build(serial=0x4242)
    assert der.count(bytes.fromhex("02024242")) == 1
    below = parse_certificate(der.replace(bytes.fromhex("02024242"), bytes.fromhex("0202FF7F")))
    assert (below.serial, below.serial_hex) == (-129, "FF7F")
    assert below.problems == ("the serial number is not positive (RFC 5280 forbids it)",)
    minus_one = parse_certificate(with_serial(0xFF))
    assert (minus_one.serial, minus_one.serial_hex) == (-1, "FF")
    zero = parse_certificate(with_serial(0x00))
    assert (zero.serial, zero.serial_hex) == (0, "00")
    assert zero.problems == ("the serial number is not positive (RFC 5280 forbids it)",)


# -- subjectAltName -------------------------------------------------------------------------------------------

UPN = ObjectIdentifier("1.3.6.1.4.1.311.20.2.3")


def test_every_kind_of_alternative_name():
    names = [x509.RFC822Name("a@example.org"), x509.DNSName("host.example.org"),
             x509.UniformResourceIdentifier("https://example.org/x"), x509.IPAddress(ipaddress.ip_address("192.0.2.7")),
             x509.DirectoryName(x509.Name([x509.NameAttribute(NameOID.SURNAME, "S"),
                                           x509.NameAttribute(NameOID.COMMON_NAME, "d")])),
             x509.OtherName(UPN, bytes.fromhex("0C 05 61 40 62 2E 63".replace(" ", ""))),
             x509.OtherName(ObjectIdentifier("1.2.3.4"), bytes.fromhex("0C0161")),
             x509.RegisteredID(ObjectIdentifier("1.2.3.5"))]
    info = parse_certificate(build(x509.SubjectAlternativeName(names)))
    assert info.subject_alt_names == ("email:a@example.org", "DNS:host.example.org", "URI:https://example.org/x",
                                      "IP:192.0.2.7", "DirName:CN=d,SN=S", "UPN:a@b.c", "otherName:1.2.3.4",
                                      "RegisteredID")
    assert info.problems == ()


@pytest.mark.parametrize("value", [
    bytes.fromhex("1603616263"),          # an IA5String, not a UTF8String
    bytes.fromhex("0C02C328"),            # a UTF8String that is not UTF-8
])
def test_a_upn_that_is_not_a_utf8_string_is_a_problem(value):
    info = parse_certificate(build(x509.SubjectAlternativeName([x509.OtherName(UPN, value)])))
    assert info.subject_alt_names == ("otherName:1.3.6.1.4.1.311.20.2.3",)
    assert info.problems == ("subjectAltName: the UPN is not a UTF8String",)


# -- endpoints and policies -----------------------------------------------------------------------------------

def test_crl_delta_crl_ocsp_and_ca_issuers_keep_only_urls():
    uri, dirname = x509.UniformResourceIdentifier, x509.DirectoryName(name("crl"))
    crl = x509.CRLDistributionPoints([
        x509.DistributionPoint([uri("http://c/1.crl"), dirname, uri("ldap://c/2")], None, None, None),
        x509.DistributionPoint(None, x509.RelativeDistinguishedName([x509.NameAttribute(NameOID.COMMON_NAME, "r")]),
                               None, None),
        x509.DistributionPoint(None, None, None, [dirname]),
    ])
    delta = x509.FreshestCRL([x509.DistributionPoint([dirname, uri("http://c/delta.crl")], None, None, None),
                              x509.DistributionPoint(None, None, None, [dirname])])
    aia = x509.AuthorityInformationAccess([
        x509.AccessDescription(AuthorityInformationAccessOID.OCSP, uri("http://ocsp")),
        x509.AccessDescription(AuthorityInformationAccessOID.CA_ISSUERS, uri("http://ca/ca.cer")),
        x509.AccessDescription(AuthorityInformationAccessOID.CA_ISSUERS, dirname),
        x509.AccessDescription(AuthorityInformationAccessOID.OCSP, x509.DNSName("ocsp.example")),
        x509.AccessDescription(ObjectIdentifier("1.3.6.1.5.5.7.48.5"), uri("http://repo")),    # caRepository
        x509.AccessDescription(AuthorityInformationAccessOID.OCSP, uri("http://ocsp2")),
    ])
    policies = x509.CertificatePolicies([x509.PolicyInformation(ObjectIdentifier("1.2.250.1.213.1.7.2.1.1.1.1"), None),
                                         x509.PolicyInformation(ObjectIdentifier("2.5.29.32.0"), None)])
    info = parse_certificate(build(crl, delta, aia, policies))
    assert info.crl_urls == ("http://c/1.crl", "ldap://c/2")
    assert info.delta_crl_urls == ("http://c/delta.crl",)
    assert info.ocsp_urls == ("http://ocsp", "http://ocsp2")
    assert info.ca_issuers_urls == ("http://ca/ca.cer",)
    assert info.policies == ("1.2.250.1.213.1.7.2.1.1.1.1", "2.5.29.32.0")
    bare = parse_certificate(build())
    assert (bare.crl_urls, bare.delta_crl_urls, bare.ocsp_urls, bare.ca_issuers_urls, bare.policies) == ((),) * 5


# -- private extensions (the real TEST card certificate, one byte edited) --------------------------------------

def real_der() -> bytes:
    text = CPS_SIGN.read_bytes()
    return base64.b64decode(b"".join(text.split(b"-----")[2].split()))


def test_title_and_profession_are_compared_without_case_or_accents():
    raw = real_der()
    title = b"\x0c\x09Infirmier"                # title=Infirmier (UTF8String) in the subject
    assert raw.count(title) == 1
    assert parse_certificate(raw.replace(title, b"\x0c\x09INFIRMIER")).title_matches_profession is True
    assert parse_certificate(raw.replace(title, b"\x0c\x09Infirmiex")).title_matches_profession is False
    # Accents change the length: the card's private extensions are carried into a built certificate instead.
    private = [e.value for e in x509.load_der_x509_certificate(raw).extensions
               if e.oid.dotted_string.startswith("1.2.250.1.71.")]
    assert len(private) >= 3
    subject = name("c", x509.NameAttribute(NameOID.TITLE, "ÍNFIRMIER "))
    accented = parse_certificate(build(*private, subject=subject))
    assert (accented.profession_code, accented.holder.title) == (60, "ÍNFIRMIER ")
    assert accented.title_matches_profession is True
    other = parse_certificate(build(*private, subject=name("c", x509.NameAttribute(NameOID.TITLE, "Infirmière"))))
    assert other.title_matches_profession is False
    no_title = parse_certificate(build())
    assert (no_title.profession_code, no_title.title_matches_profession) == (None, None)


def test_a_certificate_without_private_extensions_is_not_a_card():
    info = parse_certificate(build())
    assert (info.card_type, info.card_type_short, info.card_type_label, info.product_category,
            info.product_category_label, info.test_card, info.card_identifier, info.card_number) == (
        None, None, None, None, None, False, None, None)
    assert not info.is_card


# -- dates ----------------------------------------------------------------------------------------------------

def test_days_left_and_validity_across_time_zones():
    info = parse_certificate(build())
    assert (info.not_before, info.not_after) == (START, START + timedelta(days=30))
    paris = timezone(timedelta(hours=2))
    # 2024-01-31 01:30 at UTC+2 is 2024-01-30 23:30 UTC: half an hour before notAfter.
    assert info.days_left(datetime(2024, 1, 31, 1, 30, tzinfo=paris)) == 0
    assert info.is_valid_at(datetime(2024, 1, 31, 1, 30, tzinfo=paris))
    assert not info.is_valid_at(datetime(2024, 1, 31, 2, 30, tzinfo=paris))
    assert info.days_left(datetime(2024, 1, 1, tzinfo=UTC)) == 30
    assert info.is_valid_at(START) and info.is_valid_at(START + timedelta(days=30))
    assert not info.is_valid_at(START - timedelta(seconds=1))
    assert as_utc(datetime(2024, 5, 1, 12, 0)) == datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
    assert as_utc(datetime(2024, 5, 1, 12, 0, tzinfo=paris)).tzinfo is UTC
    before = datetime.now(UTC)
    now = as_utc(None)
    assert now.tzinfo is not None and before <= now <= datetime.now(UTC)


def test_the_cryptography_object_is_the_same_certificate():
    der = build()
    assert parse_certificate(der).certificate.public_bytes(serialization.Encoding.DER) == der


# -- input framing --------------------------------------------------------------------------------------------

def test_text_bytearray_and_memoryview_are_accepted():
    der = build()
    assert parse_certificate(pem(der).decode()).der == der
    assert parse_certificate(bytearray(der)).der == der
    assert parse_certificate(memoryview(der)).der == der


def test_input_refusals_say_what_and_where():
    assert str(refusal(parse_certificate, 12345, where="x.pem")) == "certificate (x.pem): expected bytes, got int"
    assert str(refusal(load_certificates, ["a"])) == "certificate file: expected bytes, got list"
    assert str(refusal(parse_certificate, b" \n\t ")) == "certificate: empty input"
    assert str(refusal(load_certificates, b"", where="f")) == "certificate file (f): empty input"
    big = b"\x30" * (MAX_INPUT_BYTES + 1)
    assert str(refusal(parse_certificate, big)) == "certificate: 1048577 bytes is too large for a certificate file"
    # Exactly the limit is not too large: it is refused for what it is.
    assert "too large" not in str(refusal(parse_certificate, b"\x02" * MAX_INPUT_BYTES))


def test_der_that_is_not_a_sequence():
    assert str(refusal(parse_certificate, bytes.fromhex("020101"), where="w")) == (
        "certificate (w): starts with tag 0x02, not a SEQUENCE at offset 0")
    # load_certificates tries PKCS#7 too, and reports the certificate reason when both fail.
    assert str(refusal(load_certificates, bytes.fromhex("040100"))) == (
        "certificate: starts with tag 0x04, not a SEQUENCE at offset 0")


def test_a_sequence_cryptography_refuses_names_the_exception():
    error = refusal(parse_certificate, bytes.fromhex("3003020101"), where="w")
    assert error.what == "certificate" and error.where == "w" and error.offset is None
    assert error.reason.startswith("ValueError: ")
    assert "\n" not in error.reason and len(error.reason) <= len("ValueError: ") + 200


def test_pem_labels():
    der = build()
    assert parse_certificate(pem(der, "X509 CERTIFICATE")).der == der
    assert str(refusal(parse_certificate, pem(der, "TRUSTED CERTIFICATE"), where="t")) == (
        "certificate (t): no CERTIFICATE block in the PEM text")
    assert str(refusal(load_certificates, pem(der, "TRUSTED CERTIFICATE"))) == "certificate file: no certificate found"
    assert str(refusal(parse_certificate, pem(der, "certificate"))) == "certificate: no CERTIFICATE block in the PEM text"


def test_pem_blocks_with_headers_unterminated_blocks_and_other_labels():
    one, two = build(subject=name("one")), build(subject=name("two"))
    body = base64.encodebytes(one).decode()
    headered = f"-----BEGIN CERTIFICATE-----\nProc-Type: 4,NONE\n{body}-----END CERTIFICATE-----\n".encode()
    unterminated = b"-----BEGIN CERTIFICATE-----\nAAAA\n"
    wrong_end = b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END X509 CERTIFICATE-----\n"
    long_label = b"-----BEGIN " + b"A" * 70 + b"-----\nAAAA\n-----END " + b"A" * 70 + b"-----\n"
    data = unterminated + wrong_end + long_label + headered + b"text between\n" + pem(two, "PRIVATE KEY") + pem(two)
    certs = load_certificates(data, where="b.pem")
    assert [c.subject for c in certs] == ["CN=one", "CN=two"]
    assert [c.where for c in certs] == ["b.pem, certificate 1", "b.pem, certificate 2"]
    assert [c.where for c in load_certificates(pem(one) + pem(two))] == ["certificate 1", "certificate 2"]
    assert [c.where for c in load_certificates(b"x" + pem(one), where="s.pem")] == ["s.pem"]


def test_a_begin_marker_inside_a_block_cuts_it():
    one = build()
    inner = pem(one)
    # The first block has no END before the next BEGIN: it is skipped, the second is read.
    data = b"-----BEGIN CERTIFICATE-----\nAAAA\n" + inner + b"-----END CERTIFICATE-----\n"
    assert [c.der for c in load_certificates(data)] == [one]


def test_invalid_base64_is_refused_at_the_body():
    data = b"junk\n-----BEGIN CERTIFICATE-----\nA!AA\n-----END CERTIFICATE-----\n"
    error = refusal(parse_certificate, data, where="p")
    assert str(error) == "PEM block (p): invalid base64 at offset 32"
    assert data[error.offset:error.offset + 5] == b"\nA!AA"


def test_pkcs7_bundles():
    from cryptography.hazmat.primitives.serialization import pkcs7

    one, two = build(subject=name("one")), build(subject=name("two"))
    bundle = pkcs7.serialize_certificates([x509.load_der_x509_certificate(d) for d in (one, two)],
                                          serialization.Encoding.DER)
    # A PKCS#7 certificate SET is sorted by its DER encoding, so the order inside the bundle is not ours.
    assert sorted(c.subject for c in load_certificates(pem(bundle, "CMS"))) == ["CN=one", "CN=two"]
    subjects = [c.subject for c in load_certificates(pem(bundle, "PKCS7") + pem(one))]
    assert sorted(subjects[:2]) == ["CN=one", "CN=two"] and subjects[2] == "CN=one"
    error = refusal(load_certificates, b"x\n" + pem(b"\x30\x03\x02\x01\x01", "PKCS7"), where="p7")
    assert (error.what, error.where, error.offset) == ("PKCS#7 bundle", "p7", 2)
    assert error.reason.startswith("ValueError: ")


def test_read_certificate_file(tmp_path):
    missing = tmp_path / "absent.pem"
    with pytest.raises(UsageError) as caught:
        read_certificate_file(missing)
    assert str(caught.value) == f"{missing}: cannot read (No such file or directory)"
    path = tmp_path / "c.der"
    der = build()
    path.write_bytes(der)
    [info] = read_certificate_file(path)
    assert (info.der, info.where) == (der, str(path))


def test_reason_keeps_the_first_line_or_the_type():
    assert certinfo._reason(ValueError("first line\nsecond")) == "first line"
    assert certinfo._reason(KeyError()) == "KeyError"
    assert certinfo._reason(ValueError("  ")) == "ValueError"
    assert certinfo._reason(ValueError("x" * 300)) == "x" * 200


# -- what the mutation run showed untested (issue 18) -----------------------------------------------------------

def test_the_real_card_certificates_private_extension_fields():
    # codes.md §4-5: card type 0 is the CPS, 2 the CPE; product category 80 a TEST card.
    cps = parse_certificate(CPS_SIGN.read_bytes())
    assert cps.card_type_label.startswith("Carte de Professionnel de Santé")
    assert cps.product_category == 0x80 and "TEST" in cps.product_category_label
    assert cps.card_identifier == "8025000001/2800636234" and cps.card_number == "2800636234"
    cpe = parse_certificate((DATA / "cpe-etablissement-auth-TEST.pem").read_bytes())
    assert "Etablissement" in cpe.card_type_label and cpe.card_type_short == "CPE"
    assert cpe.card_identifier == "8025000001/2600301752"


def test_a_name_without_cn_ou_or_o_is_shown_in_full():
    subject = x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "FR"), x509.NameAttribute(NameOID.SURNAME, "X")])
    info = parse_certificate(build(subject=subject, issuer=subject))
    assert info.subject_display == info.issuer_display == "SN=X,C=FR"


def test_a_damaged_private_extension_says_where():
    der = bytearray(real_der())
    marker = bytes.fromhex("06082a817a0147010207" + "040302013c")      # profession 60 (Infirmier)
    at = der.find(marker)
    der[at + len(marker) - 1] = 0xFF
    info = parse_certificate(bytes(der), where="card.pem")
    assert info.problems == ("profession extension (1.2.250.1.71.1.2.7) (card.pem): negative code -1 at offset 2",)


def test_text_input_with_non_ascii_around_the_block():
    der = build()
    assert parse_certificate("Émis par l'AC éphémère\n" + pem(der).decode()).der == der


def test_size_refusal_says_where():
    assert str(refusal(load_certificates, b"\x30" * (MAX_INPUT_BYTES + 1), where="big.p7b")) == (
        "certificate file (big.p7b): 1048577 bytes is too large for a certificate file")


def test_truncated_der_names_the_certificate():
    assert str(refusal(parse_certificate, bytes.fromhex("3082FFFF00"), where="t.der")) == (
        "certificate (t.der): value of 65535 bytes overruns the 5-byte buffer at offset 4")


def cryptography_reason(load, data: bytes) -> str:
    """What cryptography itself says about DATA, first line: the reason cpsdiag must relay."""
    try:
        load(data)
    except ValueError as exc:
        return f"ValueError: {str(exc).strip().splitlines()[0][:200]}"
    raise AssertionError("cryptography accepted the bytes")


def test_refusal_reasons_relay_cryptographys_words():
    from cryptography.hazmat.primitives.serialization import pkcs7

    bad = bytes.fromhex("3003020101")
    assert refusal(parse_certificate, bad).reason == cryptography_reason(x509.load_der_x509_certificate, bad)
    error = refusal(load_certificates, pem(bad, "PKCS7"))
    assert error.reason == cryptography_reason(pkcs7.load_der_pkcs7_certificates, bad)


def test_public_key_problem_relays_cryptographys_words():
    der = build(key=ed25519.Ed25519PrivateKey.generate()).replace(bytes.fromhex("06032B6570"), bytes.fromhex("06032B6563"))
    try:
        x509.load_der_x509_certificate(der).public_key()
    except Exception as exc:                    # cryptography's own words for the unknown key
        expected = str(exc).strip().splitlines()[0] or type(exc).__name__
    assert parse_certificate(der).problems == (f"public key: {expected}",)


def test_pem_at_the_very_end_without_newline():
    der = build()
    assert parse_certificate(pem(der).rstrip(b"\n")).der == der
    assert [c.der for c in load_certificates(pem(der) + pem(der).rstrip(b"\n"))] == [der, der]


def test_a_block_with_an_invalid_label_is_not_decoded():
    der = build()
    # A lower-case label is no PEM label: its body, not base64 here, is never decoded.
    odd = b"-----BEGIN certificate-----\n*** not base64 ***\n-----END certificate-----\n"
    assert parse_certificate(odd + pem(der)).der == der


def test_base64_is_decoded_strictly():
    data = b"-----BEGIN CERTIFICATE-----\nAAAA!\n-----END CERTIFICATE-----\n"
    assert str(refusal(parse_certificate, data)) == "PEM block: invalid base64 at offset 27"
    assert str(refusal(load_certificates, data, where="l.pem")) == "PEM block (l.pem): invalid base64 at offset 27"
    assert str(refusal(load_certificates, pem(build(), "TRUSTED CERTIFICATE"), where="l.pem")) == (
        "certificate file (l.pem): no certificate found")


class PanicException(BaseException):
    """Named like pyo3's: what a panic inside cryptography's Rust code arrives as."""


def test_a_parser_panic_is_malformed_data_and_other_interruptions_pass(monkeypatch):
    from cryptography.hazmat.primitives.serialization import pkcs7

    assert certinfo._is_rust_panic(PanicException("boom"))
    assert not certinfo._is_rust_panic(KeyboardInterrupt())
    der = build()

    def panic(_data):
        raise PanicException("index out of bounds\nat src/x509.rs")

    # cryptography does not panic on any input known here, so the panic is injected where it would surface.
    monkeypatch.setattr(x509, "load_der_x509_certificate", panic)
    error = refusal(parse_certificate, der, where="p.der")
    assert str(error) == "certificate (p.der): parser panic: index out of bounds"
    monkeypatch.setattr(pkcs7, "load_der_pkcs7_certificates", panic)
    error = refusal(load_certificates, b"x\n" + pem(b"\x30\x00", "PKCS7"), where="p.p7b")
    assert str(error) == "PKCS#7 bundle (p.p7b): parser panic: index out of bounds at offset 2"

    def interrupted(_data):
        raise KeyboardInterrupt

    monkeypatch.setattr(x509, "load_der_x509_certificate", interrupted)
    with pytest.raises(KeyboardInterrupt):
        parse_certificate(der)
    monkeypatch.setattr(pkcs7, "load_der_pkcs7_certificates", interrupted)
    with pytest.raises(KeyboardInterrupt):
        load_certificates(pem(b"\x30\x00", "PKCS7"))
