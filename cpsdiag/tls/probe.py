"""The TLS client-authentication probe: what ANS's "Test SSL" step does, explained.

The probe connects with tlslite-ng, signs the handshake with the card, then
sends ``GET path``. It tries what the card can do: a card with RSA-PSS
(CPS4) negotiates freely; a PKCS#1-only card (CPS3) first tries TLS 1.3 (to
learn whether the server would make a browser use it: it then needs PSS) and
then TLS 1.2 with PKCS#1. Everything observed is kept for the judge.
"""

from __future__ import annotations

import socket
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Callable, Iterator, cast

from cpsdiag import __version__
from cpsdiag.card.signing import CannotSign
from cpsdiag.errors import SIGNATURE_REFUSED, UsageError
from cpsdiag.net.connect import connect
from cpsdiag.net.errors import NetError
from cpsdiag.net.proxy import ProxyServer, ProxySettings, Route, mask_url, route_to
from cpsdiag.net.url import BadUrl, Endpoint
from cpsdiag.net.url import parse_url as parse_endpoint
from cpsdiag.tls.signer import CardSigner

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric import rsa

TLS13, TLS12 = (3, 4), (3, 3)
MAX_URL_LENGTH = 2048               # what browsers and servers commonly accept
ATTEMPT_LABELS = {"tls13-pss": "TLS 1.3", "tls13": "TLS 1.3", "tls12-pkcs1": "TLS 1.2"}
VERSION_NAMES = {(3, 1): "TLS 1.0", (3, 2): "TLS 1.1", (3, 3): "TLS 1.2", (3, 4): "TLS 1.3"}


@dataclass
class CertRequest:
    ca_names: list[str]
    ca_names_der: list[bytes] = field(repr=False)
    signature_algorithms: list[str]


class AttemptResult(StrEnum):
    """How one TLS handshake ended (the report's ``tls.attempts[].outcome``)."""

    OK = "ok"
    ALERT = "alert"                          # alert_by says who sent it
    CARD_CANNOT_SIGN = "card_cannot_sign"    # the server wanted a scheme the card lacks
    CARD_ERROR = "card_error"
    CLOSED = "closed"
    TIMEOUT = "timeout"
    ERROR = "error"


@dataclass
class TlsAttempt:
    name: str                         # "tls13-pss", "tls13", "tls12-pkcs1"
    outcome: AttemptResult = AttemptResult.ERROR
    alert: str | None = None
    alert_by: str | None = None       # "server" | "client"
    alert_message: str | None = None
    version: str | None = None
    cipher: str | None = None
    schemes_used: list[str] = field(default_factory=list)
    cert_request: CertRequest | None = None
    http_status: int | None = None
    http_reason: str | None = None
    http_hint: str | None = None      # what the response body says about the client certificate
    http_body: bytes = field(default=b"", repr=False)   # first 4 KB, kept in memory only (not reported)
    error: str | None = None
    seconds: float = 0.0
    server_chain: list[bytes] = field(default_factory=list, repr=False)


@dataclass
class TlsProbeResult:
    target: Endpoint
    attempts: list[TlsAttempt] = field(default_factory=list)
    route: Route | None = None          # direct, or through which proxy (and why)
    connect_error: str | None = None
    connect_reason: str | None = None   # NetError.reason: dns | refused | timeout | unreachable | proxy_* ...
    net_error: NetError | None = None   # the typed failure, for the judge
    server: Any = None                  # cpsdiag.tls.trust.ServerTrust
    server_issuer: str | None = None    # who issued the certificate the "server" presented
    server_issuer_known: bool | None = None  # a public or IGC-Santé authority (checked when a proxy is in the path)
    card_issuer_accepted: bool | None = None
    card_schemes: tuple[str, ...] = ()


def parse_url(url: str) -> Endpoint:
    """The --tls URL, or a usage error naming what is wrong (before the card is touched)."""
    from cpsdiag.printable import shown

    if len(url) > MAX_URL_LENGTH:
        raise UsageError(f"--tls: a URL of {len(url)} characters (at most {MAX_URL_LENGTH})")
    if any(ch.isspace() or not ch.isprintable() for ch in url):
        raise UsageError(f"--tls {shown(mask_url(url))}: a URL cannot hold spaces or control characters")
    try:
        return parse_endpoint(url, ("https",))
    except BadUrl as exc:
        raise UsageError(f"--tls {shown(mask_url(url))}: {exc}") from None


def _scheme_name(alg: tuple[int, int]) -> str:
    from tlslite.constants import HashAlgorithm, SignatureAlgorithm, SignatureScheme

    name: str | None = SignatureScheme.toRepr(alg)
    if name:
        return name
    return f"{HashAlgorithm.toStr(alg[0])}+{SignatureAlgorithm.toStr(alg[1])}"


