"""Stopped as CI runners (SIGTERM), closed terminals (SIGHUP) and Ctrl-C (SIGINT) stop them, the commands that
start processes or hold temporary files leave nothing behind: `emulator run`, `emulator`, `testssl-server`,
`watch`. Each runs with a TMPDIR of its own; tests.support.stop finds what is left by that mark.

Self-contained (with tests/support/stop.py): scripts/test-install runs it as an unprivileged user from the wheel."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import pytest

from tests.support.stop import child_env, default_stop_signals, processes_marked, read_until, stop_and_check, tmpdir_mark, wait_until  # noqa: F401 (a fixture)

pytestmark = pytest.mark.stack

STOP_SIGNALS = [signal.SIGTERM, signal.SIGHUP, signal.SIGINT]




def spawn(tmpdir, *args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "cpsdiag", *args], env=child_env(tmpdir),
                            preexec_fn=default_stop_signals,
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@pytest.mark.parametrize("signum", STOP_SIGNALS, ids=lambda s: signal.Signals(s).name)
def test_emulator_run_stopped_by_a_signal_stops_pcscd_the_card_and_the_command(tmpdir_mark, signum):
    proc = spawn(tmpdir_mark, "emulator", "run", "--", "sh", "-c", "echo command up; exec sleep 600")
    started = read_until(proc.stderr, "running:")
    read_until(proc.stdout, "command up")
    running = processes_marked(str(tmpdir_mark))
    assert any("pcscd" in cmd for cmd in running.values()) and any("emulator" in cmd for cmd in running.values())
    status, rest = stop_and_check(proc, signum, tmpdir_mark)
    assert status == 128 + signum, started + rest
    assert "pcscd stopped" in rest and "emulator stopped" in rest and "Traceback" not in rest


def test_emulator_run_cleans_up_after_a_command_that_raises(tmpdir_mark):
    tmpdir = tmpdir_mark
    proc = spawn(tmpdir, "emulator", "run", "--", sys.executable, "-c", "raise RuntimeError('the command failed')")
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 1
    assert "RuntimeError: the command failed" in err and "pcscd stopped" in err
    assert processes_marked(str(tmpdir)) == {}
    assert list(tmpdir.iterdir()) == []


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP], ids=lambda s: signal.Signals(s).name)
def test_emulator_stopped_by_a_signal_says_what_it_served(tmpdir_mark, signum):
    # No pcscd needed: the card waits for vpcd on a port nobody listens on.
    proc = spawn(tmpdir_mark, "emulator", "--profile", "cps3-medecin", "--port", "9")
    read_until(proc.stderr, "emulator: cps3-medecin")
    status, rest = stop_and_check(proc, signum, tmpdir_mark)
    assert status == 0 and "stopped after 0 APDUs" in rest and "Traceback" not in rest


@pytest.mark.parametrize("signum", STOP_SIGNALS, ids=lambda s: signal.Signals(s).name)
def test_testssl_server_stopped_by_a_signal_removes_its_certificate_folder(tmpdir_mark, signum):
    tmpdir = tmpdir_mark
    proc = spawn(tmpdir, "testssl-server", "--port", "0")
    banner = read_until(proc.stderr, "server CA:")
    folders = list(tmpdir.iterdir())
    assert [f.name.startswith("cpsdiag-testssl-") for f in folders] == [True], banner
    # While it runs, the folder holds what clients need and no private key.
    assert sorted(p.name for p in folders[0].iterdir()) == ["ca.pem", "server.pem"]
    status, rest = stop_and_check(proc, signum, tmpdir)
    assert status == 0 and "Traceback" not in rest


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP], ids=lambda s: signal.Signals(s).name)
def test_watch_stopped_by_a_signal_prints_its_summary(tmpdir_mark, signum):
    """watch runs inside `emulator run`; the signal goes to watch alone, which ends as it does on Ctrl-C."""
    tmpdir = tmpdir_mark
    proc = spawn(tmpdir, "emulator", "run", "--", sys.executable, "-m", "cpsdiag", "watch", "--json")
    read_until(proc.stdout, '"event": "watching"')
    watch = wait_until(lambda: [pid for pid, cmd in processes_marked(str(tmpdir)).items()
                                if "cpsdiag watch" in cmd and "emulator" not in cmd], 10, "the watch process")
    assert len(watch) == 1
    os.kill(watch[0], signum)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert json.loads(out.splitlines()[-1])["event"] == "summary"
    assert "Traceback" not in err and "pcscd stopped" in err
    assert processes_marked(str(tmpdir)) == {}
    assert list(tmpdir.iterdir()) == []


def test_the_next_run_removes_what_a_killed_run_left(tmpdir_mark):
    """SIGKILL cannot be caught: pcscd and the card die with the run (parent-death signal) but its folder stays,
    until the next run, which removes it and says so."""
    tmpdir = tmpdir_mark
    proc = spawn(tmpdir, "emulator", "run", "--", "sh", "-c", "echo command up; exec sleep 600")
    try:
        read_until(proc.stdout, "command up")
        left = [p.name for p in tmpdir.iterdir()]
        assert len(left) == 1 and left[0].startswith("cpsdiag-vpcd-"), left
        proc.kill()
        proc.wait(timeout=60)
        wait_until(lambda: not [cmd for cmd in processes_marked(str(tmpdir)).values() if "sleep" not in cmd], 15,
                   "pcscd and the card ending with the killed run")
        assert [p.name for p in tmpdir.iterdir()] == left          # nothing could remove it
        again = spawn(tmpdir, "emulator", "run", "--", "true")
        _, err = again.communicate(timeout=120)
        assert again.returncode == 0, err
        assert f"by runs that were killed: {left[0]}" in err
        assert list(tmpdir.iterdir()) == []
    finally:
        # The killed run's command was not the emulator's to stop any more: still sleeping, marked by the TMPDIR.
        for pid in processes_marked(str(tmpdir)):
            os.kill(pid, signal.SIGKILL)
        proc.stdout.close()
        proc.stderr.close()
