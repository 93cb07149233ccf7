"""Area "cryptolib": ANS's Cryptolib CPS: installed or not, where, which version, its cache (research card.md §5).

The one home of the Cryptolib's paths (``LINUX_MODULES``... and
``default_pkcs11_module``, which ``check --via pkcs11`` uses); its minimum
version for each card generation is the generation record's
(``cpsdiag.card.generation``). Its module is loaded with the others by the
"modules" area, which sets ``probe``.

The version comes from the package database (dpkg, rpm), macOS package
receipts, or the Windows registry (``HKLM\\SOFTWARE\\ASIP\\Cryptolib CPS``,
``Version``); the module's C_GetInfo version is the PKCS#11 library's own
(3.x), not the Cryptolib's, so it is reported but never compared.
"""

from __future__ import annotations

import os
import plistlib
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Protocol

from cpsdiag.card.generation import GENERATIONS
from cpsdiag.env.area import ERROR, INFO, OK, WARNING, Area, CardSource, Context, Row, Section, finding
from cpsdiag.env.areas.pcsc import PcscFacts
from cpsdiag.env.packages import older_than, package_version
from cpsdiag.env.pkcs11 import LATEST, ModuleKind, ModuleProbe, ProbeFailure, known_claims, probe_text, slot_sees
from cpsdiag.findings.model import Finding
from cpsdiag.findings.workstation import CRYPTOLIB_URL
from cpsdiag.host import registry as reg
from cpsdiag.host.system import System
from cpsdiag.i18n import _, pgettext

if TYPE_CHECKING:
    from cpsdiag.env.record import EnvironmentSection


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

LINUX_MODULES = ("/opt/santesocial/CPS/lib/libcps3_pkcs11_lux.so", "/usr/lib64/libcps3_pkcs11_lux.so",
                 "/usr/lib/libcps3_pkcs11_lux.so", "/usr/lib/x86_64-linux-gnu/libcps3_pkcs11_lux.so",
                 "/usr/local/lib/libcps3_pkcs11_lux.so")
LINUX_LEGACY = ("/usr/local/galss/libcps_pkcs11_lux.so", "/usr/local/galss/libcpslux.so")
LINUX_OTHER = ("/etc/opt/santesocial/CPS/cps3_pkcs11.conf", "/opt/santesocial/CPS/bin/cpgeslux", "/usr/bin/cpgeslux",
               "/usr/local/galss/libcptablux.so", "/etc/ld.so.conf.d/Cryptolib.conf")
LINUX_CACHE = "/etc/opt/santesocial/CPS/cache"
LINUX_MANIFESTS = ("/usr/lib64/mozilla/pkcs11-modules/cps3.json", "/usr/lib/mozilla/pkcs11-modules/cps3.json")
LINUX_PACKAGES = ("CryptolibCPS", "cryptolibcps", "cryptolib-cps", "cryptolib")

MAC_MODULES = ("/usr/local/lib/libcps3_pkcs11_osx.dylib", "/usr/lib/libcps3_pkcs11_osx.dylib")
MAC_LEGACY = ("/usr/local/lib/libcps_pkcs11_osx.dylib", "/usr/lib/libcps_pkcs11_osx.dylib")
MAC_OTHER = ("/Library/Preferences/santesocial/CPS/cps3_pkcs11.conf", "/Applications/cpgesosx.app",
             "/Library/Frameworks/cptabosx.framework")
MAC_CACHE = "/Library/Caches/santesocial/CPS"
MAC_MANIFESTS = ("/Library/Application Support/Mozilla/PKCS11Modules/cps3.json",)
_RECEIPT = re.compile(r"cryptolib|santesocial|asip", re.IGNORECASE)

# OpenSC's module: what `check --via pkcs11` falls back to when no Cryptolib CPS is installed.
OPENSC_MODULES = ("/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so", "/usr/lib/aarch64-linux-gnu/opensc-pkcs11.so",
                  "/usr/lib64/opensc-pkcs11.so", "/usr/lib/opensc-pkcs11.so", "/Library/OpenSC/lib/opensc-pkcs11.so")


