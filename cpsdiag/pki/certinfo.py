"""One frozen description of an X.509 certificate, as cpsdiag reports it.

``parse_certificate`` accepts PEM or DER and never lets anything but
:class:`MalformedDataError` out. ``cryptography`` is imported when a
certificate is parsed, not when this module is imported.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import math
import os
import re
import unicodedata
import warnings
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, Literal

from cpsdiag.errors import MalformedDataError, UsageError
from cpsdiag.pki import codes
from cpsdiag.pki.extensions import decode_private_extensions, read_single_tlv
from cpsdiag.pki.holder import Holder, parse_holder
from cpsdiag.pki.issuer import IssuerFamily, IssuerLevel, IssuerRange, classify_issuer, display_name

if TYPE_CHECKING:
    from cryptography import x509

Role = Literal["authentication", "signature", "unknown"]
NameAttributes = tuple[tuple[str, str], ...]

_PEM_LABEL_RE: Final = re.compile(rb"[A-Z0-9 ]{1,60}")
# Not "TRUSTED CERTIFICATE": OpenSSL appends trust settings after the DER, which is then not one certificate.
_PEM_CERT_LABELS: Final = frozenset({b"CERTIFICATE", b"X509 CERTIFICATE"})
_PEM_PKCS7_LABELS: Final = frozenset({b"PKCS7", b"CMS"})
# Above this size the input is not a certificate file (ANS's whole chain bundle is about 15 kB);
# refusing it keeps a mistaken path from eating memory.
MAX_INPUT_BYTES: Final = 1024 * 1024

_KEY_USAGE_ATTRS: Final = (
    ("digital_signature", "digitalSignature"),
    ("content_commitment", "nonRepudiation"),
    ("key_encipherment", "keyEncipherment"),
    ("data_encipherment", "dataEncipherment"),
    ("key_agreement", "keyAgreement"),
    ("key_cert_sign", "keyCertSign"),
    ("crl_sign", "cRLSign"),
)
_EKU_NAMES: Final = {
    "1.3.6.1.5.5.7.3.1": "serverAuth",
    "1.3.6.1.5.5.7.3.2": "clientAuth",
    "1.3.6.1.5.5.7.3.3": "codeSigning",
    "1.3.6.1.5.5.7.3.4": "emailProtection",
    "1.3.6.1.5.5.7.3.8": "timeStamping",
    "1.3.6.1.5.5.7.3.9": "OCSPSigning",
    "1.3.6.1.4.1.311.20.2.2": "smartcardLogon",
    "2.5.29.37.0": "anyExtendedKeyUsage",
}
_SIGNATURE_ALGORITHMS: Final = {
    "1.2.840.113549.1.1.5": "sha1WithRSAEncryption",
    "1.2.840.113549.1.1.11": "sha256WithRSAEncryption",
    "1.2.840.113549.1.1.12": "sha384WithRSAEncryption",
    "1.2.840.113549.1.1.13": "sha512WithRSAEncryption",
    "1.2.840.113549.1.1.10": "RSASSA-PSS",
    "1.2.840.10045.4.3.2": "ecdsa-with-SHA256",
    "1.2.840.10045.4.3.3": "ecdsa-with-SHA384",
    "1.2.840.10045.4.3.4": "ecdsa-with-SHA512",
    "1.3.101.112": "Ed25519",
    "1.3.101.113": "Ed448",
}
_UPN_OID: Final = "1.3.6.1.4.1.311.20.2.3"


@dataclass(frozen=True)
class CertInfo:
    """What cpsdiag knows about one certificate. All datetimes are aware, in UTC."""

    der: bytes = field(repr=False)
    where: str | None
    version: int
    # Names
    subject: str
    issuer: str
    subject_display: str
    issuer_display: str
    subject_attributes: NameAttributes = field(repr=False)
    issuer_attributes: NameAttributes = field(repr=False)
    holder: Holder
    # Identity of the certificate
    serial: int
    serial_hex: str
    sha256_fingerprint: str
    not_before: datetime
    not_after: datetime
    # Key and usage
    role: Role
    key_usage: tuple[str, ...]
    extended_key_usage: tuple[str, ...]
    key_type: str
    key_size: int | None
    signature_algorithm: str
    is_ca: bool
    self_issued: bool
    subject_key_id: str | None
    authority_key_id: str | None
    subject_alt_names: tuple[str, ...]
    # Issuer classification
    issuer_family: IssuerFamily
    issuer_class: IssuerLevel | None
    issuer_range: IssuerRange | None
    # Private extensions
    card_type: int | None
    card_type_short: str | None
    card_type_label: str | None
    product_category: int | None
    product_category_label: str | None
    test_card: bool
    card_identifier: str | None
    card_number: str | None
    profession_code: int | None
    profession_label: str | None
    title_matches_profession: bool | None
    # Policies and endpoints
    policies: tuple[str, ...]
    crl_urls: tuple[str, ...]
    delta_crl_urls: tuple[str, ...]
    ocsp_urls: tuple[str, ...]
    ca_issuers_urls: tuple[str, ...]
    problems: tuple[str, ...]
    """Parts that are present but could not be decoded (English sentences); the rest of the record is still valid."""

    def days_left(self, at: datetime | None = None) -> int:
        """Whole days from ``at`` (default now) until notAfter; negative once expired."""
        moment = as_utc(at)
        return math.floor((self.not_after - moment).total_seconds() / 86400)

    def is_valid_at(self, at: datetime | None = None) -> bool:
        moment = as_utc(at)
        return self.not_before <= moment <= self.not_after

    @property
    def is_card(self) -> bool:
        """True when the private extensions say this certificate belongs to a CPx card (real or TEST)."""
        return self.card_type is not None or self.product_category in codes.CARD_PRODUCT_CATEGORIES

    @cached_property
    def certificate(self) -> x509.Certificate:
        """The ``cryptography`` object, for signature checks and path validation."""
        from cryptography import x509 as _x509

        return _x509.load_der_x509_certificate(self.der)


def as_utc(at: datetime | None) -> datetime:
    """``at`` as an aware UTC datetime: now when None, a naive value taken as UTC."""
    if at is None:
        return datetime.now(timezone.utc)
    # A naive datetime is read as UTC: certificates only know UTC, and guessing the local zone would shift the answer.
    if at.tzinfo is None:
        return at.replace(tzinfo=timezone.utc)
    return at.astimezone(timezone.utc)


# --- input framing ---------------------------------------------------------


def _check_input(data: object, what: str, where: str | None) -> bytes:
    if isinstance(data, str):
        data = data.encode("ascii", "replace")
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise MalformedDataError(what, f"expected bytes, got {type(data).__name__}", where=where)
    raw = bytes(data)
    if not raw.strip():
        raise MalformedDataError(what, "empty input", where=where)
    if len(raw) > MAX_INPUT_BYTES:
        raise MalformedDataError(what, f"{len(raw)} bytes is too large for a certificate file", where=where)
    return raw


def _pem_blocks(data: bytes, where: str | None) -> list[tuple[bytes, bytes, int]]:
    """(label, DER, offset) of each PEM block in ``data``, in order; text around the blocks is ignored.

    Each search for an END marker stops at the next BEGIN, which keeps the scan
    linear even on hostile input full of unterminated blocks.
    """
    begin = b"-----BEGIN "
    blocks = []
    pos = 0
    while (start := data.find(begin, pos)) >= 0:
        label_end = data.find(b"-----", start + len(begin), start + len(begin) + 64)
        next_begin = data.find(begin, start + len(begin))
        limit = next_begin if next_begin >= 0 else len(data)
        pos = start + len(begin)
        if label_end < 0 or not _PEM_LABEL_RE.fullmatch(data[start + len(begin) : label_end]):
            continue
        label = data[start + len(begin) : label_end]
        body_start = label_end + 5
        end = data.find(b"-----END " + label + b"-----", body_start, limit)
        if end < 0:
            continue
        # PEM headers (RFC 1421 "Proc-Type:" lines) never appear in certificates; keep only base64 lines.
        text = b"".join(line.strip() for line in data[body_start:end].splitlines() if b":" not in line)
        try:
            der = base64.b64decode(text, validate=True)
        except (binascii.Error, ValueError):
            raise MalformedDataError("PEM block", "invalid base64", where=where, offset=body_start) from None
        blocks.append((label, der, start))
        pos = end
    return blocks


def _looks_like_pem(data: bytes) -> bool:
    return b"-----BEGIN " in data


# --- parsing ---------------------------------------------------------------

def _parse_errors() -> tuple[type[BaseException], ...]:
    """What ``cryptography`` may raise on hostile bytes when loading a certificate or a PKCS#7 bundle."""
    from cryptography.exceptions import UnsupportedAlgorithm

    return (ValueError, TypeError, KeyError, IndexError, OverflowError, UnicodeError, UnsupportedAlgorithm)