def _dn_text(der: bytes) -> str:
    from asn1crypto import x509 as a509

    try:
        text: str = a509.Name.load(der).human_friendly
        return text
    except Exception:  # a malformed name from the network is shown as hex, never a crash
        return der.hex()


def _cert_request(msg: Any) -> CertRequest:
    ca_der = [bytes(dn) for dn in (getattr(msg, "certificate_authorities", None) or [])]
    for ext in getattr(msg, "extensions", None) or []:
        if getattr(ext, "extType", None) == 47 and getattr(ext, "extData", None):   # certificate_authorities
            data = bytes(ext.extData)
            i = 2
            while i + 2 <= len(data):
                n = int.from_bytes(data[i:i + 2], "big")
                ca_der.append(data[i + 2:i + 2 + n])
                i += 2 + n
    algs = [_scheme_name(tuple(a)) for a in (getattr(msg, "supported_signature_algs", None) or [])]
    return CertRequest([_dn_text(d) for d in ca_der], ca_der, algs)


@contextmanager
def _capture_certificate_requests(sink: list[Any]) -> Iterator[None]:
    # tlslite does not expose the server's CertificateRequest after the handshake.
    from tlslite import messages

    original = messages.CertificateRequest.parse

    def parse(self, parser):  # type: ignore[no-untyped-def]
        result = original(self, parser)
        sink.append(result)
        return result

    messages.CertificateRequest.parse = parse
    try:
        yield
    finally:
        messages.CertificateRequest.parse = original


def _settings(name: str) -> Any:
    from tlslite import HandshakeSettings

    st = HandshakeSettings()
    # Browsers prefer SHA-256; tlslite's own order starts with SHA-512.
    st.rsaSigHashes = ["sha256", "sha384", "sha512"]
    # tlslite 0.8 compresses the client certificate whenever its own ClientHello
    # offers compression; OpenSSL 3.0 servers then abort (lab.md pitfall 18).
    st.certificate_compression_send = []
    if name == "tls13":
        st.minVersion = st.maxVersion = TLS13
        st.rsaSchemes = ["pss", "pkcs1"]      # the server must be able to sign its own CertificateVerify
    elif name == "tls12-pkcs1":
        st.maxVersion = TLS12
        st.rsaSchemes = ["pkcs1"]
    else:
        st.rsaSchemes = ["pss", "pkcs1"]
    return st.validate()


_CLIENT_CERT_HINTS = ("ssl certificate error", "no required ssl certificate", "certificate verify failed",
                      "certificate was not accepted")


def _http_get(conn: Any, target: Endpoint, attempt: TlsAttempt) -> None:
    request = (f"GET {target.path} HTTP/1.1\r\nHost: {target.host_header}\r\nUser-Agent: cpsdiag/{__version__}\r\n"
               "Accept: application/json, text/html;q=0.9\r\nConnection: close\r\n\r\n")
    from tlslite.errors import TLSAbruptCloseError

    conn.write(request.encode())
    data = bytearray()
    while len(data) < 65536:
        try:
            chunk = conn.read(max=16384)
        except TLSAbruptCloseError:
            # Many servers close after "Connection: close" without a close_notify.
            if data:
                break
            raise
        if not chunk:
            break
        data += chunk
        if b"\r\n\r\n" in data and len(data) > 4096:
            break
    head, _, body = bytes(data).partition(b"\r\n\r\n")
    status_line = head.split(b"\r\n", 1)[0].decode("latin-1", "replace")
    parts = status_line.split(" ", 2)
    if len(parts) >= 2 and parts[1].isdigit():
        attempt.http_status = int(parts[1])
        attempt.http_reason = parts[2] if len(parts) > 2 else ""
    attempt.http_body = body[:4096]
    text = body[:4096].decode("utf-8", "replace").lower()
    attempt.http_hint = next((h for h in _CLIENT_CERT_HINTS if h in text), None)


