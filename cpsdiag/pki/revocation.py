"""Revocation answers, verified: OCSP responses and CRLs for one certificate, offline and pure.

Nothing here touches the network. ``ocsp_request`` builds the bytes to POST;
``verify_ocsp`` and ``verify_crl`` turn what a server sent back into an
``Answer`` (good or revoked, with who said it and when) or raise
``RevocationProblem`` with a stable ``reason`` word and an English sentence.
Whatever is not proven counts as a problem: a response that is not signed by
the issuing CA or by a responder it delegated (id-kp-OCSPSigning), that is
about another certificate, or that is out of date never reads as "not
revoked" (docs/revocation.md).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any, Literal

from cpsdiag.errors import CpsdiagError

if TYPE_CHECKING:
    from cryptography import x509

# Clocks differ: an answer produced "in the future" by this much, or expired by this much, is still accepted.
CLOCK_TOLERANCE = timedelta(minutes=5)
# An OCSP answer without nextUpdate says "newer information is always available": accept it this long.
OCSP_MAX_AGE = timedelta(days=4)

OID_OCSP_SIGNING = "1.3.6.1.5.5.7.3.9"
OID_OCSP_NOCHECK = "1.3.6.1.5.5.7.48.1.5"

# CRLReason / OCSP revocationReason as stable words (RFC 5280 names).
REASONS = ("unspecified", "keyCompromise", "cACompromise", "affiliationChanged", "superseded",
           "cessationOfOperation", "certificateHold", "removeFromCRL", "privilegeWithdrawn", "aACompromise")


class RevocationProblem(CpsdiagError):
    """An answer that proves nothing. ``reason``: ocsp_status, malformed, wrong_signer, bad_signature,
    not_this_certificate, not_yet_valid, stale, responder_unknown_status, wrong_issuer."""

    def __init__(self, reason: str, message: str):
        self.reason = reason
        super().__init__(message)


@dataclass(frozen=True)
class Answer:
    status: Literal["good", "revoked"]
    source: Literal["ocsp", "crl"]
    produced_at: datetime                # OCSP producedAt, CRL thisUpdate
    this_update: datetime
    next_update: datetime | None
    revoked_at: datetime | None = None
    reason: str | None = None            # one of REASONS when revoked and the answer gives one
    signer: str | None = None            # who signed it: the CA, or the delegated responder's name


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment.astimezone(timezone.utc)


def _load_cert(cert: Any) -> x509.Certificate:
    from cryptography import x509

    if isinstance(cert, x509.Certificate):
        return cert
    if isinstance(cert, (bytes, bytearray)):
        return x509.load_der_x509_certificate(bytes(cert))
    return x509.load_der_x509_certificate(cert.der)     # a CertInfo


def _name(cert: Any) -> str:
    from cryptography.x509.oid import NameOID

    cns = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    return str(cns[0].value) if cns else cert.subject.rfc4514_string()


def key_bits(cert: Any) -> bytes:
    """The subjectPublicKey BIT STRING's bytes: what an OCSP CertID's issuerKeyHash hashes."""
    from asn1crypto import keys
    from cryptography.hazmat.primitives import serialization

    spki = cert.public_key().public_bytes(serialization.Encoding.DER,
                                          serialization.PublicFormat.SubjectPublicKeyInfo)
    return bytes(keys.PublicKeyInfo.load(spki)["public_key"].contents[1:])


def _signature_ok(public_key: Any, signature: bytes, data: bytes, hash_algorithm: Any) -> bool:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

    try:
        if isinstance(public_key, rsa.RSAPublicKey):
            public_key.verify(signature, data, padding.PKCS1v15(), hash_algorithm)
        elif isinstance(public_key, ec.EllipticCurvePublicKey):
            public_key.verify(signature, data, ec.ECDSA(hash_algorithm))
        else:
            return False
    except (InvalidSignature, ValueError, TypeError):
        return False
    return True


def issued_by(cert: Any, issuer: Any) -> bool:
    """``cert`` names ``issuer`` as its issuer and carries a signature ``issuer``'s key verifies."""
    try:
        cert.verify_directly_issued_by(issuer)
    except Exception:  # noqa: BLE001 (ValueError, TypeError, InvalidSignature: all mean "no")
        return False
    return True


