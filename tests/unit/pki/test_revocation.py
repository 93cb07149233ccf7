"""cpsdiag.pki.revocation: OCSP responses and CRLs verified offline, made here with ``cryptography``'s builders.

Each test builds the answer a server could send (good, revoked, signed by the
wrong key, for another certificate, out of date) and checks what the
verifier concludes; nothing touches the network.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509 import ocsp
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from cpsdiag.pki.revocation import (CLOCK_TOLERANCE, OCSP_MAX_AGE, RevocationProblem, ocsp_request, verify_crl,
                                    verify_ocsp)

NOW = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.timezone.utc)


def _key():
    return ec.generate_private_key(ec.SECP256R1())       # fast; the verifier handles RSA and EC alike


def _cert(cn: str, key, issuer_name: x509.Name | None, issuer_key, *, ca: bool = False,
          eku: list | None = None, days: tuple[int, int] = (-30, 365)) -> x509.Certificate:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    builder = (x509.CertificateBuilder().subject_name(name).issuer_name(issuer_name or name)
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(NOW + dt.timedelta(days=days[0])).not_valid_after(NOW + dt.timedelta(days=days[1]))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if eku:
        builder = builder.add_extension(x509.ExtendedKeyUsage(eku), critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


@dataclass
class Pki:
    ca: x509.Certificate
    ca_key: Any
    leaf: x509.Certificate
    other: x509.Certificate          # another certificate of the same CA


@pytest.fixture(scope="module")
def pki() -> Pki:
    ca_key = _key()
    ca = _cert("TEST CA", ca_key, None, ca_key, ca=True)
    leaf = _cert("LEAF", _key(), ca.subject, ca_key)
    other = _cert("OTHER", _key(), ca.subject, ca_key)
    return Pki(ca, ca_key, leaf, other)


def ocsp_answer(pki: Pki, *, cert=None, status=ocsp.OCSPCertStatus.GOOD, signer=None, signer_key=None,
                this_update=None, next_update: Any = "default", extra_certs=(), revoked_at=None, reason=None) -> bytes:
    this_update = this_update or NOW - dt.timedelta(hours=1)
    if next_update == "default":
        next_update = NOW + dt.timedelta(hours=6)
    builder = ocsp.OCSPResponseBuilder().add_response(
        cert=cert or pki.leaf, issuer=pki.ca, algorithm=hashes.SHA1(), cert_status=status,
        this_update=this_update, next_update=next_update, revocation_time=revoked_at, revocation_reason=reason)
    builder = builder.responder_id(ocsp.OCSPResponderEncoding.HASH, signer or pki.ca)
    if extra_certs:
        builder = builder.certificates(list(extra_certs))
    response = builder.sign(signer_key or pki.ca_key, hashes.SHA256())
    return response.public_bytes(serialization.Encoding.DER)


def crl(pki: Pki, *, revoked=(), key=None, issuer_name=None, last=None, next_=None) -> bytes:
    builder = (x509.CertificateRevocationListBuilder().issuer_name(issuer_name or pki.ca.subject)
               .last_update(last or NOW - dt.timedelta(hours=2)).next_update(next_ or NOW + dt.timedelta(days=1)))
    for cert, reason in revoked:
        entry = x509.RevokedCertificateBuilder().serial_number(cert.serial_number).revocation_date(
            NOW - dt.timedelta(days=3))
        if reason is not None:
            entry = entry.add_extension(x509.CRLReason(reason), critical=False)
        builder = builder.add_revoked_certificate(entry.build())
    return builder.sign(key or pki.ca_key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)


# -- OCSP ------------------------------------------------------------------------------------------------------


def test_the_request_names_this_certificate(pki):
    request = ocsp.load_der_ocsp_request(ocsp_request(pki.leaf, pki.ca))
    assert request.serial_number == pki.leaf.serial_number
    assert isinstance(request.hash_algorithm, hashes.SHA1)


def test_good_signed_by_the_issuer(pki):
    answer = verify_ocsp(ocsp_answer(pki), pki.leaf, pki.ca, NOW)
    assert (answer.status, answer.source, answer.signer) == ("good", "ocsp", "TEST CA")
    assert answer.next_update == NOW + dt.timedelta(hours=6)


def test_revoked_with_date_and_reason(pki):
    when = NOW - dt.timedelta(days=2)
    answer = verify_ocsp(ocsp_answer(pki, status=ocsp.OCSPCertStatus.REVOKED, revoked_at=when,
                                     reason=x509.ReasonFlags.affiliation_changed), pki.leaf, pki.ca, NOW)
    assert (answer.status, answer.revoked_at, answer.reason) == ("revoked", when, "affiliationChanged")


def test_the_responders_unknown_is_not_good(pki):
    with pytest.raises(RevocationProblem) as problem:
        verify_ocsp(ocsp_answer(pki, status=ocsp.OCSPCertStatus.UNKNOWN), pki.leaf, pki.ca, NOW)
    assert problem.value.reason == "responder_unknown_status"


def test_a_delegated_responder_is_accepted(pki):
    key = _key()
    responder = _cert("TEST CA OCSP", key, pki.ca.subject, pki.ca_key, eku=[ExtendedKeyUsageOID.OCSP_SIGNING])
    answer = verify_ocsp(ocsp_answer(pki, signer=responder, signer_key=key, extra_certs=[responder]),
                         pki.leaf, pki.ca, NOW)
    assert (answer.status, answer.signer) == ("good", "TEST CA OCSP")


def test_a_responder_without_ocsp_signing_is_refused(pki):
    key = _key()
    responder = _cert("TEST CA OCSP", key, pki.ca.subject, pki.ca_key, eku=[ExtendedKeyUsageOID.CLIENT_AUTH])
    with pytest.raises(RevocationProblem) as problem:
        verify_ocsp(ocsp_answer(pki, signer=responder, signer_key=key, extra_certs=[responder]), pki.leaf, pki.ca, NOW)
    assert problem.value.reason == "wrong_signer" and "not delegated" in str(problem.value)


def test_a_responder_another_ca_issued_is_refused(pki):
    other_ca_key = _key()
    other_ca = _cert("OTHER CA", other_ca_key, None, other_ca_key, ca=True)
    key = _key()
    responder = _cert("OTHER CA OCSP", key, other_ca.subject, other_ca_key, eku=[ExtendedKeyUsageOID.OCSP_SIGNING])
    with pytest.raises(RevocationProblem) as problem:
        verify_ocsp(ocsp_answer(pki, signer=responder, signer_key=key, extra_certs=[responder]), pki.leaf, pki.ca, NOW)
    assert problem.value.reason == "wrong_signer" and "did not issue" in str(problem.value)


def test_an_expired_responder_certificate_is_refused(pki):
    key = _key()
    responder = _cert("TEST CA OCSP", key, pki.ca.subject, pki.ca_key, eku=[ExtendedKeyUsageOID.OCSP_SIGNING],
                      days=(-60, -1))
    with pytest.raises(RevocationProblem) as problem:
        verify_ocsp(ocsp_answer(pki, signer=responder, signer_key=key, extra_certs=[responder]), pki.leaf, pki.ca, NOW)
    assert problem.value.reason == "wrong_signer" and "not valid now" in str(problem.value)


def test_a_signature_that_does_not_verify(pki):
    """Signed by the CA, then one byte of the signature changed (a proxy rewriting answers, a broken cache)."""
    data = ocsp_answer(pki)
    signature = ocsp.load_der_ocsp_response(data).signature
    tampered = data.replace(signature, signature[:-1] + bytes([signature[-1] ^ 1]))
    with pytest.raises(RevocationProblem) as problem:
        verify_ocsp(tampered, pki.leaf, pki.ca, NOW)
    assert problem.value.reason == "bad_signature"


def test_an_answer_about_another_certificate_is_refused(pki):
    with pytest.raises(RevocationProblem) as problem:
        verify_ocsp(ocsp_answer(pki, cert=pki.other), pki.leaf, pki.ca, NOW)
    assert problem.value.reason == "not_this_certificate"


@pytest.mark.parametrize("this_update,next_update,reason", [
    (NOW - dt.timedelta(days=3), NOW - dt.timedelta(hours=1), "stale"),
    (NOW - OCSP_MAX_AGE - dt.timedelta(hours=1), None, "stale"),
    (NOW + CLOCK_TOLERANCE + dt.timedelta(minutes=1), NOW + dt.timedelta(days=1), "not_yet_valid"),
])
def test_out_of_date_answers_are_refused(pki, this_update, next_update, reason):
    with pytest.raises(RevocationProblem) as problem:
        verify_ocsp(ocsp_answer(pki, this_update=this_update, next_update=next_update), pki.leaf, pki.ca, NOW)
    assert problem.value.reason == reason


def test_a_small_clock_difference_is_tolerated(pki):
    this_update = NOW + CLOCK_TOLERANCE - dt.timedelta(minutes=1)      # "produced" a little in our future
    answer = verify_ocsp(ocsp_answer(pki, this_update=this_update), pki.leaf, pki.ca, NOW)
    assert answer.status == "good"


@pytest.mark.parametrize("status", [ocsp.OCSPResponseStatus.TRY_LATER, ocsp.OCSPResponseStatus.UNAUTHORIZED])
def test_an_unsuccessful_response_status(pki, status):
    data = ocsp.OCSPResponseBuilder.build_unsuccessful(status).public_bytes(serialization.Encoding.DER)
    with pytest.raises(RevocationProblem) as problem:
        verify_ocsp(data, pki.leaf, pki.ca, NOW)
    assert problem.value.reason == "ocsp_status"


@pytest.mark.parametrize("data", [b"", b"<html>blocked by proxy</html>", b"\x30\x03\x02\x01\x00"])
def test_not_an_ocsp_response(pki, data):
    with pytest.raises(RevocationProblem) as problem:
        verify_ocsp(data, pki.leaf, pki.ca, NOW)
    assert problem.value.reason == "malformed"


# -- CRL -------------------------------------------------------------------------------------------------------


def test_crl_good_and_revoked(pki):
    data = crl(pki, revoked=[(pki.other, x509.ReasonFlags.superseded)])
    assert verify_crl(data, pki.leaf, pki.ca, NOW).status == "good"
    answer = verify_crl(data, pki.other, pki.ca, NOW)
    assert (answer.status, answer.source, answer.reason) == ("revoked", "crl", "superseded")
    assert answer.revoked_at == NOW - dt.timedelta(days=3)


def test_crl_entry_without_reason(pki):
    answer = verify_crl(crl(pki, revoked=[(pki.leaf, None)]), pki.leaf, pki.ca, NOW)
    assert (answer.status, answer.reason) == ("revoked", None)


def test_crl_in_pem_is_read(pki):
    pem = x509.load_der_x509_crl(crl(pki)).public_bytes(serialization.Encoding.PEM)
    assert verify_crl(pem, pki.leaf, pki.ca, NOW).status == "good"


def test_crl_signed_by_another_key(pki):
    with pytest.raises(RevocationProblem) as problem:
        verify_crl(crl(pki, key=_key()), pki.leaf, pki.ca, NOW)
    assert problem.value.reason == "bad_signature"


def test_crl_of_another_issuer(pki):
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "OTHER CA")])
    with pytest.raises(RevocationProblem) as problem:
        verify_crl(crl(pki, issuer_name=name), pki.leaf, pki.ca, NOW)
    assert problem.value.reason == "wrong_issuer"


def test_stale_crl(pki):
    data = crl(pki, last=NOW - dt.timedelta(days=5), next_=NOW - dt.timedelta(days=1))
    with pytest.raises(RevocationProblem) as problem:
        verify_crl(data, pki.leaf, pki.ca, NOW)
    assert problem.value.reason == "stale"
    # The same CRL was current the day it was published.
    assert verify_crl(data, pki.leaf, pki.ca, NOW - dt.timedelta(days=4)).status == "good"


def test_not_a_crl(pki):
    with pytest.raises(RevocationProblem) as problem:
        verify_crl(b"Forbidden", pki.leaf, pki.ca, NOW)
    assert problem.value.reason == "malformed"
