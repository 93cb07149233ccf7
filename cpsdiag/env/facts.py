"""What the workstation probes found: frozen records, no judgement.

``None`` means "not known" (not probed, or the probe could not tell);
``False`` means "probed, and no". Paths are spelt as on the probed system.
"""

from __future__ import annotations

from cpsdiag.transport.features import Feature  # noqa: F401  (part of the facts)

from dataclasses import dataclass, field


@dataclass(frozen=True)
class RemoteSession:
    kind: str                   # "ssh" | "rdp" | "citrix" | "xrdp" | "x2go" | "nx"
    evidence: str               # the variable or marker that gave it away, e.g. "SESSIONNAME=RDP-Tcp#3"
    client: str | None = None   # CLIENTNAME, or the SSH client's address


@dataclass(frozen=True)
class SystemFacts:
    platform: str               # "linux" | "darwin" | "win32"
    os_name: str | None
    os_version: str | None
    kernel: str | None
    architecture: str | None
    python: str
    cpsdiag: str
    locale: str | None          # the first of LC_ALL, LC_MESSAGES, LANG that is set
    language: str               # "fr" | "en", as cpsdiag chose it from the locale
    remote: RemoteSession | None


@dataclass(frozen=True)
class ServiceFacts:
    name: str                           # "pcscd", "SCardSvr", "com.apple.ctkpcscd", "CertPropSvc"
    installed: bool | None = None
    running: bool | None = None
    pids: tuple[int, ...] = ()
    start_mode: str | None = None       # "auto", "manual", "disabled", "socket", "masked", "on-demand"
    socket: str | None = None           # Linux: pcscd's socket path when it exists
    version: str | None = None
    binary: str | None = None
    detail: str | None = None           # what the service manager said, verbatim


@dataclass(frozen=True)
class PcscError:
    operation: str
    hresult: str | None                 # "0x8010001D"
    message: str


@dataclass(frozen=True)
class UsbDevice:
    path: str                           # sysfs path, e.g. /sys/bus/usb/devices/1-2
    vendor_id: str                      # "072F" (hex, upper case)
    product_id: str
    manufacturer: str | None
    product: str | None
    ccid: bool                          # an interface of class 0x0B (smart card)
    driver: str | None                  # the bundle listing this vendor/product, e.g. "ifd-ccid.bundle"
    driver_name: str | None             # the bundle's friendly name for it
    class_driver: str | None            # the bundle that serves any CCID device, when this one is not listed


@dataclass(frozen=True)
class DriverBundle:
    name: str                           # "ifd-ccid.bundle"
    path: str                           # its Info.plist
    version: str | None
    executable: str | None
    class_driver: bool                  # CFBundleName CCIDCLASSDRIVER: serves any CCID-class device
    devices: int                        # vendor/product pairs it lists


@dataclass(frozen=True)
class ReaderFacts:
    name: str
    card_present: bool | None
    atr: str | None                     # hex
    state: tuple[str, ...]              # SCARD_STATE_* flag names
    answering: bool
    error: PcscError | None = None      # why it does not answer
    card: str | None = None             # the card its ATR names ("CPS4 (contact, ChipDoc, T=0)")
    generation: str | None = None
    exclusive: bool = False             # another program holds the card exclusively
    card_error: PcscError | None = None # the reader answers but the card in it does not
    features: tuple[Feature, ...] | None = None    # PC/SC part 10; None: the driver did not say
    features_error: str | None = None
    usb: UsbDevice | None = None

    @property
    def pinpad(self) -> bool:
        names = {f.name for f in self.features or ()}
        return bool(names & {"FEATURE_VERIFY_PIN_DIRECT", "FEATURE_VERIFY_PIN_START", "FEATURE_MODIFY_PIN_DIRECT"})


@dataclass(frozen=True)
class PcscFacts:
    library: str | None                 # the client library (path)
    library_version: str | None         # its package's version
    library_error: str | None           # why it cannot be loaded
    service: ServiceFacts
    probed: bool                        # the live probe ran (False: fake layout without it, or it failed)
    probe_error: str | None             # why the live probe did not give an answer
    service_error: PcscError | None     # SCardEstablishContext / SCardListReaders failure
    readers: tuple[ReaderFacts, ...]
    how: str | None                     # how readers were obtained
    drivers: tuple[DriverBundle, ...]
    usb_devices: tuple[UsbDevice, ...]  # smart-card devices on the USB bus (Linux)
    usb_visible: bool                   # the USB bus could be read at all

    @property
    def answers(self) -> bool:
        return self.probed and self.library_error is None and self.service_error is None


