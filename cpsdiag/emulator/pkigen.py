"""A test PKI laid out like IGC-Santé, for the virtual cards.

``make_pki`` creates a root and FORT PERSONNES / STANDARD PERSONNES
intermediates, then, for every profile that has a ``[holder]`` table, the
holder's authentication and signature certificates, laid out as real card
certificates are (docs/emulator.md, ../shared/research/pki.md §2). All names
say CPSDIAG EMULATEUR and every URL is under ``.invalid``, so nothing made
here can be mistaken for a certificate of ANS. Dates are relative to the day
it runs, so tests never break because of the calendar.

With ``revocation_url`` (``make-pki --revocation-url``) the card certificates
point at that base instead, laid out like real cards' (AIA: OCSP and
caIssuers; CRL distribution points: HTTP and LDAP), and make_pki writes what
a real responder needs (``publish_revocation``): a CRL per CA in ``pki/CRL``,
the CA certificates in ``pki/AC``, and for ``openssl ocsp`` an OpenSSL-style
``index.txt`` and a delegated OCSP signing certificate per CA in ``pki/ocsp``.
A profile marks its certificates revoked with ``holder.revoked = true`` (and
``holder.revocation_reason``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import shutil
import tempfile
from dataclasses import dataclass
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cpsdiag.errors import CpsdiagError

from . import der
from .errors import ProfileError
from .profilefiles import inside, read_toml, shipped_profiles

if TYPE_CHECKING:
    from cryptography import x509
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

ORG = "CPSDIAG EMULATEUR"
OU = "IGC-SANTE EMULATION"
ROOT_CN = f"{ORG} AC RACINE"
INTERMEDIATE_CN = {"FORT": f"{ORG} AC FORT PERSONNES", "STANDARD": f"{ORG} AC STANDARD PERSONNES"}
INTERMEDIATE_FILE = {"FORT": "aci-fo-pp", "STANDARD": "aci-st-pp"}
BASE_URL = "http://igc.cpsdiag.invalid"
# 2.999 is the ITU-T "example" arc: a policy OID nobody can confuse with ANS's 1.2.250.1.213.
POLICY_OID = "2.999.250.71.1"

OID_CARD_TYPE = "1.2.250.1.71.1.2.2"
OID_CARD_ID = "1.2.250.1.71.1.2.3"
OID_CATEGORY = "1.2.250.1.71.1.2.5"
OID_PROFESSION = "1.2.250.1.71.1.2.7"
OID_SMARTCARD_LOGON = "1.3.6.1.4.1.311.20.2.2"
OID_UPN = "1.3.6.1.4.1.311.20.2.3"

HOLDER_KEYS = {"given_name", "surname", "national_id", "profession_code", "title", "card_type", "test_card",
               "issuer", "not_before_days", "not_after_days", "validity_days", "organization",
               "organizational_unit", "state", "revoked", "revocation_reason"}
# Reasons a profile may give, as RFC 5280 names them; openssl's index.txt spells cACompromise "CACompromise".
REVOCATION_REASONS = ("unspecified", "keyCompromise", "cACompromise", "affiliationChanged", "superseded",
                      "cessationOfOperation", "certificateHold")
OPENSSL_REASON = {"cACompromise": "CACompromise"}


@dataclass(frozen=True)
class RevocationUrls:
    """Where the card certificates send revocation checks: ``base`` serves /CRL/<ca>.crl and /AC/<ca>.cer,
    ``ocsp`` is the responder (default ``base``/ocsp)."""

    base: str
    ocsp: str | None = None

    @property
    def responder(self) -> str:
        return self.ocsp or f"{self.base.rstrip('/')}/ocsp"



def profession_title(profession: int | None, card_type: int) -> str | None:
    """The subject title real cards carry for a profession: the G15 label, or G16 on a CPF (student)."""
    from cpsdiag.pki.codes import PROFESSIONS, PROFESSIONS_IN_TRAINING

    if profession is None:
        return None
    return (PROFESSIONS_IN_TRAINING if card_type == 1 else PROFESSIONS).get(profession)


class PkiError(CpsdiagError):
    pass


@dataclass(frozen=True)
class Authority:
    name: str
    cert: x509.Certificate
    key: RSAPrivateKey


def _rsa(bits: int = 2048) -> RSAPrivateKey:
    from cryptography.hazmat.primitives.asymmetric import rsa

    return rsa.generate_private_key(public_exponent=65537, key_size=bits)


def _name(*attrs: tuple[x509.ObjectIdentifier, str]) -> x509.Name:
    from cryptography import x509

    return x509.Name([x509.NameAttribute(oid, value) for oid, value in attrs])


def _ca_name(cn: str) -> x509.Name:
    from cryptography.x509.oid import NameOID

    return _name((NameOID.COUNTRY_NAME, "FR"), (NameOID.ORGANIZATION_NAME, ORG),
                 (NameOID.ORGANIZATIONAL_UNIT_NAME, OU), (NameOID.COMMON_NAME, cn))


def _write_pem(path: Path, data: bytes, secret: bool = False) -> None:
    path.write_bytes(data)
    if secret:
        os.chmod(path, 0o600)


def _key_pem(key: RSAPrivateKey) -> bytes:
    from cryptography.hazmat.primitives import serialization

    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())


def _cert_pem(cert: x509.Certificate) -> bytes:
    from cryptography.hazmat.primitives import serialization

    return cert.public_bytes(serialization.Encoding.PEM)


def _make_ca(cn: str, key: RSAPrivateKey, issuer: Authority | None, now: dt.datetime) -> Authority:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes

    subject = _ca_name(cn)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer.cert.subject if issuer else subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=3650))
        .not_valid_after(now + dt.timedelta(days=7300 if issuer is None else 7299))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None if issuer is None else 0), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False, key_encipherment=False,
                                     data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                     crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.CertificatePolicies([x509.PolicyInformation(
            x509.oid.CertificatePoliciesOID.ANY_POLICY, [f"{BASE_URL}/PC"])]), critical=False)
    )
    if issuer is not None:
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.key.public_key()), critical=False
        ).add_extension(x509.CRLDistributionPoints([x509.DistributionPoint(
            [x509.UniformResourceIdentifier(f"{BASE_URL}/CRL/ACR.crl")], None, None, None)]), critical=False)
    signer = issuer.key if issuer else key
    return Authority(cn, builder.sign(signer, hashes.SHA256()), key)


def _serial16() -> int:
    """A random positive serial of 16 bytes, the size IGC-Santé uses."""
    return (int.from_bytes(os.urandom(16), "big") & ((1 << 127) - 1)) | (1 << 120)


def _holder(doc: dict[str, Any], file: Path | Traversable) -> dict[str, Any]:
    holder = doc.get("holder")
    if not isinstance(holder, dict):
        raise ProfileError(file, "holder", "missing table: make-pki needs the holder's identity")
    for key in holder:
        if key not in HOLDER_KEYS:
            raise ProfileError(file, f"holder.{key}", "unknown key")
    for key in ("given_name", "surname", "national_id"):
        if not isinstance(holder.get(key), str) or not holder[key]:
            raise ProfileError(file, f"holder.{key}", "missing text")
    card_type = holder.get("card_type", 0)
    if card_type not in (0, 1, 2, 3):
        raise ProfileError(file, "holder.card_type", "must be 0 (CPS), 1 (CPF), 2 (CPE) or 3 (CPA)")
    issuer = holder.get("issuer", "FORT" if card_type in (0, 1) else "STANDARD")
    if issuer not in INTERMEDIATE_CN:
        raise ProfileError(file, "holder.issuer", "must be \"FORT\" or \"STANDARD\"")
    profession = holder.get("profession_code")
    if profession is not None and (not isinstance(profession, int) or isinstance(profession, bool)):
        raise ProfileError(file, "holder.profession_code", "must be an integer (G15 code)")
    title = holder.get("title") or profession_title(profession, card_type)
    if not title:
        raise ProfileError(file, "holder.title", "missing (needed when profession_code is absent or not a known "
                           "G15 profession)")
    for key in ("not_before_days", "not_after_days", "validity_days"):
        if key in holder and (not isinstance(holder[key], int) or isinstance(holder[key], bool)):
            raise ProfileError(file, f"holder.{key}", "must be an integer number of days")
    if not isinstance(holder.get("revoked", False), bool):
        raise ProfileError(file, "holder.revoked", "must be true or false")
    if holder.get("revocation_reason", "unspecified") not in REVOCATION_REASONS:
        raise ProfileError(file, "holder.revocation_reason", "must be one of " + ", ".join(REVOCATION_REASONS))
    return {**holder, "card_type": card_type, "issuer": issuer, "title": title}


def _ldap_url(ca: Authority) -> str:
    """An LDAP CRL URL shaped like IGC-Santé's, on a host that never exists: listed by cpsdiag, never fetched."""
    cn = ca.name.replace(" ", "%20")
    return (f"ldap://annuaire.cpsdiag.invalid/cn={cn},ou=IGC-SANTE%20EMULATION,o=CPSDIAG,c=FR"
            "?certificaterevocationlist;binary?base?objectClass=pkiCA")


