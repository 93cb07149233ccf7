"""What the workstation probes found: the areas' frozen records, gathered in ``EnvironmentFacts``; the registry.

``None`` means "not known" (not probed, or the probe could not tell);
``False`` means "probed, and no". Paths are spelt as on the probed system.
Each area's facts live in its module (``cpsdiag/env/areas/``) and are
re-exported here. ``AREAS`` is the registry the collector, the judge and the
views walk: adding an area is its module, its entry in ``AREAS``, its fields
below and their record (``record.py``, the report schema).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from cpsdiag.env.area import Area, CardSource
from cpsdiag.env.areas import browsers, cryptolib, modules, pcsc, proxy, session, windows
from cpsdiag.env.areas.browsers import NssDatabase
from cpsdiag.env.areas.cryptolib import CryptolibFacts
from cpsdiag.env.areas.pcsc import PcscError, PcscFacts, ReaderFacts, ServiceFacts
from cpsdiag.env.areas.session import RemoteSession, SessionKind, SystemFacts
from cpsdiag.env.areas.windows import SmartCardRegistration, WindowsFacts
from cpsdiag.env.pkcs11 import ClaimsSource, ModuleFacts, ModuleKind, ModuleProbe, ProbeFailure, SlotFacts
from cpsdiag.env.usb import DriverBundle, UsbDevice
from cpsdiag.net.proxy import ProxySource
from cpsdiag.transport.features import Feature

if TYPE_CHECKING:
    from cpsdiag.env.record import EnvironmentSection

__all__ = ["AREAS", "CardSource", "ClaimsSource", "CryptolibFacts", "DriverBundle", "EnvironmentFacts", "Feature",
           "ModuleFacts", "ModuleKind", "ModuleProbe", "NssDatabase", "PcscError", "PcscFacts", "ProbeFailure",
           "ReaderFacts", "RemoteSession", "ServiceFacts", "SessionKind", "SlotFacts", "SmartCardRegistration",
           "SystemFacts", "UsbDevice", "WindowsFacts", "environment_section"]


@dataclass(frozen=True, kw_only=True)
class EnvironmentFacts:
    system: SystemFacts                         # area "session"
    pcsc: PcscFacts                             # area "pcsc"
    cryptolib: CryptolibFacts                   # area "cryptolib" (its probe set by "modules")
    modules: tuple[ModuleFacts, ...]            # area "modules": registered system-wide (p11-kit)
    firefox: tuple[NssDatabase, ...]            # area "browsers" (their modules' probes and claims by "modules")
    firefox_installed: bool
    chrome: NssDatabase | None                  # Linux: ~/.pki/nssdb
    chrome_installed: bool
    windows: WindowsFacts | None = None         # area "windows" (Windows only)
    pykcs11: bool | None                        # PyKCS11 importable (None: no module helper ran)
    card_generation: str | None                 # "CPS3" | "CPS4", from check or from a reader's ATR
    card_serial: str | None
    card_source: CardSource | None
    card_atrs: tuple[str, ...] = ()             # ATRs (hex) of the CPS cards in the readers
    proxy: tuple[ProxySource, ...] = ()         # area "proxy": the environment's, then the system's
    timings_ms: dict[str, float] = field(default_factory=dict, compare=False)


# The registry of probed areas, in the order they are collected (an area waits for those it ``needs``) and judged.
# The views show their sections in this order too, those of areas probed on one system only last.
AREAS: tuple[Area[EnvironmentFacts], ...] = (
    session.AREA,
    pcsc.AREA,
    cryptolib.AREA,
    modules.AREA,
    browsers.AREA,
    windows.AREA,
    proxy.AREA,
)


# -- the record (the report's "environment" section) --------------------------------------------------------

# Properties of the facts that the JSON carries as fields.
_PROPERTIES = {"ReaderFacts": ("pinpad",), "NssDatabase": ("loads_cps",), "PcscFacts": ("answers",)}


def _plain(value: Any) -> Any:
    if isinstance(value, Feature):
        return {"tag": f"{value.tag:02X}", "name": value.name, "control_code": f"0x{value.control_code:08X}"}
    if isinstance(value, ProxySource):
        return proxy_source_dict(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        out = {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
        for prop in _PROPERTIES.get(type(value).__name__, ()):
            out[prop] = getattr(value, prop)
        return out
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def proxy_source_dict(source: ProxySource) -> dict[str, Any]:
    """A ``cpsdiag.net.proxy.ProxySource`` as its record reads it: its servers' credentials never leave them."""
    return {"source": source.name, "where": source.where,
            "servers": {scheme: server.describe() for scheme, server in sorted(source.servers.items())},
            "bypass": list(source.bypass), "exclude_simple_hostnames": source.exclude_simple,
            "pac": source.pac_url, "auto_detect": source.auto_detect, "errors": list(source.errors)}


def environment_section(facts: EnvironmentFacts) -> EnvironmentSection:
    """The record of the facts; a fact the record does not know is a bug (tests/unit keeps them in step)."""
    import msgspec

    from cpsdiag.env.record import EnvironmentSection

    return msgspec.convert(_plain(facts), EnvironmentSection)
