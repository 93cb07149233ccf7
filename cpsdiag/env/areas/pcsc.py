"""The PC/SC stack: client library, service (pcscd, SCardSvr, CryptoTokenKit), readers and their drivers.

Files and the service manager say what is installed and running; the live
probe (``cpsdiag.env.probe_pcsc``, in its own process) says what the service
answers. Both are kept: the first explains the second.
"""

from __future__ import annotations

import json
import os
import re
from typing import Any

from cpsdiag.host import registry as reg
from cpsdiag.env import usb
from cpsdiag.env.facts import PcscError, PcscFacts, ReaderFacts, ServiceFacts
from cpsdiag.transport.features import parse_features
from cpsdiag.env.packages import package_version
from cpsdiag.host.system import RC_NOT_FOUND, RC_TIMEOUT, System
from cpsdiag.errors import MalformedDataError

PROBE_MODULE = "cpsdiag.env.probe_pcsc"
LINUX_LIB_DIRS = ("/usr/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu", "/usr/lib/i386-linux-gnu",
                  "/usr/lib64", "/usr/lib", "/lib/x86_64-linux-gnu", "/lib64", "/lib", "/usr/local/lib")
PCSCD_BINARIES = ("/usr/sbin/pcscd", "/usr/bin/pcscd", "/sbin/pcscd", "/usr/local/sbin/pcscd")
PCSCD_SOCKETS = ("/run/pcscd/pcscd.comm", "/var/run/pcscd/pcscd.comm")
MACOS_PCSC = "/System/Library/Frameworks/PCSC.framework"
WINDOWS_START = {0: "boot", 1: "system", 2: "auto", 3: "manual", 4: "disabled"}
_SC_STATE = re.compile(r":\s*(\d)\s+(STOPPED|START_PENDING|STOP_PENDING|RUNNING|CONTINUE_PENDING|PAUSE_PENDING|PAUSED)")


# -- Linux -------------------------------------------------------------------------

def _linux_library(system: System) -> str | None:
    for folder in LINUX_LIB_DIRS:
        if system.exists(f"{folder}/libpcsclite.so.1"):
            path = system.path(f"{folder}/libpcsclite.so.1")
            try:
                return system.display(path.resolve()) if not system.fake else _resolve_fake(system, folder)
            except OSError:
                return f"{folder}/libpcsclite.so.1"
    return None


def _resolve_fake(system: System, folder: str) -> str:
    """Follow a fake layout's symlink without leaving the layout (its targets are relative or system paths)."""
    link = system.path(f"{folder}/libpcsclite.so.1")
    if link.is_symlink():
        target = os.readlink(link)
        return target if target.startswith("/") else f"{folder}/{target}"
    return f"{folder}/libpcsclite.so.1"


def _same_mount_namespace(system: System, pid: str) -> bool:
    """pcscd serves the socket of its own mount namespace: one in another namespace is not ours.

    Unreadable namespace links (fake layouts, no permission) count as ours.
    """
    if system.fake:
        return True
    try:
        return os.readlink(f"/proc/{pid}/ns/mnt") == os.readlink("/proc/self/ns/mnt")
    except OSError:
        return True


def processes(system: System, names: set[str], ours=_same_mount_namespace) -> list[int]:
    """Linux: pids of the processes whose command name is one of ``names`` (from /proc)."""
    pids = []
    for entry in system.listdir("/proc"):
        if not entry.isdigit():
            continue
        comm = (system.read_text(f"/proc/{entry}/comm") or "").strip()
        if comm in names and ours(system, entry):
            pids.append(int(entry))
    return sorted(pids)


def _linux_service(system: System) -> ServiceFacts:
    binary = next((b for b in PCSCD_BINARIES if system.exists(b)), None)
    custom = None if system.fake else system.env("PCSCLITE_CSOCK_NAME")
    if custom:
        # The client library goes where this variable says (cpsdiag emulator run, its pytest plugin): to a
        # pcscd in a mount namespace of its own, whose /run/pcscd/pcscd.comm is that very socket.
        def serves(system: System, pid: str) -> bool:
            try:
                return os.path.samefile(f"/proc/{pid}/root/run/pcscd/pcscd.comm", custom)
            except OSError:
                return False

        pids = processes(system, {"pcscd"}, serves)
        socket = custom if system.exists(custom) else None
    else:
        pids = processes(system, {"pcscd"})
        socket = next((s for s in PCSCD_SOCKETS if system.exists(s)), None)
    mode = None
    unit = next((u for u in ("/etc/systemd/system/pcscd.socket",) if system.path(u).is_symlink()), None)
    if unit and os.readlink(system.path(unit)) == "/dev/null":
        mode = "masked"
    elif system.exists("/etc/systemd/system/sockets.target.wants/pcscd.socket"):
        mode = "socket"
    elif binary:
        mode = "manual"
    version = None
    if binary:
        done = system.command([binary, "--version"], timeout=5)
        match = re.search(r"pcsc-lite version ([\w.\-]+?)\.?\s", done.stdout + "\n")
        version = match.group(1) if match else None
    return ServiceFacts(name="pcscd", installed=binary is not None, running=bool(pids), pids=tuple(pids),
                        start_mode=mode, socket=socket, version=version, binary=binary)


# -- Windows and macOS ---------------------------------------------------------------

