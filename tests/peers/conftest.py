"""Fixtures for tests against third-party peers: TLS servers (nginx, openssl s_server)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from cpsdiag.tls.server import make_server_certificate
from netsupport import free_port, wait_port
from prerequisites import require


@pytest.fixture(scope="module")
def server_cert(tmp_path_factory):
    return make_server_certificate(["localhost", "127.0.0.1"], tmp_path_factory.mktemp("server-cert"))


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

    def start(protocols: str) -> int:
        port = free_port()
        cert, key, _ca = server_cert
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
    listen 127.0.0.1:{port} ssl; server_name localhost;
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