@dataclass(frozen=True)
class SlotFacts:
    slot_id: int
    description: str
    manufacturer: str | None
    token_present: bool
    token_label: str | None = None
    token_serial: str | None = None
    token_model: str | None = None
    token_manufacturer: str | None = None


@dataclass(frozen=True)
class ModuleProbe:
    """A PKCS#11 module loaded in a helper process (C_Initialize, C_GetInfo, slots)."""

    path: str
    loaded: bool
    # "pykcs11_missing" | "load_failed" | "pkcs11_error" | "timeout" | "crashed" | "not_run"
    error_kind: str | None = None
    error: str | None = None
    manufacturer: str | None = None
    description: str | None = None
    cryptoki_version: str | None = None
    library_version: str | None = None
    slots: tuple[SlotFacts, ...] = ()

    @property
    def tokens(self) -> tuple[SlotFacts, ...]:
        return tuple(s for s in self.slots if s.token_present)


@dataclass(frozen=True)
class CryptolibFacts:
    installed: bool
    version: str | None                 # the Cryptolib CPS version ("5.2.2")
    version_source: str | None          # "dpkg", "rpm", "receipt", "registry"
    package: str | None                 # package or receipt name
    module: str | None                  # its PKCS#11 module (path), the one cpsdiag would load
    files: tuple[str, ...]              # the files of card.md §5 that exist
    legacy: bool                        # only the pre-5 (CPS2ter era) module names were found
    cache_dir: str | None
    cache_files: int
    cache_serials: tuple[str, ...]      # card serials the cache holds files for
    mozilla_manifest: str | None        # cps3.json, the module's registration for Firefox extensions
    probe: ModuleProbe | None


@dataclass(frozen=True)
class ModuleFacts:
    """A PKCS#11 module some program is set to load."""

    name: str
    path: str | None                    # resolved path (None when it could not be found)
    declared: str                       # as written in the configuration
    source: str                         # "p11-kit", "firefox:<profile>", "chrome-nss", "windows"
    config: str                         # the file (or registry key) that declares it
    # "cryptolib" | "cryptolib-legacy" | "opensc" | "p11-kit-proxy" | "p11-kit-trust" | "nss" | "other"
    kind: str
    exists: bool
    claims: tuple[str, ...] = ()        # card generations it drives ("CPS3", "CPS4")
    claims_source: str | None = None    # "known" (from its kind) | "probe" (a slot showed the card)
    probe: ModuleProbe | None = None


@dataclass(frozen=True)
class NssDatabase:
    """A Firefox profile or Chrome's NSS database: which PKCS#11 modules it loads."""

    name: str                           # the profile's name, or "Chrome/Chromium"
    path: str
    default: bool
    pkcs11_txt: bool                    # the profile has a pkcs11.txt (NSS shared database)
    modules: tuple[ModuleFacts, ...]

    @property
    def loads_cps(self) -> bool:
        return any(m.kind == "cryptolib" for m in self.modules)


@dataclass(frozen=True)
class SmartCardRegistration:
    """A card registered with Windows (HKLM\\SOFTWARE\\Microsoft\\Cryptography\\Calais\\SmartCards)."""

    name: str
    atr: str
    mask: str | None
    provider: str | None                # "Crypto Provider" (CSP)
    minidriver: str | None              # "80000001"
    matches: tuple[str, ...] = ()       # the card ATRs (hex) it matches


@dataclass(frozen=True)
class WindowsFacts:
    certprop: ServiceFacts              # Certificate Propagation
    ccm: str | None                     # ccm.exe, the Cryptolib's certificate manager
    ccm_running: bool | None
    ccm_autostart: bool | None          # in a Run key
    user_certificates: int | None       # certificates in the user's personal store (registry-backed)
    registrations: tuple[SmartCardRegistration, ...]


@dataclass(frozen=True)
class EnvironmentFacts:
    system: SystemFacts
    pcsc: PcscFacts
    cryptolib: CryptolibFacts
    modules: tuple[ModuleFacts, ...]            # registered system-wide (p11-kit, Windows)
    firefox: tuple[NssDatabase, ...]
    firefox_installed: bool
    chrome: NssDatabase | None                  # Linux: ~/.pki/nssdb
    chrome_installed: bool
    windows: WindowsFacts | None
    pykcs11: bool | None                        # PyKCS11 importable (None: the helper did not run)
    card_generation: str | None                 # "CPS3" | "CPS4", from check or from a reader's ATR
    card_serial: str | None
    card_source: str | None                     # "check" | "atr"
    card_atrs: tuple[str, ...] = ()             # ATRs (hex) of the CPS cards in the readers
    proxy: tuple = ()                           # cpsdiag.net.proxy.ProxySource: environment, then the system's
    timings_ms: dict[str, float] = field(default_factory=dict, compare=False)