def _leaf(holder: dict[str, Any], role: str, card_number: str, ca: Authority, now: dt.datetime,
          urls: RevocationUrls | None = None) -> tuple[x509.Certificate, RSAPrivateKey]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    key = _rsa()
    attrs = [x509.RelativeDistinguishedName([x509.NameAttribute(NameOID.COUNTRY_NAME, "FR")])]
    for name_oid, field in ((NameOID.STATE_OR_PROVINCE_NAME, "state"), (NameOID.ORGANIZATION_NAME, "organization"),
                            (NameOID.ORGANIZATIONAL_UNIT_NAME, "organizational_unit")):
        if holder.get(field):
            attrs.append(x509.RelativeDistinguishedName([x509.NameAttribute(name_oid, holder[field])]))
    attrs.append(x509.RelativeDistinguishedName([x509.NameAttribute(NameOID.TITLE, holder["title"])]))
    # Given name, national identifier and surname share one multi-valued RDN, as on real cards.
    attrs.append(x509.RelativeDistinguishedName([
        x509.NameAttribute(NameOID.GIVEN_NAME, holder["given_name"]),
        x509.NameAttribute(NameOID.COMMON_NAME, holder["national_id"]),
        x509.NameAttribute(NameOID.SURNAME, holder["surname"]),
    ]))
    validity = dt.timedelta(days=holder.get("validity_days", 1095))
    if "not_after_days" in holder:
        # The end of that day (UTC): "expires in 30 days" reads as 30 days left all through the day it was made.
        day = (now + dt.timedelta(days=holder["not_after_days"])).date()
        end = dt.datetime.combine(day, dt.time(23, 59, 59), tzinfo=dt.timezone.utc)
        start = end - validity
    else:
        start = (now + dt.timedelta(days=holder.get("not_before_days", -365))).replace(microsecond=0)
        end = start + validity
    auth = role == "auth"
    ku = dict(digital_signature=auth, content_commitment=not auth, key_encipherment=False, data_encipherment=False,
              key_agreement=False, key_cert_sign=False, crl_sign=False, encipher_only=False, decipher_only=False)
    ca_file = INTERMEDIATE_FILE["FORT" if "FORT" in ca.name else "STANDARD"]
    if urls is None:
        crl_points = [x509.UniformResourceIdentifier(f"{BASE_URL}/CRL/{ca_file}.crl")]
        ocsp_url, issuer_url = "http://ocsp.cpsdiag.invalid", f"{BASE_URL}/AC/{ca_file}.cer"
    else:
        base = urls.base.rstrip("/")
        crl_points = [x509.UniformResourceIdentifier(f"{base}/CRL/{ca_file}.crl"),
                      x509.UniformResourceIdentifier(_ldap_url(ca))]
        ocsp_url, issuer_url = urls.responder, f"{base}/AC/{ca_file}.cer"
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name(attrs))
        .issuer_name(ca.cert.subject)
        .public_key(key.public_key())
        .serial_number(_serial16())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=False)
        .add_extension(x509.KeyUsage(**ku), critical=True)
        .add_extension(x509.ExtendedKeyUsage(
            [ExtendedKeyUsageOID.CLIENT_AUTH, x509.ObjectIdentifier(OID_SMARTCARD_LOGON)] if auth
            else [ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.key.public_key()), critical=False)
        .add_extension(x509.CertificatePolicies([x509.PolicyInformation(
            x509.ObjectIdentifier(POLICY_OID), [f"{BASE_URL}/PC"])]), critical=False)
        .add_extension(x509.CRLDistributionPoints([x509.DistributionPoint(crl_points, None, None, None)]),
                       critical=False)
        .add_extension(x509.AuthorityInformationAccess([
            x509.AccessDescription(x509.oid.AuthorityInformationAccessOID.OCSP,
                                   x509.UniformResourceIdentifier(ocsp_url)),
            x509.AccessDescription(x509.oid.AuthorityInformationAccessOID.CA_ISSUERS,
                                   x509.UniformResourceIdentifier(issuer_url)),
        ]), critical=False)
        .add_extension(x509.UnrecognizedExtension(x509.ObjectIdentifier(OID_CARD_TYPE),
                                                  der.integer(holder["card_type"])), critical=False)
        .add_extension(x509.UnrecognizedExtension(x509.ObjectIdentifier(OID_CARD_ID),
                                                  der.tlv(0x13, f"8025000001/{card_number}".encode())), critical=False)
        .add_extension(x509.UnrecognizedExtension(x509.ObjectIdentifier(OID_CATEGORY),
                                                  der.octets(b"\x80" if holder.get("test_card", True) else b"\x00")),
                       critical=False)
    )
    if holder.get("profession_code") is not None:
        builder = builder.add_extension(x509.UnrecognizedExtension(
            x509.ObjectIdentifier(OID_PROFESSION), der.integer(holder["profession_code"])), critical=False)
    if auth:
        upn = der.tlv(0x0C, f"{holder['national_id']}@carte-cps.fr".encode())
        builder = builder.add_extension(x509.SubjectAlternativeName([
            x509.OtherName(x509.ObjectIdentifier(OID_UPN), upn)]), critical=False)
    else:
        builder = builder.add_extension(x509.PrivateKeyUsagePeriod(start, end), critical=False)
    return builder.sign(ca.key, hashes.SHA256()), key


