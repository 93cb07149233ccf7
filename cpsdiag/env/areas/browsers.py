"""Area "browsers": Firefox profiles and Chrome/Chromium's NSS database, and the PKCS#11 modules each loads.

Firefox reaches the card only through a PKCS#11 module listed in the
profile's ``pkcs11.txt`` (the Cryptolib's "Module de sécurité CPS").
Chrome on Linux reads ``~/.pki/nssdb``; on Windows and macOS it uses the
system's certificate store, filled from the card by the Cryptolib (CCM,
Certificate Propagation; see cpsdiag.env.areas.windows). The modules are
loaded, and their claims set, by the "modules" area.
"""

from __future__ import annotations

import configparser
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from cpsdiag.env.area import OK, WARNING, Area, Context, Row, Section, finding
from cpsdiag.env.areas.cryptolib import CryptolibFacts
from cpsdiag.env.areas.session import SystemFacts
from cpsdiag.env.pkcs11 import ModuleFacts, ModuleKind, basename, classify, module_line, resolve
from cpsdiag.findings.model import Finding
from cpsdiag.host.system import System
from cpsdiag.i18n import _

if TYPE_CHECKING:
    from cpsdiag.env.record import EnvironmentSection


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
        return any(m.kind == ModuleKind.CRYPTOLIB for m in self.modules)

FIREFOX_BINARIES = {
    "linux": ("/usr/bin/firefox", "/usr/bin/firefox-esr", "/usr/lib/firefox/firefox", "/usr/lib/firefox-esr/firefox-esr",
              "/snap/bin/firefox", "/opt/firefox/firefox"),
    "darwin": ("/Applications/Firefox.app",),
    "win32": (r"C:\Program Files\Mozilla Firefox\firefox.exe", r"C:\Program Files (x86)\Mozilla Firefox\firefox.exe"),
}
CHROME_BINARIES = ("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome",
                   "/usr/bin/google-chrome-stable", "/opt/google/chrome/chrome", "/snap/bin/chromium")


def parse_pkcs11_txt(text: str) -> list[dict[str, str]]:
    """The stanzas of an NSS pkcs11.txt (``library=``, ``name=``, ...), blank-line separated."""
    stanzas: list[dict[str, str]] = []
    current: dict[str, str] = {}
    for line in text.splitlines():
        line = line.strip()
        if not line:
            if current:
                stanzas.append(current)
            current = {}
            continue
        key, sep, value = line.partition("=")
        if sep and key not in current:
            current[key.strip().lower()] = value.strip()
    if current:
        stanzas.append(current)
    return stanzas


def nss_modules(system: System, pkcs11_txt: str, source: str) -> list[ModuleFacts]:
    """The external modules an NSS database loads (its internal module has an empty ``library=``)."""
    out = []
    path: str | None
    for stanza in parse_pkcs11_txt(system.read_text(pkcs11_txt) or ""):
        library = stanza.get("library", "")
        if not library:
            continue
        if system.platform == "win32" or "/" in library or "\\" in library:
            path, exists = library, system.exists(library)
        else:
            path, exists = resolve(system, library)   # NSS hands a bare name to dlopen
        out.append(ModuleFacts(name=stanza.get("name") or basename(library), path=path, declared=library,
                               source=source, config=pkcs11_txt, kind=classify(library), exists=exists))
    return out


def _sep(system: System) -> str:
    return "\\" if system.platform == "win32" else "/"


def firefox_roots(system: System) -> list[str]:
    """Folders that may hold a profiles.ini (regular, snap and flatpak installs on Linux)."""
    home = system.home()
    if system.platform == "win32":
        appdata = system.env("APPDATA") or (rf"{home}\AppData\Roaming" if home else None)
        return [rf"{appdata}\Mozilla\Firefox"] if appdata else []
    if not home:
        return []
    if system.platform == "darwin":
        return [f"{home}/Library/Application Support/Firefox"]
    return [f"{home}/.mozilla/firefox", f"{home}/snap/firefox/common/.mozilla/firefox",
            f"{home}/.var/app/org.mozilla.firefox/.mozilla/firefox"]


