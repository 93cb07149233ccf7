"""Where the workstation keeps its proxy settings: the environment, Windows' Internet settings, macOS.

Read through a ``System`` (cpsdiag.host.system), so fake Windows and macOS
layouts test them on any machine. Nothing here connects anywhere; a PAC
script is reported by its URL, never fetched nor run.
"""

from __future__ import annotations

from typing import Any

from cpsdiag.net.proxy import ProxyServer, ProxySettings, ProxySource, mask_url, parse_proxy
from cpsdiag.net.url import BadUrl

# Looked up in this order (lower case first, as curl and Python's urllib do).
ENV_PROXY = {"https": ("https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"),
             "http": ("http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY")}
ENV_NO_PROXY = ("no_proxy", "NO_PROXY")

INTERNET_SETTINGS = r"Software\Microsoft\Windows\CurrentVersion\Internet Settings"
WININET_USER = "HKCU\\" + INTERNET_SETTINGS
WININET_MACHINE = "HKLM\\" + INTERNET_SETTINGS
# ProxySettingsPerUser = 0 (a group policy): the machine's settings apply to every user.
WININET_POLICY = r"HKLM\Software\Policies\Microsoft\Windows\CurrentVersion\Internet Settings"
# DefaultConnectionSettings, byte 8: 0x08 = "Automatically detect settings" (WPAD).
_AUTO_DETECT = 0x08


def _lookup(environ: Any, name: str, case_insensitive: bool) -> str | None:
    value = environ.get(name)
    if value is None and case_insensitive:
        value = next((v for k, v in environ.items() if k.upper() == name.upper()), None)
    return value.strip() if value and value.strip() else None


def read_environment(system: Any) -> ProxySource | None:
    """HTTPS_PROXY, HTTP_PROXY, ALL_PROXY and NO_PROXY (either case; Windows' variables ignore case)."""
    nocase = system.platform == "win32"
    servers: dict[str, ProxyServer] = {}
    errors: list[str] = []
    used: list[str] = []
    for scheme, names in ENV_PROXY.items():
        for name in names:
            value = _lookup(system.environ, name, nocase)
            if value is None:
                continue
            used.append(name)
            try:
                servers[scheme] = parse_proxy(value, "environment", name)
            except BadUrl as exc:
                errors.append(f"{name}: {exc}")
            break
    no_proxy_name = next((n for n in ENV_NO_PROXY if _lookup(system.environ, n, nocase)), None)
    bypass: tuple[str, ...] = ()
    if no_proxy_name:
        used.append(no_proxy_name)
        text = _lookup(system.environ, no_proxy_name, nocase) or ""
        bypass = tuple(e for e in text.replace(" ", ",").split(",") if e)
    if not used:
        return None
    return ProxySource("environment", servers, bypass, errors=tuple(errors), where=", ".join(dict.fromkeys(used)))


def parse_wininet_servers(text: str, origin: str) -> tuple[dict[str, ProxyServer], list[str]]:
    """ProxyServer: ``host:port`` for every protocol, or ``http=h:p;https=h:p;socks=h:p``."""
    errors: list[str] = []
    table: dict[str, str]
    if "=" in text:
        table = {}
        for part in text.split(";"):
            scheme, _, address = part.partition("=")
            if scheme.strip() and address.strip():
                table[scheme.strip().lower()] = address.strip()
    else:
        table = {"http": text.strip(), "https": text.strip()}
    servers: dict[str, ProxyServer] = {}
    for scheme in ("http", "https"):
        given = table.get(scheme)
        socks = given is None and "socks" in table
        if socks:
            given = "socks://" + table["socks"]
        if not given:
            continue
        try:
            servers[scheme] = parse_proxy(given, "windows", origin)
        except BadUrl as exc:
            errors.append(f"ProxyServer ({scheme}): {exc}")
    return servers, errors


def read_windows(system: Any) -> ProxySource | None:
    """The WinINET settings of the user (or of the machine, when a policy says so)."""
    from cpsdiag.host import registry as reg

    registry = system.registry
    if registry is None:
        return None
    key = WININET_MACHINE if reg.value(registry, WININET_POLICY, "ProxySettingsPerUser") == 0 else WININET_USER
    if registry.values(key) is None:
        return None
    enabled = reg.value(registry, key, "ProxyEnable")
    server_text = reg.value(registry, key, "ProxyServer")
    override = reg.value(registry, key, "ProxyOverride")
    pac = reg.value(registry, key, "AutoConfigURL")
    connection = reg.value(registry, key + r"\Connections", "DefaultConnectionSettings")
    servers: dict[str, ProxyServer] = {}
    errors: list[str] = []
    if _truthy(enabled) and isinstance(server_text, str) and server_text.strip():
        servers, errors = parse_wininet_servers(server_text, rf"{key}\ProxyServer")
    bypass = tuple(e.strip() for e in override.split(";") if e.strip()) if isinstance(override, str) else ()
    auto_detect = isinstance(connection, bytes) and len(connection) > 8 and bool(connection[8] & _AUTO_DETECT)
    return ProxySource("windows", servers, bypass, pac_url=_pac(pac), auto_detect=auto_detect, errors=tuple(errors),
                       where=key)


