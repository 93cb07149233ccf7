"""Installed package versions (dpkg's status file, rpm) and version comparison."""

from __future__ import annotations

import re
from functools import lru_cache

from cpsdiag.host.system import System

DPKG_STATUS = "/var/lib/dpkg/status"


def dpkg_packages(system: System) -> dict[str, str]:
    """name -> version of the installed packages in dpkg's status file (empty when there is none)."""
    return _parse_dpkg(system.read_text(DPKG_STATUS, limit=64_000_000) or "")


@lru_cache(maxsize=4)
def _parse_dpkg(text: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for stanza in text.split("\n\n"):
        fields: dict[str, str] = {}
        for line in stanza.splitlines():
            if line[:1].isspace():
                continue
            key, sep, value = line.partition(":")
            if sep:
                fields[key.strip().lower()] = value.strip()
        name, status = fields.get("package"), fields.get("status", "")
        if name and status.endswith(" installed") and "version" in fields:
            base = name.split(":")[0]
            out.setdefault(base, fields["version"])
    return out


def rpm_version(system: System, name: str) -> str | None:
    """The version-release of an installed RPM, asked to rpm itself (only where an RPM database exists)."""
    if not (system.exists("/var/lib/rpm") or system.exists("/usr/lib/sysimage/rpm")):
        return None
    done = system.command(["rpm", "-q", "--qf", "%{VERSION}-%{RELEASE}", name], timeout=10)
    out = done.stdout.strip()
    if done.rc != 0 or not out or "not installed" in out:
        return None
    return out


def package_version(system: System, names: tuple[str, ...]) -> tuple[str, str, str] | None:
    """(name, version, "dpkg"|"rpm") of the first of ``names`` installed, case-insensitively."""
    dpkg = {k.lower(): (k, v) for k, v in dpkg_packages(system).items()}
    for name in names:
        if name.lower() in dpkg:
            real, version = dpkg[name.lower()]
            return real, version, "dpkg"
    for name in names:
        rpm = rpm_version(system, name)
        if rpm:
            return name, rpm, "rpm"
    return None


def version_tuple(version: str | None) -> tuple[int, ...] | None:
    """(5, 2, 2) from "5.2.2", "5.2.2-1", "1:5.2.2-1ubuntu", "v5.2"; None when there is no number."""
    if not version:
        return None
    text = str(version).split(":", 1)[-1]
    match = re.match(r"\D*(\d+(?:\.\d+)*)", text)
    if not match:
        return None
    return tuple(int(p) for p in match.group(1).split("."))


def older_than(version: str | None, minimum: str) -> bool | None:
    """True when ``version`` is older than ``minimum``; None when the version is unknown."""
    have, want = version_tuple(version), version_tuple(minimum)
    if have is None or want is None:
        return None
    width = max(len(have), len(want))
    return have + (0,) * (width - len(have)) < want + (0,) * (width - len(want))
