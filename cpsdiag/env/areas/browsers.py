"""Browsers: Firefox profiles and Chrome/Chromium's NSS database, and the PKCS#11 modules each loads.

Firefox reaches the card only through a PKCS#11 module listed in the
profile's ``pkcs11.txt`` (the Cryptolib's "Module de sécurité CPS").
Chrome on Linux reads ``~/.pki/nssdb``; on Windows and macOS it uses the
system's certificate store, filled from the card by the Cryptolib (CCM,
Certificate Propagation; see cpsdiag.env.windows).
"""

from __future__ import annotations

import configparser

from cpsdiag.env.facts import NssDatabase
from cpsdiag.env.modules import nss_modules
from cpsdiag.host.system import System

FIREFOX_BINARIES = {
    "linux": ("/usr/bin/firefox", "/usr/bin/firefox-esr", "/usr/lib/firefox/firefox", "/usr/lib/firefox-esr/firefox-esr",
              "/snap/bin/firefox", "/opt/firefox/firefox"),
    "darwin": ("/Applications/Firefox.app",),
    "win32": (r"C:\Program Files\Mozilla Firefox\firefox.exe", r"C:\Program Files (x86)\Mozilla Firefox\firefox.exe"),
}
CHROME_BINARIES = ("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome",
                   "/usr/bin/google-chrome-stable", "/opt/google/chrome/chrome", "/snap/bin/chromium")


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


def firefox_installed(system: System, profiles: list[NssDatabase]) -> bool:
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
