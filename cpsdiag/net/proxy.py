"""Proxies: one proxy server, the bypass rules of each configuration style, and the route to a host.

A ``ProxyServer`` never shows its credentials: its ``url`` has none, and the
credentials object prints as a mask. Only ``authorization()`` reveals them,
as the Basic ``Proxy-Authorization`` value sent to the proxy itself.

Bypass rules follow the system that wrote them (docs/network.md):

* ``NO_PROXY`` (curl and requests): entries separated by commas or spaces;
  ``*`` bypasses everything; a name matches itself and its subdomains (a
  leading ``.`` or ``*.`` is ignored); ``host:port`` matches that port only;
  an IP address matches itself and a CIDR block its addresses. Nothing is
  bypassed implicitly, not even ``localhost``.
* WinINET ``ProxyOverride``: ``;``-separated wildcard patterns, ``<local>``
  for names without a dot; loopback is bypassed as Windows does unless the
  list holds ``<-loopback>``.
* macOS exceptions: wildcard patterns and (possibly abbreviated) CIDR blocks
  such as ``169.254/16``; ``ExcludeSimpleHostnames`` for names without a dot.
"""

from __future__ import annotations

import base64
import fnmatch
import ipaddress
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit

from cpsdiag.net.url import BadUrl, Endpoint, host_text, normalise_host

DEFAULT_PROXY_PORT = 80        # an http:// URL without a port, as requests reads it (curl would say 1080)
MASK = "***"


class Credentials:
    """A proxy user name and password that print as a mask (repr, str, f-strings, JSON dumps of facts)."""

    __slots__ = ("_user", "_password")

    def __init__(self, user: str, password: str):
        self._user = user
        self._password = password

    def basic(self) -> str:
        token = base64.b64encode(f"{self._user}:{self._password}".encode("utf-8")).decode("ascii")
        return f"Basic {token}"

    def secrets(self) -> tuple[str, ...]:
        """The values no output may contain (for the tests and the redaction of free text)."""
        return tuple(s for s in (self._password,) if s)

    def __repr__(self) -> str:
        return f"Credentials({MASK})"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Credentials) and (self._user, self._password) == (other._user, other._password)

    def __hash__(self) -> int:
        return hash(self._user)


@dataclass(frozen=True)
class ProxyServer:
    """An HTTP proxy (CONNECT for https, absolute-form requests for http)."""

    host: str                   # ASCII host name or IP address
    port: int
    source: str                 # "option" | "environment" | "windows" | "macos"
    origin: str                 # where exactly: "--proxy", "HTTPS_PROXY", the registry value, "scutil --proxy"
    credentials: Credentials | None = field(default=None, repr=False, compare=False)
    problem: str | None = None  # why it cannot be used (a SOCKS or https:// proxy), or None

    @property
    def url(self) -> str:
        """Its URL without credentials."""
        return f"http://{host_text(self.host)}:{self.port}"

    @property
    def has_credentials(self) -> bool:
        return self.credentials is not None

    def authorization(self) -> str | None:
        return self.credentials.basic() if self.credentials is not None else None

    def describe(self) -> dict[str, object]:
        """What a report may say about it: never the credentials."""
        return {"url": self.url, "source": self.source, "origin": self.origin, "credentials": self.has_credentials,
                "problem": self.problem}


def mask_url(text: str) -> str:
    """A proxy URL as written, its user name and password replaced by a mask (for messages and reports)."""
    return re.sub(r"(?<=://)[^/@]*@", f"{MASK}@", text) if "@" in text else text