def _is_rust_panic(exc: BaseException) -> bool:
    # pyo3 turns a Rust panic into PanicException, a BaseException; on input bytes it still means "malformed".
    return type(exc).__name__ == "PanicException"


def parse_certificate(data: bytes, where: str | None = None) -> CertInfo:
    """Parse one certificate from PEM (the first CERTIFICATE block) or DER."""
    raw = _check_input(data, "certificate", where)
    if _looks_like_pem(raw):
        ders = [der for label, der, _ in _pem_blocks(raw, where) if label in _PEM_CERT_LABELS]
        if not ders:
            raise MalformedDataError("certificate", "no CERTIFICATE block in the PEM text", where=where)
        der = ders[0]
    else:
        der = raw
    return _from_der(der, where)


def load_certificates(data: bytes, where: str | None = None) -> list[CertInfo]:
    """Every certificate in a file: concatenated PEM blocks, PEM or DER PKCS#7 (.p7b), or one DER certificate."""
    raw = _check_input(data, "certificate file", where)
    ders: list[bytes] = []
    if _looks_like_pem(raw):
        for label, der, offset in _pem_blocks(raw, where):
            if label in _PEM_CERT_LABELS:
                ders.append(der)
            elif label in _PEM_PKCS7_LABELS:
                ders.extend(_pkcs7_certificates(der, where, offset))
    else:
        try:
            return [_from_der(raw, where)]
        except MalformedDataError as as_cert:
            try:
                ders = _pkcs7_certificates(raw, where, 0)
            except MalformedDataError:
                raise as_cert from None
    if not ders:
        raise MalformedDataError("certificate file", "no certificate found", where=where)
    if len(ders) == 1:
        return [_from_der(ders[0], where)]
    # Number the certificates so that an error, or a report line, points at the right one in a bundle.
    prefix = f"{where}, " if where else ""
    return [_from_der(der, f"{prefix}certificate {i}") for i, der in enumerate(ders, start=1)]