@dataclass(frozen=True)
class PkiOutput:
    folder: Path
    anchors: Path               # root + intermediates, for --anchors / --tls-ca
    root: Path
    cards: Path                 # folder holding one profile folder per card
    profiles: list[str]


def make_authorities(pki_dir: Path, now: dt.datetime) -> tuple[dict[str, Authority], Path]:
    """The root and the PERSONNES intermediates, written to pki_dir; returns the intermediates and anchors.pem."""
    pki_dir.mkdir(parents=True, exist_ok=True)
    root = _make_ca(ROOT_CN, _rsa(), None, now)
    cas = {level: _make_ca(cn, _rsa(), root, now) for level, cn in INTERMEDIATE_CN.items()}
    _write_pem(pki_dir / "acr.pem", _cert_pem(root.cert))
    _write_pem(pki_dir / "acr.key", _key_pem(root.key), secret=True)
    for level, ca in cas.items():
        _write_pem(pki_dir / f"{INTERMEDIATE_FILE[level]}.pem", _cert_pem(ca.cert))
        _write_pem(pki_dir / f"{INTERMEDIATE_FILE[level]}.key", _key_pem(ca.key), secret=True)
    anchors = pki_dir / "anchors.pem"
    _write_pem(anchors, b"".join(_cert_pem(a.cert) for a in (root, *cas.values())))
    return cas, anchors


