"""The system the workstation probes read: a root folder, a command runner, a platform, environment variables.

Every probe goes through a ``System`` so that tests can hand it a fake Linux,
macOS or Windows layout (a folder, canned command outputs, a registry export)
and run on any machine. ``System.local()`` is the machine cpsdiag runs on.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any, NamedTuple

from cpsdiag.host.text import decode_text

DEFAULT_TIMEOUT = 10.0
PYTHON = "python"          # how a command line names the interpreter running cpsdiag's own helpers


class Completed(NamedTuple):
    """What a command gave: exit status, standard output, standard error (text)."""

    rc: int
    stdout: str
    stderr: str


# rc values the runners use for a command that could not run at all (as a shell would say).
RC_TIMEOUT = 124
RC_NOT_FOUND = 127

Runner = Callable[[Sequence[str], float], Completed]


def run_command(argv: Sequence[str], timeout: float) -> Completed:
    """The real runner: no shell, no standard input, text output, a hard timeout."""
    args = list(argv)
    if args and args[0] == PYTHON:
        args[0] = sys.executable
    try:
        proc = subprocess.run(args, capture_output=True, text=True, errors="replace", timeout=timeout,
                              stdin=subprocess.DEVNULL)
    except FileNotFoundError:
        return Completed(RC_NOT_FOUND, "", f"{argv[0]}: command not found")
    except subprocess.TimeoutExpired:
        return Completed(RC_TIMEOUT, "", f"{argv[0]}: no answer within {timeout:g} s")
    except OSError as exc:
        return Completed(RC_NOT_FOUND, "", f"{argv[0]}: {exc.strerror}")
    return Completed(proc.returncode, proc.stdout, proc.stderr)


@dataclass(frozen=True)
class System:
    """What the probes may look at.

    ``root`` is where the system's files are (``/`` or ``C:\\`` for the real
    one, a folder for a fake layout). Paths are always written as on the
    system itself (``/etc/...``, ``C:\\Windows\\...``) and mapped under
    ``root`` by ``path()``. ``registry`` is None except on Windows.
    ``live`` says whether the PC/SC service and PKCS#11 modules of this
    machine may be used (false for a fake layout unless its commands are
    canned: the helpers run through ``run`` either way).
    """

    root: Path = Path("/")
    run: Runner = run_command
    platform: str = "linux"                     # "linux" | "darwin" | "win32"
    environ: Mapping[str, str] = field(default_factory=dict)
    registry: Any = None                        # cpsdiag.host.registry.Registry on Windows
    timeout: float = DEFAULT_TIMEOUT

    @classmethod
    def local(cls) -> "System":
        platform = "win32" if sys.platform.startswith("win") else "darwin" if sys.platform == "darwin" else "linux"
        registry = None
        if platform == "win32":
            from cpsdiag.host.registry import WinRegistry

            registry = WinRegistry()
        root = Path(os.environ.get("SystemDrive", "C:") + "\\") if platform == "win32" else Path("/")
        try:
            timeout = float(os.environ.get("CPSDIAG_ENV_TIMEOUT", DEFAULT_TIMEOUT))
        except ValueError:
            timeout = DEFAULT_TIMEOUT
        return cls(root=root, platform=platform, environ=dict(os.environ), registry=registry,
                   timeout=max(timeout, 2.0))

    # -- paths ----------------------------------------------------------------

    @property
    def fake(self) -> bool:
        return self.root != Path("/") and not (self.platform == "win32" and sys.platform.startswith("win"))

    def path(self, system_path: str) -> Path:
        """The file behind a path written as on the system (``/etc/x``, ``C:\\Windows\\x``)."""
        if not self.fake:
            return Path(system_path)
        if self.platform == "win32":
            parts = PureWindowsPath(system_path).parts
            parts = parts[1:] if parts and PureWindowsPath(system_path).anchor else parts
        else:
            parts = PurePosixPath(system_path).parts
            parts = parts[1:] if parts and parts[0] == "/" else parts
        return self.root.joinpath(*parts)

    def display(self, path: Path) -> str:
        """The system's own spelling of a mapped path, for the report."""
        if not self.fake:
            return str(path)
        try:
            rel = path.relative_to(self.root)
        except ValueError:
            return str(path)
        if self.platform == "win32":
            drive = self.environ.get("SystemDrive", "C:")
            return drive + "\\" + "\\".join(rel.parts)
        return "/" + "/".join(rel.parts)

    def exists(self, system_path: str) -> bool:
        try:
            return self.path(system_path).exists()
        except OSError:
            return False

    def read_text(self, system_path: str, limit: int = 4_000_000) -> str | None:
        """A file's text, or None when it is absent or unreadable (a probe never raises for that)."""
        try:
            with open(self.path(system_path), "rb") as f:
                data = f.read(limit)
        except OSError:
            return None
        return decode_text(data)

    def read_bytes(self, system_path: str, limit: int = 4_000_000) -> bytes | None:
        try:
            with open(self.path(system_path), "rb") as f:
                return f.read(limit)
        except OSError:
            return None

    def glob(self, system_dir: str, pattern: str) -> list[str]:
        """System paths of the entries of a folder matching a glob pattern, sorted."""
        base = self.path(system_dir)
        try:
            found = sorted(base.glob(pattern))
        except OSError:
            return []
        return [self.display(p) for p in found]

    def listdir(self, system_dir: str) -> list[str]:
        try:
            return sorted(os.listdir(self.path(system_dir)))
        except OSError:
            return []

    def walk_files(self, system_dir: str, limit: int = 10_000) -> Iterator[str]:
        """Names of the files under a folder (relative), at most ``limit``."""
        base = self.path(system_dir)
        count = 0
        for dirpath, _dirs, files in os.walk(base):
            for name in files:
                yield os.path.relpath(os.path.join(dirpath, name), base)
                count += 1
                if count >= limit:
                    return

    # -- environment and commands ---------------------------------------------

    def env(self, name: str) -> str | None:
        value = self.environ.get(name)
        return value if value else None

    def home(self) -> str | None:
        if self.platform == "win32":
            return self.env("USERPROFILE")
        return self.env("HOME")

    def command(self, argv: Sequence[str], timeout: float | None = None) -> Completed:
        return self.run(list(argv), timeout if timeout is not None else self.timeout)

    def helper(self, module: str, *args: str, timeout: float | None = None) -> Completed:
        """Run one of cpsdiag's probe helpers (``python -m module``) in its own process."""
        return self.command([PYTHON, "-m", module, *args], timeout)