def ocsp_request(cert: Any, issuer: Any) -> bytes:
    """The DER OCSP request for one certificate (SHA-1 CertID, what every responder understands; no nonce,
    which many responders ignore: freshness is judged from thisUpdate/nextUpdate)."""
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.x509 import ocsp

    builder = ocsp.OCSPRequestBuilder().add_certificate(_load_cert(cert), _load_cert(issuer), hashes.SHA1())
    return builder.build().public_bytes(serialization.Encoding.DER)


def _reason_word(flag: Any) -> str | None:
    if flag is None:
        return None
    value = getattr(flag, "value", str(flag))
    return {"aACompromise": "aACompromise", "cACompromise": "cACompromise"}.get(value, value)


def _check_times(this_update: datetime, next_update: datetime | None, now: datetime, what: str,
                 max_age: timedelta | None) -> None:
    if this_update - CLOCK_TOLERANCE > now:
        raise RevocationProblem("not_yet_valid", f"the {what} was produced in the future ({_fmt(this_update)}); "
                                                 f"check the computer's clock")
    if next_update is not None:
        if next_update + CLOCK_TOLERANCE < now:
            raise RevocationProblem("stale", f"the {what} is out of date: its next update was due on "
                                             f"{_fmt(next_update)}")
    elif max_age is not None and this_update + max_age < now:
        raise RevocationProblem("stale", f"the {what} dates from {_fmt(this_update)} and names no next update")


def _fmt(moment: datetime) -> str:
    return _utc(moment).strftime("%Y-%m-%d %H:%M UTC")


def _ocsp_signer(response: Any, issuer: Any, now: datetime) -> tuple[Any, str]:
    """The certificate whose key must verify the response: the issuer itself, or a responder it delegated."""
    from cryptography import x509

    def is_responder(cert: Any) -> bool:
        if response.responder_name is not None:
            return bool(cert.subject == response.responder_name)
        return bool(hashlib.sha1(key_bits(cert)).digest() == response.responder_key_hash)

    if is_responder(issuer):
        return issuer, _name(issuer)
    for candidate in response.certificates:
        if not is_responder(candidate):
            continue
        if not issued_by(candidate, issuer):
            raise RevocationProblem("wrong_signer", f"the OCSP response is signed by '{_name(candidate)}', "
                                                    f"which '{_name(issuer)}' did not issue")
        try:
            eku = candidate.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
            delegated = any(oid.dotted_string == OID_OCSP_SIGNING for oid in eku)
        except x509.ExtensionNotFound:
            delegated = False
        if not delegated:
            raise RevocationProblem("wrong_signer", f"the OCSP response is signed by '{_name(candidate)}', a "
                                                    f"certificate not delegated to sign OCSP responses")
        start, end = candidate.not_valid_before_utc, candidate.not_valid_after_utc
        if now + CLOCK_TOLERANCE < start or now - CLOCK_TOLERANCE > end:
            raise RevocationProblem("wrong_signer", f"the OCSP responder certificate '{_name(candidate)}' is "
                                                    f"not valid now ({_fmt(start)} to {_fmt(end)})")
        return candidate, _name(candidate)
    raise RevocationProblem("wrong_signer", f"the OCSP response is signed neither by '{_name(issuer)}' nor by a "
                                            "responder certificate it delegated")