@dataclass(frozen=True)
class Issued:
    """A card certificate make_pki issued, for the CRLs and the OCSP index."""

    level: str                    # FORT | STANDARD
    cert: x509.Certificate
    revoked: bool
    reason: str


def issue_card(folder: Traversable, target: Path, cas: dict[str, Authority], anchors: Path,
               now: dt.datetime, urls: RevocationUrls | None = None, issued: list[Issued] | None = None) -> bool:
    """Write into target the card.toml of folder and the PEM files it names, issued for its [holder].

    Returns False (and writes nothing) for a profile without a [holder] table.
    """
    from cryptography.hazmat.primitives import serialization

    toml_file = folder.joinpath("card.toml")
    doc = read_toml(folder)
    if "holder" not in doc:
        return False
    holder = _holder(doc, toml_file)
    card_number = str(doc.get("card_number", ""))
    target.mkdir(parents=True, exist_ok=True)
    if (target / "card.toml").resolve() != Path(str(toml_file)).resolve():
        (target / "card.toml").write_bytes(toml_file.read_bytes())
    roles = ["auth"] if doc.get("interface") == "contactless" else ["auth", "signature"]
    for role in roles:
        names = doc.get(role)
        if not isinstance(names, dict) or not {"certificate", "key"} <= names.keys():
            raise ProfileError(toml_file, role, "needs 'certificate' and 'key' file names to write")
        cert_file = inside(target, names["certificate"], toml_file, f"{role}.certificate")
        key_file = inside(target, names["key"], toml_file, f"{role}.key")
        cert, key = _leaf(holder, role, card_number, cas[holder["issuer"]], now, urls)
        if issued is not None:
            issued.append(Issued(holder["issuer"], cert, holder.get("revoked", False),
                                 holder.get("revocation_reason", "unspecified")))
        _write_pem(cert_file, cert.public_bytes(serialization.Encoding.PEM))
        _write_pem(key_file, _key_pem(key), secret=True)
    if "anchors" in doc:
        own = inside(target, doc["anchors"], toml_file, "anchors")
        if own.resolve() != anchors.resolve():
            _write_pem(own, anchors.read_bytes())
    return True


