"""URLs of the services cpsdiag talks to: host names (IDN too), IPv4 and bracketed IPv6 addresses.

A host name is kept as its ASCII form (IDNA A-labels, lower case): that is
what DNS, SNI, the Host header and the server certificate's DNS names use.
An IP address is kept without brackets and flagged: TLS then sends no SNI
(RFC 6066 forbids an address there) and the certificate must name the
address in an iPAddress SAN.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from urllib.parse import quote, unquote, urlsplit

from cpsdiag.errors import CpsdiagError

DEFAULT_PORTS = {"http": 80, "https": 443}
MAX_HOST_LENGTH = 253                     # RFC 1035: a full domain name in text form
# A DNS label: 1 to 63 letters, digits, "-" (not first nor last) and "_" (service names use it).
_LABEL = re.compile(r"[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?")
# Characters a request target may carry as they are (RFC 3986 pchar, "/" and "?"); the rest is %-encoded.
_SAFE = "/?:@!$&'()*+,;=-._~%"


class BadUrl(CpsdiagError):
    """A URL cpsdiag cannot use; the message says why (and never repeats credentials)."""


@dataclass(frozen=True)
class Endpoint:
    url: str            # as given
    scheme: str         # "https" | "http"
    host: str           # A-label host name (lower case) or IP address (IPv6 without brackets)
    port: int
    path: str           # request target: path and query, "/" at least
    ip: bool            # host is an IP address

    @property
    def authority(self) -> str:
        """``host:port`` as CONNECT and a proxy request name it (IPv6 in brackets)."""
        return f"{host_text(self.host)}:{self.port}"

    @property
    def host_header(self) -> str:
        """The Host header: the port only when it is not the scheme's default."""
        host = host_text(self.host)
        return host if self.port == DEFAULT_PORTS.get(self.scheme) else f"{host}:{self.port}"

    @property
    def server_name(self) -> str | None:
        """What TLS sends as SNI: the host name, nothing for an address."""
        return None if self.ip else self.host.rstrip(".")

    @property
    def absolute(self) -> str:
        """The URL as a proxy receives it in a request line (absolute-form)."""
        return f"{self.scheme}://{self.host_header}{self.path}"


def host_text(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def bad_label(ascii_name: str) -> str | None:
    """The first label of a host name (in its ASCII form) that DNS cannot carry, or None when every one can."""
    return next((label for label in ascii_name.lower().rstrip(".").split(".") if not _LABEL.fullmatch(label)), None)


def normalise_host(host: str) -> tuple[str, bool]:
    """(ASCII host, is an IP address); raises BadUrl for a host that is neither a name nor an address."""
    text = unquote(host.strip())
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    try:
        return str(ipaddress.ip_address(text)), True
    except ValueError:
        if ":" in text:
            raise BadUrl(f"{host!r} is not a valid IPv6 address") from None
    try:
        ascii_name = text.encode("idna").decode("ascii").lower() if text else ""
    except UnicodeError:
        raise BadUrl(f"{host!r} is not a valid host name (empty or over-long label, or a character "
                     "a host name cannot hold)") from None
    if len(ascii_name) > MAX_HOST_LENGTH:
        raise BadUrl(f"a host name of {len(ascii_name)} characters (at most {MAX_HOST_LENGTH})")
    bad = bad_label(ascii_name) if ascii_name else ""
    if bad is not None:
        raise BadUrl(f"{host!r} is not a valid host name" + (f" (the part {bad!r})" if bad else ""))
    return ascii_name, False


def parse_url(url: str, schemes: tuple[str, ...] = ("https",)) -> Endpoint:
    """Check and split a URL; raises BadUrl naming what is wrong."""
    text = url.strip()
    wanted = " or ".join(f"{s}://" for s in schemes)
    if "://" not in text:
        raise BadUrl(f"an {wanted} URL is needed, such as {schemes[0]}://host:port/path")
    try:
        parts = urlsplit(text)
    except ValueError as exc:
        raise BadUrl(f"malformed URL ({exc})") from None
    scheme = parts.scheme.lower()
    if scheme not in schemes:
        raise BadUrl(f"an {wanted} URL is needed, not {scheme or '(none)'}://")
    if parts.username is not None or parts.password is not None:
        raise BadUrl("a user name or password in the URL is not accepted")
    netloc = parts.netloc
    if netloc.startswith("["):
        raw_host = netloc[:netloc.find("]") + 1]
        rest = netloc[len(raw_host):]
        if rest and not re.fullmatch(r":\d*", rest):
            raise BadUrl(f"{netloc!r} is not [address]:port")
    elif netloc.count(":") > 1:
        raise BadUrl(f"{netloc!r}: an IPv6 address goes in brackets, such as {scheme}://[::1]:8443/")
    else:
        raw_host = netloc.split(":", 1)[0]
    if raw_host in ("", "[]"):
        raise BadUrl("the URL has no host")
    host, ip = normalise_host(raw_host)
    try:
        port = parts.port
    except ValueError:
        raise BadUrl(f"bad port in {netloc!r} (a number from 1 to 65535)") from None
    if port == 0:
        raise BadUrl(f"bad port in {netloc!r} (a number from 1 to 65535)")
    path = quote(parts.path or "/", safe=_SAFE)
    if parts.query:
        path += "?" + quote(parts.query, safe=_SAFE)
    return Endpoint(url=text, scheme=scheme, host=host, port=port or DEFAULT_PORTS[scheme], path=path, ip=ip)