def verify_ocsp(data: bytes, cert: Any, issuer: Any, now: datetime | None = None) -> Answer:
    """What an OCSP response says of ``cert``, once proven; raises RevocationProblem otherwise."""
    from cryptography.x509 import ocsp

    cert, issuer = _load_cert(cert), _load_cert(issuer)
    now = _utc(now or datetime.now(timezone.utc))
    try:
        response = ocsp.load_der_ocsp_response(data)
    except ValueError as exc:
        raise RevocationProblem("malformed", f"the answer is not an OCSP response ({exc})") from None
    if response.response_status != ocsp.OCSPResponseStatus.SUCCESSFUL:
        raise RevocationProblem("ocsp_status", f"the OCSP responder answered "
                                               f"'{response.response_status.name.lower()}'")
    try:
        signer, signer_name = _ocsp_signer(response, issuer, now)
        hash_algorithm = response.signature_hash_algorithm
        singles = list(response.responses)
    except RevocationProblem:
        raise
    except Exception as exc:  # noqa: BLE001 (a response cryptography cannot fully decode proves nothing)
        raise RevocationProblem("malformed", f"the OCSP response cannot be read ({exc})") from None
    if hash_algorithm is None or not _signature_ok(signer.public_key(), response.signature,
                                                   response.tbs_response_bytes, hash_algorithm):
        raise RevocationProblem("bad_signature", f"the OCSP response's signature does not verify with the key of "
                                                 f"'{signer_name}'")
    name_der = issuer.subject.public_bytes()
    key = key_bits(issuer)
    for single in singles:
        algorithm = single.hash_algorithm.name.replace("-", "")
        try:
            name_hash = hashlib.new(algorithm, name_der).digest()
            key_hash = hashlib.new(algorithm, key).digest()
        except ValueError:
            continue
        if (single.serial_number, single.issuer_name_hash, single.issuer_key_hash) != \
                (cert.serial_number, name_hash, key_hash):
            continue
        this_update = single.this_update_utc
        next_update = single.next_update_utc
        _check_times(this_update, next_update, now, "OCSP response", OCSP_MAX_AGE)
        produced = response.produced_at_utc
        status = single.certificate_status
        if status == ocsp.OCSPCertStatus.GOOD:
            return Answer("good", "ocsp", produced, this_update, next_update, signer=signer_name)
        if status == ocsp.OCSPCertStatus.REVOKED:
            return Answer("revoked", "ocsp", produced, this_update, next_update, single.revocation_time_utc,
                          _reason_word(single.revocation_reason), signer_name)
        raise RevocationProblem("responder_unknown_status", "the OCSP responder does not know this certificate")
    raise RevocationProblem("not_this_certificate", "the OCSP response is about another certificate (its CertID "
                                                    "does not match this certificate's issuer and serial)")


def load_crl(data: bytes) -> Any:
    """A CRL from DER (or PEM, which some servers send); raises RevocationProblem("malformed")."""
    from cryptography import x509

    try:
        if data.lstrip().startswith(b"-----BEGIN"):
            return x509.load_pem_x509_crl(data)
        return x509.load_der_x509_crl(data)
    except ValueError as exc:
        raise RevocationProblem("malformed", f"the answer is not a CRL ({exc})") from None


def crl_next_update(data: bytes) -> datetime | None:
    """When a CRL says the next one is due (what the cache keeps it until); None if it cannot be read."""
    try:
        next_update: datetime | None = load_crl(data).next_update_utc
        return next_update
    except RevocationProblem:
        return None


def verify_crl(data: bytes | Any, cert: Any, issuer: Any, now: datetime | None = None) -> Answer:
    """What a CRL says of ``cert``, once its issuer's signature and its dates are checked."""
    from cryptography import x509

    cert, issuer = _load_cert(cert), _load_cert(issuer)
    now = _utc(now or datetime.now(timezone.utc))
    crl = load_crl(bytes(data)) if isinstance(data, (bytes, bytearray)) else data
    if crl.issuer != issuer.subject:
        raise RevocationProblem("wrong_issuer", f"the CRL was issued by '{crl.issuer.rfc4514_string()}', not by "
                                                f"'{_name(issuer)}'")
    try:
        valid = crl.is_signature_valid(issuer.public_key())
    except Exception:  # noqa: BLE001 (an unsupported algorithm proves nothing either)
        valid = False
    if not valid:
        raise RevocationProblem("bad_signature", f"the CRL's signature does not verify with the key of "
                                                 f"'{_name(issuer)}'")
    this_update, next_update = crl.last_update_utc, crl.next_update_utc
    _check_times(this_update, next_update, now, "CRL", None)
    entry = crl.get_revoked_certificate_by_serial_number(cert.serial_number)
    if entry is None:
        return Answer("good", "crl", this_update, this_update, next_update, signer=_name(issuer))
    reason = None
    try:
        reason = _reason_word(entry.extensions.get_extension_for_class(x509.CRLReason).value.reason)
    except x509.ExtensionNotFound:
        pass
    if reason == "removeFromCRL":       # delta-CRL bookkeeping: the certificate is back in good standing
        return Answer("good", "crl", this_update, this_update, next_update, signer=_name(issuer))
    return Answer("revoked", "crl", this_update, this_update, next_update, entry.revocation_date_utc, reason,
                  _name(issuer))
