"""The report's ``environment`` section (and ``cpsdiag env --json``'s) as records: what ``env`` writes and reads.

The facts (``facts.py``) are what the probes found, with live types; these
records are their JSON, field for field, plus what the views need that the
facts compute (``pinpad``, ``loads_cps``, ``answers``). docs/environment.md
describes every field. Built by ``cpsdiag.env.facts.environment_section(facts)``;
decoded from a bundle with the rest of the report (``cpsdiag.report.schema``).
The areas make their rows from these records (so a bundle read back shows the
same rows); this module is below them and knows none.
"""

from __future__ import annotations

from typing import Annotated

from msgspec import UNSET

from cpsdiag.record import Doc, Hmac, Record


class RemoteSession(Record, frozen=True, kw_only=True):
    kind: Annotated[str, Doc("ssh, rdp, citrix, xrdp, x2go, nx")]
    evidence: str
    client: str | None


class System(Record, frozen=True, kw_only=True):
    platform: Annotated[str, Doc("linux, darwin, win32")]
    os_name: str | None
    os_version: str | None
    kernel: str | None
    architecture: str | None
    python: str
    cpsdiag: str
    locale: str | None
    language: str
    remote: RemoteSession | None


class Service(Record, frozen=True, kw_only=True):
    name: str
    installed: bool | None
    running: bool | None
    pids: list[int]
    start_mode: str | None
    socket: str | None
    version: str | None
    binary: str | None
    detail: str | None


class PcscFailure(Record, frozen=True, kw_only=True):
    operation: str
    hresult: str | None
    message: str


class UsbDevice(Record, frozen=True, kw_only=True):
    path: str
    vendor_id: str
    product_id: str
    manufacturer: str | None
    product: str | None
    ccid: bool
    driver: str | None
    driver_name: str | None
    class_driver: str | None


class DriverBundle(Record, frozen=True, kw_only=True):
    name: str
    path: str
    version: str | None
    executable: str | None
    class_driver: bool
    devices: int


class Feature(Record, frozen=True, kw_only=True):
    tag: Annotated[str, Doc("hex")]
    name: str
    control_code: str


class Reader(Record, frozen=True, kw_only=True):
    name: str
    card_present: bool | None
    atr: str | None
    state: list[str]
    answering: bool
    error: PcscFailure | None
    card: str | None
    generation: str | None
    exclusive: bool
    card_error: PcscFailure | None
    features: list[Feature] | None
    features_error: str | None
    usb: UsbDevice | None
    pinpad: bool


class Pcsc(Record, frozen=True, kw_only=True):
    library: str | None
    library_version: str | None
    library_error: str | None
    service: Service
    probed: bool
    probe_error: str | None
    service_error: PcscFailure | None
    readers: list[Reader]
    how: str | None
    drivers: list[DriverBundle]
    usb_devices: list[UsbDevice]
    usb_visible: bool
    answers: bool


class Slot(Record, frozen=True, kw_only=True):
    slot_id: int
    description: str
    manufacturer: str | None
    token_present: bool
    token_label: str | None
    token_serial: str | None
    token_model: str | None
    token_manufacturer: str | None


class ModuleProbe(Record, frozen=True, kw_only=True):
    path: str
    loaded: bool
    error_kind: str | None
    error: str | None
    manufacturer: str | None
    description: str | None
    cryptoki_version: str | None
    library_version: str | None
    slots: list[Slot]

    @property
    def tokens(self) -> list[Slot]:
        return [s for s in self.slots if s.token_present]


class Cryptolib(Record, frozen=True, kw_only=True):
    installed: bool
    version: str | None
    version_source: str | None
    package: str | None
    module: str | None
    files: list[str]
    legacy: bool
    cache_dir: str | None
    cache_files: int
    cache_serials: Annotated[list[str], Doc("cards the Cryptolib's cache holds files for", "card_number")]
    cache_serials_hmac: Hmac = UNSET
    mozilla_manifest: str | None
    probe: ModuleProbe | None


class Module(Record, frozen=True, kw_only=True):
    name: str
    path: str | None
    declared: str
    source: str
    config: str
    kind: Annotated[str, Doc("cryptolib, cryptolib-legacy, opensc, p11-kit-proxy, p11-kit-trust, nss, other")]
    exists: bool
    claims: list[str]
    claims_source: str | None
    probe: ModuleProbe | None


class NssDatabase(Record, frozen=True, kw_only=True):
    name: str
    path: str
    default: bool
    pkcs11_txt: bool
    modules: list[Module]
    loads_cps: bool


class SmartCardRegistration(Record, frozen=True, kw_only=True):
    name: str
    atr: str
    mask: str | None
    provider: str | None
    minidriver: str | None
    matches: list[str]


class Windows(Record, frozen=True, kw_only=True):
    certprop: Service
    ccm: str | None
    ccm_running: bool | None
    ccm_autostart: bool | None
    user_certificates: int | None
    registrations: list[SmartCardRegistration]


class ProxyServer(Record, frozen=True, kw_only=True):
    """An HTTP proxy as a report may show it: never its user name nor its password."""

    url: Annotated[str, Doc("http://HOST:PORT, built from host and port: credentials can never be in it")]
    source: Annotated[str, Doc("option, environment, windows, macos")]
    origin: Annotated[str, Doc("the option, variable, registry value or command it was read from")]
    credentials: Annotated[bool, Doc("a user name and password are set (they are sent to the proxy only)")]
    problem: Annotated[str | None, Doc("why cpsdiag cannot use it (a SOCKS or https:// proxy)")] = None


class ProxySource(Record, frozen=True, kw_only=True):
    """Proxy settings found in one place (docs/network.md)."""

    source: Annotated[str, Doc("environment, windows, macos")]
    where: Annotated[str, Doc("the variables, registry key or command read")]
    servers: Annotated[dict[str, ProxyServer], Doc("by URL scheme: http, https")]
    bypass: Annotated[list[str], Doc("exclusions as written (NO_PROXY, ProxyOverride, macOS exceptions)")]
    exclude_simple_hostnames: Annotated[bool, Doc("names without a dot go direct")]
    pac: Annotated[str | None, Doc("automatic configuration script (reported, not run); a user name or "
                                   "password in its URL is masked")]
    auto_detect: Annotated[bool, Doc("WPAD: the system looks for a script on the network")]
    errors: Annotated[list[str], Doc("settings that could not be used (credentials masked)")]


class EnvironmentSection(Record, frozen=True, kw_only=True):
    """The workstation inventory (docs/environment.md); its findings have step ``environment``."""

    system: System
    pcsc: Pcsc
    cryptolib: Cryptolib
    modules: list[Module]
    firefox: list[NssDatabase]
    firefox_installed: bool
    chrome: NssDatabase | None
    chrome_installed: bool
    windows: Windows | None
    pykcs11: bool | None
    card_generation: str | None
    card_serial: Annotated[str | None, Doc("the card in the reader", "card_number")]
    card_serial_hmac: Hmac = UNSET
    card_source: str | None
    card_atrs: list[str]
    proxy: Annotated[list[ProxySource], Doc("proxy settings: the environment's, then the system's")] = []
    timings_ms: dict[str, float]
