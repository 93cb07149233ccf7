"""Typed network errors: what went wrong on the way to a server, never carrying a proxy password.

``reason`` is a stable word the judges map to findings; the message is for
people and names hosts and proxies only without their credentials.
"""

from __future__ import annotations

from cpsdiag.errors import CpsdiagError


class NetError(CpsdiagError):
    """A request could not be made. ``reason`` is one of the class constants below."""

    reason = "error"

    def __init__(self, message: str):
        super().__init__(message)


class DnsError(NetError):
    reason = "dns"


class ConnectRefused(NetError):
    reason = "refused"


class Timeout(NetError):
    reason = "timeout"


class Unreachable(NetError):
    reason = "unreachable"


class ProxyError(NetError):
    """The proxy in the path failed; ``proxy`` is its URL without credentials, ``source`` where it was set."""

    reason = "proxy"

    def __init__(self, message: str, proxy: str, source: str | None):
        self.proxy = proxy
        self.source = source
        super().__init__(message)


class ProxyUnreachable(ProxyError):
    """The proxy itself cannot be reached; ``cause`` is dns | refused | timeout | unreachable | closed."""

    reason = "proxy_unreachable"

    def __init__(self, message: str, proxy: str, source: str | None, cause: str):
        self.cause = cause
        super().__init__(message, proxy, source)


class ProxyAuthRequired(ProxyError):
    """407: the proxy wants credentials (``schemes``: what Proxy-Authenticate offered)."""

    reason = "proxy_auth_required"

    def __init__(self, message: str, proxy: str, source: str | None, schemes: tuple[str, ...],
                 credentials_sent: bool):
        self.schemes = schemes
        self.credentials_sent = credentials_sent
        super().__init__(message, proxy, source)


class ProxyRefused(ProxyError):
    """The proxy answered CONNECT (or a request) with a refusal other than 407."""

    reason = "proxy_refused"

    def __init__(self, message: str, proxy: str, source: str | None, status: int | None, status_line: str):
        self.status = status
        self.status_line = status_line
        super().__init__(message, proxy, source)


class HttpProtocolError(NetError):
    """The answer is not HTTP/1.x as expected (or ended early)."""

    reason = "protocol"


class ResponseTooLarge(NetError):
    reason = "too_large"
