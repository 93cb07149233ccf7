"""Area "session": the operating system, the interpreter, the locale, and whether the session is remote."""

from __future__ import annotations

import platform as _platform
import plistlib
import re
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Protocol

from cpsdiag import __version__
from cpsdiag.env.area import WARNING, Area, Context, Row, Section, finding
from cpsdiag.findings.model import Finding
from cpsdiag.host import registry as reg
from cpsdiag.host.system import System
from cpsdiag.i18n import _, detect_language

if TYPE_CHECKING:
    from cpsdiag.env.record import EnvironmentSection


class SessionKind(StrEnum):
    SSH = "ssh"
    RDP = "rdp"
    CITRIX = "citrix"
    XRDP = "xrdp"
    X2GO = "x2go"
    NX = "nx"


@dataclass(frozen=True)
class RemoteSession:
    kind: SessionKind
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


_WIN_ARCH = {"AMD64": "x86_64", "X86": "x86", "ARM64": "arm64"}


def _os_release(system: System) -> dict[str, str]:
    text = system.read_text("/etc/os-release") or system.read_text("/usr/lib/os-release") or ""
    out = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep:
            out[key.strip()] = value.strip().strip('"').strip("'")
    return out


def _uname(system: System, flag: str) -> str | None:
    done = system.command(["uname", flag], timeout=5)
    return done.stdout.strip() or None if done.rc == 0 else None


def _linux(system: System) -> tuple[str | None, str | None, str | None, str | None]:
    rel = _os_release(system)
    kernel = (system.read_text("/proc/sys/kernel/osrelease") or "").strip() or _uname(system, "-r")
    name = rel.get("NAME") or rel.get("PRETTY_NAME")
    return (name, rel.get("VERSION") or rel.get("VERSION_ID"), kernel, _uname(system, "-m"))


def _darwin(system: System) -> tuple[str | None, str | None, str | None, str | None]:
    data = system.read_bytes("/System/Library/CoreServices/SystemVersion.plist")
    name = version = None
    if data:
        try:
            plist = plistlib.loads(data)
        except Exception:   # plistlib raises several unrelated types on a damaged file
            plist = {}
        name, version = plist.get("ProductName"), plist.get("ProductVersion")
    return (name or "macOS", version, _uname(system, "-r"), _uname(system, "-m"))


def _win32(system: System) -> tuple[str | None, str | None, str | None, str | None]:
    key = r"HKLM\SOFTWARE\Microsoft\Windows NT\CurrentVersion"
    name = reg.value(system.registry, key, "ProductName")
    build = reg.value(system.registry, key, "CurrentBuild") or reg.value(system.registry, key, "CurrentBuildNumber")
    display = reg.value(system.registry, key, "DisplayVersion") or reg.value(system.registry, key, "ReleaseId")
    # Windows 11 still says "Windows 10" in ProductName; its builds start at 22000.
    if name and build and str(build).isdigit() and int(build) >= 22000:
        name = name.replace("Windows 10", "Windows 11")
    version = " ".join(str(p) for p in (display, f"(build {build})" if build else None) if p) or None
    arch = system.env("PROCESSOR_ARCHITEW6432") or system.env("PROCESSOR_ARCHITECTURE")
    return (name or "Windows", version, str(build) if build else None, _WIN_ARCH.get((arch or "").upper(), arch))


def remote_session(system: System) -> RemoteSession | None:
    """A remote session, from the variables the session's server sets."""
    env = system.env
    if env("SSH_CONNECTION") or env("SSH_CLIENT") or env("SSH_TTY"):
        which = next(v for v in ("SSH_CONNECTION", "SSH_CLIENT", "SSH_TTY") if env(v))
        client = (env("SSH_CONNECTION") or env("SSH_CLIENT") or "").split(" ")[0] or None
        return RemoteSession(SessionKind.SSH, which, client)
    session = env("SESSIONNAME") or ""
    if session.upper().startswith("RDP-"):
        return RemoteSession(SessionKind.RDP, f"SESSIONNAME={session}", env("CLIENTNAME"))
    if session.upper().startswith("ICA"):
        return RemoteSession(SessionKind.CITRIX, f"SESSIONNAME={session}", env("CLIENTNAME"))
    if system.platform == "win32" and env("CLIENTNAME") and session.lower() not in ("", "console"):
        return RemoteSession(SessionKind.RDP, f"CLIENTNAME={env('CLIENTNAME')}", env("CLIENTNAME"))
    for var, kind in (("XRDP_SESSION", SessionKind.XRDP), ("XRDP_SOCKET_PATH", SessionKind.XRDP),
                      ("X2GO_SESSION", SessionKind.X2GO), ("X2GO_AGENT_PID", SessionKind.X2GO),
                      ("NXSESSIONID", SessionKind.NX)):
        if env(var):
            return RemoteSession(kind, var)
    return None


def collect_system(system: System) -> SystemFacts:
    probe = {"linux": _linux, "darwin": _darwin, "win32": _win32}.get(system.platform, _linux)
    os_name, os_version, kernel, arch = probe(system)
    locale = next((system.env(v) for v in ("LC_ALL", "LC_MESSAGES", "LANG") if system.env(v)), None)
    if arch and re.fullmatch(r"amd64|x64", arch, re.IGNORECASE):
        arch = "x86_64"
    return SystemFacts(
        platform=system.platform, os_name=os_name, os_version=os_version, kernel=kernel, architecture=arch,
        python=_platform.python_version(), cpsdiag=__version__, locale=locale,
        language=detect_language(dict(system.environ)), remote=remote_session(system),
    )


def collect(ctx: Context) -> None:
    ctx.found["system"] = collect_system(ctx.system)


# -- judging -----------------------------------------------------------------------------------

_REMOTE = {SessionKind.RDP: "RDP", SessionKind.CITRIX: "Citrix ICA", SessionKind.XRDP: "XRDP",
           SessionKind.X2GO: "X2Go", SessionKind.NX: "NoMachine NX"}


class Reads(Protocol):
    @property
    def system(self) -> SystemFacts: ...


def judge(facts: Reads, out: list[Finding]) -> None:
    remote = facts.system.remote
    if remote is None:
        return
    if remote.kind == SessionKind.SSH:
        out.append(finding("REMOTE_SESSION_SSH", WARNING, client=remote.client, evidence=remote.evidence))
    else:
        out.append(finding("REMOTE_SESSION_DESKTOP", WARNING, kind=_REMOTE.get(remote.kind, remote.kind),
                           client=remote.client, evidence=remote.evidence))


# -- rows --------------------------------------------------------------------------------------

def sections(env: EnvironmentSection) -> list[Section]:
    s = env.system
    rows: list[Row] = [
        Row(_("Operating system"), " ".join(x for x in (s.os_name, s.os_version) if x) or "-", brief=True),
        Row(_("Kernel / build"), s.kernel or "-"),
        Row(_("Architecture"), s.architecture or "-"),
        Row("Python / cpsdiag", f"{s.python} / {s.cpsdiag}"),
        Row(_("Locale"), f"{s.locale or '-'} ({s.language})"),
    ]
    if s.remote is None:
        rows.append(Row(_("Session"), _("local")))
    else:
        client = f", {s.remote.client}" if s.remote.client else ""
        rows.append(Row(_("Session"), _("remote: {kind} ({evidence}{client})").format(
            kind=s.remote.kind, evidence=s.remote.evidence, client=client)))
    return [Section(_("System"), rows)]


AREA: Area[Reads] = Area("session", collect, judge, sections, stage="system")