def default_pkcs11_module(exists: Callable[[str], bool] = os.path.exists) -> str | None:
    """The module `check --via pkcs11` uses without --module: the Cryptolib CPS where installed, else OpenSC."""
    return next((path for path in (*LINUX_MODULES, *MAC_MODULES, *OPENSC_MODULES) if exists(path)), None)


WIN_KEYS = (r"HKLM\SOFTWARE\ASIP\Cryptolib CPS", r"HKLM\SOFTWARE\WOW6432Node\ASIP\Cryptolib CPS")
WIN_UNINSTALL = (r"HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Uninstall",
                 r"HKLM\SOFTWARE\WOW6432Node\Microsoft\Windows\CurrentVersion\Uninstall")
_SERIAL = re.compile(r"^([0-9A-Fa-f]{6,})_")


def _first(system: System, paths: tuple[str, ...]) -> list[str]:
    return [p for p in paths if system.exists(p)]


def cache_serials(system: System, folder: str) -> tuple[int, tuple[str, ...]]:
    """(files, card serials) of a cache folder whose files are named ``<serial>_<object>``."""
    count = 0
    serials: set[str] = set()
    for name in system.walk_files(folder):
        count += 1
        match = _SERIAL.match(name.replace("\\", "/").split("/")[-1])
        if match:
            serials.add(match.group(1).upper())
    return count, tuple(sorted(serials))


def _mac_receipt(system: System) -> tuple[str, str] | None:
    for path in system.glob("/var/db/receipts", "*.plist"):
        if not _RECEIPT.search(path.split("/")[-1]):
            continue
        data = system.read_bytes(path)
        try:
            plist: Any = plistlib.loads(data) if data else {}
        except Exception:   # plistlib raises several unrelated types on a damaged file
            continue
        if plist.get("PackageVersion"):
            return plist.get("PackageIdentifier") or path.split("/")[-1], str(plist["PackageVersion"])
    for path in system.glob("/Library/Receipts", "*.pkg/Contents/Info.plist"):
        if not _RECEIPT.search(path):
            continue
        data = system.read_bytes(path)
        try:
            plist = plistlib.loads(data) if data else {}
        except Exception:
            continue
        version = plist.get("CFBundleShortVersionString") or plist.get("CFBundleVersion")
        if version:
            return plist.get("CFBundleIdentifier") or path.split("/")[-3], str(version)
    return None


def _windows(system: System) -> tuple[list[str], list[str], str | None, str | None, str | None, str, str | None]:
    windir = system.env("WINDIR") or system.env("SystemRoot") or r"C:\Windows"
    programs = [system.env("ProgramFiles") or r"C:\Program Files", system.env("ProgramFiles(x86)")]
    arch = system.env("PROCESSOR_ARCHITEW6432") or system.env("PROCESSOR_ARCHITECTURE") or ""
    x64 = arch.upper() in ("AMD64", "ARM64")
    # The module a 64-bit program loads first; a 32-bit one finds the w32 DLL in SysWOW64 (System32 on a 32-bit OS).
    modules = [rf"{windir}\System32\cps3_pkcs11_w64.dll", rf"{windir}\SysWOW64\cps3_pkcs11_w32.dll",
               rf"{windir}\System32\cps3_pkcs11_w32.dll"]
    if not x64:
        modules = modules[2:]
    legacy = [rf"{windir}\System32\cps_pkcs11_w32.dll", rf"{windir}\SysWOW64\cps_pkcs11_w32.dll"]
    others = [rf"{windir}\System32\cps3_csp_w64.dll", rf"{windir}\SysWOW64\cps3_csp_w32.dll",
              rf"{windir}\System32\cps3_csp_w32.dll"]
    others += [rf"{p}\santesocial\CPS\{exe}" for p in programs if p
               for exe in ("ccm.exe", "cpgesw32.exe", "cpgesw64.exe")]
    version = package = source = None
    for key in WIN_KEYS:
        found = reg.value(system.registry, key, "Version")
        if found:
            version, package, source = str(found), key, "registry"
            break
    if version is None and system.registry is not None:
        for base in WIN_UNINSTALL:
            for sub in system.registry.subkeys(base):
                name = reg.value(system.registry, rf"{base}\{sub}", "DisplayName") or ""
                if "cryptolib" in str(name).lower():
                    version = reg.value(system.registry, rf"{base}\{sub}", "DisplayVersion")
                    version, package, source = (str(version) if version else None), str(name), "registry"
                    break
            if version:
                break
    data = system.env("ALLUSERSPROFILE") or system.env("ProgramData") or r"C:\ProgramData"
    manifest = reg.value(system.registry, r"HKLM\SOFTWARE\Mozilla\PKCS11Modules\cps3", "")
    return ([m for m in modules if system.exists(m)], [m for m in legacy if system.exists(m)] + [
        o for o in others if system.exists(o)], version, package, source, rf"{data}\santesocial\cps\cache",
        str(manifest) if manifest else None)


