"""A local "Test SSL" server: HTTPS that requires a client certificate and shows what it read.

It answers the page professionals know from ANS's Test SSL (organisation,
authority, class, given name, surname, identifier, serial, dates,
verification) as HTML, or as JSON for ``Accept: application/json``. It trusts
the bundled IGC-Santé authorities plus ``--anchors``. Python's ssl module
checks the chain; the page says what cpsdiag's own validation concludes.
"""

from __future__ import annotations

import datetime as dt
import errno
import html
import ipaddress
import json
import shutil
import socket
import ssl
import tempfile
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from cpsdiag import __version__
from cpsdiag.errors import UsageError
from cpsdiag.i18n import _
from cpsdiag.printable import escape_controls, shown

VERSIONS = {"1.2": ssl.TLSVersion.TLSv1_2, "1.3": ssl.TLSVersion.TLSv1_3}


@dataclass
class ServerConfig:
    host: str = "127.0.0.1"
    port: int = 8443
    anchors: tuple[Path, ...] = ()
    bundled: bool = True
    versions: tuple[str, ...] = ("1.2", "1.3")
    cert: Path | None = None
    key: Path | None = None
    ca_out: Path | None = None


def make_server_certificate(hosts: list[str], folder: Path) -> tuple[Path, Path, Path]:
    """An ephemeral CA and a server certificate for ``hosts``; returns (cert, key, ca) paths."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = dt.datetime.now(dt.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "cpsdiag testssl-server"),
                         x509.NameAttribute(NameOID.COMMON_NAME, "cpsdiag testssl-server CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
          .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(hours=1))
          .not_valid_after(now + dt.timedelta(days=30))
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
          .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    names: list[x509.GeneralName] = []
    for h in dict.fromkeys(hosts):
        try:
            names.append(x509.IPAddress(ipaddress.ip_address(h)))
        except ValueError:
            names.append(x509.DNSName(h.encode("idna").decode("ascii")))     # an IDN in its DNS form
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hosts[0])]))
            .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(hours=1)).not_valid_after(now + dt.timedelta(days=30))
            .add_extension(x509.SubjectAlternativeName(names), critical=False)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))
    folder.mkdir(parents=True, exist_ok=True)
    paths = (folder / "server.pem", folder / "server.key", folder / "ca.pem")
    paths[0].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    paths[1].chmod(0o600)
    paths[2].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    return paths


def trust_bundle(config: ServerConfig) -> tuple[str, list[Any]]:
    """PEM text of every anchor the server trusts (bundled IGC-Santé CAs + --anchors), and the parsed list."""
    from cryptography.hazmat.primitives.serialization import Encoding

    from cpsdiag.pki.anchors import load_extra_anchors, production_anchors

    infos = [a.info for a in production_anchors()] if config.bundled else []
    infos += load_extra_anchors(config.anchors)
    pem = "".join(i.certificate.public_bytes(Encoding.PEM).decode() for i in infos)
    return pem, infos


def describe_client(der: bytes, anchors: list[Any]) -> dict[str, Any]:
    """What the Test SSL page shows about a client certificate, as data."""
    from cpsdiag.pki.certinfo import parse_certificate
    from cpsdiag.pki.chain import validate_chain

    info = parse_certificate(der, where="client certificate")
    chain = validate_chain(info, anchors=anchors)
    issuer = dict(info.issuer_attributes)
    ous = [v for o, v in info.issuer_attributes if o == "2.5.4.11"]
    holder = info.holder
    return {
        "organisation": issuer.get("2.5.4.10"), "authority": " / ".join(ous) or None,
        "class": info.issuer_display, "given_name": holder.given_name, "surname": holder.surname,
        "identifier": holder.common_name, "profession": info.profession_label or holder.title,
        "serial": info.serial_hex, "not_before": info.not_before.isoformat(), "not_after": info.not_after.isoformat(),
        "verification": "SUCCESS" if chain.trusted else "FAILURE", "detail": chain.detail or None,
        "test_card": info.test_card, "card_number": info.card_number,
    }


_PAGE = """<!doctype html><html lang="{lang}"><head><meta charset="utf-8"><title>Test SSL — cpsdiag</title>
<style>body{{font-family:sans-serif;margin:2em}}table{{border-collapse:collapse}}th{{text-align:left;background:#dde;
padding:.3em 1em}}td{{padding:.2em 1em;border-bottom:1px solid #ccc}}.ok{{color:#070;font-weight:bold}}
.ko{{color:#a00;font-weight:bold}}</style></head><body><h1>{title}</h1><table>{rows}</table>
<p><small>cpsdiag {version} testssl-server — {tls}</small></p></body></html>"""


def render_page(data: dict[str, Any], tls: str, lang: str) -> str:
    def row(label: str, value: Any, cls: str = "") -> str:
        value = "" if value is None else html.escape(str(value))
        return f"<tr><td>{html.escape(label)}</td><td class='{cls}'>{value}</td></tr>"

    rows = [f"<tr><th colspan=2>{_('IGC CPS')}</th></tr>",
            row(_("Organisation"), data["organisation"]), row(_("Authority"), data["authority"]),
            row(_("Class"), data["class"]),
            f"<tr><th colspan=2>{html.escape(_('Identity'))}</th></tr>",
            row(_("Given name"), data["given_name"]), row(_("Surname"), data["surname"]),
            row(_("Identifier"), data["identifier"]), row(_("Profession"), data["profession"]),
            f"<tr><th colspan=2>{html.escape(_('Authentication certificate'))}</th></tr>",
            row(_("Serial number"), data["serial"]), row(_("Valid from"), data["not_before"]),
            row(_("Expires on"), data["not_after"]),
            row(_("Verification"), data["verification"], "ok" if data["verification"] == "SUCCESS" else "ko")]
    if data.get("detail"):
        rows.append(row("", data["detail"]))
    return _PAGE.format(lang=lang, title=html.escape(_("Information about your CPS card")), rows="".join(rows),
                        version=__version__, tls=html.escape(tls))


class _Handler(BaseHTTPRequestHandler):
    server_version = f"cpsdiag-testssl/{__version__}"
    anchors: list[Any] = []
    lang = "fr"

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        conn = self.request
        der = conn.getpeercert(binary_form=True)
        tls = f"{conn.version()} {conn.cipher()[0]}"
        if der is None:     # cannot happen with CERT_REQUIRED, kept for a server run without it
            self._send(403, "text/plain", b"client certificate required\n")
            return
        try:
            data = describe_client(der, self.anchors)
        except Exception as exc:  # a certificate the parser refuses still gets an answer
            self._send(400, "text/plain", f"client certificate unreadable: {exc}\n".encode())
            return
        if "application/json" in (self.headers.get("Accept") or ""):
            self._send(200, "application/json", json.dumps({**data, "tls": tls}, ensure_ascii=False).encode())
        else:
            self._send(200, "text/html; charset=utf-8", render_page(data, tls, self.lang).encode())

    def _send(self, status: int, ctype: str, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, fmt: str, *args: Any) -> None:
        import sys

        # The request line comes from the network: its control characters must not reach the terminal raw.
        sys.stderr.write(escape_controls(f"testssl-server: {self.address_string()} {fmt % args}") + "\n")


def server_url(host: str, port: int) -> str:
    """The URL clients use: a wildcard address becomes the loopback, an IPv6 address goes in brackets."""
    host = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(host, host)
    return f"https://[{host}]:{port}/" if ":" in host else f"https://{host}:{port}/"


def _check_certificate_and_key(cert: Path, key: Path) -> None:
    """Name which of --cert and --key is wrong (OpenSSL only says "PEM lib")."""
    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    try:
        certificate = x509.load_pem_x509_certificates(Path(cert).read_bytes())[0]
    except (ValueError, IndexError, OSError):
        raise UsageError(f"--cert {shown(cert)}: no PEM certificate in it (-----BEGIN CERTIFICATE-----)") from None
    try:
        private_key = load_pem_private_key(Path(key).read_bytes(), password=None)
    except TypeError:
        raise UsageError(f"--key {shown(key)}: the private key is encrypted; give it unencrypted") from None
    except Exception:  # cryptography's errors vary with the key type: all mean "not a key"
        raise UsageError(f"--key {shown(key)}: no PEM private key in it (-----BEGIN PRIVATE KEY-----)") from None
    # Any key type may be given; the comparison is meant for the RSA and EC keys a test server uses.
    if private_key.public_key().public_numbers() != certificate.public_key().public_numbers():  # type: ignore[union-attr]
        raise UsageError(f"--key {shown(key)}: this key does not belong to the certificate {shown(cert)}")


def _tls_context(config: ServerConfig, cert: Path, key: Path, pem: str) -> ssl.SSLContext:
    if config.cert is not None:
        _check_certificate_and_key(cert, key)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    try:
        context.load_cert_chain(str(cert), str(key))
    except (ssl.SSLError, OSError, ValueError) as exc:
        # OpenSSL's own words ("PEM lib", "key values mismatch") say which of the two is wrong.
        reason = getattr(exc, "reason", None) or getattr(exc, "strerror", None) or str(exc)
        raise UsageError(f"--cert {shown(cert)} --key {shown(key)}: not a PEM certificate and its private key "
                         f"({reason})") from None
    context.verify_mode = ssl.CERT_REQUIRED
    context.load_verify_locations(cadata=pem)
    context.minimum_version = VERSIONS[min(config.versions)]
    context.maximum_version = VERSIONS[max(config.versions)]
    return context


class TestSslServer(ThreadingHTTPServer):
    """The HTTPS server; closing it also removes the folder of its ephemeral certificate."""

    temp_folder: Path | None = None

    def server_close(self) -> None:
        super().server_close()
        if self.temp_folder is not None:
            shutil.rmtree(self.temp_folder, ignore_errors=True)
            self.temp_folder = None


def _bind(config: ServerConfig, handler: type) -> TestSslServer:
    """The listening server; a UsageError naming --host or --port when the address cannot be used."""
    try:
        family = socket.AF_INET6 if ipaddress.ip_address(config.host).version == 6 else socket.AF_INET
    except ValueError:
        family = socket.AF_INET
    server_class: type[TestSslServer] = type("Server", (TestSslServer,), {"address_family": family, "daemon_threads": True})
    try:
        return server_class((config.host, config.port), handler)
    except socket.gaierror as exc:
        raise UsageError(f"--host {shown(config.host)}: cannot be resolved ({exc.strerror or exc})") from None
    except UnicodeError as exc:
        raise UsageError(f"--host {shown(config.host)}: not a valid host name ({exc})") from None
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise UsageError(f"--port {config.port}: already in use on {config.host} (another program listens "
                             "there; choose another port)") from None
        if exc.errno == errno.EACCES:
            raise UsageError(f"--port {config.port}: this user may not listen on it (ports below 1024 need "
                             "privileges)") from None
        if exc.errno == errno.EADDRNOTAVAIL:
            raise UsageError(f"--host {shown(config.host)}: not an address of this computer") from None
        raise UsageError(f"--host {shown(config.host)} --port {config.port}: cannot listen there "
                         f"({exc.strerror or exc})") from None


def build_server(config: ServerConfig, lang: str = "fr") -> tuple[TestSslServer, Path]:
    """The server, ready to serve_forever(), and the CA file clients should trust for it.

    Raises UsageError, naming the option, for an address that cannot be used or a certificate
    and key that cannot be loaded. An ephemeral certificate lives in a temporary folder until
    server_close(); its private key is deleted as soon as it is loaded, so that not even a
    killed server leaves it behind.
    """
    folder = None
    if config.cert and config.key:
        cert, key, ca = config.cert, config.key, config.cert
    else:
        folder = Path(tempfile.mkdtemp(prefix="cpsdiag-testssl-"))
        hosts = [config.host, "localhost", "127.0.0.1", "::1"] if config.host not in ("0.0.0.0", "::") else \
            ["localhost", "127.0.0.1", "::1"]
    try:
        if folder is not None:
            cert, key, ca = make_server_certificate(hosts, folder)
        pem, infos = trust_bundle(config)
        context = _tls_context(config, cert, key, pem)
        if folder is not None:
            Path(key).unlink()
        if config.ca_out:
            try:
                Path(config.ca_out).write_bytes(Path(ca).read_bytes())
            except OSError as exc:
                raise UsageError(f"--ca-out {shown(config.ca_out)}: cannot write ({exc.strerror or exc})") from None
            ca = Path(config.ca_out)
        handler = type("Handler", (_Handler,), {"anchors": infos, "lang": lang})
        server = _bind(config, handler)
    except BaseException:
        if folder is not None:
            shutil.rmtree(folder, ignore_errors=True)
        raise
    server.temp_folder = folder
    server.socket = context.wrap_socket(server.socket, server_side=True)
    return server, Path(ca)


def serve_in_thread(config: ServerConfig, lang: str = "fr") -> tuple[TestSslServer, Path, threading.Thread]:
    server, ca = build_server(config, lang)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return server, ca, thread