def make_pki(outdir: Path, source_dirs: list[Traversable] | None = None, now: dt.datetime | None = None,
             revocation_url: str | None = None, ocsp_url: str | None = None) -> PkiOutput:
    """Write the CA certificates and, for every profile with a [holder] table, its PEM files.

    The profiles come from ``source_dirs`` (folders of profile folders), by default the shipped ones.
    ``revocation_url``: the certificates' CRL and caIssuers base (``ocsp_url`` their responder, default
    <base>/ocsp), and the revocation files are written (``publish_revocation``).
    """
    now = (now or dt.datetime.now(dt.timezone.utc)).replace(microsecond=0)
    sources = source_dirs or [shipped_profiles()]
    outdir = Path(outdir)
    pki_dir, cards_dir = outdir / "pki", outdir / "cards"
    cards_dir.mkdir(parents=True, exist_ok=True)
    cas, anchors = make_authorities(pki_dir, now)
    urls = RevocationUrls(revocation_url, ocsp_url) if revocation_url else None
    made: list[str] = []
    issued: list[Issued] = []
    for source in sources:
        folders = sorted((entry for entry in source.iterdir() if entry.joinpath("card.toml").is_file()),
                         key=lambda entry: entry.name)
        for folder in folders:
            if issue_card(folder, cards_dir / folder.name, cas, anchors, now, urls, issued):
                made.append(folder.name)
    if urls is not None:
        publish_revocation(pki_dir, cas, issued, now)
    return PkiOutput(outdir, anchors, pki_dir / "acr.pem", cards_dir, made)


