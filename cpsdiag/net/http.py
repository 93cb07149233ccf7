"""A small HTTP/1.1 client for plain http:// requests (OCSP, CRLs), direct or through the proxy.

Through a proxy the request goes to the proxy in absolute form
(``GET http://host/path HTTP/1.1``), with Basic ``Proxy-Authorization`` when
the proxy URL carries credentials; a 407 is ProxyAuthRequired. One timeout
covers the whole request; the body is capped. Redirects are not followed:
the caller sees the 3xx.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from cpsdiag import __version__
from cpsdiag.net.connect import connect, open_to_proxy, proxy_answer_error
from cpsdiag.net.errors import HttpProtocolError, ResponseTooLarge, Timeout
from cpsdiag.net.proxy import ProxySettings, Route, route_to
from cpsdiag.net.url import parse_url
from cpsdiag.net.wire import Deadline, Head, Reader, read_head

DEFAULT_MAX_BYTES = 4 * 1024 * 1024


@dataclass
class HttpResponse:
    url: str
    status: int
    reason: str
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""
    route: Route | None = None          # how it was reached

    def header(self, name: str) -> str | None:
        wanted = name.lower()
        return next((v for k, v in self.headers if k.lower() == wanted), None)


def _body(reader: Reader, head: Head, method: str, max_bytes: int) -> bytes:
    if method == "HEAD" or head.status in (204, 304) or 100 <= head.status < 200:
        return b""
    encoding = (head.get("Transfer-Encoding") or "").lower()
    if "chunked" in encoding:
        out = bytearray()
        while True:
            line = reader.line()
            if line is None:
                raise HttpProtocolError(f"{reader.what}: the answer ended inside a chunk")
            size_text = line.split(b";", 1)[0].strip()
            try:
                size = int(size_text, 16)
            except ValueError:
                raise HttpProtocolError(f"{reader.what}: bad chunk size {size_text[:20]!r}") from None
            if size == 0:
                while reader.line() not in (None, b""):
                    pass
                return bytes(out)
            if len(out) + size > max_bytes:
                raise ResponseTooLarge(f"{reader.what}: the answer is larger than {max_bytes} bytes")
            out += _exactly(reader, size)
            if reader.line() != b"":
                raise HttpProtocolError(f"{reader.what}: a chunk does not end where its size says")
    length = head.get("Content-Length")
    if length is not None:
        if not length.strip().isdigit():
            raise HttpProtocolError(f"{reader.what}: bad Content-Length {length[:20]!r}")
        if int(length) > max_bytes:
            raise ResponseTooLarge(f"{reader.what}: the answer is {int(length)} bytes, more than {max_bytes}")
        return _exactly(reader, int(length))
    while True:                     # no length: the body runs to the end of the connection
        if len(reader.buffer) > max_bytes:
            raise ResponseTooLarge(f"{reader.what}: the answer is larger than {max_bytes} bytes")
        if not reader.fill():
            return reader.take(len(reader.buffer))


def _exactly(reader: Reader, n: int) -> bytes:
    while len(reader.buffer) < n:
        if not reader.fill():
            raise HttpProtocolError(f"{reader.what}: the answer ended {n - len(reader.buffer)} bytes early")
    return reader.take(n)


def http_request(method: str, url: str, *, body: bytes | None = None, headers: Mapping[str, str] | None = None,
                 proxies: ProxySettings | None = None, timeout: float = 5.0,
                 max_bytes: int = DEFAULT_MAX_BYTES) -> HttpResponse:
    """One request to an http:// URL; raises NetError subclasses (or BadUrl for the URL itself)."""
    endpoint = parse_url(url, ("http",))
    route = route_to(endpoint, proxies)
    deadline = Deadline(timeout)
    proxy = route.proxy
    if proxy is not None:
        sock = open_to_proxy(proxy, deadline)
        target = endpoint.absolute
    else:
        sock = connect(endpoint.host, endpoint.port, None, timeout=max(deadline.left(), 0.001))
        target = endpoint.path
    what = f"{method} {endpoint.url}" + (f" via proxy {proxy.url}" if proxy else "")
    try:
        lines = [f"{method} {target} HTTP/1.1", f"Host: {endpoint.host_header}",
                 f"User-Agent: cpsdiag/{__version__}", "Accept: */*", "Connection: close"]
        if proxy is not None and proxy.authorization():
            lines.append(f"Proxy-Authorization: {proxy.authorization()}")
        for name, value in (headers or {}).items():
            lines.append(f"{name}: {value}")
        if body is not None:
            lines.append(f"Content-Length: {len(body)}")
        data = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + (body or b"")
        deadline.arm(sock, what)
        try:
            sock.sendall(data)
        except (TimeoutError, OSError) as exc:
            if isinstance(exc, TimeoutError):
                raise Timeout(f"{what}: no answer within {timeout:g} s") from None
            raise HttpProtocolError(f"{what}: the connection broke while sending ({exc.strerror or exc})") \
                from None
        reader = Reader(sock, deadline, what)
        while True:
            try:
                head = read_head(reader)
            except ConnectionError as exc:
                raise HttpProtocolError(f"{what}: the connection broke ({exc.strerror or exc})") from None
            if head is None:
                if proxy is not None:
                    raise proxy_answer_error(proxy, None, f"{method} {endpoint.url}")
                raise HttpProtocolError(f"{what}: the server closed the connection without answering")
            if not 100 <= head.status < 200:
                break
        if proxy is not None and head.status == 407:
            raise proxy_answer_error(proxy, head, f"{method} {endpoint.url}")
        payload = _body(reader, head, method, max_bytes)
    finally:
        sock.close()
    return HttpResponse(endpoint.url, head.status, head.reason, head.headers, payload, route)
