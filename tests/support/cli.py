"""Running ``cpsdiag`` as a user does, in its own process, with only the environment a test gives it.

The environment of the test run is cleared of what would change the
answer: the locale, cpsdiag's own variables (CPSDIAG_READER, _ANCHORS...),
the terminal width and colour, and proxies (the TLS probe honours
https_proxy; the tests' servers are on localhost).
"""

from __future__ import annotations

import json
import os
import pty
import re
import select
import subprocess
import sys
import time
import tty
from collections import Counter
from typing import Any

CLEARED = ("LC_", "LANG", "CPSDIAG_", "COLUMNS", "NO_COLOR", "SSH_", "http_proxy", "https_proxy", "all_proxy",
           "no_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY")


# A VERIFY carrying a PIN (any logical channel, any reference), as the emulator logs it, digits masked.
VERIFY_WITH_PIN = re.compile(r"^> 0[0-9a-fA-F] 20 00 [0-9a-fA-F]{2} 0[4-8]( \*\*)+$", re.M)


def clean_environ(env: dict[str, str] | None = None) -> dict[str, str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith(CLEARED)}
    environ.update({"LANG": "C.UTF-8", "NO_COLOR": "1", "COLUMNS": "100"})
    environ.update(env or {})
    return environ


def cpsdiag(*args: str, env: dict[str, str] | None = None, stdin: str | None = None, cwd: Any = None,
            timeout: float = 120) -> subprocess.CompletedProcess:
    """``python -m cpsdiag ARGS``; whatever it ends with, it must not be a traceback."""
    proc = subprocess.run([sys.executable, "-m", "cpsdiag", *args], input=stdin, capture_output=True, text=True,
                          env=clean_environ(env), cwd=cwd, timeout=timeout)
    assert "Traceback" not in proc.stderr, (args, proc.stderr)
    return proc


def spawn_cpsdiag(*args: str, env: dict[str, str] | None = None, **kwargs: Any) -> subprocess.Popen:
    """``python -m cpsdiag ARGS`` left running (a server, watch, a run to disturb)."""
    return subprocess.Popen([sys.executable, "-m", "cpsdiag", *args], env=clean_environ(env), text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kwargs)


def cpsdiag_json(*args: str, **kwargs: Any) -> tuple[dict, subprocess.CompletedProcess]:
    """A ``--json`` run: the document it printed (empty when it printed nothing) and the process."""
    proc = cpsdiag(*args, **kwargs)
    return (json.loads(proc.stdout) if proc.stdout.strip() else {}), proc


def codes(doc: dict, step: str | None = None) -> Counter:
    """The finding codes of a report (of one step only, when given), with their counts."""
    return Counter(f["code"] for f in doc["findings"] if step is None or f["step"] == step)


# -- on a terminal (a pseudo-terminal) ------------------------------------------------------------------

TERMINAL = {"TERM": "xterm-256color", "COLUMNS": "120"}


def _terminal() -> tuple[int, int]:
    """A pseudo-terminal in raw mode: what the program writes arrives unchanged (no \\n -> \\r\\n)."""
    master, slave = pty.openpty()
    tty.setraw(slave)
    return master, slave


def run_on_terminal(*args: str, stdout_tty: bool = True, stderr_tty: bool = True, stdin: str | None = None,
                    timeout: float = 120) -> tuple[int, bytes, bytes]:
    """``python -m cpsdiag ARGS`` with stdout and/or stderr on terminals; (status, stdout bytes, stderr bytes)."""
    ends: dict[str, tuple[int, int] | None] = {"out": _terminal() if stdout_tty else None,
                                               "err": _terminal() if stderr_tty else None}
    proc = subprocess.Popen(
        [sys.executable, "-m", "cpsdiag", *args], env=clean_environ(TERMINAL),
        stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
        stdout=ends["out"][1] if ends["out"] else subprocess.PIPE,
        stderr=ends["err"][1] if ends["err"] else subprocess.PIPE)
    for pair in ends.values():
        if pair:
            os.close(pair[1])
    if stdin is not None:
        proc.stdin.write(stdin.encode())
        proc.stdin.close()
    got = {"out": bytearray(), "err": bytearray()}
    readers = {pair[0]: name for name, pair in ends.items() if pair}
    readers.update({p.fileno(): name for name, p in (("out", proc.stdout), ("err", proc.stderr)) if p})
    deadline = time.monotonic() + timeout
    while readers:
        left = deadline - time.monotonic()
        assert left > 0, f"cpsdiag {args} still running after {timeout} s"
        ready, _, _ = select.select(list(readers), [], [], left)
        for fd in ready:
            try:
                chunk = os.read(fd, 65536)
            except OSError:              # EIO: the terminal's last writer is gone
                chunk = b""
            if chunk:
                got[readers[fd]] += chunk
            else:
                del readers[fd]
    status = proc.wait(timeout=timeout)
    for pair in ends.values():
        if pair:
            os.close(pair[0])
    assert b"Traceback" not in got["err"], got["err"].decode(errors="replace")
    return status, bytes(got["out"]), bytes(got["err"])
