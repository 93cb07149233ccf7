"""Why a server is not trusted, in words a user can act on (cpsdiag.tls.trust), on real certificates."""

from __future__ import annotations

import datetime as dt
import warnings

import pytest

from cpsdiag.tls.server import make_server_certificate
from cpsdiag.tls.trust import verify_server


def der(path) -> bytes:
    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import Encoding

    return x509.load_pem_x509_certificate(path.read_bytes()).public_bytes(Encoding.DER)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """An ephemeral CA and a server certificate for localhost, as testssl-server makes them."""
    cert, _key, ca = make_server_certificate(["localhost", "127.0.0.1"], tmp_path_factory.mktemp("server"))
    return cert, ca


def test_an_unknown_authority_is_named_without_warnings_or_developer_jargon(server):
    cert, _ca = server
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        trust = verify_server([der(cert)], "localhost")
    # Reading the system's store must not print cryptography's warnings about odd certificates in it.
    assert [str(w.message) for w in caught] == []
    assert trust.trusted is False and trust.store == "system" and trust.reason == "unknown_issuer"
    assert "cpsdiag testssl-server CA" in trust.issuer
    assert trust.detail.startswith("it was issued by CN=cpsdiag testssl-server CA")
    assert "this computer's trust store" in trust.detail
    assert "candidates exhausted" not in trust.detail


def test_the_right_authority_trusts_the_server(server):
    cert, ca = server
    trust = verify_server([der(cert)], "localhost", ca_file=ca)
    assert trust.trusted is True and trust.reason is None


def test_another_name_is_a_name_mismatch(server):
    cert, ca = server
    trust = verify_server([der(cert)], "intranet.example", ca_file=ca)
    assert trust.reason == "name_mismatch"
    assert trust.detail == "the certificate is for localhost, 127.0.0.1, not for intranet.example"


def test_an_expired_certificate_says_when(server):
    cert, ca = server
    later = dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=400)
    trust = verify_server([der(cert)], "localhost", ca_file=ca, at=later)
    assert trust.reason == "expired" and trust.detail.startswith("the certificate expired on ")


def test_a_self_signed_certificate_is_said_so(server):
    _cert, ca = server
    trust = verify_server([der(ca)], "localhost")
    assert trust.reason == "self_signed" and "self-signed" in trust.detail


def test_the_finding_reads_as_an_explanation_in_both_languages(server):
    from cpsdiag.findings.catalog import render
    from cpsdiag.findings.model import Finding, Severity
    from cpsdiag.i18n import set_language

    cert, _ca = server
    trust = verify_server([der(cert)], "localhost")
    params = {"url": "https://localhost/", "subject": trust.subject, "detail": trust.detail, "store": trust.store,
              "why": trust.reason, "authority": trust.issuer, "host": "localhost", "names": ", ".join(trust.names),
              "not_after": trust.not_after[:10], "verifier": trust.verifier}
    english = render(Finding("TLS_SERVER_UNTRUSTED", Severity.ERROR, "tls", params))
    assert english.detail == (f"CN=localhost: it was issued by {trust.issuer}, an authority not in this computer's "
                              "trust store.")
    set_language("fr")
    french = render(Finding("TLS_SERVER_UNTRUSTED", Severity.ERROR, "tls", params))
    assert french.detail == (f"CN=localhost : il a été émis par {trust.issuer}, une autorité qui ne figure pas dans "
                             "le magasin de certificats de confiance de cet ordinateur.")


def test_a_tls_ca_file_without_certificates_is_a_usage_error(tmp_path):
    from cpsdiag.errors import UsageError
    from cpsdiag.tls.trust import read_trust_store

    junk = tmp_path / "ca.pem"
    junk.write_bytes(b"\x00\x01 not PEM")
    with pytest.raises(UsageError, match="--tls-ca '.*ca.pem': no PEM certificate"):
        read_trust_store(junk)


def test_an_international_name_is_matched_in_its_dns_form(tmp_path):
    cert, _key, ca = make_server_certificate(["bücher.example"], tmp_path)
    trust = verify_server([der(cert)], "bücher.example", ca_file=ca)
    assert trust.trusted is True and trust.names == ("xn--bcher-kva.example",)
