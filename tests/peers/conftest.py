"""Fixtures for tests against third-party peers: TLS servers (nginx, openssl s_server)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from cpsdiag.tls.server import make_server_certificate
from tests.support.net import free_port, wait_port
from tests.support.prerequisites import require


# Names the tests resolve through /etc/hosts in their private mount namespace (never "localhost": a proxy bug
# must not hide behind a special case). The second is an IDN: "santé".
SERVICE_HOST = "cps-service.cpsdiag.test"
IDN_HOST, IDN_ASCII = "santé.cpsdiag.test", "xn--sant-epa.cpsdiag.test"
PROXY_HOST = "proxy.cpsdiag.test"


@pytest.fixture(scope="module")
def server_cert(tmp_path_factory):
    return make_server_certificate(["localhost", "127.0.0.1", "::1", SERVICE_HOST, IDN_ASCII],
                                   tmp_path_factory.mktemp("server-cert"))


@pytest.fixture(scope="session")
def test_hosts(stack, tmp_path_factory):
    """SERVICE_HOST, IDN_HOST and PROXY_HOST on loopback, by a bind mount over /etc/hosts in the test namespace."""
    stack.require_managed()         # the bind mount must stay inside the test run's own mount namespace
    hosts = tmp_path_factory.mktemp("hosts") / "hosts"
    original = Path("/etc/hosts").read_text() if Path("/etc/hosts").exists() else ""
    hosts.write_text(original + f"\n127.0.0.1 {SERVICE_HOST} {IDN_ASCII} {PROXY_HOST}\n")
    hosts.chmod(0o644)
    subprocess.run(["mount", "--bind", str(hosts), "/etc/hosts"], check=True)
    yield {"service": SERVICE_HOST, "idn": IDN_HOST, "idn_ascii": IDN_ASCII, "proxy": PROXY_HOST}
    subprocess.run(["umount", "/etc/hosts"], check=False)


def ipv6_loopback() -> bool:
    import socket

    try:
        with socket.socket(socket.AF_INET6) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


class Servers:
    """Server processes started by one test, stopped at its end."""

    def __init__(self) -> None:
        self.procs: list[subprocess.Popen] = []

    def spawn(self, argv: list[str], port: int) -> int:
        self.procs.append(subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                           stderr=subprocess.DEVNULL))
        wait_port(port)
        return port

    def stop(self) -> None:
        for proc in self.procs:
            proc.terminate()
            proc.wait(10)


@pytest.fixture
def servers():
    started = Servers()
    yield started
    started.stop()


@pytest.fixture
def nginx(tmp_path, server_cert, pki, stack, servers):
    binary = require("nginx")

    def start(protocols: str, ipv6: bool = False, certificate: tuple[Path, Path, Path] | None = None) -> int:
        port = free_port()
        cert, key, _ca = certificate or server_cert
        if ipv6 and not ipv6_loopback():
            pytest.fail("no IPv6 loopback in the test namespace (ip -6 addr show dev lo)")
        listen6 = f"listen [::1]:{port} ssl;" if ipv6 else ""
        conf = tmp_path / f"nginx-{port}.conf"
        conf.write_text(f"""
