"""What the stack and peer tests need from the machine, and which step of scripts/setup installs it.

A test or fixture asks with ``require("nginx")`` and gets the thing's path.
Outside CI a missing prerequisite skips the test, with a reason that
``pytest -rs`` lists. In CI (``CI`` set, as the CI runner does) and under
``CPSDIAG_TEST_STRICT=1`` (scripts/test as root) it is an error naming what
is missing and the setup step that installs it: a CI machine missing one
package must fail, not go green on skipped tests.

A new prerequisite is one more entry in PREREQUISITES, naming its Debian
package: ``"squid": command("squid", "squid-openssl")``.

An *optional* prerequisite is one no setup step installs and CI never has
(ANS's Cryptolib, which the project neither ships nor fetches): the tests needing it are
local checks, skipped everywhere it is missing, strict mode included, with a
reason starting "optional prerequisite" (``optional_skip``).
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass

import pytest

# Where root's commands live on Debian: a non-root PATH often lacks the sbin folders.
SBIN = ("/usr/local/sbin", "/usr/sbin", "/sbin")


def strict() -> bool:
    """In CI and in scripts/test (as root) nothing may be skipped for want of a prerequisite."""
    ci = os.environ.get("CI", "").strip().lower()
    return os.environ.get("CPSDIAG_TEST_STRICT") == "1" or ci not in ("", "0", "false", "no")


@dataclass(frozen=True)
class Prerequisite:
    what: str                               # what the message calls it
    installed_by: str                       # the setup step that installs it
    locate: Callable[[], str | None]        # its path when present, else None
    debian_package: str | None = None       # the package scripts/setup must list (tests/unit/test_prerequisites_table.py)
    optional: bool = False                  # a local check only: missing is a skip even in CI and strict mode


def find_command(name: str) -> str | None:
    """An executable NAME on PATH or in the sbin folders (the commands pcscd and nginx live there)."""
    path = os.pathsep.join([os.environ.get("PATH", ""), *SBIN])
    return shutil.which(name, path=path)


# dlinfo(RTLD_DI_LINKMAP) gives the path the dynamic loader itself chose: the machine's own multiarch folder,
# whatever the architecture. In a child process, so that the test run does not keep the library loaded.
_LOADER_PATH = r"""
import ctypes, sys
class LinkMap(ctypes.Structure):
    _fields_ = [("l_addr", ctypes.c_void_p), ("l_name", ctypes.c_char_p)]
try:
    lib = ctypes.CDLL(sys.argv[1])
except OSError:
    sys.exit(1)
libc = ctypes.CDLL(None)
link = ctypes.POINTER(LinkMap)()
if libc.dlinfo(ctypes.c_void_p(lib._handle), 2, ctypes.byref(link)) != 0:
    sys.exit(2)