def windows_service(system: System, name: str) -> ServiceFacts:
    """A Windows service from the registry (start type) and ``sc query`` (state)."""
    key = rf"HKLM\SYSTEM\CurrentControlSet\Services\{name}"
    values = system.registry.values(key) if system.registry is not None else None
    start = reg.value(system.registry, key, "Start")
    done = system.command(["sc", "query", name], timeout=10)
    match = _SC_STATE.search(done.stdout)
    running = None
    detail = None
    if match:
        running = match.group(2) == "RUNNING"
        detail = match.group(2)
    elif "1060" in done.stdout + done.stderr:      # ERROR_SERVICE_DOES_NOT_EXIST
        detail = "not installed"
    installed = True if (values is not None or match) else (False if detail == "not installed" else None)
    binary = reg.value(system.registry, key, "ImagePath")
    return ServiceFacts(name=name, installed=installed, running=running,
                        start_mode=WINDOWS_START.get(start) if isinstance(start, int) else None,
                        binary=str(binary) if binary else None, detail=detail)


def _darwin_service(system: System) -> ServiceFacts:
    done = system.command(["ps", "-axco", "pid,comm"], timeout=5)
    pids = []
    for line in done.stdout.splitlines():
        parts = line.split(None, 1)
        if len(parts) == 2 and parts[0].isdigit() and parts[1].strip() in ("com.apple.ctkpcscd", "ctkpcscd", "pcscd"):
            pids.append(int(parts[0]))
    return ServiceFacts(name="com.apple.ctkpcscd", installed=system.exists(MACOS_PCSC),
                        running=bool(pids) if done.rc == 0 else None, pids=tuple(pids), start_mode="on-demand",
                        binary=None)


# -- the live probe ------------------------------------------------------------------

def _error(data: Any) -> PcscError | None:
    if not data:
        return None
    return PcscError(str(data.get("operation", "")), data.get("hresult"), str(data.get("message", "")))


def _reader(row: dict[str, Any]) -> ReaderFacts:
    atr = row.get("atr") or None
    card = generation = None
    if atr:
        card, generation = describe_atr(atr)
    features = features_error = None
    if row.get("features") is not None:
        try:
            features = parse_features(bytes.fromhex(row["features"]))
        except (ValueError, MalformedDataError) as exc:
            features_error = str(exc)
    else:
        features_error = row.get("features_error")
    return ReaderFacts(
        name=str(row.get("name")), card_present=row.get("card_present"), atr=atr,
        state=tuple(row.get("state") or ()), answering=bool(row.get("answering")), error=_error(row.get("error")),
        card=card, generation=generation, exclusive=bool(row.get("exclusive")), card_error=_error(row.get("card_error")),
        features=features, features_error=features_error)


def describe_atr(atr_hex: str) -> tuple[str | None, str | None]:
    """(label, generation) of the card an ATR names, from the ATR alone (no APDU)."""
    from cpsdiag.card.identify import guess, identify
    from cpsdiag.iso7816.atr import parse_atr

    try:
        info = parse_atr(bytes.fromhex(atr_hex))
    except (ValueError, MalformedDataError):
        return None, None
    model = identify(info)
    guessed = model is None
    model = model or guess(info)
    if model is None:
        return None, None
    return model.label + (" ?" if guessed else ""), model.generation


def run_probe(system: System) -> tuple[dict[str, Any] | None, str | None]:
    """The live probe's JSON answer, or (None, why it gave none)."""
    timeout = max(1.0, system.timeout - 2)
    done = system.helper(PROBE_MODULE, "--timeout", f"{timeout:g}", timeout=system.timeout)
    if done.rc == RC_NOT_FOUND:
        return None, "not run"
    if done.rc == RC_TIMEOUT:
        return None, done.stderr.strip() or "no answer in time"
    try:
        data = json.loads(done.stdout.strip().splitlines()[-1]) if done.stdout.strip() else None
    except ValueError:
        data = None
    if not isinstance(data, dict):
        why = (done.stderr.strip().splitlines() or [f"exit status {done.rc}"])[-1]
        return None, f"the probe failed: {why}"
    if "crashed" in data:
        return None, f"the probe failed: {data['crashed']}"
    return data, None


def collect_pcsc(system: System, live: bool = True) -> PcscFacts:
    if system.platform == "win32":
        windir = system.env("WINDIR") or system.env("SystemRoot") or r"C:\Windows"
        library = rf"{windir}\System32\winscard.dll"
        library = library if system.exists(library) else None
        service = windows_service(system, "SCardSvr")
        version = None
    elif system.platform == "darwin":
        library = MACOS_PCSC if system.exists(MACOS_PCSC) else None
        service = _darwin_service(system)
        version = None
    else:
        library = _linux_library(system)
        service = _linux_service(system)
        pkg = package_version(system, ("libpcsclite1", "pcsc-lite-libs", "libpcsclite", "pcsc-lite"))
        version = pkg[1] if pkg else None
    bundles, table = usb.driver_bundles(system) if system.platform == "linux" else ([], {})
    usb_visible, devices = usb.usb_readers(system, bundles, table) if system.platform == "linux" else (False, [])

    data, probe_error = run_probe(system) if live else (None, "not probed: cpsdiag check reports the service itself")
    readers: list[ReaderFacts] = []
    library_error = service_error = None
    how = None
    if data is not None:
        library = data.get("library") or library
        library_error = data.get("library_error")
        service_error = _error(data.get("service_error"))
        readers = [_reader(r) for r in data.get("readers") or []]
        if library_error is None and service_error is None:
            how = f"SCardListReaders and SCardGetStatusChange through {library}"
    elif library is None and system.platform == "linux":
        library_error = "libpcsclite.so.1 not found"
    readers, _left = usb.attach(readers, devices)
    return PcscFacts(library=library, library_version=version, library_error=library_error, service=service,
                     probed=data is not None, probe_error=probe_error, service_error=service_error,
                     readers=tuple(readers), how=how, drivers=tuple(bundles), usb_devices=tuple(devices),
                     usb_visible=usb_visible)