daemon off; worker_processes 1; pid {tmp_path}/nginx-{port}.pid; error_log {tmp_path}/error-{port}.log info;
{"user root;" if os.geteuid() == 0 else ""}
events {{ worker_connections 16; }}
http {{
  access_log off;
  client_body_temp_path {tmp_path}/body; proxy_temp_path {tmp_path}/proxy; fastcgi_temp_path {tmp_path}/fcgi;
  uwsgi_temp_path {tmp_path}/uwsgi; scgi_temp_path {tmp_path}/scgi;
  server {{
    listen 127.0.0.1:{port} ssl; {listen6} server_name localhost;
    ssl_certificate {cert}; ssl_certificate_key {key};
    ssl_protocols {protocols};
    ssl_client_certificate {pki.anchors}; ssl_verify_client on; ssl_verify_depth 3;
    location / {{ default_type text/plain; return 200 "client $ssl_client_s_dn\\n"; }}
  }}
}}
""")
        return servers.spawn([binary, "-c", str(conf), "-p", str(tmp_path)], port)

    return start


@pytest.fixture
def s_server(tmp_path, server_cert, stack, servers):
    openssl = require("openssl")

    def start(ca_file: Path, *extra: str) -> int:
        port = free_port()
        cert, key, _ = server_cert
        return servers.spawn([openssl, "s_server", "-accept", f"127.0.0.1:{port}", "-cert", str(cert),
                              "-key", str(key), "-Verify", "2", "-verify_return_error", "-CAfile", str(ca_file),
                              "-www", *extra], port)

    return start




# -- squid (Debian's squid-openssl): a forward proxy, one with Basic authentication, one bumping TLS -------------

def make_inspection_ca(folder: Path) -> tuple[Path, Path]:
    """A company's TLS-inspection authority, as squid's ssl_bump signs with (cert, key)."""
    import datetime as dt

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    now = dt.datetime.now(dt.timezone.utc)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "CHU EXEMPLE"),
                      x509.NameAttribute(NameOID.COMMON_NAME, "CHU EXEMPLE Inspection TLS")])
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = folder / "inspection-ca.pem", folder / "inspection-ca.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


class Squid:
    """One squid in the foreground (``squid -N``), configured for one test, stopped at its end."""

    user, password = "alice", "Prx-7f3q!Zk9#w"     # "auth": distinctive, searched for in every output

    def __init__(self, binary: str, kind: str, folder: Path, server_ca: Path):
        self.binary, self.kind, self.folder, self.port = binary, kind, folder, free_port()
        self.access_log = folder / "access.log"
        self.cache_log = folder / "cache.log"
        self.inspection_ca: Path | None = None
        lines = [
            f"http_port 127.0.0.1:{self.port}" + self._bump_port_options(server_ca),
            f"pid_filename {folder}/squid.pid", f"access_log stdio:{self.access_log}", f"cache_log {self.cache_log}",
            "cache_store_log none", "cache deny all", f"coredump_dir {folder}", "netdb_filename none",
            "pinger_enable off", "shutdown_lifetime 0 seconds", "buffered_logs off",
            "mime_table /usr/share/squid/mime.conf",
        ]
        if kind == "auth":
            htpasswd = folder / "htpasswd"
            digest = subprocess.run([require("openssl"), "passwd", "-apr1", self.password], capture_output=True,
                                    text=True, check=True).stdout.strip()
            htpasswd.write_text(f"{self.user}:{digest}\n")
            lines += [f"auth_param basic program {require('squid-basic-auth')} {htpasswd}",
                      "auth_param basic realm cpsdiag test proxy", "acl authed proxy_auth REQUIRED",
                      "http_access allow authed"]
        else:
            lines.append("http_access allow localhost")
        lines.append("http_access deny all")
        if kind == "bump":
            db, certgen = folder / "ssl_db", require("squid-certgen")
            subprocess.run([certgen, "-c", "-s", str(db), "-M", "4MB"], check=True, capture_output=True)
            lines += [f"sslcrtd_program {certgen} -s {db} -M 4MB",
                      "sslcrtd_children 2 startup=1 idle=1", "acl step1 at_step SslBump1",
                      "ssl_bump peek step1", "ssl_bump bump all",
                      f"tls_outgoing_options cafile={server_ca}"]
        self.conf = folder / "squid.conf"
        self.conf.write_text("\n".join(lines) + "\n")
        if os.geteuid() == 0:
            # squid drops to the "proxy" user: its files must be its own.
            subprocess.run(["chown", "-R", "proxy:proxy", str(folder)], check=True)
        self.process: subprocess.Popen | None = None

    def _bump_port_options(self, server_ca: Path) -> str:
        if self.kind != "bump":
            return ""
        cert, key = make_inspection_ca(self.folder)
        self.inspection_ca = cert
        return (f" ssl-bump tls-cert={cert} tls-key={key} generate-host-certificates=on"
                " dynamic_cert_mem_cache_size=4MB")

    def start(self) -> "Squid":
        self.process = subprocess.Popen([self.binary, "-N", "-f", str(self.conf)], stdin=subprocess.DEVNULL,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            wait_port(self.port)
        except RuntimeError:
            self.stop()
            raise RuntimeError(f"squid did not start: {self.log()}") from None
        return self

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.communicate(timeout=30)

    def log(self) -> str:
        return self.cache_log.read_text(errors="replace") if self.cache_log.exists() else ""

    def access(self) -> str:
        return self.access_log.read_text(errors="replace") if self.access_log.exists() else ""

    def wait_access(self, needle: str, timeout: float = 15) -> str:
        """The access log once it holds ``needle`` (squid writes a line when a tunnel closes)."""
        import time

        deadline = time.monotonic() + timeout
        while needle not in self.access():
            if time.monotonic() > deadline:
                raise AssertionError(f"{needle!r} not in squid's access log: {self.access()!r}")
            time.sleep(0.05)
        return self.access()

    @property
    def url(self) -> str:
        return f"http://{PROXY_HOST}:{self.port}"


@pytest.fixture
def squid(stack, test_hosts, server_cert):
    """squid("plain" | "auth" | "bump") -> a started Squid, stopped at the end of the test."""
    binary = require("squid")
    started: list[Squid] = []

    def start(kind: str = "plain") -> Squid:
        import tempfile

        # Not under pytest's tmp_path: its folders are private to root, and squid runs as "proxy".
        folder = Path(tempfile.mkdtemp(prefix=f"cpsdiag-squid-{kind}-"))
        folder.chmod(0o755)
        proxy = Squid(binary, kind, folder, server_cert[2])
        started.append(proxy)
        return proxy.start()

    yield start
    for proxy in started:
        proxy.stop()
        shutil.rmtree(proxy.folder, ignore_errors=True)
