"""The small HTTP client and connection errors, against real local sockets (Python's http.server, raw listeners).

Proxies are tested against real squid in tests/peers/test_tls_proxy.py.
"""

from __future__ import annotations

import socket
import threading
from http.server import BaseHTTPRequestHandler

import pytest

from cpsdiag.net import (BadUrl, ConnectRefused, DnsError, HttpProtocolError, ResponseTooLarge, Timeout,
                         http_request, parse_url)
from cpsdiag.net.proxy import ProxySettings, parse_proxy
from cpsdiag.net.errors import ProxyUnreachable
from tests.support.net import http_server


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):  # noqa: N802
        body = f"{self.path} {self.headers['Host']}".encode()
        if self.path == "/chunked":
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for part in (b"abc", b"defgh"):
                self.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
            self.wfile.write(b"0\r\n\r\n")
            return
        if self.path == "/until-close":
            self.send_response(200)
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(b"x" * 5000)
            self.close_connection = True
            return
        self.send_response(404 if self.path == "/missing" else 200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):  # noqa: N802
        data = self.rfile.read(int(self.headers["Content-Length"]))
        body = self.headers["Content-Type"].encode() + b"|" + data[::-1]
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    with http_server(_Handler) as port:
        yield f"http://127.0.0.1:{port}"


def test_get_post_chunked_and_to_the_end(server):
    r = http_request("GET", server + "/a?b=c")
    port = server.rsplit(":", 1)[1]
    assert (r.status, r.body) == (200, f"/a?b=c 127.0.0.1:{port}".encode())
    assert r.route.direct == "no_proxy_configured"
    assert http_request("GET", server + "/missing").status == 404      # a status is an answer, not an error
    r = http_request("POST", server + "/ocsp", body=b"\x30\x03\x02\x01\x00",
                     headers={"Content-Type": "application/ocsp-request"})
    assert r.body == b"application/ocsp-request|\x00\x01\x02\x03\x30"
    assert http_request("GET", server + "/chunked").body == b"abcdefgh"
    assert http_request("GET", server + "/until-close").body == b"x" * 5000


def test_size_cap(server):
    with pytest.raises(ResponseTooLarge):
        http_request("GET", server + "/until-close", max_bytes=1000)
    with pytest.raises(ResponseTooLarge):
        http_request("GET", server + "/chunked", max_bytes=4)


def test_one_timeout_for_a_silent_server():
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        with pytest.raises(Timeout):
            http_request("GET", f"http://127.0.0.1:{listener.getsockname()[1]}/", timeout=0.5)


def test_not_http_and_closed_without_answer():
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(2)
        port = listener.getsockname()[1]

        def answer(data: bytes) -> None:
            conn, _ = listener.accept()
            conn.recv(4096)
            conn.sendall(data)
            conn.close()

        for data in (b"SSH-2.0-OpenSSH\r\n\r\n", b""):
            thread = threading.Thread(target=answer, args=(data,))
            thread.start()
            with pytest.raises(HttpProtocolError):
                http_request("GET", f"http://127.0.0.1:{port}/", timeout=5)
            thread.join()


def test_connection_errors_are_typed():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]
    with pytest.raises(ConnectRefused):
        http_request("GET", f"http://127.0.0.1:{closed}/")
    with pytest.raises(DnsError):
        http_request("GET", "http://no-such-host.invalid/")
    with pytest.raises(BadUrl):
        http_request("GET", "https://only-http-here.test/")
    proxy = parse_proxy(f"http://u:hunter2@127.0.0.1:{closed}", "option", "--proxy")
    with pytest.raises(ProxyUnreachable) as failed:
        http_request("GET", "http://ocsp.test/", proxies=ProxySettings(override=proxy))
    assert failed.value.cause == "refused" and "hunter2" not in str(failed.value)


def test_endpoint_forms():
    e = parse_url("http://[::1]:8080/ocsp", ("http",))
    assert (e.authority, e.host_header, e.absolute) == ("[::1]:8080", "[::1]:8080", "http://[::1]:8080/ocsp")
    e = parse_url("http://Crl.Example.FR/a b.crl", ("http",))
    assert (e.host_header, e.path) == ("crl.example.fr", "/a%20b.crl")
