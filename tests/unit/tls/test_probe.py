"""The TLS probe (tlslite-ng) against cpsdiag's real testssl-server, with a software key in place of a card.

Run on every CPython scripts/test finds: tlslite-ng 0.8 imports asyncore, which Python 3.12 removed (its
import is guarded in tlslite's api.py); the probe must import and complete a handshake on each.
"""

from __future__ import annotations

import datetime as dt
import json
import sys

import pytest

from cpsdiag.card.signing import DIGEST_INFO_PREFIX


class SoftwareSigner:
    """A CardSigner whose key is in memory: what the card does, done by cryptography."""

    def __init__(self, key, schemes: tuple[str, ...]):
        self.key = key
        self.schemes = schemes

    def _hash(self, name: str):
        from cryptography.hazmat.primitives import hashes

        return {"sha1": hashes.SHA1(), "sha256": hashes.SHA256(), "sha384": hashes.SHA384(),
                "sha512": hashes.SHA512()}[name]

    def sign_pkcs1(self, digest_info: bytes) -> bytes:
        from cryptography.hazmat.primitives.asymmetric import padding, utils

        name, prefix = next((n, p) for n, p in DIGEST_INFO_PREFIX.items() if digest_info.startswith(p))
        return self.key.sign(digest_info[len(prefix):], padding.PKCS1v15(), utils.Prehashed(self._hash(name)))

    def sign_pss(self, hash_name: str, digest: bytes) -> bytes:
        from cryptography.hazmat.primitives.asymmetric import padding, utils

        from cpsdiag.card.signing import CannotSign

        if "pss" not in self.schemes:            # like a CPS3: PKCS#1 only
            raise CannotSign("rsa_pss")
        algorithm = self._hash(hash_name)
        return self.key.sign(digest, padding.PSS(padding.MGF1(algorithm), algorithm.digest_size),
                             utils.Prehashed(algorithm))


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    """A client CA (given to the server as --anchors) and a client certificate with its RSA key."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.hazmat.primitives.serialization import Encoding
    from cryptography.x509.oid import NameOID

    folder = tmp_path_factory.mktemp("client")
    now = dt.datetime.now(dt.timezone.utc)
    ca_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "probe test CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
          .serial_number(1).not_valid_before(now - dt.timedelta(hours=1)).not_valid_after(now + dt.timedelta(days=1))
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
          .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
          .sign(ca_key, hashes.SHA256()))
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    cert = (x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "probe")]))
            .issuer_name(ca_name).public_key(key.public_key()).serial_number(2)
            .not_valid_before(now - dt.timedelta(hours=1)).not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.KeyUsage(True, False, False, False, False, False, False, False, False), critical=True)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))
    (folder / "ca.pem").write_bytes(ca.public_bytes(Encoding.PEM))
    return folder / "ca.pem", cert.public_bytes(Encoding.DER), key


@pytest.fixture(scope="module")
def server(client, tmp_path_factory):
    from cpsdiag.tls.server import ServerConfig, serve_in_thread

    config = ServerConfig(port=0, anchors=(client[0],), ca_out=tmp_path_factory.mktemp("server") / "ca.pem")
    httpd, ca, _thread = serve_in_thread(config, "en")
    yield f"https://127.0.0.1:{httpd.server_address[1]}/", ca
    httpd.shutdown()
    httpd.server_close()


@pytest.mark.parametrize("schemes,expected", [
    (("pkcs1", "pss"), [("tls13-pss", "ok", "TLS 1.3")]),
    (("pkcs1",), [("tls13", "card_cannot_sign", None), ("tls12-pkcs1", "ok", "TLS 1.2")]),
], ids=["pss-key", "pkcs1-only-key"])
def test_the_probe_completes_a_client_authenticated_handshake(client, server, schemes, expected):
    from cpsdiag.tls.probe import probe

    _ca, cert_der, key = client
    url, server_ca = server
    steps: list[str] = []
    result = probe(url, SoftwareSigner(key, schemes), cert_der, ca_file=server_ca, timeout=10,
                   on_attempt=steps.append)
    assert [(a.name, a.outcome, a.version) for a in result.attempts] == expected, result
    port = url.rsplit(":", 1)[1].rstrip("/")
    assert steps == [f"127.0.0.1:{port} ({'TLS 1.2' if name == 'tls12-pkcs1' else 'TLS 1.3'})"
                     for name, _, _ in expected]
    ok = result.attempts[-1]
    assert ok.http_status == 200 and json.loads(ok.http_body)["identifier"] == "probe"
    assert result.server is not None and result.server.trusted is True


def test_tlslite_imports_on_this_python():
    """On 3.12+ asyncore is gone: tlslite's optional asyncore integration is skipped, the rest imports."""
    import tlslite
    from tlslite import TLSConnection  # noqa: F401  (what the probe uses)

    import cpsdiag.tls.probe  # noqa: F401

    has_asyncore = sys.version_info < (3, 12)
    assert hasattr(tlslite, "TLSAsyncDispatcherMixIn") is has_asyncore
