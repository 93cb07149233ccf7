"""How cpsdiag was started: typed in a terminal, or double-clicked (the standalone executable); where the Desktop is.

The CLI asks only when it gets no argument at all, before anything else, so
this module imports nothing but ``os`` and ``sys`` (``ctypes`` on Windows,
when asked): ``cpsdiag --version`` never loads it.

A double-click is recognised only in the standalone executable: the
installed package (``pip install``) keeps printing the help when it gets no
argument, whatever its standard input, because scripts and CI call it so.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Collection, Mapping, Sequence
from pathlib import Path

# KNOWNFOLDERID of the user's Desktop (KnownFolders.h), wherever it was moved (OneDrive, a network share).
_FOLDERID_DESKTOP = "B4BFCC3A-DB2C-424C-B029-7FE99A87C641"
# Named through constants: a freezer that sees a literal library name looks for it on the build machine.
_SHELL32, _OLE32 = "shell32", "ole32"


def started_by_double_click(args: Sequence[str], *, frozen: bool, platform: str, stdin_is_tty: bool,
                            console_pids: Collection[int] | None, own_pids: Collection[int]) -> bool:
    """The rule, with every input given (tested with both answers).

    Windows gives a program double-clicked in Explorer a console of its own,
    and a program typed in cmd.exe or PowerShell shares the shell's console:
    double-clicked when every process on the console is ours. Elsewhere a
    double-clicked program has no terminal on its standard input.
    """
    if args or not frozen:
        return False
    if platform == "win32":
        return console_pids is not None and bool(console_pids) and set(console_pids) <= set(own_pids)
    return not stdin_is_tty


def double_clicked(args: Sequence[str] | None = None) -> bool:
    """The rule applied to this process."""
    args = sys.argv[1:] if args is None else args
    frozen = bool(getattr(sys, "frozen", False))
    if args or not frozen:
        return False                    # the common case decided without asking the system anything
    windows = sys.platform == "win32"
    stdin = sys.stdin
    return started_by_double_click(args, frozen=frozen, platform=sys.platform,
                                   stdin_is_tty=stdin is not None and stdin.isatty(),
                                   console_pids=console_process_ids() if windows else None,
                                   own_pids=own_process_ids())


def own_process_ids() -> set[int]:
    """This process, and the boot loader that started it when the executable is one self-unpacking file.

    PyInstaller's one-file executable runs as two processes on the same
    console: the boot loader (the parent) and Python (this process). Its
    folder of unpacked files is then a temporary one, not beside the
    executable as in a one-folder build.
    """
    own = {os.getpid()}
    unpacked = getattr(sys, "_MEIPASS", None)
    if unpacked:
        home = Path(sys.executable).resolve().parent
        if home not in (Path(unpacked).resolve(), Path(unpacked).resolve().parent):
            own.add(os.getppid())
    return own


def console_process_ids() -> list[int] | None:
    """The processes attached to this process's console (Windows), None when there is no console."""
    import ctypes

    try:
        kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)  # type: ignore[attr-defined]
    except OSError:
        return None
    size = 8
    while True:
        buffer = (ctypes.c_uint32 * size)()
        count = kernel32.GetConsoleProcessList(buffer, size)
        if count == 0:
            return None
        if count <= size:
            return list(buffer[:count])
        size = count + 4                # more processes than room: the call says how many, ask again


def desktop_folder(platform: str, environ: Mapping[str, str], home: Path, windows_desktop: str | None = None) -> Path:
    """The user's Desktop, or their home folder when there is none.

    Windows: the known folder (``windows_desktop``), else %USERPROFILE%\\Desktop.
    Linux: XDG_DESKTOP_DIR (the environment, then ``user-dirs.dirs``: the
    Desktop is ``~/Bureau`` on a French desktop), else ~/Desktop. macOS: ~/Desktop.
    """
    candidates: list[Path] = []
    if platform == "win32":
        if windows_desktop:
            candidates.append(Path(windows_desktop))
        if environ.get("USERPROFILE"):
            candidates.append(Path(environ["USERPROFILE"]) / "Desktop")
    elif platform != "darwin":
        xdg = environ.get("XDG_DESKTOP_DIR") or _user_dirs_entry(environ, home, "XDG_DESKTOP_DIR")
        if xdg:
            candidates.append(Path(xdg.replace("$HOME", str(home))).expanduser())
    candidates.append(home / "Desktop")
    for folder in candidates:
        if folder.is_dir() and folder.resolve() != home.resolve():
            return folder
    return home


def _user_dirs_entry(environ: Mapping[str, str], home: Path, key: str) -> str | None:
    """A value of ``user-dirs.dirs`` (xdg-user-dirs), the file desktops write the user's folder names into."""
    config = Path(environ.get("XDG_CONFIG_HOME") or home / ".config")
    try:
        text = (config / "user-dirs.dirs").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    for line in text.splitlines():
        name, sep, value = line.strip().partition("=")
        if sep and name == key:
            return value.strip().strip('"') or None
    return None


def windows_desktop() -> str | None:
    """The Desktop known folder (SHGetKnownFolderPath), None when Windows does not give it."""
    import ctypes
    import uuid

    folder_id = (ctypes.c_ubyte * 16).from_buffer_copy(uuid.UUID(_FOLDERID_DESKTOP).bytes_le)
    path = ctypes.c_wchar_p()
    try:
        shell32 = ctypes.WinDLL(_SHELL32)  # type: ignore[attr-defined]
        ole32 = ctypes.WinDLL(_OLE32)  # type: ignore[attr-defined]
        if shell32.SHGetKnownFolderPath(ctypes.byref(folder_id), 0, None, ctypes.byref(path)) != 0:
            return None
        try:
            return path.value
        finally:
            ole32.CoTaskMemFree(path)
    except OSError:
        return None


def user_desktop() -> Path:
    """Where this user's Desktop is, on this machine."""
    return desktop_folder(sys.platform, os.environ, Path.home(),
                          windows_desktop() if sys.platform == "win32" else None)
