"""The network: proxy settings, connections (direct or CONNECT tunnels), plain HTTP requests.

Shared by the TLS probe and the revocation check; free of Rich and click.
Typed exceptions inside (cpsdiag.net.errors), findings at the edge (the
judges). docs/network.md describes the proxy rules.

Public API (imported lazily)::

    load_proxy_settings(system=None, *, proxy=None, no_proxy=False) -> ProxySettings
    ProxySettings.route(endpoint) -> Route(proxy, direct, bypassed_by, pac_url)
    parse_url(url, schemes=("https",)) -> Endpoint          # raises BadUrl
    connect(host, port, proxy=None, timeout=10.0) -> socket  # TCP or CONNECT tunnel; raises NetError
    http_request(method, url, *, body=None, headers=None, proxies=None, timeout=5.0,
                 max_bytes=4 MiB) -> HttpResponse           # raises NetError, BadUrl
    workstation_proxies(system) -> tuple[ProxySource, ...]  # what `env` shows
"""

from __future__ import annotations

from cpsdiag.lazy import lazy_getattr

_API = {
    "load_proxy_settings": "cpsdiag.net.settings",
    "workstation_proxies": "cpsdiag.net.settings",
    "BadProxyOption": "cpsdiag.net.settings",
    "ProxySettings": "cpsdiag.net.proxy",
    "ProxySource": "cpsdiag.net.proxy",
    "ProxyServer": "cpsdiag.net.proxy",
    "Route": "cpsdiag.net.proxy",
    "mask_url": "cpsdiag.net.proxy",
    "parse_url": "cpsdiag.net.url",
    "Endpoint": "cpsdiag.net.url",
    "BadUrl": "cpsdiag.net.url",
    "connect": "cpsdiag.net.connect",
    "http_request": "cpsdiag.net.http",
    "HttpResponse": "cpsdiag.net.http",
    "NetError": "cpsdiag.net.errors",
    "DnsError": "cpsdiag.net.errors",
    "ConnectRefused": "cpsdiag.net.errors",
    "Timeout": "cpsdiag.net.errors",
    "Unreachable": "cpsdiag.net.errors",
    "ProxyError": "cpsdiag.net.errors",
    "ProxyUnreachable": "cpsdiag.net.errors",
    "ProxyAuthRequired": "cpsdiag.net.errors",
    "ProxyRefused": "cpsdiag.net.errors",
    "HttpProtocolError": "cpsdiag.net.errors",
    "ResponseTooLarge": "cpsdiag.net.errors",
}

__all__ = sorted(_API)

__getattr__ = lazy_getattr(__name__, _API)
