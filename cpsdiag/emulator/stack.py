"""Start and stop a real PC/SC stack around the virtual card: pcscd with the vpcd driver, and the emulator.

Used by the test suite, the demo, the benchmark and ``cpsdiag emulator run``.
When running as root the stack can be isolated in private mount and network
namespaces, so that it never meets a pcscd already running on the machine
(only one pcscd can run per mount namespace: its socket path is fixed).
"""

from __future__ import annotations

import ctypes
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

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
    os.environ["CPSDIAG_ISOLATED"] = "1"


def can_isolate() -> bool:
    return os.geteuid() == 0 and shutil.which("ip") is not None


def _accepts(path: Path) -> bool:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
        try:
            probe.connect(str(path))
        except OSError:
            return False
    return True


@dataclass
class Pcscd:
    """pcscd in the foreground, reading only our vpcd reader configuration."""

    port: int = 35963
    workdir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="cpsdiag-pcscd-")))
    process: subprocess.Popen | None = None
    with_reader: bool = True        # False: a daemon with no reader configured at all

    @property
    def reader(self) -> str:
        return f"{READER_BASENAME} 00 00"

    @property
    def log_file(self) -> Path:
        return self.workdir / "pcscd.log"

    def start(self, timeout: float = 10.0) -> None:
        conf = self.workdir / ("reader.conf.d" if self.with_reader else "no-reader.conf.d")
        conf.mkdir(exist_ok=True)
        if self.with_reader:
            (conf / "cpsdiag-vpcd").write_text(
                f'FRIENDLYNAME "{READER_BASENAME}"\nDEVICENAME   /dev/null:0x{self.port:X}\n'
                f"LIBPATH      {vpcd_driver()}\nCHANNELID    0x{self.port:X}\n"
            )
        # Never -a/--apdu: pcscd would log every APDU, PINs included.
        self.process = subprocess.Popen([pcscd_binary(), "--foreground", "--config", str(conf)],
                                        stdout=open(self.log_file, "ab"), stderr=subprocess.STDOUT,
                                        start_new_session=True)
        deadline = time.monotonic() + timeout
        # The socket file appears when pcscd binds it, a moment before it listens: wait until it accepts.
        while not _accepts(PCSCD_RUN_DIR / "pcscd.comm"):
            if self.process.poll() is not None:
                raise StackError(f"pcscd exited with status {self.process.returncode}: "
                                 + self.log_file.read_text(errors="replace")[-500:])
            if time.monotonic() > deadline:
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
            (PCSCD_RUN_DIR / stale).unlink(missing_ok=True)


@dataclass
class Emulator:
    """The virtual card as a separate process, as a real card is a separate device."""

    profile: str
    port: int = 35963
    verbose: bool = False
    log_file: Path | None = None
    stats_file: Path | None = None
    process: subprocess.Popen | None = None

    def start(self) -> None:
        cmd = [sys.executable, "-m", "cpsdiag", "emulator", "--profile", str(self.profile), "--port", str(self.port)]
        if self.verbose:
            cmd.append("-v")
        if self.stats_file is not None:
            cmd += ["--stats", str(self.stats_file)]
        out = open(self.log_file, "ab") if self.log_file else subprocess.DEVNULL
        self.process = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)

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
