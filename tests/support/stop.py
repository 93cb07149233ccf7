"""Stopping a command the way CI runners and terminals do, and finding what it left behind.

A command is started with TMPDIR set to a folder of the test's own, so that
its temporary folders land there and every process it started carries that
path in its environment (/proc/PID/environ): "nothing left" is then checked
without knowing the PIDs in advance. Also copied next to the plugin tests
when they run in a separate project (scripts/test-install).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest


def child_env(tmpdir: Path, **extra: str) -> dict[str, str]:
    """The environment of a command under test: TMPDIR as the mark, English, none of cpsdiag's own variables."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("CPSDIAG_", "LC_", "LANG", "PCSCLITE_"))}
    env.update({"LANG": "C.UTF-8", "NO_COLOR": "1", "TMPDIR": str(tmpdir)}, **extra)
    return env


def default_stop_signals() -> None:
    """preexec_fn of a command under test: SIGTERM, SIGHUP and SIGINT at their default disposition.

    A stop signal the command was started ignoring stays ignored, by design (nohup); the test's own runner
    may have been started under nohup or in the background, and its children would inherit that."""
    for signum in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
        signal.signal(signum, signal.SIG_DFL)


def processes_marked(marker: str) -> dict[int, str]:
    """Live (not zombie) processes whose environment or command line mentions ``marker``: pid -> command line."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            stat = (entry / "stat").read_text()
            if stat[stat.rindex(")") + 2] == "Z":
                continue
            text = (entry / "environ").read_bytes() + b"\0" + (entry / "cmdline").read_bytes()
        except (OSError, ValueError, IndexError):
            continue        # gone meanwhile, or not ours to read
        if marker.encode() in text:
            found[int(entry.name)] = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    return found


def wait_until(condition, timeout: float, what: str):
    """Wait for a condition with a bound (processes take a moment to exit after a signal)."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not after {timeout:.0f} s")
        time.sleep(0.05)


def read_until(stream, needle: str, timeout: float = 60) -> str:
    """What a child wrote on a pipe up to ``needle`` (the child says it is ready).

    Reads the file descriptor itself: a text stream's own buffer would hide data from select().
    """
    import selectors

    fd = stream.fileno()
    seen = b""
    deadline = time.monotonic() + timeout
    with selectors.DefaultSelector() as sel:
        sel.register(fd, selectors.EVENT_READ)
        while needle.encode() not in seen:
            if time.monotonic() > deadline or not sel.select(max(0.0, deadline - time.monotonic())):
                raise AssertionError(f"{needle!r} never came; output so far:\n{seen.decode(errors='replace')}")
            chunk = os.read(fd, 65536)
            if not chunk:
                raise AssertionError(f"{needle!r} never came (pipe closed); output:\n{seen.decode(errors='replace')}")
            seen += chunk
    return seen.decode(errors="replace")


def short_tmpdir() -> Path:
    """A TMPDIR short enough for the Unix socket paths made in it (108 bytes at most)."""
    import tempfile

    return Path(tempfile.mkdtemp(prefix="cpsdiag-test-", dir="/tmp"))


@pytest.fixture
def tmpdir_mark():
    """The TMPDIR given to a command under test: its temporary folders land there, its processes carry the path."""
    folder = short_tmpdir()
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def stop_and_check(proc: subprocess.Popen, signum: int, tmpdir: Path, timeout: float = 60) -> tuple[int, str]:
    """Send ``signum``, wait for the process to end, then check no process and no folder of it is left.

    Returns the exit status and the rest of what it wrote (stdout, then stderr).
    """
    assert processes_marked(str(tmpdir)), "the command started no process carrying the marker: the test is blind"
    proc.send_signal(signum)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        raise AssertionError(f"still running {timeout:.0f} s after {signal.Signals(signum).name}") from None
    left = processes_marked(str(tmpdir))
    if left:
        # Children get the signal from their parent's clean-up: give them the bound to exit.
        try:
            wait_until(lambda: not processes_marked(str(tmpdir)), 15, "processes left")
        except AssertionError:
            raise AssertionError(f"processes left after {signal.Signals(signum).name}: "
                                 f"{processes_marked(str(tmpdir))}") from None
    leftovers = sorted(p.name for p in tmpdir.iterdir())
    assert leftovers == [], f"temporary files left after {signal.Signals(signum).name}: {leftovers}"
    return proc.returncode, (out or "") + (err or "")