def firefox_profiles(system: System) -> list[NssDatabase]:
    out = []
    sep = _sep(system)
    for root in firefox_roots(system):
        text = system.read_text(f"{root}{sep}profiles.ini")
        if text is None:
            continue
        ini = configparser.RawConfigParser(strict=False)
        try:
            ini.read_string(text)
        except configparser.Error:
            continue
        install_defaults = {ini.get(s, "Default", fallback="") for s in ini.sections() if s.startswith("Install")}
        for section in ini.sections():
            if not section.startswith("Profile"):
                continue
            rel = ini.get(section, "Path", fallback="")
            if not rel:
                continue
            relative = ini.get(section, "IsRelative", fallback="1") == "1"
            path = f"{root}{sep}{rel.replace('/', sep)}" if relative else rel
            txt = f"{path}{sep}pkcs11.txt"
            name = ini.get(section, "Name", fallback=rel)
            default = ini.get(section, "Default", fallback="0") == "1" or rel in install_defaults
            out.append(NssDatabase(name=name, path=path, default=default, pkcs11_txt=system.exists(txt),
                                   modules=tuple(nss_modules(system, txt, f"firefox:{name}"))))
    return out


def firefox_installed(system: System, profiles: list[NssDatabase] | tuple[NssDatabase, ...]) -> bool:
    return bool(profiles) or any(system.exists(p) for p in FIREFOX_BINARIES.get(system.platform, ()))


def chrome_nssdb(system: System) -> tuple[bool, NssDatabase | None]:
    """Linux only: (Chrome or Chromium installed, its NSS database)."""
    home = system.home()
    if system.platform != "linux" or not home:
        return False, None
    installed = any(system.exists(p) for p in CHROME_BINARIES) or any(
        system.exists(f"{home}/.config/{d}") for d in ("chromium", "google-chrome"))
    folder = f"{home}/.pki/nssdb"
    if not system.exists(folder):
        return installed, None
    txt = f"{folder}/pkcs11.txt"
    return installed, NssDatabase(name="Chrome/Chromium", path=folder, default=True, pkcs11_txt=system.exists(txt),
                                  modules=tuple(nss_modules(system, txt, "chrome-nss")))


def collect(ctx: Context) -> None:
    system = ctx.system
    profiles = tuple(firefox_profiles(system))
    chrome_installed, chrome = chrome_nssdb(system)
    ctx.found.update(firefox=profiles, firefox_installed=firefox_installed(system, profiles), chrome=chrome,
                     chrome_installed=chrome_installed)


# -- judging -----------------------------------------------------------------------------------

class Reads(Protocol):
    @property
    def system(self) -> SystemFacts: ...
    @property
    def cryptolib(self) -> CryptolibFacts: ...
    @property
    def firefox(self) -> tuple[NssDatabase, ...]: ...
    @property
    def chrome(self) -> NssDatabase | None: ...
    @property
    def chrome_installed(self) -> bool: ...


def judge(facts: Reads, out: list[Finding]) -> None:
    lib = facts.cryptolib
    for db in facts.firefox:
        for m in db.modules:
            if not m.exists and m.kind != ModuleKind.NSS and re.search(r"[\\/]", m.declared):
                out.append(finding("FIREFOX_MODULE_BROKEN", WARNING, profile=db.name, name=m.name, path=m.declared))
    if not lib.installed:
        return      # MIDDLEWARE_MISSING comes first: there is no module to load yet
    missing = [db for db in facts.firefox if not db.loads_cps]
    for db in missing:
        out.append(finding("FIREFOX_MODULE_MISSING", WARNING, profile=db.name, module=lib.module, path=db.path))
    if facts.firefox and not missing:
        out.append(finding("FIREFOX_MODULE_OK", OK, profiles=", ".join(db.name for db in facts.firefox)))
    if facts.system.platform == "linux" and facts.chrome_installed and (
            facts.chrome is None or not facts.chrome.loads_cps):
        out.append(finding("CHROME_MODULE_MISSING", WARNING,
                           path=facts.chrome.path if facts.chrome else "~/.pki/nssdb", module=lib.module))


# -- rows --------------------------------------------------------------------------------------

def sections(env: EnvironmentSection) -> list[Section]:
    rows = []
    for db in env.firefox:
        mods = "; ".join(module_line(m) for m in db.modules) or _("no external module")
        flag = _("loads the CPS module") if db.loads_cps else _("does NOT load the CPS module")
        rows.append(Row(f"Firefox « {db.name} »" + (" *" if db.default else ""), f"{flag} — {mods}",
                        alert=not db.loads_cps))
    if not env.firefox:
        rows.append(Row("Firefox", _("installed, no profile") if env.firefox_installed else _("not found")))
    if env.system.platform == "linux":
        if env.chrome is not None:
            flag = _("loads the CPS module") if env.chrome.loads_cps else _("does NOT load the CPS module")
            rows.append(Row("Chrome/Chromium", f"{flag} — {env.chrome.path}", alert=not env.chrome.loads_cps))
        else:
            rows.append(Row("Chrome/Chromium", _("installed, no NSS database") if env.chrome_installed
                            else _("not found")))
    return [Section(_("Browsers"), rows)]


AREA: Area[Reads] = Area("browsers", collect, judge, sections, stage="files")