def _openssl_time(moment: dt.datetime) -> str:
    return moment.astimezone(dt.timezone.utc).strftime("%y%m%d%H%M%SZ")


def revoked_at(cert: x509.Certificate, now: dt.datetime) -> dt.datetime:
    """When make_pki says a revoked certificate was revoked: a day ago, never before it was issued."""
    return max(now - dt.timedelta(days=1), cert.not_valid_before_utc + dt.timedelta(minutes=1)).replace(microsecond=0)


def write_crl(path: Path, ca: Authority, revoked: list[tuple[x509.Certificate, dt.datetime, str]], this_update: dt.datetime,
              next_update: dt.datetime, signer_key: RSAPrivateKey | None = None) -> Path:
    """A DER CRL of ``ca`` listing (certificate, revocation date, reason); ``signer_key`` another key (tests)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization

    builder = (x509.CertificateRevocationListBuilder().issuer_name(ca.cert.subject)
               .last_update(this_update).next_update(next_update)
               .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.key.public_key()), False)
               .add_extension(x509.CRLNumber(int(this_update.timestamp())), False))
    for cert, when, reason in revoked:
        entry = x509.RevokedCertificateBuilder().serial_number(cert.serial_number).revocation_date(when)
        if reason != "unspecified":
            entry = entry.add_extension(x509.CRLReason(x509.ReasonFlags(reason)), False)
        builder = builder.add_revoked_certificate(entry.build())
    crl = builder.sign(signer_key or ca.key, hashes.SHA256())
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(crl.public_bytes(serialization.Encoding.DER))
    return path


def _ocsp_responder(ca: Authority, now: dt.datetime) -> Authority:
    """A certificate ``ca`` delegates OCSP signing to (id-kp-OCSPSigning, id-pkix-ocsp-nocheck)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.x509.oid import ExtendedKeyUsageOID

    key = _rsa()
    name = f"{ca.name} OCSP"
    cert = (x509.CertificateBuilder().subject_name(_ca_name(name)).issuer_name(ca.cert.subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=365))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                                         data_encipherment=False, key_agreement=False, key_cert_sign=False,
                                         crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.OCSP_SIGNING]), critical=False)
            .add_extension(x509.OCSPNoCheck(), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.key.public_key()), critical=False)
            .sign(ca.key, hashes.SHA256()))
    return Authority(name, cert, key)