def parse_proxy(text: str, source: str, origin: str) -> ProxyServer:
    """``[http://][user:password@]host[:port][/]``; raises BadUrl (its message masks credentials)."""
    raw = text.strip()
    if not raw:
        raise BadUrl("empty proxy setting")
    has_scheme = re.match(r"^[A-Za-z][A-Za-z0-9+.-]*://", raw) is not None
    try:
        parts = urlsplit(raw if has_scheme else "http://" + raw)
        port = parts.port
    except ValueError as exc:
        raise BadUrl(f"proxy {mask_url(raw)!r}: {exc}") from None
    scheme = parts.scheme.lower()
    netloc = parts.netloc.rsplit("@", 1)[-1]
    host_part = netloc[:netloc.find("]") + 1] if netloc.startswith("[") else netloc.split(":", 1)[0]
    if not host_part:
        raise BadUrl(f"proxy {mask_url(raw)!r} has no host")
    try:
        host, _ip = normalise_host(host_part)
    except BadUrl as exc:
        raise BadUrl(f"proxy {mask_url(raw)!r}: {exc}") from None
    credentials = None
    if parts.username is not None:
        credentials = Credentials(unquote(parts.username), unquote(parts.password or ""))
    problem = None
    if scheme.startswith("socks"):
        problem = f"{scheme}:// proxies are not supported (HTTP proxies only)"
    elif scheme == "https":
        problem = "https:// proxies (TLS to the proxy) are not supported: use its http:// address"
    elif scheme != "http":
        problem = f"{scheme}:// is not a proxy scheme cpsdiag knows"
    if port == 0:
        raise BadUrl(f"proxy {mask_url(raw)!r}: bad port")
    return ProxyServer(host, port or DEFAULT_PROXY_PORT, source, origin, credentials, problem)


# -- bypass rules -------------------------------------------------------------------------------------------


def _split_host_port(entry: str) -> tuple[str, int | None]:
    if entry.startswith("["):
        end = entry.find("]")
        host, rest = entry[1:end], entry[end + 1:]
        return host, int(rest[1:]) if rest[1:].isdigit() else None
    if entry.count(":") == 1:
        host, port = entry.split(":")
        return host, int(port) if port.isdigit() else None
    return entry, None


def no_proxy_match(entries: str, host: str, port: int, ip: bool) -> str | None:
    """The NO_PROXY entry that sends ``host:port`` direct, or None."""
    address = ipaddress.ip_address(host) if ip else None
    for raw in re.split(r"[,\s]+", entries):
        entry = raw.strip().lower()
        if not entry:
            continue
        if entry == "*":
            return raw
        name, entry_port = _split_host_port(entry)
        if entry_port is not None and entry_port != port:
            continue
        if "/" in name:
            try:
                network = ipaddress.ip_network(name, strict=False)
            except ValueError:
                continue
            if address is not None and address.version == network.version and address in network:
                return raw
            continue
        try:
            entry_address = ipaddress.ip_address(name)
        except ValueError:
            entry_address = None
        if entry_address is not None or address is not None:
            if entry_address is not None and entry_address == address:
                return raw
            continue
        name = name.lstrip("*").lstrip(".")
        try:
            name, _ = normalise_host(name) if name else ("", False)
        except BadUrl:
            continue
        name = name.rstrip(".")
        bare = host.rstrip(".")
        if name and (bare == name or bare.endswith("." + name)):
            return raw
    return None


def _loopback(host: str, ip: bool) -> bool:
    return ipaddress.ip_address(host).is_loopback if ip else host.rstrip(".") == "localhost"


def wininet_bypass_match(override: str, host: str, port: int, ip: bool) -> str | None:
    """The ProxyOverride entry that sends ``host:port`` direct (WinINET rules), or None."""
    entries = [e.strip() for e in override.split(";") if e.strip()]
    lowered = [e.lower() for e in entries]
    if "<-loopback>" not in lowered and _loopback(host, ip):
        return "(loopback)"
    for raw, entry in zip(entries, lowered):
        if entry == "<local>":
            if not ip and "." not in host.rstrip("."):
                return raw
            continue
        if entry == "<-loopback>":
            continue
        entry = re.sub(r"^[a-z]+://", "", entry)
        pattern, entry_port = _split_host_port(entry) if not entry.endswith("]") else (entry.strip("[]"), None)
        if entry_port is not None and entry_port != port:
            continue
        if fnmatch.fnmatchcase(host, pattern) or fnmatch.fnmatchcase(host_text(host), pattern):
            return raw
    return None