def collect_cryptolib(system: System) -> CryptolibFacts:
    version = package = source = manifest = None
    if system.platform == "win32":
        modules, rest, version, package, source, cache, manifest = _windows(system)
        legacy_modules = [m for m in rest if re.search(r"\\cps_pkcs11", m)]
    else:
        mac = system.platform == "darwin"
        modules = _first(system, MAC_MODULES if mac else LINUX_MODULES)
        legacy_modules = _first(system, MAC_LEGACY if mac else LINUX_LEGACY)
        rest = legacy_modules + _first(system, MAC_OTHER if mac else LINUX_OTHER)
        cache = MAC_CACHE if mac else LINUX_CACHE
        manifest = next(iter(_first(system, MAC_MANIFESTS if mac else LINUX_MANIFESTS)), None)
        if mac:
            receipt = _mac_receipt(system)
            if receipt:
                package, version, source = receipt[0], receipt[1], "receipt"
        else:
            found = package_version(system, LINUX_PACKAGES)
            if found:
                package, version, source = found
    files = tuple(dict.fromkeys(modules + rest))
    module = modules[0] if modules else (legacy_modules[0] if legacy_modules else None)
    cache_dir = cache if system.exists(cache) else None
    count, serials = cache_serials(system, cache) if cache_dir else (0, ())
    installed = bool(files) or version is not None
    return CryptolibFacts(installed=installed, version=version, version_source=source, package=package,
                          module=module, files=files, legacy=bool(legacy_modules) and not modules,
                          cache_dir=cache_dir, cache_files=count, cache_serials=serials,
                          mozilla_manifest=manifest, probe=None)


def collect(ctx: Context) -> None:
    ctx.found["cryptolib"] = collect_cryptolib(ctx.system)


# -- judging -----------------------------------------------------------------------------------

class Reads(Protocol):
    @property
    def cryptolib(self) -> CryptolibFacts: ...
    @property
    def pcsc(self) -> PcscFacts: ...
    @property
    def card_generation(self) -> str | None: ...
    @property
    def card_serial(self) -> str | None: ...


def _same_card(cached: str, card: str) -> bool:
    """A cache file's serial and the card's number name the same card (one holds the other, zeros aside)."""
    a = re.sub(r"[^0-9A-F]", "", cached.upper()).lstrip("0")
    b = re.sub(r"[^0-9A-F]", "", card.upper()).lstrip("0")
    return bool(a and b) and (a in b or b in a)