def publish_revocation(pki_dir: Path, cas: dict[str, Authority], issued: list[Issued], now: dt.datetime,
                       crl_days: int = 1) -> None:
    """What the revocation servers of the test PKI serve, per intermediate CA (file name aci-fo-pp...):

    pki/AC/<ca>.cer (DER, the caIssuers target), pki/CRL/<ca>.crl (DER, valid ``crl_days``),
    pki/ocsp/<ca>.index.txt (+ .attr) and pki/ocsp/<ca>-responder.pem/.key for
    ``openssl ocsp -index ... -CA pki/<ca>.pem -rsigner ... -rkey ...``.
    """
    from cryptography.hazmat.primitives import serialization

    for level, ca in cas.items():
        name = INTERMEDIATE_FILE[level]
        (pki_dir / "AC").mkdir(parents=True, exist_ok=True)
        (pki_dir / "AC" / f"{name}.cer").write_bytes(ca.cert.public_bytes(serialization.Encoding.DER))
        mine = [i for i in issued if i.level == level]
        revoked = [(i.cert, revoked_at(i.cert, now), i.reason) for i in mine if i.revoked]
        write_crl(pki_dir / "CRL" / f"{name}.crl", ca, revoked, now - dt.timedelta(hours=1),
                  now + dt.timedelta(days=crl_days))
        lines = []
        for i in mine:
            serial = format(i.cert.serial_number, "X")
            serial = serial if len(serial) % 2 == 0 else "0" + serial
            subject = "/" + "/".join(a.rfc4514_string() for rdn in i.cert.subject.rdns for a in rdn)
            expiry = _openssl_time(i.cert.not_valid_after_utc)
            if i.revoked:
                when = _openssl_time(revoked_at(i.cert, now))
                reason = OPENSSL_REASON.get(i.reason, i.reason)
                lines.append(f"R\t{expiry}\t{when},{reason}\t{serial}\tunknown\t{subject}")
            else:
                lines.append(f"V\t{expiry}\t\t{serial}\tunknown\t{subject}")
        ocsp_dir = pki_dir / "ocsp"
        ocsp_dir.mkdir(parents=True, exist_ok=True)
        (ocsp_dir / f"{name}.index.txt").write_text("".join(line + "\n" for line in lines))
        (ocsp_dir / f"{name}.index.txt.attr").write_text("unique_subject = no\n")
        responder = _ocsp_responder(ca, now)
        _write_pem(ocsp_dir / f"{name}-responder.pem", _cert_pem(responder.cert))
        _write_pem(ocsp_dir / f"{name}-responder.key", _key_pem(responder.key), secret=True)


def _shipped_digest() -> str:
    """Short digest of the shipped profiles: an upgraded package gets certificates made from its own profiles."""
    digest = hashlib.sha256()
    for entry in sorted(shipped_profiles().iterdir(), key=lambda entry: entry.name):
        toml_file = entry.joinpath("card.toml")
        if toml_file.is_file():
            digest.update(entry.name.encode() + b"\0" + toml_file.read_bytes() + b"\0")
    return digest.hexdigest()[:12]


def cache_dir() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "cpsdiag" / "pki"


def _abandoned(name: str) -> bool:
    """A ".making-<pid>-..." folder whose process is gone (killed outright while making the PKI)."""
    parts = name.split("-")
    if len(parts) < 3 or parts[0] != ".making" or not parts[1].isdigit():
        return False
    try:
        os.kill(int(parts[1]), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def cached_pki(now: dt.datetime | None = None) -> PkiOutput:
    """Today's test PKI for the shipped profiles in the user's cache, made once a day.

    It is written to a temporary folder then renamed into place, so that
    processes starting at the same moment never read half-written keys.
    """
    now = now or dt.datetime.now(dt.timezone.utc)
    base = cache_dir()
    today = now.strftime("%Y-%m-%d")
    folder = base / f"{today}-{_shipped_digest()}"
    if not (folder / "complete").exists():
        try:
            base.mkdir(parents=True, exist_ok=True)
            for old in base.iterdir():
                # Earlier days only: another cpsdiag version may be using today's PKI of its own profiles.
                stale = _abandoned(old.name) if old.name.startswith(".") else not old.name.startswith(today)
                if old.is_dir() and stale:
                    shutil.rmtree(old, ignore_errors=True)
            staging = Path(tempfile.mkdtemp(prefix=f".making-{os.getpid()}-", dir=base))
        except OSError as exc:
            raise PkiError(f"cannot write the test PKI cache in {base}: {exc.strerror} "
                           "(set XDG_CACHE_HOME to a writable folder)") from None
        try:
            make_pki(staging, now=now)
            (staging / "complete").write_text("ok\n")
            if folder.exists() and not (folder / "complete").exists():
                shutil.rmtree(folder, ignore_errors=True)     # left half-made by a crash
            try:
                staging.rename(folder)
            except OSError:
                if not (folder / "complete").exists():   # not merely another process that finished first
                    raise
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    cards = folder / "cards"
    return PkiOutput(folder, folder / "pki" / "anchors.pem", folder / "pki" / "acr.pem", cards,
                     sorted(p.name for p in cards.iterdir()))
