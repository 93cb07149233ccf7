"""cpsdiag.pki.revocation in detail: every field of an Answer, every refusal's sentence, the clock tolerance edges.

OCSP responses and CRLs are written by ``cryptography``'s builders (test_revocation.py's helpers) with
chosen dates and reasons; the expectations are those choices and the sentences the findings relay. Each test
builds its own small PKI (EC keys) so that mutation testing sees every test that reads the verifier.
"""

from __future__ import annotations

import datetime as dt

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509 import ocsp
from cryptography.x509.oid import ExtendedKeyUsageOID
from tests.unit.pki.test_revocation import NOW, Pki, _cert, _key, crl, ocsp_answer

from cpsdiag.pki import revocation
from cpsdiag.pki.certinfo import parse_certificate
from cpsdiag.pki.revocation import Answer, RevocationProblem, crl_next_update, load_crl, verify_crl, verify_ocsp

UTC = dt.timezone.utc
HOUR, MINUTE, SECOND = dt.timedelta(hours=1), dt.timedelta(minutes=1), dt.timedelta(seconds=1)


def make_pki() -> Pki:
    ca_key = _key()
    ca = _cert("TEST CA", ca_key, None, ca_key, ca=True)
    return Pki(ca, ca_key, _cert("LEAF", _key(), ca.subject, ca_key), _cert("OTHER", _key(), ca.subject, ca_key))


def problem(fn, *args, **kwargs) -> RevocationProblem:
    with pytest.raises(RevocationProblem) as caught:
        fn(*args, **kwargs)
    return caught.value


def der(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.DER)


# -- OCSP ------------------------------------------------------------------------------------------------------

def test_a_good_ocsp_answer_in_full():
    pki = make_pki()
    answer = verify_ocsp(ocsp_answer(pki), pki.leaf, pki.ca, NOW)
    assert (answer.status, answer.source, answer.this_update, answer.next_update, answer.revoked_at, answer.reason,
            answer.signer) == ("good", "ocsp", NOW - HOUR, NOW + 6 * HOUR, None, None, "TEST CA")
    assert answer.produced_at.tzinfo is not None


@pytest.mark.parametrize(("flag", "word"), [
    (x509.ReasonFlags.key_compromise, "keyCompromise"), (x509.ReasonFlags.ca_compromise, "cACompromise"),
    (x509.ReasonFlags.aa_compromise, "aACompromise"), (x509.ReasonFlags.superseded, "superseded"),
    (None, None),
])
def test_a_revoked_ocsp_answer_names_date_and_reason(flag, word):
    pki = make_pki()
    data = ocsp_answer(pki, status=ocsp.OCSPCertStatus.REVOKED, revoked_at=NOW - 3 * 24 * HOUR, reason=flag)
    answer = verify_ocsp(data, der(pki.leaf), parse_certificate(der(pki.ca)), NOW.replace(tzinfo=None))
    assert (answer.status, answer.revoked_at, answer.reason, answer.signer) == (
        "revoked", NOW - 3 * 24 * HOUR, word, "TEST CA")


def test_ocsp_refusal_sentences():
    pki = make_pki()
    assert str(problem(verify_ocsp, ocsp_answer(pki, cert=pki.other), pki.leaf, pki.ca, NOW)) == (
        "the OCSP response is about another certificate (its CertID does not match this certificate's issuer and "
        "serial)")
    unknown = problem(verify_ocsp, ocsp_answer(pki, status=ocsp.OCSPCertStatus.UNKNOWN), pki.leaf, pki.ca, NOW)
    assert (unknown.reason, str(unknown)) == ("responder_unknown_status",
                                              "the OCSP responder does not know this certificate")
    status = ocsp.OCSPResponseBuilder.build_unsuccessful(ocsp.OCSPResponseStatus.TRY_LATER)
    refused = problem(verify_ocsp, status.public_bytes(serialization.Encoding.DER), pki.leaf, pki.ca, NOW)
    assert (refused.reason, str(refused)) == ("ocsp_status", "the OCSP responder answered 'try_later'")
    junk = problem(verify_ocsp, b"\x30\x00", pki.leaf, pki.ca, NOW)
    assert junk.reason == "malformed" and str(junk).startswith("the answer is not an OCSP response (")


