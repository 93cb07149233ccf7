"""The virtual readers' run folder: made with a mark naming its owner; the folders of dead runs removed.

A run killed without a chance to clean up (SIGKILL, an out-of-memory kill, a
container stopped hard) leaves its folder in TMPDIR: pcscd's sockets, its
configuration, the emulators' logs (never a key). The next run removes the
folders whose owner has gone. The mark holds the owner's pid, that process's
start time and its PID namespace: a pid reused by another process does not
keep a dead run's folder, and a run in another PID namespace sharing the same
TMPDIR (two containers, one /tmp) is never taken for dead.

Linux only (/proc); elsewhere nothing is marked and nothing removed.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

PREFIX = "cpsdiag-vpcd-"
MARK = "owner"


def _identity(pid: int | str) -> tuple[str, str] | None:
    """(start time in clock ticks since boot, PID namespace) of a live process; None when there is none."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        namespace = os.readlink(f"/proc/{pid}/ns/pid")
    except OSError:
        return None
    # "pid (comm) state ppid ...": comm may hold spaces and parentheses; starttime is field 22.
    fields = stat[stat.rindex(")") + 2:].split()
    if len(fields) < 20 or fields[0] == "Z":
        return None     # a zombie has ended: its run will not clean up
    return fields[19], namespace


def make(base: str) -> Path:
    """A new run folder under ``base``, marked as this process's."""
    folder = Path(tempfile.mkdtemp(prefix=PREFIX, dir=base))
    me = _identity("self")
    if me is not None:
        try:
            (folder / MARK).write_text(f"{os.getpid()} {me[0]} {me[1]}\n")
        except OSError:
            pass        # unmarked: kept by later sweeps, as before marks existed
    return folder


def sweep(base: str) -> list[Path]:
    """Remove the run folders under ``base`` that this user's dead runs left; the folders removed.

    A folder without a readable mark is kept: it may be a run that has not
    written it yet, or one of an older cpsdiag.
    """
    mine = _identity("self")
    if mine is None:
        return []
    removed = []
    try:
        candidates = sorted(Path(base).glob(PREFIX + "*"))
    except OSError:
        return []
    for folder in candidates:
        try:
            if folder.is_symlink() or not folder.is_dir() or folder.stat().st_uid != os.geteuid():
                continue
            pid, start, namespace = (folder / MARK).read_text().split()
        except (OSError, ValueError):
            continue
        if not pid.isdigit() or namespace != mine[1]:
            continue        # another PID namespace: its pids mean nothing here
        if _identity(pid) == (start, namespace):
            continue        # still running
        shutil.rmtree(folder, ignore_errors=True)
        if not folder.exists():
            removed.append(folder)
    return removed
