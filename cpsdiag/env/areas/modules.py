"""Where PKCS#11 modules are registered: p11-kit's module files and NSS's pkcs11.txt (Firefox, Chrome on Linux)."""

from __future__ import annotations

from cpsdiag.env.facts import ModuleFacts
from cpsdiag.env.pkcs11 import basename, classify
from cpsdiag.host.system import System

P11KIT_DIRS = ("/usr/share/p11-kit/modules", "/etc/pkcs11/modules")
P11KIT_MODULE_DIRS = ("/usr/lib/x86_64-linux-gnu/pkcs11", "/usr/lib/aarch64-linux-gnu/pkcs11", "/usr/lib64/pkcs11",
                      "/usr/lib/pkcs11", "/usr/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu", "/usr/lib64",
                      "/usr/lib")


def _resolve(system: System, declared: str) -> tuple[str | None, bool]:
    """A module path as p11-kit resolves it: absolute, or relative to its module folder."""
    if declared.startswith("/"):
        return declared, system.exists(declared)
    for folder in P11KIT_MODULE_DIRS:
        if system.exists(f"{folder}/{declared}"):
            return f"{folder}/{declared}", True
    return None, False


def parse_p11kit(text: str) -> dict[str, str]:
    out = {}
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        key, sep, value = line.partition(":")
        if sep:
            out[key.strip().lower()] = value.strip()
    return out


def p11kit_modules(system: System) -> list[ModuleFacts]:
    """The modules p11-kit loads for the programs that use it (GnuTLS, p11-kit-proxy in browsers...)."""
    if system.platform == "win32":
        return []
    folders = list(P11KIT_DIRS)
    home = system.home()
    if home:
        folders.append(f"{home}/.config/pkcs11/modules")
    found: dict[str, ModuleFacts] = {}
    for folder in folders:
        for path in system.glob(folder, "*.module"):
            fields = parse_p11kit(system.read_text(path) or "")
            declared = fields.get("module")
            name = path.rsplit("/", 1)[-1].removesuffix(".module")
            if not declared or fields.get("enable-in") == "none":
                continue
            resolved, exists = _resolve(system, declared)
            # A user's file overrides the system one of the same name, as in p11-kit.
            found[name] = ModuleFacts(name=name, path=resolved, declared=declared, source="p11-kit", config=path,
                                      kind=classify(declared), exists=exists)
    return list(found.values())


def parse_pkcs11_txt(text: str) -> list[dict[str, str]]:
    """The stanzas of an NSS pkcs11.txt (``library=``, ``name=``, ...), blank-line separated."""
    stanzas, current = [], {}
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
    for stanza in parse_pkcs11_txt(system.read_text(pkcs11_txt) or ""):
        library = stanza.get("library", "")
        if not library:
            continue
        if system.platform == "win32" or "/" in library or "\\" in library:
            path, exists = library, system.exists(library)
        else:
            path, exists = _resolve(system, library)   # NSS hands a bare name to dlopen
        out.append(ModuleFacts(name=stanza.get("name") or basename(library), path=path, declared=library,
                               source=source, config=pkcs11_txt, kind=classify(library), exists=exists))
    return out