def test_ocsp_signer_sentences():
    pki = make_pki()
    stranger_key = _key()
    stranger = _cert("STRANGER", stranger_key, None, stranger_key)
    alone = problem(verify_ocsp, ocsp_answer(pki, signer=stranger, signer_key=stranger_key), pki.leaf, pki.ca, NOW)
    assert (alone.reason, str(alone)) == ("wrong_signer", "the OCSP response is signed neither by 'TEST CA' nor by "
                                                          "a responder certificate it delegated")
    other_ca_key = _key()
    other_ca = _cert("OTHER CA", other_ca_key, None, other_ca_key, ca=True)
    resp_key = _key()
    foreign = _cert("RESPONDER", resp_key, other_ca.subject, other_ca_key, eku=[ExtendedKeyUsageOID.OCSP_SIGNING])
    data = ocsp_answer(pki, signer=foreign, signer_key=resp_key, extra_certs=[foreign])
    assert str(problem(verify_ocsp, data, pki.leaf, pki.ca, NOW)) == (
        "the OCSP response is signed by 'RESPONDER', which 'TEST CA' did not issue")
    plain = _cert("RESPONDER", resp_key, pki.ca.subject, pki.ca_key)
    data = ocsp_answer(pki, signer=plain, signer_key=resp_key, extra_certs=[plain])
    assert str(problem(verify_ocsp, data, pki.leaf, pki.ca, NOW)) == (
        "the OCSP response is signed by 'RESPONDER', a certificate not delegated to sign OCSP responses")
    other_use = _cert("RESPONDER", resp_key, pki.ca.subject, pki.ca_key, eku=[ExtendedKeyUsageOID.CLIENT_AUTH])
    data = ocsp_answer(pki, signer=other_use, signer_key=resp_key, extra_certs=[other_use])
    assert problem(verify_ocsp, data, pki.leaf, pki.ca, NOW).reason == "wrong_signer"
    old = _cert("RESPONDER", resp_key, pki.ca.subject, pki.ca_key, eku=[ExtendedKeyUsageOID.OCSP_SIGNING],
                days=(-30, -1))
    data = ocsp_answer(pki, signer=old, signer_key=resp_key, extra_certs=[old])
    start, end = old.not_valid_before_utc, old.not_valid_after_utc
    assert str(problem(verify_ocsp, data, pki.leaf, pki.ca, NOW)) == (
        f"the OCSP responder certificate 'RESPONDER' is not valid now ({start:%Y-%m-%d %H:%M} UTC to "
        f"{end:%Y-%m-%d %H:%M} UTC)")
    good = _cert("RESPONDER", resp_key, pki.ca.subject, pki.ca_key, eku=[ExtendedKeyUsageOID.OCSP_SIGNING])
    data = ocsp_answer(pki, signer=good, signer_key=resp_key, extra_certs=[stranger, good])
    assert verify_ocsp(data, pki.leaf, pki.ca, NOW).signer == "RESPONDER"


def test_ocsp_clock_tolerance_edges():
    pki = make_pki()
    five = 5 * MINUTE
    assert verify_ocsp(ocsp_answer(pki, this_update=NOW + five), pki.leaf, pki.ca, NOW).status == "good"
    early = problem(verify_ocsp, ocsp_answer(pki, this_update=NOW + five + SECOND), pki.leaf, pki.ca, NOW)
    assert (early.reason, str(early)) == (
        "not_yet_valid", "the OCSP response was produced in the future (2026-03-01 12:05 UTC); check the computer's "
                         "clock")
    last = ocsp_answer(pki, this_update=NOW - 2 * HOUR, next_update=NOW - five)
    assert verify_ocsp(last, pki.leaf, pki.ca, NOW).status == "good"
    stale = problem(verify_ocsp, ocsp_answer(pki, this_update=NOW - 2 * HOUR, next_update=NOW - five - SECOND),
                    pki.leaf, pki.ca, NOW)
    assert (stale.reason, str(stale)) == ("stale", "the OCSP response is out of date: its next update was due on "
                                                   "2026-03-01 11:54 UTC")


def test_ocsp_without_next_update_is_good_for_four_days():
    pki = make_pki()
    four_days = revocation.OCSP_MAX_AGE
    assert four_days == dt.timedelta(days=4)
    fresh = ocsp_answer(pki, this_update=NOW - four_days, next_update=None)
    assert verify_ocsp(fresh, pki.leaf, pki.ca, NOW).next_update is None
    old = problem(verify_ocsp, ocsp_answer(pki, this_update=NOW - four_days - SECOND, next_update=None),
                  pki.leaf, pki.ca, NOW)
    assert str(old) == "the OCSP response dates from 2026-02-25 11:59 UTC and names no next update"


# -- CRL -------------------------------------------------------------------------------------------------------

