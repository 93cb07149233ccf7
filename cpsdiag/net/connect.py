"""A TCP connection to ``host:port``: direct, or through an HTTP proxy's CONNECT tunnel.

Failures are typed (cpsdiag.net.errors); messages name hosts and proxies
without credentials. One timeout covers the whole connection, the tunnel
included.
"""

from __future__ import annotations

import socket

from cpsdiag import __version__
from cpsdiag.net.errors import (ConnectRefused, DnsError, NetError, ProxyAuthRequired, ProxyRefused,
                                ProxyUnreachable, Timeout, Unreachable)
from cpsdiag.net.proxy import ProxyServer
from cpsdiag.net.url import host_text
from cpsdiag.net.wire import Deadline, Head, Reader, read_head

# Headers proxies use to say why they refused (squid; RFC 9209).
_WHY = ("X-Squid-Error", "Proxy-Status")


def _open(host: str, port: int, deadline: Deadline) -> socket.socket:
    """A plain TCP connection; errors typed as for a server (the caller re-types them for a proxy)."""
    where = f"{host_text(host)}:{port}"
    try:
        return socket.create_connection((host, port), timeout=max(deadline.left(), 0.001))
    except socket.gaierror as exc:
        raise DnsError(f"{host}: {exc.strerror or exc}") from None
    except (socket.timeout, TimeoutError):
        raise Timeout(f"{where}: no answer within {deadline.seconds:g} s") from None
    except ConnectionRefusedError:
        raise ConnectRefused(f"{where}: connection refused") from None
    except OSError as exc:
        raise Unreachable(f"{where}: {exc.strerror or exc}") from None


def open_to_proxy(proxy: ProxyServer, deadline: Deadline) -> socket.socket:
    """A TCP connection to the proxy itself; any failure is ProxyUnreachable."""
    if proxy.problem:
        raise ProxyUnreachable(f"proxy {proxy.url} ({proxy.origin}): {proxy.problem}", proxy.url, proxy.source,
                               "unsupported")
    try:
        return _open(proxy.host, proxy.port, deadline)
    except NetError as exc:
        raise ProxyUnreachable(f"proxy {proxy.url} ({proxy.origin}): {exc}", proxy.url, proxy.source,
                               exc.reason) from None


def proxy_answer_error(proxy: ProxyServer, head: Head | None, what: str) -> NetError:
    """The error for a proxy's refusal (``head`` is None when it closed without a word)."""
    if head is None:
        return ProxyRefused(f"proxy {proxy.url} closed the connection without answering {what}", proxy.url,
                            proxy.source, None, "")
    why = "; ".join(f"{h}: {head.get(h)}" for h in _WHY if head.get(h))
    if head.status == 407:
        schemes = tuple(v.split(" ", 1)[0] for v in head.get_all("Proxy-Authenticate") if v)
        sent = proxy.has_credentials
        return ProxyAuthRequired(
            f"proxy {proxy.url} asks for credentials ({', '.join(schemes) or 'no scheme named'})"
            + ("; the user name and password given were refused" if sent else ""),
            proxy.url, proxy.source, schemes, sent)
    return ProxyRefused(f"proxy {proxy.url} refused {what}: {head.status_line}" + (f" ({why})" if why else ""),
                        proxy.url, proxy.source, head.status, head.status_line + (f" ({why})" if why else ""))


def connect(host: str, port: int, proxy: ProxyServer | None = None, timeout: float = 10.0) -> socket.socket:
    """A connected socket to ``host:port`` (through ``proxy``'s CONNECT tunnel when given).

    The socket's timeout is then ``timeout`` per operation, for the protocol spoken over it.
    """
    deadline = Deadline(timeout)
    if proxy is None:
        sock = _open(host, port, deadline)
        sock.settimeout(timeout)
        return sock
    sock = open_to_proxy(proxy, deadline)
    target = f"{host_text(host)}:{port}"
    try:
        lines = [f"CONNECT {target} HTTP/1.1", f"Host: {target}", f"User-Agent: cpsdiag/{__version__}"]
        auth = proxy.authorization()
        if auth:
            lines.append(f"Proxy-Authorization: {auth}")
        deadline.arm(sock, f"proxy {proxy.url}")
        try:
            sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("ascii"))
        except OSError as exc:
            raise ProxyUnreachable(f"proxy {proxy.url}: {exc.strerror or exc}", proxy.url, proxy.source,
                                   "closed") from None
        reader = Reader(sock, deadline, f"proxy {proxy.url}, CONNECT {target}")
        try:
            head = read_head(reader)
        except ConnectionError as exc:
            raise ProxyRefused(f"proxy {proxy.url} dropped CONNECT {target}: {exc.strerror or exc}", proxy.url,
                               proxy.source, None, "") from None
        if head is None or not 200 <= head.status < 300:
            raise proxy_answer_error(proxy, head, f"CONNECT {target}")
        if reader.buffer:
            # Nothing may follow a 2xx to CONNECT before the server speaks TLS: a proxy that does is broken.
            raise ProxyRefused(f"proxy {proxy.url} sent data after accepting CONNECT {target}", proxy.url,
                               proxy.source, head.status, head.status_line)
    except BaseException:
        sock.close()
        raise
    sock.settimeout(timeout)
    return sock