def _abbreviated_network(text: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
    """``169.254/16`` (as macOS writes it) or a full CIDR block."""
    if "/" not in text:
        return None
    address, bits = text.split("/", 1)
    if ":" not in address:
        octets = address.split(".")
        address = ".".join(octets + ["0"] * (4 - len(octets)))
    try:
        return ipaddress.ip_network(f"{address}/{bits}", strict=False)
    except ValueError:
        return None


def macos_exception_match(exceptions: tuple[str, ...], exclude_simple: bool, host: str, ip: bool) -> str | None:
    if exclude_simple and not ip and "." not in host.rstrip("."):
        return "ExcludeSimpleHostnames"
    address = ipaddress.ip_address(host) if ip else None
    for raw in exceptions:
        entry = raw.strip().lower()
        network = _abbreviated_network(entry)
        if network is not None:
            if address is not None and address.version == network.version and address in network:
                return raw
            continue
        if fnmatch.fnmatchcase(host, entry):
            return raw
    return None


# -- the route to a host ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProxySource:
    """Proxy settings found in one place (the environment, Windows' Internet settings, macOS)."""

    name: str                                       # "environment" | "windows" | "macos"
    servers: Mapping[str, ProxyServer] = field(default_factory=dict)   # by URL scheme: "http", "https"
    bypass: tuple[str, ...] = ()                    # as written (NO_PROXY entries, ProxyOverride, exceptions)
    exclude_simple: bool = False                    # macOS ExcludeSimpleHostnames
    pac_url: str | None = None                      # a proxy auto-configuration script (not evaluated)
    auto_detect: bool = False                       # WPAD: the PAC is looked for on the network
    errors: tuple[str, ...] = ()                    # settings that could not be read (credentials masked)
    where: str = ""                                 # the variables, registry key or command read

    def bypassed_by(self, endpoint: Endpoint) -> str | None:
        if self.name == "environment":
            return no_proxy_match(",".join(self.bypass), endpoint.host, endpoint.port, endpoint.ip)
        if self.name == "windows":
            return wininet_bypass_match(";".join(self.bypass), endpoint.host, endpoint.port, endpoint.ip)
        return macos_exception_match(self.bypass, self.exclude_simple, endpoint.host, endpoint.ip)

    @property
    def automatic(self) -> str | None:
        """The PAC script's URL, or "WPAD" when the system looks for one, or None."""
        return self.pac_url or ("WPAD" if self.auto_detect else None)


@dataclass(frozen=True)
class Route:
    """How one host is reached: through ``proxy``, or direct (then ``direct`` says why)."""

    proxy: ProxyServer | None
    # "no_proxy_configured" | "disabled" | "bypassed" | "no_proxy_for_scheme" | "pac_not_evaluated"
    direct: str | None = None
    bypassed_by: str | None = None  # "<source>: <rule>" when a bypass rule matched
    pac_url: str | None = None      # a PAC script (or "WPAD") the system would consult first, not evaluated

    def describe(self) -> dict[str, object]:
        return {"proxy": self.proxy.describe() if self.proxy else None, "direct": self.direct,
                "bypassed_by": self.bypassed_by, "pac": self.pac_url}


@dataclass(frozen=True)
class ProxySettings:
    """Every proxy setting that applies, in order: ``--proxy``/``--no-proxy``, the environment, the system."""

    override: ProxyServer | None = None
    disabled: bool = False
    sources: tuple[ProxySource, ...] = ()

    def route(self, endpoint: Endpoint) -> Route:
        if self.disabled:
            return Route(None, "disabled")
        if self.override is not None:
            return Route(self.override)
        for source in self.sources:
            server = source.servers.get(endpoint.scheme)
            pac = source.automatic
            if source.name == "environment" and server is None:
                continue            # the environment speaks only through its variables; the system may still
            rule = source.bypassed_by(endpoint) if server is not None else None
            if rule is not None:
                return Route(None, "bypassed", f"{source.name}: {rule}", pac)
            if server is None:
                if source.servers:
                    return Route(None, "no_proxy_for_scheme", None, pac)
                if pac:
                    return Route(None, "pac_not_evaluated", None, pac)
                continue
            return Route(server, None, None, pac)
        return Route(None, "no_proxy_configured")

    def secrets(self) -> tuple[str, ...]:
        servers = [self.override] + [s for src in self.sources for s in src.servers.values()]
        return tuple(x for s in servers if s is not None and s.credentials is not None
                     for x in s.credentials.secrets())


def route_to(endpoint: Endpoint, proxies: ProxySettings | None) -> Route:
    """How ``endpoint`` is reached with these settings; ``None``: no setting at all (direct)."""
    return (proxies or ProxySettings()).route(endpoint)