def _attempt(name: str, target: Endpoint, proxy: ProxyServer | None, chain: Any, key: Any,
             timeout: float) -> TlsAttempt:
    from tlslite import TLSConnection
    from tlslite.constants import AlertDescription, CipherSuite
    from tlslite.errors import TLSAbruptCloseError, TLSError, TLSLocalAlert, TLSRemoteAlert

    attempt = TlsAttempt(name)
    start = time.perf_counter()
    requests: list[Any] = []
    sock = connect(target.host, target.port, proxy, timeout)
    conn = TLSConnection(sock)
    try:
        with _capture_certificate_requests(requests):
            try:
                # No SNI for an IP address (RFC 6066 §3), as browsers do; tlslite refuses one anyway.
                conn.handshakeClientCert(chain, key, settings=_settings(name), serverName=target.server_name)
                attempt.version = VERSION_NAMES.get(tuple(conn.version), str(conn.version))
                suite = conn.session.cipherSuite
                attempt.cipher = CipherSuite.ietfNames.get(suite, conn.getCipherName())
                if conn.session.serverCertChain is not None:
                    attempt.server_chain = [bytes(c.bytes) for c in conn.session.serverCertChain.x509List]
                # A TLS 1.3 server judges the client certificate after the client's
                # Finished: a refusal arrives as an alert on the first read.
                _http_get(conn, target, attempt)
                attempt.outcome = AttemptResult.OK
            except TLSRemoteAlert as exc:
                attempt.outcome, attempt.alert_by = AttemptResult.ALERT, "server"
                attempt.alert = AlertDescription.toStr(exc.description)
            except TLSLocalAlert as exc:
                attempt.outcome, attempt.alert_by = AttemptResult.ALERT, "client"
                attempt.alert = AlertDescription.toStr(exc.description)
                attempt.alert_message = exc.message
            except CannotSign as exc:
                attempt.outcome, attempt.error = AttemptResult.CARD_CANNOT_SIGN, exc.scheme
            except TLSAbruptCloseError:
                attempt.outcome = AttemptResult.CLOSED
            except socket.timeout:
                attempt.outcome, attempt.error = AttemptResult.TIMEOUT, f"no answer in {timeout:.0f} s"
            except SIGNATURE_REFUSED as exc:      # the card or the middleware refused to sign: reported
                attempt.outcome, attempt.error = AttemptResult.CARD_ERROR, str(exc)
            except (TLSError, OSError) as exc:
                attempt.outcome, attempt.error = AttemptResult.ERROR, f"{type(exc).__name__}: {exc}"
    finally:
        attempt.seconds = round(time.perf_counter() - start, 4)
        attempt.schemes_used = list(key.used)
        key.used.clear()
        if requests:
            attempt.cert_request = _cert_request(requests[-1])
        if not attempt.server_chain and getattr(conn, "session", None) is not None:
            chain_obj = getattr(conn.session, "serverCertChain", None)
            if chain_obj is not None:
                attempt.server_chain = [bytes(c.bytes) for c in chain_obj.x509List]
        try:
            sock.close()
        except OSError:
            pass
    return attempt


def probe(url: str, signer: CardSigner, client_cert_der: bytes, *, issuer_der: bytes | None = None,
          ca_file: Any = None, timeout: float = 10.0, proxies: ProxySettings | None = None,
          on_attempt: Callable[[str], None] | None = None) -> TlsProbeResult:
    """Run the handshakes the card's capabilities call for against ``url`` (through the proxy that applies).

    ``on_attempt("host:port (TLS 1.3)")`` is told of each handshake as it starts (a progress display);
    through a proxy it reads ``"host:port (TLS 1.3, proxy http://proxy:3128)"``."""
    from cryptography import x509
    from tlslite import X509, X509CertChain

    from cpsdiag.tls.cardkey import CardRSAKey
    from cpsdiag.tls.trust import verify_server

    target = parse_url(url)
    route = route_to(target, proxies)
    result = TlsProbeResult(target, route=route, card_schemes=tuple(signer.schemes))
    cert = X509()
    cert.parseBinary(bytearray(client_cert_der))
    chain = X509CertChain([cert])
    # CPS cards carry RSA keys; the cast only informs the type checker (another key type fails here as before).
    numbers = cast("rsa.RSAPublicKey", x509.load_der_x509_certificate(client_cert_der).public_key()).public_numbers()
    key = CardRSAKey(numbers.n, numbers.e, signer)
    plan = ["tls13-pss"] if "pss" in signer.schemes else ["tls13", "tls12-pkcs1"]
    via = f", proxy {route.proxy.url}" if route.proxy is not None else ""
    for name in plan:
        if on_attempt is not None:
            on_attempt(f"{target.authority} ({ATTEMPT_LABELS[name]}{via})")
        try:
            attempt = _attempt(name, target, route.proxy, chain, key, timeout)
        except NetError as exc:
            result.connect_error, result.connect_reason, result.net_error = str(exc), exc.reason, exc
            break
        result.attempts.append(attempt)
        if result.server is None and attempt.server_chain:
            result.server = verify_server(attempt.server_chain, target.host, ca_file)
            _issuer_facts(result, attempt.server_chain)
        if attempt.cert_request and issuer_der is not None and attempt.cert_request.ca_names_der:
            result.card_issuer_accepted = issuer_der in attempt.cert_request.ca_names_der
    return result


def _issuer_facts(result: TlsProbeResult, chain_der: list[bytes]) -> None:
    from cpsdiag.tls.intercept import issued_by_known_authority, issuer_name

    result.server_issuer = issuer_name(chain_der)
    if result.route is not None and result.route.proxy is not None:
        # Only a proxy in the path makes the question worth the public list's loading.
        result.server_issuer_known = issued_by_known_authority(chain_der)
