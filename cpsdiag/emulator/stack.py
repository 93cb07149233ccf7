"""Start and stop a real PC/SC stack around the virtual card: pcscd with the vpcd driver, and the emulator.

Used by the test suite, the demo, the benchmark, ``cpsdiag emulator run`` and
the pytest plugin. Only one pcscd can run per mount namespace (its socket path
is fixed), so a pcscd of our own never runs in the machine's namespaces:
either this whole process moves into private mount and network namespaces
(``isolate()``, root only: the test suite), or pcscd alone runs in a mount
namespace of its own (``Pcscd(private=True)``, root or not: see
pcscd_namespace.py) and clients reach it through ``PCSCLITE_CSOCK_NAME``.
"""

from __future__ import annotations

import ctypes
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

VPCD_DRIVER_CANDIDATES = (
    "/usr/lib/pcsc/drivers/serial/libifdvpcd.so",
    "/usr/lib64/pcsc/drivers/serial/libifdvpcd.so",
)
READER_BASENAME = "cpsdiag VPCD"
PCSCD_RUN_DIR = Path("/run/pcscd")

_CLONE_NEWNS = 0x00020000
_CLONE_NEWNET = 0x40000000
_MS_REC = 0x4000
_MS_PRIVATE = 1 << 18


class StackError(RuntimeError):
    pass


class NoNamespace(StackError):
    """The kernel or the container refuses the namespaces a private pcscd needs."""


# Ports for a private pcscd's vpcd slots are drawn below Linux's ephemeral range (32768-60999 by
# default), so that the kernel does not hand them to outgoing connections meanwhile.
PRIVATE_PORTS = range(20000, 32000)


def vpcd_driver() -> str:
    for path in VPCD_DRIVER_CANDIDATES:
        if os.path.exists(path):
            return path
    raise StackError("vpcd driver not found (install the Debian package vsmartcard-vpcd)")


def pcscd_binary() -> str:
    path = shutil.which("pcscd") or ("/usr/sbin/pcscd" if os.path.exists("/usr/sbin/pcscd") else None)
    if not path:
        raise StackError("pcscd not found (install the Debian package pcscd)")
    return path


def isolate() -> None:
    """Move this process into new mount and network namespaces with a private /run/pcscd.

    Children inherit them, so pcscd, the emulator and every client started
    afterwards share a loopback and a pcscd socket no other process can see.
    """
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.unshare(_CLONE_NEWNS | _CLONE_NEWNET) != 0:
        raise StackError(f"unshare failed: {os.strerror(ctypes.get_errno())} (needs root)")
    if libc.mount(b"none", b"/", None, _MS_REC | _MS_PRIVATE, None) != 0:
        raise StackError(f"making / private failed: {os.strerror(ctypes.get_errno())}")
    PCSCD_RUN_DIR.mkdir(parents=True, exist_ok=True)
    if libc.mount(b"tmpfs", str(PCSCD_RUN_DIR).encode(), b"tmpfs", 0, b"mode=0755") != 0:
        raise StackError(f"mounting a tmpfs on {PCSCD_RUN_DIR} failed: {os.strerror(ctypes.get_errno())}")
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    _ipv6_loopback()
    os.environ["CPSDIAG_ISOLATED"] = "1"


def _ipv6_loopback() -> None:
    """::1 in the new namespace too (TLS tests use [::1]); a namespace inherits IPv6 switched off by sysctl."""
    switch = Path("/proc/sys/net/ipv6/conf/lo/disable_ipv6")
    if not switch.exists():
        return          # a kernel without IPv6: the IPv6 tests say so themselves
    if switch.read_text().strip() != "0":
        switch.write_text("0\n")
    shown = subprocess.run(["ip", "-6", "addr", "show", "dev", "lo"], capture_output=True, text=True).stdout
    if "::1/128" not in shown:
        subprocess.run(["ip", "-6", "addr", "add", "::1/128", "dev", "lo"], check=True)


