"""Run folders: marked with their owner; a later run removes those of runs that died, and only those.

Real processes, real /proc: a run is "dead" here because a real child process has ended.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from cpsdiag.emulator import runfolder

pytestmark = pytest.mark.skipif(not os.path.exists("/proc/self/stat"), reason="run folders are marked on Linux only")


def _mark(folder, text: str) -> None:
    folder.mkdir()
    (folder / runfolder.MARK).write_text(text)


def _ended_process_identity() -> tuple[int, str, str]:
    """The pid, start time and PID namespace of a process, read while it ran; it has ended on return."""
    child = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE)
    try:
        identity = runfolder._identity(child.pid)
        assert identity is not None, "a running child must have an identity"
    finally:
        child.communicate(b"")
    return child.pid, identity[0], identity[1]


def test_a_new_folder_names_its_live_owner_and_is_kept(tmp_path):
    folder = runfolder.make(str(tmp_path))
    pid, start, namespace = (folder / runfolder.MARK).read_text().split()
    assert folder.name.startswith(runfolder.PREFIX) and int(pid) == os.getpid()
    assert runfolder._identity(os.getpid()) == (start, namespace)
    assert runfolder.sweep(str(tmp_path)) == [] and folder.is_dir()


def test_the_folder_of_a_run_that_ended_is_removed(tmp_path):
    pid, start, namespace = _ended_process_identity()
    dead = tmp_path / f"{runfolder.PREFIX}dead"
    _mark(dead, f"{pid} {start} {namespace}\n")
    (dead / "run").mkdir()
    (dead / "run" / "pcscd.comm").write_text("")
    alive = runfolder.make(str(tmp_path))
    assert runfolder.sweep(str(tmp_path)) == [dead]
    assert not dead.exists() and alive.is_dir()


def test_a_reused_pid_does_not_keep_a_dead_runs_folder(tmp_path):
    # Our own pid, but another start time: the run that wrote it has ended and the pid went to another process.
    start, namespace = runfolder._identity("self")
    folder = tmp_path / f"{runfolder.PREFIX}reused"
    _mark(folder, f"{os.getpid()} {int(start) - 1} {namespace}\n")
    assert runfolder.sweep(str(tmp_path)) == [folder]


@pytest.mark.parametrize("mark", [None, "", "garbage", "12 34", "../../1 5 pid:[1]"],
                         ids=["no mark", "empty", "one word", "two words", "not a pid"])
def test_a_folder_without_a_usable_mark_is_kept(tmp_path, mark):
    folder = tmp_path / f"{runfolder.PREFIX}unmarked"
    folder.mkdir()
    if mark is not None:
        (folder / runfolder.MARK).write_text(mark)
    assert runfolder.sweep(str(tmp_path)) == [] and folder.is_dir()


def test_a_run_of_another_pid_namespace_is_never_taken_for_dead(tmp_path):
    pid, start, _namespace = _ended_process_identity()
    folder = tmp_path / f"{runfolder.PREFIX}container"
    _mark(folder, f"{pid} {start} pid:[1]\n")
    assert runfolder.sweep(str(tmp_path)) == [] and folder.is_dir()


def test_only_run_folders_are_looked_at(tmp_path):
    pid, start, namespace = _ended_process_identity()
    other = tmp_path / "cpsdiag-pcscd-other"
    _mark(other, f"{pid} {start} {namespace}\n")
    link = tmp_path / f"{runfolder.PREFIX}link"
    link.symlink_to(other)
    assert runfolder.sweep(str(tmp_path)) == [] and other.is_dir() and link.is_symlink()
