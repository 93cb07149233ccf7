"""Area "pcsc": the PC/SC stack: client library, service (pcscd, SCardSvr, CryptoTokenKit), readers, drivers.

Files and the service manager say what is installed and running; the live
probe (``cpsdiag.env.probe_pcsc``, in its own process) says what the service
answers. Both are kept: the first explains the second. The USB bus and the
driver bundles (Linux) are read by ``cpsdiag.env.usb``. The area also tells
the card in the readers (generation from its ATR) to the areas after it.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Callable, Protocol

from cpsdiag.card.generation import GENERATIONS
from cpsdiag.env import usb
from cpsdiag.env.area import ERROR, INFO, OK, WARNING, Area, CardSource, Context, Row, Section, finding
from cpsdiag.env.areas.session import SystemFacts
from cpsdiag.env.packages import package_version
from cpsdiag.env.usb import DriverBundle, UsbDevice
from cpsdiag.errors import MalformedDataError
from cpsdiag.findings.model import Finding
from cpsdiag.host import registry as reg
from cpsdiag.host.system import RC_NOT_FOUND, RC_TIMEOUT, System
from cpsdiag.i18n import _
from cpsdiag.transport.features import Feature, parse_features

if TYPE_CHECKING:
    from cpsdiag.env.record import EnvironmentSection


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


_PINPAD = ("FEATURE_VERIFY_PIN_DIRECT", "FEATURE_VERIFY_PIN_START", "FEATURE_MODIFY_PIN_DIRECT",
           "FEATURE_MODIFY_PIN_START")


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


def processes(system: System, names: set[str],
              ours: Callable[[System, str], bool] = _same_mount_namespace) -> list[int]:
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
    library: str | None
    version: str | None
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
    readers, _left = attach(readers, devices)
    return PcscFacts(library=library, library_version=version, library_error=library_error, service=service,
                     probed=data is not None, probe_error=probe_error, service_error=service_error,
                     readers=tuple(readers), how=how, drivers=tuple(bundles), usb_devices=tuple(devices),
                     usb_visible=usb_visible)


def attach(readers: list[ReaderFacts], devices: list[UsbDevice]) -> tuple[list[ReaderFacts], list[UsbDevice]]:
    """Readers with their USB device, and the devices no PC/SC reader stands for."""
    left = list(devices)
    out = []
    for r in readers:
        dev = next((d for d in left if usb.match_reader(r.name, d)), None)
        if dev is not None:
            left.remove(dev)
            r = replace(r, usb=dev)
        out.append(r)
    return out, left


def collect(ctx: Context) -> None:
    """The PC/SC facts, and the card in the readers when check did not say which."""
    facts = collect_pcsc(ctx.system, live=ctx.live)
    ctx.found["pcsc"] = facts
    cps_readers = [r for r in facts.readers if r.card_present and r.generation in GENERATIONS]
    ctx.card_source = CardSource.CHECK if ctx.card_generation else (CardSource.ATR if cps_readers else None)
    ctx.card_generation = ctx.card_generation or (cps_readers[0].generation if cps_readers else None)
    ctx.card_atrs = tuple(r.atr for r in cps_readers if r.atr)


# -- judging -----------------------------------------------------------------------------------

class Reads(Protocol):
    @property
    def system(self) -> SystemFacts: ...
    @property
    def pcsc(self) -> PcscFacts: ...


def judge(facts: Reads, out: list[Finding]) -> None:
    if _service(facts, out):
        _readers(facts, out)
    _drivers(facts, out)


def _service(facts: Reads, out: list[Finding]) -> bool:
    """Findings about the service; True when it answered (its readers can be judged)."""
    p, svc, platform = facts.pcsc, facts.pcsc.service, facts.system.platform
    if p.library_error:
        out.append(finding("PCSC_CLIENT_MISSING", ERROR, library=p.library or "libpcsclite.so.1",
                           reason=p.library_error))
        return False
    if p.answers:
        out.append(finding("PCSC_SERVICE_OK", OK, service=svc.name, version=svc.version, library=p.library,
                           count=len(p.readers)))
        return True
    if platform == "linux" and svc.installed is False:
        out.append(finding("PCSC_SERVICE_NOT_INSTALLED", ERROR, service=svc.name))
    elif svc.start_mode in ("disabled", "masked"):
        out.append(finding("PCSC_SERVICE_DISABLED", ERROR, service=svc.name, start_mode=svc.start_mode))
    elif p.service_error is not None:
        err = p.service_error
        message = f"{err.operation}: {err.message}" + (f" ({err.hresult})" if err.hresult else "")
        out.append(finding("PCSC_SERVICE_STOPPED", ERROR, service=svc.name, message=message, hresult=err.hresult))
    elif svc.running is False and not (platform == "linux" and (svc.socket or svc.start_mode == "socket")) \
            and platform != "darwin":
        # No live answer, but the service manager says it is not running and nothing would start it on demand.
        out.append(finding("PCSC_SERVICE_STOPPED", ERROR, service=svc.name,
                           message=svc.detail or "no process, no socket"))
    else:
        out.append(finding("PCSC_NOT_PROBED", INFO, reason=p.probe_error or "no answer"))
    return False


def _readers(facts: Reads, out: list[Finding]) -> None:
    for r in facts.pcsc.readers:
        if not r.answering:
            err = r.error
            out.append(finding("READER_NOT_ANSWERING", ERROR, reader=r.name,
                               operation=err.operation if err else "SCardConnect",
                               message=err.message if err else "no answer", hresult=err.hresult if err else None))
        pads = [f.name for f in r.features or () if f.name in _PINPAD]
        if pads:
            out.append(finding("READER_PINPAD", INFO, reader=r.name, features=", ".join(pads)))
    listed = {r.usb.path for r in facts.pcsc.readers if r.usb is not None}
    has_driver = any(b.class_driver for b in facts.pcsc.drivers)
    for dev in facts.pcsc.usb_devices:
        if dev.path in listed or (dev.driver is None and not has_driver):
            continue     # listed, or READER_DRIVER_MISSING says why not
        out.append(finding("READER_NOT_LISTED", WARNING, device=_device(dev),
                           ids=f"{dev.vendor_id}:{dev.product_id}", driver=dev.driver or dev.class_driver))


def _device(dev: UsbDevice) -> str:
    parts = [dev.manufacturer, dev.product]
    return " ".join(p for p in parts if p) or dev.path


def _drivers(facts: Reads, out: list[Finding]) -> None:
    if facts.system.platform != "linux" or any(b.class_driver for b in facts.pcsc.drivers):
        return
    for dev in facts.pcsc.usb_devices:
        if dev.driver is None:
            out.append(finding("READER_DRIVER_MISSING", ERROR, device=_device(dev),
                               ids=f"{dev.vendor_id}:{dev.product_id}"))


# -- rows --------------------------------------------------------------------------------------

def sections(env: EnvironmentSection) -> list[Section]:
    p = env.pcsc
    svc = p.service
    state = _("running") if svc.running else (_("not running") if svc.running is False else "-")
    if svc.pids:
        state += f" (pid {', '.join(str(x) for x in svc.pids)})"
    rows = [
        Row(_("Client library"), (p.library or "-") + (f" ({p.library_version})" if p.library_version else "")),
        Row(_("Service"), f"{svc.name} {svc.version or ''}".strip() + f": {state}", brief=True),
    ]
    if svc.start_mode:
        rows.append(Row(_("Start mode"), svc.start_mode))
    if env.system.platform == "linux":
        rows.append(Row(_("Socket"), svc.socket or _("absent")))
    if p.library_error:
        rows.append(Row(_("Error"), p.library_error))
    elif p.service_error:
        rows.append(Row(_("Error"), f"{p.service_error.operation}: {p.service_error.message}"))
    elif not p.probed:
        rows.append(Row(_("Live query"), p.probe_error or "-"))
    if p.how:
        rows.append(Row(_("Readers obtained by"), p.how))
    for b in p.drivers:
        kind = " " + _("(CCID class driver)") if b.class_driver else ""
        rows.append(Row(_("Driver"), f"{b.name} {b.version or ''}{kind}: "
                        + _("{n} readers listed").format(n=b.devices)))
    out = [Section("PC/SC", rows)]

    rows = []
    for r in p.readers:
        line = r.card or (_("card present") if r.card_present else _("no card"))
        if r.atr:
            line += f" — ATR {r.atr}"
        if not r.answering:
            line += " — " + _("NOT ANSWERING") + (f": {r.error.message}" if r.error else "")
        if r.exclusive:
            line += " — " + _("held exclusively by another program")
        if r.card_error:
            line += " — " + r.card_error.message
        rows.append(Row(r.name, line, alert=not r.answering))
        if r.features:
            rows.append(Row("", _("Reader features: {names}").format(names=", ".join(f.name for f in r.features))))
        if r.usb:
            rows.append(Row("", _("USB {ids}, driver {driver}").format(
                ids=f"{r.usb.vendor_id}:{r.usb.product_id}", driver=r.usb.driver or r.usb.class_driver or "-")))
    listed = {r.usb.path for r in p.readers if r.usb}
    for d in p.usb_devices:
        if d.path not in listed:
            rows.append(Row(f"USB {d.vendor_id}:{d.product_id}",
                            f"{d.manufacturer or ''} {d.product or ''}".strip() + " — " + _("not listed by PC/SC")))
    if not rows:
        rows.append(Row("-", _("no reader") if p.answers else _("unknown")))
    out.append(Section(_("Readers"), rows))
    return out


AREA: Area[Reads] = Area("pcsc", collect, judge, sections, stage="pcsc")
