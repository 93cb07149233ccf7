"""The standalone executable (scripts/package), built once per test session and run with no Python anywhere.

Built from the sources, or reused when nothing it is made of changed (the
build key of scripts/package). Each run clears the environment (``env -i``),
puts no Python on PATH and, as root, hides every Python installation of the
machine (pyenv, Debian's, the project's venv) behind empty mounts in a mount
namespace of its own, so that only what the executable carries can run.
"""

from __future__ import annotations

import glob
import os
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.paths import ROOT

PCSCLITE = ("/usr/lib/x86_64-linux-gnu/libpcsclite.so.1", "/usr/lib/aarch64-linux-gnu/libpcsclite.so.1")


def python_installations() -> list[str]:
    """Folders where a Python could be found: the interpreter running the tests, pyenv, Debian's, the venv."""
    found = {str(ROOT / ".venv")}
    prefix = os.path.realpath(sys.base_prefix)
    if prefix not in ("/", "/usr", "/usr/local"):       # Debian's own Python lives in /usr: hide its library only
        found.add(prefix)
    found |= {p for p in glob.glob("/usr/lib/python3*") + glob.glob("/usr/local/lib/python3*") if os.path.isdir(p)}
    pyenv = Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv")
    if pyenv.is_dir():
        found.add(str(pyenv))
    # The interpreter's prefix may be inside pyenv already: hide the outermost folder once.
    return sorted(p for p in found if os.path.isdir(p) and not any(p != q and p.startswith(q + "/") for q in found))


@dataclass
class Executable:
    path: Path
    bin_dir: Path           # the system's commands, less every python*

    @property
    def path_variable(self) -> str:
        return f"{self.bin_dir}:/usr/sbin"

    def environment(self, home: Path, **extra: str) -> dict[str, str]:
        env = {"PATH": self.path_variable, "HOME": str(home), "LANG": "C.UTF-8", "TERM": "dumb", "COLUMNS": "100"}
        env.update(extra)
        return env

    def command(self, *args: str, home: Path, env: dict[str, str] | None = None,
                hide_pcsc_library: bool = False) -> list[str]:
        """EXE ARGS under ``env -i`` with the given variables only; as root, every Python hidden."""
        variables = self.environment(home, **(env or {}))
        command = ["env", "-i", *(f"{k}={v}" for k, v in variables.items()), str(self.path), *args]
        if os.geteuid() != 0:
            if hide_pcsc_library:
                pytest.skip("hiding libpcsclite needs root (a mount namespace)")
            return command
        mounts = [f"mount -t tmpfs -o size=1m,mode=0755 tmpfs {shlex.quote(p)}" for p in python_installations()]
        if hide_pcsc_library:
            lib = next(p for p in PCSCLITE if os.path.exists(p))
            mounts.append(f"mount --bind /dev/null {lib}")
        script = " && ".join(mounts + [f"exec {shlex.join(command)}"])
        return ["unshare", "-m", "--propagation", "private", "sh", "-c", script]

    def run(self, *args: str, home: Path, env: dict[str, str] | None = None, input: str | None = None,
            stdin=None, hide_pcsc_library: bool = False, timeout: float = 300) -> subprocess.CompletedProcess:
        command = self.command(*args, home=home, env=env, hide_pcsc_library=hide_pcsc_library)
        kwargs = {"input": input} if input is not None else {"stdin": stdin if stdin is not None else subprocess.DEVNULL}
        proc = subprocess.run(command, capture_output=True, text=True, encoding="utf-8", errors="replace",
                              timeout=timeout, **kwargs)
        assert "Traceback" not in proc.stderr, (args, proc.stderr)
        return proc


@pytest.fixture(scope="session")
def executable(tmp_path_factory) -> Executable:
    try:
        import PyInstaller  # noqa: F401
    except ImportError:
        pytest.skip("PyInstaller is not installed (scripts/setup installs the 'package' extra)")
    proc = subprocess.run([sys.executable, str(ROOT / "scripts" / "package")], capture_output=True, text=True,
                          timeout=1800)
    assert proc.returncode == 0, proc.stderr[-3000:]
    path = Path(proc.stdout.strip().splitlines()[-1])
    assert path.is_file() and os.access(path, os.X_OK)
    # A PATH with the system's commands (pcscd, ip, mount...) and no Python: /usr/bin less python*.
    bin_dir = tmp_path_factory.mktemp("bin-without-python")
    for entry in Path("/usr/bin").iterdir():
        if not entry.name.startswith(("python", "pydoc", "py3", "2to3", "pip")):
            (bin_dir / entry.name).symlink_to(entry)
    exe = Executable(path, bin_dir)
    for name in ("python", "python3", "python3.11"):
        assert shutil.which(name, path=exe.path_variable) is None
    return exe