def can_isolate() -> bool:
    return os.geteuid() == 0 and shutil.which("ip") is not None


def free_ports(count: int, tries: int = 50) -> int:
    """The first of ``count`` consecutive TCP ports nobody listens on (vpcd binds them on all interfaces)."""
    for _ in range(tries):
        first = random.randrange(PRIVATE_PORTS.start, PRIVATE_PORTS.stop - count)
        held = []
        try:
            for port in range(first, first + count):
                sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                held.append(sock)
                sock.bind(("", port))
            return first
        except OSError:
            continue
        finally:
            for sock in held:
                sock.close()
    raise StackError(f"no {count} consecutive free TCP ports for vpcd")


def _accepts(path: Path) -> bool:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
        try:
            probe.connect(str(path))
        except OSError:
            return False
    return True


@dataclass
class Pcscd:
    """pcscd in the foreground, reading only our vpcd reader configuration.

    Each vpcd entry of the configuration gives two readers (slots) on two
    consecutive ports: ``readers`` = 2 gives "cpsdiag VPCD 00 00" and "00 01",
    4 adds "cpsdiag VPCD 2 00 00" and "… 00 01", and so on.

    ``private``: pcscd runs in a mount namespace of its own (after a user
    namespace when not root) whose /run/pcscd is ``workdir/run``; clients
    need ``client_env()`` in their environment.
    """

    port: int = 35963
    workdir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="cpsdiag-pcscd-")))
    process: subprocess.Popen[bytes] | None = None
    with_reader: bool = True        # False: a daemon with no reader configured at all
    readers: int = 2
    private: bool = False

    @property
    def reader(self) -> str:
        return f"{READER_BASENAME} 00 00"

    @property
    def slots(self) -> list[tuple[str, int]]:
        """(reader name, vpcd port) of every reader this pcscd offers."""
        if not self.with_reader:
            return []
        names = [READER_BASENAME] + [f"{READER_BASENAME} {n}" for n in range(2, (self.readers + 1) // 2 + 1)]
        slots = [(f"{name} 00 {slot:02d}", self.port + 2 * entry + slot)
                 for entry, name in enumerate(names) for slot in (0, 1)]
        return slots[:self.readers]

    @property
    def log_file(self) -> Path:
        return self.workdir / "pcscd.log"

    @property
    def run_dir(self) -> Path:
        return self.workdir / "run" if self.private else PCSCD_RUN_DIR

    @property
    def socket_path(self) -> Path:
        return self.run_dir / "pcscd.comm"

    def client_env(self) -> dict[str, str]:
        """What a PC/SC client's environment needs to reach this pcscd (libpcsclite reads it once per process)."""
        return {"PCSCLITE_CSOCK_NAME": str(self.socket_path)} if self.private else {}

    def _config(self) -> Path:
        conf = self.workdir / ("reader.conf.d" if self.with_reader else "no-reader.conf.d")
        conf.mkdir(exist_ok=True)
        if self.with_reader:
            entries = []
            names = dict.fromkeys(name.rsplit(" 00 ", 1)[0] for name, _ in self.slots)
            for entry, name in enumerate(names):
                port = self.port + 2 * entry
                driver = vpcd_driver()
                if entry:
                    # vpcd keeps its two slots in static variables: a second configuration entry loading the
                    # same library would take over the first one's slots. A copy under another name is
                    # loaded as a library of its own.
                    driver = shutil.copy(driver, str(self.workdir / f"libifdvpcd-{entry + 1}.so"))
                entries.append(f'FRIENDLYNAME "{name}"\nDEVICENAME   /dev/null:0x{port:X}\n'
                               f"LIBPATH      {driver}\nCHANNELID    0x{port:X}\n")
            (conf / "cpsdiag-vpcd").write_text("\n".join(entries))
        return conf

    def start(self, timeout: float = 10.0) -> None:
        conf = self._config()
        # Never -a/--apdu: pcscd would log every APDU, PINs included.
        cmd = [pcscd_binary(), "--foreground", "--config", str(conf)]
        if self.private:
            from .pcscd_namespace import NO_NAMESPACE

            self.run_dir.mkdir(exist_ok=True)
            self.socket_path.unlink(missing_ok=True)
            cmd = [sys.executable, "-m", "cpsdiag.emulator.pcscd_namespace", str(self.run_dir), "--", *cmd]
        with open(self.log_file, "ab") as log:
            self.process = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + timeout
        # The socket file appears when pcscd binds it, a moment before it listens: wait until it accepts.
        while not _accepts(self.socket_path):
            status = self.process.poll()
            if status is not None:
                self.process = None
                tail = self.log_file.read_text(errors="replace")[-500:].strip()
                if self.private and status == NO_NAMESPACE:
                    raise NoNamespace(tail)
                raise StackError(f"pcscd exited with status {status}: {tail}")
            if time.monotonic() > deadline:
                self.stop()
                raise StackError("pcscd did not create its socket in time")
            time.sleep(0.02)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def kill(self) -> None:
        """SIGKILL, as when the daemon crashes: nothing is cleaned up."""
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self.process = None
        for stale in ("pcscd.comm", "pcscd.pid"):
            (self.run_dir / stale).unlink(missing_ok=True)


@dataclass
class Emulator:
    """The virtual card as a separate process, as a real card is a separate device."""

    profile: str
    port: int = 35963
    verbose: bool = False
    log_file: Path | None = None
    stats_file: Path | None = None
    process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        cmd = [sys.executable, "-m", "cpsdiag", "emulator", "--profile", str(self.profile), "--port", str(self.port)]
        if self.verbose:
            cmd.append("-v")
        if self.stats_file is not None:
            cmd += ["--stats", str(self.stats_file)]
        out: IO[bytes] | int = open(self.log_file, "ab") if self.log_file else subprocess.DEVNULL
        # The card leaves with whoever inserted it, even if that process is killed outright.
        env = dict(os.environ, CPSDIAG_EXIT_WITH_PARENT="1")
        try:
            self.process = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
                                            env=env)
        finally:
            if not isinstance(out, int):
                out.close()

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None


def wait_for_card(reader: str, present: bool = True, timeout: float = 15.0) -> None:
    """Block until pcscd reports the reader with (or without) a card."""
    from smartcard import scard

    deadline = time.monotonic() + timeout
    while True:
        rc, ctx = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
        if rc == scard.SCARD_S_SUCCESS:
            try:
                rc, states = scard.SCardGetStatusChange(ctx, 200, [(reader, scard.SCARD_STATE_UNAWARE)])
                if rc == scard.SCARD_S_SUCCESS:
                    state = states[0][1]
                    if bool(state & scard.SCARD_STATE_PRESENT) == present and not state & scard.SCARD_STATE_UNKNOWN:
                        return
            finally:
                scard.SCardReleaseContext(ctx)
        if time.monotonic() > deadline:
            raise StackError(f"reader {reader!r}: card {'not ' if present else 'still '}present after {timeout:.0f} s")
        time.sleep(0.05)


def wait_for_readers(names: list[str], timeout: float = 10.0) -> None:
    """Block until pcscd lists every reader in ``names`` (vpcd could not open a port: it never does)."""
    from smartcard import scard

    deadline = time.monotonic() + timeout
    listed: list[str] = []
    while True:
        rc, ctx = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
        if rc == scard.SCARD_S_SUCCESS:
            try:
                rc, listed = scard.SCardListReaders(ctx, [])
                if rc == scard.SCARD_S_SUCCESS and set(names) <= set(listed):
                    return
            finally:
                scard.SCardReleaseContext(ctx)
        if time.monotonic() > deadline:
            raise StackError(f"pcscd does not list the readers {', '.join(sorted(set(names) - set(listed or [])))} "
                             f"(listed: {', '.join(listed or []) or 'none'})")
        time.sleep(0.05)