def judge(facts: Reads, out: list[Finding]) -> None:
    lib, gen = facts.cryptolib, facts.card_generation
    if not lib.installed:
        out.append(finding("MIDDLEWARE_MISSING", WARNING, url=CRYPTOLIB_URL))
        return
    problems = len(out)
    generation = GENERATIONS.get(gen or "")
    minimum = generation.min_cryptolib if generation else None
    if lib.legacy and lib.version is None:
        if minimum:
            out.append(finding("MIDDLEWARE_TOO_OLD", ERROR, version="< 5", minimum=minimum, generation=gen,
                               url=CRYPTOLIB_URL, module=lib.module))
        else:
            out.append(finding("MIDDLEWARE_NOT_CPS4_READY", WARNING, version="< 5", minimum=LATEST.min_cryptolib,
                               url=CRYPTOLIB_URL))
    elif lib.version is not None:
        if minimum and older_than(lib.version, minimum):
            out.append(finding("MIDDLEWARE_TOO_OLD", ERROR, version=lib.version, minimum=minimum, generation=gen,
                               url=CRYPTOLIB_URL))
        elif gen != LATEST.name and older_than(lib.version, LATEST.min_cryptolib):
            out.append(finding("MIDDLEWARE_NOT_CPS4_READY", WARNING, version=lib.version,
                               minimum=LATEST.min_cryptolib, url=CRYPTOLIB_URL))
        if lib.module is None:
            out.append(finding("MIDDLEWARE_INCOMPLETE", ERROR, version=lib.version, package=lib.package,
                               url=CRYPTOLIB_URL))
    elif lib.module:
        out.append(finding("MIDDLEWARE_VERSION_UNKNOWN", INFO, module=lib.module, url=CRYPTOLIB_URL))
    probe = lib.probe
    if probe is not None:
        if probe.error_kind == ProbeFailure.PYKCS11_MISSING:
            out.append(finding("MIDDLEWARE_UNCHECKED", INFO, module=lib.module))
        elif not probe.loaded and probe.error_kind != ProbeFailure.NOT_RUN:
            out.append(finding("MIDDLEWARE_LOAD_FAILED", ERROR, module=lib.module, error=probe.error,
                               error_kind=probe.error_kind, url=CRYPTOLIB_URL))
        elif probe.loaded:
            seen = slot_sees(probe, facts.pcsc.readers, gen)
            drivable = set(known_claims(ModuleKind.CRYPTOLIB, lib.version))
            cards = [r for r in facts.pcsc.readers if r.card_present and r.generation in drivable]
            if seen is not None and cards and not any(r.generation in seen for r in cards):
                out.append(finding("MIDDLEWARE_CARD_NOT_SEEN", WARNING, module=lib.module, reader=cards[0].name,
                                   url=CRYPTOLIB_URL))
    if facts.card_serial and lib.cache_serials:
        others = [s for s in lib.cache_serials if not _same_card(s, facts.card_serial)]
        if others:
            out.append(finding("MIDDLEWARE_CACHE_STALE", WARNING, cache=lib.cache_dir, serials=", ".join(others),
                               card_serial=facts.card_serial))
    if lib.version is not None and not any(f.severity.rank >= WARNING.rank for f in out[problems:]):
        out.insert(problems, finding("MIDDLEWARE_OK", OK, version=lib.version, module=lib.module))


# -- rows --------------------------------------------------------------------------------------

def sections(env: EnvironmentSection) -> list[Section]:
    lib = env.cryptolib
    if lib.installed:
        version = lib.version or (_("older than 5 (CPS2ter era)") if lib.legacy else _("unknown"))
        rows = [Row(pgettext("Cryptolib CPS", "Installed"), _("yes")),
                Row(_("Version"), version + (f" ({lib.version_source}: {lib.package})" if lib.version_source else ""),
                    brief=True)]
        rows.append(Row(_("PKCS#11 module"), lib.module or "-"))
        rows.append(Row(_("Module"), probe_text(lib.probe)))
        rows += [Row(_("File"), f) for f in lib.files if f != lib.module]
        if lib.cache_dir:
            rows.append(Row(_("Cache"), _("{dir}: {n} file(s), card(s) {serials}").format(
                dir=lib.cache_dir, n=lib.cache_files, serials=", ".join(lib.cache_serials) or "-")))
        if lib.mozilla_manifest:
            rows.append(Row(_("Firefox registration"), lib.mozilla_manifest))
    else:
        rows = [Row(pgettext("Cryptolib CPS", "Installed"), _("no"), brief=True)]
    card = env.card_generation or "-"
    if env.card_source == CardSource.ATR:
        card += " " + _("(from the ATR)")
    rows.append(Row(_("Card"), card + (f", {env.card_serial}" if env.card_serial else "")))
    return [Section("Cryptolib CPS", rows)]


AREA: Area[Reads] = Area("cryptolib", collect, judge, sections, stage="files")