print(link.contents.l_name.decode())
"""


@functools.lru_cache(maxsize=None)
def loader_path(name: str) -> str | None:
    """Where dlopen(NAME) finds a shared library on this machine, or None when it finds none."""
    proc = subprocess.run([sys.executable, "-c", _LOADER_PATH, name], capture_output=True, text=True, timeout=30)
    path = proc.stdout.strip()
    return path if proc.returncode == 0 and path.startswith("/") else None


def _debian(package: str) -> str:
    return f"scripts/setup installs it (Debian package {package})"


def command(name: str, package: str) -> Prerequisite:
    return Prerequisite(f"the command {name}", _debian(package), lambda: find_command(name), package)


def library(name: str, package: str) -> Prerequisite:
    return Prerequisite(f"the library {name}", _debian(package), lambda: loader_path(name), package)


def python_module(name: str, extra: str) -> Prerequisite:
    def locate() -> str | None:
        import importlib.util

        spec = importlib.util.find_spec(name)
        return spec.origin if spec is not None else None

    return Prerequisite(f"the Python package {name}", f"scripts/setup installs it into .venv (pip extra {extra})",
                        locate)


def squid_helper(name: str) -> Prerequisite:
    """A helper program squid runs (Debian keeps them in /usr/lib/squid, off PATH)."""
    path = f"/usr/lib/squid/{name}"
    return Prerequisite(f"squid's helper {path}", _debian("squid-openssl"),
                        lambda: path if os.access(path, os.X_OK) else None, "squid-openssl")


def _vpcd() -> str | None:
    from cpsdiag.emulator import stack

    try:
        return stack.vpcd_driver()
    except stack.StackError:
        return None


CRYPTOLIB_INSTALLED = "/opt/santesocial/CPS/lib/libcps3_pkcs11_lux.so"


def _cryptolib() -> str | None:
    """ANS's Cryptolib CPS module: CPSDIAG_CRYPTOLIB (a copy extracted from ANS's RPM), else where the RPM installs it."""
    for path in (os.environ.get("CPSDIAG_CRYPTOLIB", ""), CRYPTOLIB_INSTALLED):
        if path and os.path.isfile(path):
            return path
    return None


def _root() -> str | None:
    return "root" if os.geteuid() == 0 else None


PREREQUISITES: dict[str, Prerequisite] = {
    "vpcd": Prerequisite("the vpcd driver (libifdvpcd.so)", _debian("vsmartcard-vpcd"), _vpcd, "vsmartcard-vpcd"),
    "pcscd": command("pcscd", "pcscd"),
    "ip": command("ip", "iproute2"),             # loopback of the private network namespace
    "root": Prerequisite("root (the tests' own pcscd in private namespaces; without it, a system pcscd with the "
                         "vpcd driver serves the tests that need not stop it)",
                         "run the tests as root, as CI does", _root),
    "libpcsclite": library("libpcsclite.so.1", "libpcsclite-dev"),
    "opensc-module": library("opensc-pkcs11.so", "opensc"),
    "opensc-tool": command("opensc-tool", "opensc"),
    "opensc-explorer": command("opensc-explorer", "opensc"),
    "pkcs11-tool": command("pkcs11-tool", "opensc"),
    "pkcs15-tool": command("pkcs15-tool", "opensc"),
    "nginx": command("nginx", "nginx-light"),
    "openssl": command("openssl", "openssl"),
    "chromium": command("chromium", "chromium"),
    "msgfmt": command("msgfmt", "gettext"),
    "unshare": command("unshare", "util-linux"),
    "PyKCS11": python_module("PyKCS11", "cpsdiag[test]"),
    # Real HTTP proxies: CONNECT, Basic authentication, TLS inspection (only the OpenSSL build can bump TLS).
    "squid": command("squid", "squid-openssl"),
    "squid-basic-auth": squid_helper("basic_ncsa_auth"),
    "squid-certgen": squid_helper("security_file_certgen"),
    "cryptolib": Prerequisite("ANS's Cryptolib CPS PKCS#11 module (libcps3_pkcs11_lux.so)",
                              "not installed by scripts/setup nor in CI (it comes only from ANS's repository, which the "
                              "project neither ships nor fetches): extract it "
                              "from ANS's Linux RPM and set CPSDIAG_CRYPTOLIB to its path (docs/emulator.md, "
                              "\"ANS's Cryptolib\")", _cryptolib, optional=True),
}

OPTIONAL_SKIP = "optional prerequisite"


def optional_skip(reason: str) -> bool:
    """Whether a skip's reason says an optional prerequisite was missing (a skip that strict mode accepts)."""
    return reason.startswith(OPTIONAL_SKIP) or f"Skipped: {OPTIONAL_SKIP}" in reason


def missing_message(key: str) -> str:
    p = PREREQUISITES[key]
    return f"missing prerequisite {key!r}: {p.what}; {p.installed_by}"


def require(key: str) -> str:
    """The prerequisite's path; a skip outside CI, a failure in CI, when it is missing (always a skip if optional)."""
    found = PREREQUISITES[key].locate()
    if found:
        return found
    if PREREQUISITES[key].optional:
        p = PREREQUISITES[key]
        pytest.skip(f"{OPTIONAL_SKIP} {key!r} missing: {p.what}; {p.installed_by}")
    if strict():
        pytest.fail(missing_message(key) + " [an error, not a skip, in CI and scripts/test]", pytrace=False)
    pytest.skip(missing_message(key))
