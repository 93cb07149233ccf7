"""Entry point of the standalone executable that ``scripts/package`` builds (cpsdiag without a Python install).

Two things differ from the installed package, and only those:

* cpsdiag starts some of its own modules in a child process the way a package
  does, ``<interpreter> -m cpsdiag...`` (the emulator behind ``emulator run``,
  the PC/SC and PKCS#11 probes of ``env``). In the executable the interpreter
  *is* the executable, so ``-m`` is understood here, for cpsdiag's modules only:
  the executable is not a general Python interpreter.
* PyInstaller's boot loader puts the folder it unpacked itself to at the front
  of ``LD_LIBRARY_PATH``. Programs cpsdiag starts (pcscd, the system's commands
  the workstation probes run) must load the system's libraries, not the ones
  inside the executable, so they get the user's own value back. cpsdiag's own
  process keeps the system's ``libpcsclite.so.1`` either way: pyscard loads it
  by name and the executable does not carry one.

``EXE -m cpsdiag.frozen`` imports every cpsdiag module it holds, prints their
names and the errors of the ones that fail: ``scripts/package --smoke``
compares that list with the source tree to catch a module the freezer left out.
"""

from __future__ import annotations

import os
import sys
from collections.abc import MutableMapping, Sequence

EXIT_USAGE = 2


def restore_library_path(environ: MutableMapping[str, str]) -> None:
    """Give child processes the ``LD_LIBRARY_PATH`` the user had before the boot loader changed it."""
    original = environ.pop("LD_LIBRARY_PATH_ORIG", None)
    if original is not None:
        environ["LD_LIBRARY_PATH"] = original
    else:
        environ.pop("LD_LIBRARY_PATH", None)


def module_to_run(argv: Sequence[str]) -> str | None:
    """The module of ``EXE -m MODULE ARGS...``, or None when the command line is an ordinary cpsdiag one."""
    if len(argv) >= 3 and argv[1] == "-m":
        return argv[2]
    return None


def run_module(module: str, argv: Sequence[str]) -> None:
    import runpy

    if module != "cpsdiag" and not module.startswith("cpsdiag."):
        print(f"{os.path.basename(argv[0])}: -m runs cpsdiag's own modules only, not {module!r}", file=sys.stderr)
        sys.exit(EXIT_USAGE)
    sys.argv = [argv[0], *argv[3:]]
    runpy.run_module(module, run_name="__main__", alter_sys=True)


def main() -> None:
    if sys.platform.startswith("linux") and getattr(sys, "frozen", False):
        restore_library_path(os.environ)
    module = module_to_run(sys.argv)
    if module == "cpsdiag.frozen":
        sys.exit(self_check())             # this module is running already: runpy would run a second copy
    if module is not None:
        run_module(module, list(sys.argv))
        return
    from cpsdiag.cli import main as cli

    cli()


# Modules the executable leaves out (scripts/package reads this list): the pytest plugin needs pytest, which
# only an integrator's test run has, never a desk.
NOT_FROZEN: tuple[str, ...] = ("cpsdiag.emulator.pytest_plugin",)


def import_every_module() -> tuple[list[str], list[str]]:
    """Import each cpsdiag module: the names imported, and the failures with their error."""
    import importlib
    import pkgutil

    import cpsdiag

    imported, failed = [], []
    for info in pkgutil.walk_packages(cpsdiag.__path__, "cpsdiag."):
        if info.name.rsplit(".", 1)[-1] == "__main__" or info.name in NOT_FROZEN:
            continue                     # running __main__ is what it does on import
        try:
            importlib.import_module(info.name)
        except Exception as exc:  # any failure is the answer
            failed.append(f"{info.name}: {type(exc).__name__}: {exc}")
        else:
            imported.append(info.name)
    return imported, failed


def self_check() -> int:
    names, problems = import_every_module()
    for name in names:
        print(name)
    for line in problems:
        print(line, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(self_check())