def _pac(value: Any) -> str | None:
    """A PAC script's URL as reports show it: never fetched, and a user name or password in it masked."""
    return mask_url(value.strip()) if isinstance(value, str) and value.strip() else None


def _truthy(value: Any) -> bool:
    if isinstance(value, int):
        return value != 0
    if isinstance(value, bytes):
        return any(value)
    return str(value).strip() not in ("", "0") if value is not None else False


def parse_scutil(text: str) -> dict[str, Any]:
    """The nested ``<dictionary> { key : value }`` / ``<array> { 0 : value }`` text scutil prints."""
    root: dict[str, Any] = {}
    stack: list[Any] = [root]
    for line in text.splitlines():
        line = line.strip()
        if not line or line in ("<dictionary> {",):
            continue
        if line == "}":
            if len(stack) > 1:
                stack.pop()
            continue
        key, sep, value = line.partition(" : ")
        if not sep:
            continue
        container = stack[-1]
        if value in ("<array> {", "<dictionary> {"):
            child: Any = [] if value.startswith("<array>") else {}
            _put(container, key, child)
            stack.append(child)
        else:
            _put(container, key, value)
    return root


def _put(container: Any, key: str, value: Any) -> None:
    if isinstance(container, list):
        container.append(value)
    else:
        container[key] = value


def read_macos(system: Any) -> ProxySource | None:
    """The proxies of the active network services, as ``scutil --proxy`` shows them."""
    done = system.command(["scutil", "--proxy"], timeout=5)
    if done.rc != 0:
        return ProxySource("macos", errors=(f"scutil --proxy: {(done.stderr or done.stdout).strip()[:200]}",),
                           where="scutil --proxy")
    d = parse_scutil(done.stdout)
    servers: dict[str, ProxyServer] = {}
    errors: list[str] = []
    for scheme, prefix in (("http", "HTTP"), ("https", "HTTPS")):
        host = d.get(f"{prefix}Proxy")
        if _truthy(d.get(f"{prefix}Enable")) and host:
            address = f"{host}:{d[f'{prefix}Port']}" if d.get(f"{prefix}Port") else host
            try:
                servers[scheme] = parse_proxy(address, "macos", f"scutil --proxy ({prefix}Proxy)")
            except BadUrl as exc:
                errors.append(f"{prefix}Proxy: {exc}")
    if not servers and _truthy(d.get("SOCKSEnable")) and d.get("SOCKSProxy"):
        for scheme in ("http", "https"):
            try:
                servers[scheme] = parse_proxy(f"socks://{d['SOCKSProxy']}:{d.get('SOCKSPort') or 1080}", "macos",
                                              "scutil --proxy (SOCKSProxy)")
            except BadUrl as exc:
                errors.append(f"SOCKSProxy: {exc}")
    exceptions = d.get("ExceptionsList")
    pac = _pac(d.get("ProxyAutoConfigURLString")) if _truthy(d.get("ProxyAutoConfigEnable")) else None
    return ProxySource("macos", servers, tuple(exceptions) if isinstance(exceptions, list) else (),
                       exclude_simple=_truthy(d.get("ExcludeSimpleHostnames")), pac_url=pac or None,
                       auto_detect=_truthy(d.get("ProxyAutoDiscoveryEnable")), errors=tuple(errors),
                       where="scutil --proxy")


def workstation_proxies(system: Any) -> tuple[ProxySource, ...]:
    """The sources that exist on this system, in the order they apply: environment, then the system's own."""
    found = [read_environment(system)]
    if system.platform == "win32":
        found.append(read_windows(system))
    elif system.platform == "darwin":
        found.append(read_macos(system))
    return tuple(s for s in found if s is not None)


class BadProxyOption(BadUrl):
    """--proxy names something cpsdiag cannot use."""


def load_proxy_settings(system: Any = None, *, proxy: str | None = None, no_proxy: bool = False) -> ProxySettings:
    """The settings a request uses: ``--proxy URL`` or ``--no-proxy`` first, else the workstation's.

    Raises BadProxyOption for an unusable ``--proxy`` (its message masks credentials).
    """
    if no_proxy:
        return ProxySettings(disabled=True)
    if proxy is not None:
        try:
            server = parse_proxy(proxy, "option", "--proxy")
        except BadUrl as exc:
            raise BadProxyOption(str(exc)) from None
        if server.problem:
            raise BadProxyOption(f"proxy {mask_url(proxy.strip())!r}: {server.problem}")
        return ProxySettings(override=server)
    if system is None:
        from cpsdiag.host.system import System

        system = System.local()
    return ProxySettings(sources=workstation_proxies(system))