def test_a_crl_answer_in_full():
    pki = make_pki()
    good = verify_crl(crl(pki, revoked=[(pki.other, None)]), pki.leaf, pki.ca, NOW)
    assert good == Answer("good", "crl", NOW - 2 * HOUR, NOW - 2 * HOUR, NOW + 24 * HOUR, signer="TEST CA")
    revoked = verify_crl(crl(pki, revoked=[(pki.leaf, x509.ReasonFlags.key_compromise)]), pki.leaf, pki.ca, NOW)
    assert revoked == Answer("revoked", "crl", NOW - 2 * HOUR, NOW - 2 * HOUR, NOW + 24 * HOUR,
                             NOW - 3 * 24 * HOUR, "keyCompromise", "TEST CA")
    silent = verify_crl(crl(pki, revoked=[(pki.leaf, None)]), pki.leaf, pki.ca, NOW)
    assert (silent.status, silent.reason) == ("revoked", None)
    back = verify_crl(crl(pki, revoked=[(pki.leaf, x509.ReasonFlags.remove_from_crl)]), pki.leaf, pki.ca, NOW)
    assert back == Answer("good", "crl", NOW - 2 * HOUR, NOW - 2 * HOUR, NOW + 24 * HOUR, signer="TEST CA")


def test_a_crl_object_and_certificate_bytes_are_accepted():
    pki = make_pki()
    data = crl(pki, revoked=[(pki.leaf, x509.ReasonFlags.ca_compromise)])
    answer = verify_crl(load_crl(data), der(pki.leaf), parse_certificate(der(pki.ca)), NOW.replace(tzinfo=None))
    assert (answer.status, answer.reason) == ("revoked", "cACompromise")
    assert verify_crl(data, bytearray(der(pki.leaf)), pki.ca, NOW).status == "revoked"


def test_crl_refusal_sentences():
    pki = make_pki()
    other = problem(verify_crl, crl(pki, issuer_name=pki.leaf.subject), pki.leaf, pki.ca, NOW)
    assert (other.reason, str(other)) == ("wrong_issuer", "the CRL was issued by 'CN=LEAF', not by 'TEST CA'")
    forged = problem(verify_crl, crl(pki, key=_key()), pki.leaf, pki.ca, NOW)
    assert (forged.reason, str(forged)) == ("bad_signature",
                                            "the CRL's signature does not verify with the key of 'TEST CA'")
    future = problem(verify_crl, crl(pki, last=NOW + HOUR), pki.leaf, pki.ca, NOW)
    assert str(future) == "the CRL was produced in the future (2026-03-01 13:00 UTC); check the computer's clock"
    stale = problem(verify_crl, crl(pki, last=NOW - 48 * HOUR, next_=NOW - HOUR), pki.leaf, pki.ca, NOW)
    assert str(stale) == "the CRL is out of date: its next update was due on 2026-03-01 11:00 UTC"
    junk = problem(load_crl, b"not a crl")
    assert junk.reason == "malformed" and str(junk).startswith("the answer is not a CRL (")


def test_crl_dates_and_pem():
    pki = make_pki()
    data = crl(pki)
    assert crl_next_update(data) == NOW + 24 * HOUR
    assert crl_next_update(b"junk") is None
    pem = load_crl(data).public_bytes(serialization.Encoding.PEM)
    assert load_crl(b"\n  " + pem).next_update_utc == NOW + 24 * HOUR


def test_the_default_moment_is_now():
    pki = make_pki()
    now = dt.datetime.now(UTC)
    data = (x509.CertificateRevocationListBuilder().issuer_name(pki.ca.subject).last_update(now - HOUR)
            .next_update(now + 24 * HOUR).sign(pki.ca_key, hashes.SHA256()).public_bytes(serialization.Encoding.DER))
    assert verify_crl(data, pki.leaf, pki.ca).status == "good"
    assert problem(verify_crl, data, pki.leaf, pki.ca, NOW).reason == "not_yet_valid"


def test_names_without_a_common_name():
    assert revocation._name(x509.load_der_x509_certificate(der(make_pki().ca))) == "TEST CA"
    no_cn = x509.Name([x509.NameAttribute(x509.oid.NameOID.ORGANIZATION_NAME, "ORG")])
    key = _key()
    cert = (x509.CertificateBuilder().subject_name(no_cn).issuer_name(no_cn).public_key(key.public_key())
            .serial_number(1).not_valid_before(NOW).not_valid_after(NOW + HOUR).sign(key, hashes.SHA256()))
    assert revocation._name(cert) == "O=ORG"
