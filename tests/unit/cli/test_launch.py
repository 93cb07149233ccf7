"""How the standalone executable tells a double-click from a terminal, and where it leaves the bundle.

The rule is a pure function of what the system says (tested here with both
answers on each system); the executable runs the whole path for real in
tests/executable/test_executable.py.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from cpsdiag.frozen import module_to_run, restore_library_path
from cpsdiag.launch import desktop_folder, started_by_double_click


def rule(args=(), *, frozen=True, platform="linux", tty=False, console=None, own=(100,)):
    return started_by_double_click(list(args), frozen=frozen, platform=platform, stdin_is_tty=tty,
                                   console_pids=console, own_pids=own)


def test_linux_and_macos_no_argument_and_no_terminal_is_a_double_click():
    assert rule(platform="linux", tty=False) is True
    assert rule(platform="darwin", tty=False) is True


def test_linux_and_macos_typed_in_a_terminal_is_not():
    assert rule(platform="linux", tty=True) is False
    assert rule(platform="darwin", tty=True) is False


def test_any_argument_is_a_command_line_whatever_stdin():
    assert rule(["check"], platform="linux", tty=False) is False
    assert rule(["--help"], platform="win32", console=[100], own=[100]) is False


def test_the_installed_package_never_takes_the_double_click_path():
    # `cpsdiag` from pip, called by a script with stdin not a terminal, keeps printing the help.
    assert rule(frozen=False, platform="linux", tty=False) is False
    assert rule(frozen=False, platform="win32", console=[100], own=[100]) is False


def test_windows_console_of_its_own_is_a_double_click():
    assert rule(platform="win32", tty=True, console=[100], own=[100]) is True


def test_windows_one_file_boot_loader_on_the_same_console_is_still_ours():
    # PyInstaller's one-file executable: the boot loader (200) started this process (100) on its console.
    assert rule(platform="win32", console=[100, 200], own=[100, 200]) is True


def test_windows_console_shared_with_a_shell_is_not():
    # cmd.exe (300) or PowerShell started the executable: the console is the shell's.
    assert rule(platform="win32", console=[300, 200, 100], own=[100, 200]) is False
    assert rule(platform="win32", console=[300, 100], own=[100]) is False


def test_windows_without_a_console_is_not():
    assert rule(platform="win32", console=None, own=[100]) is False
    assert rule(platform="win32", console=[], own=[100]) is False


# -- the Desktop ----------------------------------------------------------------------------------------


def test_linux_desktop_named_by_xdg_user_dirs(tmp_path):
    home = tmp_path / "home"
    (home / "Bureau").mkdir(parents=True)
    (home / ".config").mkdir()
    (home / ".config" / "user-dirs.dirs").write_text(
        '# written by xdg-user-dirs-update\nXDG_DOWNLOAD_DIR="$HOME/Téléchargements"\nXDG_DESKTOP_DIR="$HOME/Bureau"\n',
        encoding="utf-8")
    assert desktop_folder("linux", {}, home) == home / "Bureau"


def test_linux_desktop_from_the_environment_first(tmp_path):
    home, elsewhere = tmp_path / "home", tmp_path / "shared-desk"
    home.mkdir()
    elsewhere.mkdir()
    assert desktop_folder("linux", {"XDG_DESKTOP_DIR": str(elsewhere)}, home) == elsewhere


def test_linux_desktop_default_and_home_when_there_is_none(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    assert desktop_folder("linux", {}, home) == home
    (home / "Desktop").mkdir()
    assert desktop_folder("linux", {}, home) == home / "Desktop"


def test_linux_user_dirs_naming_the_home_itself_means_no_desktop(tmp_path):
    # xdg-user-dirs writes XDG_DESKTOP_DIR="$HOME/" when the user removed the folder.
    home = tmp_path / "home"
    (home / ".config").mkdir(parents=True)
    (home / ".config" / "user-dirs.dirs").write_text('XDG_DESKTOP_DIR="$HOME/"\n', encoding="utf-8")
    assert desktop_folder("linux", {}, home) == home


def test_macos_desktop(tmp_path):
    home = tmp_path / "Users" / "camille"
    (home / "Desktop").mkdir(parents=True)
    assert desktop_folder("darwin", {"XDG_DESKTOP_DIR": str(tmp_path)}, home) == home / "Desktop"


def test_windows_known_folder_first_then_userprofile(tmp_path):
    profile = tmp_path / "Users" / "camille"
    (profile / "Desktop").mkdir(parents=True)
    onedrive = tmp_path / "OneDrive" / "Bureau"
    onedrive.mkdir(parents=True)
    env = {"USERPROFILE": str(profile)}
    assert desktop_folder("win32", env, profile, windows_desktop=str(onedrive)) == onedrive
    assert desktop_folder("win32", env, profile, windows_desktop=None) == profile / "Desktop"
    assert desktop_folder("win32", env, profile, windows_desktop=str(tmp_path / "gone")) == profile / "Desktop"


# -- the executable's entry point -----------------------------------------------------------------------


def test_library_path_given_back_to_children():
    env = {"LD_LIBRARY_PATH": "/tmp/_MEI123:/opt/lib", "LD_LIBRARY_PATH_ORIG": "/opt/lib", "HOME": "/home/c"}
    restore_library_path(env)
    assert env == {"LD_LIBRARY_PATH": "/opt/lib", "HOME": "/home/c"}


def test_library_path_removed_when_the_user_had_none():
    env = {"LD_LIBRARY_PATH": "/tmp/_MEI123", "HOME": "/home/c"}
    restore_library_path(env)
    assert env == {"HOME": "/home/c"}


@pytest.mark.parametrize("argv, module", [
    (["cpsdiag", "-m", "cpsdiag.env.probe_pcsc", "--timeout", "5"], "cpsdiag.env.probe_pcsc"),
    (["cpsdiag", "-m", "cpsdiag", "emulator", "--port", "35963"], "cpsdiag"),
    (["cpsdiag", "check", "-m"], None),
    (["cpsdiag", "-m"], None),
    (["cpsdiag"], None),
])
def test_python_dash_m_recognised_only_in_first_place(argv, module):
    assert module_to_run(argv) == module


def test_no_argument_check_stays_light():
    # The CLI asks launch.py whenever it gets no argument: asking must load nothing heavy.
    code = ("import sys, cpsdiag.launch as l; l.double_clicked([]); l.started_by_double_click([], frozen=True, "
            "platform='linux', stdin_is_tty=True, console_pids=None, own_pids=l.own_process_ids()); "
            "print(sorted({m.split('.')[0] for m in sys.modules} & {'click', 'rich', 'smartcard', 'cryptography', "
            "'ctypes', 'tlslite'}))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and proc.stdout.strip() == "[]", (proc.stdout, proc.stderr)