def read_certificate_file(path: str | os.PathLike[str]) -> list[CertInfo]:
    """:func:`load_certificates` on a file; a file that cannot be read is a :class:`UsageError` naming it."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise UsageError(f"{path}: cannot read ({exc.strerror or exc})") from None
    return load_certificates(data, where=str(path))


def _pkcs7_certificates(der: bytes, where: str | None, offset: int) -> list[bytes]:
    from cryptography.hazmat.primitives.serialization import Encoding, pkcs7

    try:
        certs = pkcs7.load_der_pkcs7_certificates(der)
        return [c.public_bytes(Encoding.DER) for c in certs]
    except Exception as exc:  # same reasoning as in _from_der: hostile bytes, varied exception types
        raise MalformedDataError("PKCS#7 bundle", f"{type(exc).__name__}: {_reason(exc)}", where=where, offset=offset) from None
    except BaseException as exc:
        if not _is_rust_panic(exc):
            raise
        raise MalformedDataError("PKCS#7 bundle", f"parser panic: {_reason(exc)}", where=where, offset=offset) from None


def _reason(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0][:200]


def _from_der(der: bytes, where: str | None) -> CertInfo:
    from cryptography import x509 as _x509

    # A certificate is one DER SEQUENCE; checking the outer TLV first gives a precise reason for junk input.
    tag, _ = read_single_tlv(der, "certificate", where)
    if tag != 0x30:
        raise MalformedDataError("certificate", f"starts with tag 0x{tag:02X}, not a SEQUENCE", where=where, offset=0)
    from cryptography.utils import CryptographyDeprecationWarning

    try:
        with warnings.catch_warnings():
            # A non-positive serial only warns (for now); it is recorded in ``problems`` instead.
            warnings.simplefilter("ignore", CryptographyDeprecationWarning)
            cert = _x509.load_der_x509_certificate(der)
            return _describe(cert, der, where)
    except MalformedDataError:
        raise
    # cryptography parses lazily and its exception types vary by field (InvalidVersion, ValueError,
    # UnsupportedAlgorithm...): anything raised while reading these bytes means they are malformed.
    except Exception as exc:
        raise MalformedDataError("certificate", f"{type(exc).__name__}: {_reason(exc)}", where=where) from None
    except BaseException as exc:
        if not _is_rust_panic(exc):
            raise
        raise MalformedDataError("certificate", f"parser panic: {_reason(exc)}", where=where) from None


def _name_attributes(name: x509.Name) -> NameAttributes:
    out = []
    for rdn in name.rdns:
        for attr in rdn:
            value = attr.value
            if isinstance(value, bytes):  # X500UniqueIdentifier and friends: not text, not useful here
                value = value.hex()
            out.append((attr.oid.dotted_string, value))
    return tuple(out)


def _rfc4514(name: x509.Name) -> str:
    from cryptography.x509.oid import NameOID

    # cryptography prints GN/SN/title as dotted OIDs; CPx subjects are unreadable that way.
    return name.rfc4514_string(
        {NameOID.GIVEN_NAME: "GN", NameOID.SURNAME: "SN", NameOID.TITLE: "title", NameOID.PSEUDONYM: "pseudonym"}
    )


def _colon_hex(data: bytes) -> str:
    return ":".join(f"{b:02X}" for b in data)


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold().strip()


def _describe(cert: x509.Certificate, der: bytes, where: str | None) -> CertInfo:
    from cryptography import x509 as _x509
    from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, rsa
    from cryptography.x509.oid import AuthorityInformationAccessOID

    problems: list[str] = []
    subject_attrs = _name_attributes(cert.subject)
    issuer_attrs = _name_attributes(cert.issuer)
    extensions = cert.extensions  # parses them all; a broken one raises here and the caller maps it

    def ext(cls: type) -> Any:
        try:
            return extensions.get_extension_for_class(cls).value
        except _x509.ExtensionNotFound:
            return None

    key_usage: list[str] = []
    ku = ext(_x509.KeyUsage)
    if ku is not None:
        key_usage = [name for attr, name in _KEY_USAGE_ATTRS if getattr(ku, attr)]
        if ku.key_agreement:
            key_usage += [n for a, n in (("encipher_only", "encipherOnly"), ("decipher_only", "decipherOnly")) if getattr(ku, a)]
    eku_ext = ext(_x509.ExtendedKeyUsage)
    eku = [_EKU_NAMES.get(o.dotted_string, o.dotted_string) for o in eku_ext] if eku_ext is not None else []

    role: Role = "unknown"
    if "nonRepudiation" in key_usage or "emailProtection" in eku:
        role = "signature"
    elif "digitalSignature" in key_usage and "clientAuth" in eku:
        role = "authentication"

    key_type, key_size = "unknown", None
    try:
        key = cert.public_key()
        if isinstance(key, rsa.RSAPublicKey):
            key_type, key_size = "RSA", key.key_size
        elif isinstance(key, ec.EllipticCurvePublicKey):
            key_type, key_size = f"EC {key.curve.name}", key.curve.key_size
        elif isinstance(key, ed25519.Ed25519PublicKey):
            key_type, key_size = "Ed25519", 256
        elif isinstance(key, ed448.Ed448PublicKey):
            key_type, key_size = "Ed448", 456
        elif isinstance(key, dsa.DSAPublicKey):
            key_type, key_size = "DSA", key.key_size
    except _parse_errors() as exc:
        problems.append(f"public key: {_reason(exc)}")

    bc = ext(_x509.BasicConstraints)
    ski = ext(_x509.SubjectKeyIdentifier)
    aki = ext(_x509.AuthorityKeyIdentifier)

    sans: list[str] = []
    san = ext(_x509.SubjectAlternativeName)
    for name in san or ():
        sans.append(_general_name(name, problems, where))

    crl, delta, ocsp, ca_issuers, policies = [], [], [], [], []
    for dp in ext(_x509.CRLDistributionPoints) or ():
        crl += [n.value for n in dp.full_name or () if isinstance(n, _x509.UniformResourceIdentifier)]
    for dp in ext(_x509.FreshestCRL) or ():
        delta += [n.value for n in dp.full_name or () if isinstance(n, _x509.UniformResourceIdentifier)]
    for desc in ext(_x509.AuthorityInformationAccess) or ():
        if not isinstance(desc.access_location, _x509.UniformResourceIdentifier):
            continue
        if desc.access_method == AuthorityInformationAccessOID.OCSP:
            ocsp.append(desc.access_location.value)
        elif desc.access_method == AuthorityInformationAccessOID.CA_ISSUERS:
            ca_issuers.append(desc.access_location.value)
    for info in ext(_x509.CertificatePolicies) or ():
        policies.append(info.policy_identifier.dotted_string)

    raw_private = {
        e.oid.dotted_string: e.value.value
        for e in extensions
        if isinstance(e.value, _x509.UnrecognizedExtension) and e.oid.dotted_string in codes.PRIVATE_EXTENSION_OIDS
    }
    private = decode_private_extensions(raw_private, where)
    problems.extend(private.problems)

    holder = parse_holder(subject_attrs)
    issuer_class = classify_issuer(issuer_attrs)
    card = codes.card_type(private.card_type)
    profession_label = codes.profession_label(private.profession)
    title_matches: bool | None = None
    if profession_label is not None and holder.title is not None:
        title_matches = _fold(profession_label) == _fold(holder.title)

    serial = cert.serial_number
    if serial <= 0:
        problems.append("the serial number is not positive (RFC 5280 forbids it)")
    # A negative serial is shown in two's complement, on as few bytes as its sign needs (-129 is FF7F, not 7F).
    serial_len = max(1, (serial.bit_length() + 7) // 8) if serial >= 0 else ((~serial).bit_length() + 8) // 8
    return CertInfo(
        der=der,
        where=where,
        version=cert.version.value + 1,
        subject=_rfc4514(cert.subject),
        issuer=_rfc4514(cert.issuer),
        subject_display=display_name(subject_attrs, fallback=_rfc4514(cert.subject)),
        issuer_display=display_name(issuer_attrs, fallback=_rfc4514(cert.issuer)),
        subject_attributes=subject_attrs,
        issuer_attributes=issuer_attrs,
        holder=holder,
        serial=serial,
        serial_hex=serial.to_bytes(serial_len, "big", signed=serial < 0).hex().upper(),
        sha256_fingerprint=_colon_hex(hashlib.sha256(der).digest()),
        not_before=cert.not_valid_before_utc,
        not_after=cert.not_valid_after_utc,
        role=role,
        key_usage=tuple(key_usage),
        extended_key_usage=tuple(eku),
        key_type=key_type,
        key_size=key_size,
        signature_algorithm=_SIGNATURE_ALGORITHMS.get(
            cert.signature_algorithm_oid.dotted_string, cert.signature_algorithm_oid.dotted_string
        ),
        is_ca=bool(bc is not None and bc.ca),
        self_issued=cert.subject == cert.issuer,
        subject_key_id=_colon_hex(ski.digest) if ski is not None else None,
        authority_key_id=_colon_hex(aki.key_identifier) if aki is not None and aki.key_identifier else None,
        subject_alt_names=tuple(sans),
        issuer_family=issuer_class.family,
        issuer_class=issuer_class.level,
        issuer_range=issuer_class.range,
        card_type=private.card_type,
        card_type_short=card.short if card else None,
        card_type_label=card.label if card else None,
        product_category=private.product_category,
        product_category_label=codes.product_category_label(private.product_category),
        test_card=private.product_category == codes.PRODUCT_CATEGORY_TEST_CARD,
        card_identifier=private.card_identifier.raw if private.card_identifier else None,
        card_number=private.card_identifier.number if private.card_identifier else None,
        profession_code=private.profession,
        profession_label=profession_label,
        title_matches_profession=title_matches,
        policies=tuple(policies),
        crl_urls=tuple(crl),
        delta_crl_urls=tuple(delta),
        ocsp_urls=tuple(ocsp),
        ca_issuers_urls=tuple(ca_issuers),
        problems=tuple(problems),
    )


def _general_name(name: Any, problems: list[str], where: str | None) -> str:
    from cryptography import x509 as _x509

    if isinstance(name, _x509.RFC822Name):
        return f"email:{name.value}"
    if isinstance(name, _x509.DNSName):
        return f"DNS:{name.value}"
    if isinstance(name, _x509.UniformResourceIdentifier):
        return f"URI:{name.value}"
    if isinstance(name, _x509.IPAddress):
        return f"IP:{name.value}"
    if isinstance(name, _x509.DirectoryName):
        return f"DirName:{_rfc4514(name.value)}"
    if isinstance(name, _x509.OtherName):
        oid = name.type_id.dotted_string
        if oid == _UPN_OID:
            # The UPN (Windows smart-card logon name) is a UTF8String inside the otherName.
            try:
                tag, value = read_single_tlv(name.value, "UPN", where)
                if tag == 0x0C:
                    return f"UPN:{value.decode('utf-8')}"
            except (MalformedDataError, UnicodeDecodeError):
                pass
            problems.append("subjectAltName: the UPN is not a UTF8String")
        return f"otherName:{oid}"
    return f"{type(name).__name__}"
