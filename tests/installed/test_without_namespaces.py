"""Where the kernel refuses user namespaces (Ubuntu's AppArmor restriction, a container's seccomp profile),
`emulator run` uses a running pcscd that has Debian's vpcd readers, and says so; with no pcscd either, it names
both ways out.

The test builds that machine in a box: private mount and network namespaces (after a user namespace when not
root) with a tmpfs on /run/pcscd, where the "system" pcscd is Debian's configuration (vpcd on 35963) or none;
inside, the command runs as a non-root user of a nested user namespace whose user-namespace limit is 0, or (as
root) as root without CAP_SYS_ADMIN, as in a Docker container.
Self-contained (with tests/support/stop.py): scripts/test-install runs it as an unprivileged user too.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

from tests.support.stop import child_env, tmpdir_mark  # noqa: F401 (a fixture)

pytestmark = pytest.mark.stack

SBIN_PATH = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/sbin"])

# Runs ARGV as uid 4242 of a new user namespace in which no further user namespace may be made.
NO_USERNS = r'''
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
uid, gid = os.geteuid(), os.getegid()
if libc.unshare(0x10000000) != 0:
    sys.exit("unshare: " + os.strerror(ctypes.get_errno()))
open("/proc/self/setgroups", "w").write("deny")
open("/proc/self/uid_map", "w").write(f"4242 {uid} 1")
open("/proc/self/gid_map", "w").write(f"4242 {gid} 1")
open("/proc/sys/user/max_user_namespaces", "w").write("0")
os.execv(sys.argv[1], sys.argv[1:])
'''




# How namespaces are refused: a non-root user whose kernel allows no user namespace (Ubuntu's AppArmor rule,
# user.max_user_namespaces = 0); and, as root, root without CAP_SYS_ADMIN (a Docker container: GitLab CI).
REFUSALS = ["no-user-namespaces"] + (["root-without-cap-sys-admin"] if os.geteuid() == 0 else [])


def refused(how: str) -> list[str]:
    if how == "no-user-namespaces":
        return [sys.executable, "-c", NO_USERNS]
    setpriv = shutil.which("setpriv", path=SBIN_PATH)
    if not setpriv:
        pytest.skip("needs setpriv (util-linux)")
    return [setpriv, "--bounding-set=-sys_admin", "--"]


def in_box(tmpdir, system_pcscd: bool, how: str, *command: str) -> subprocess.CompletedProcess:
    unshare, ip = shutil.which("unshare", path=SBIN_PATH), shutil.which("ip", path=SBIN_PATH)
    pcscd = shutil.which("pcscd", path=SBIN_PATH)
    if not (unshare and ip and pcscd and os.path.isdir("/run/pcscd")):
        pytest.skip("needs unshare, ip, pcscd and a /run/pcscd to mount on")
    script = f'{ip} link set lo up && mount -t tmpfs tmpfs /run/pcscd && '
    if system_pcscd:
        # Debian's own reader configuration: "Virtual PCD 00 00" on 35963, as after apt-get install.
        script += (f'({pcscd} --foreground > {tmpdir}/system-pcscd.log 2>&1 & echo $! > {tmpdir}/pcscd.pid) && '
                   'while [ ! -S /run/pcscd/pcscd.comm ]; do sleep 0.05; done && ')
    script += '"$@"; status=$?; '
    if system_pcscd:
        script += f'kill $(cat {tmpdir}/pcscd.pid); rm -f {tmpdir}/pcscd.pid {tmpdir}/system-pcscd.log; '
    script += 'exit $status'
    box = [unshare] + ([] if os.geteuid() == 0 else ["--user", "--map-root-user"])
    box += ["--mount", "--net", "--propagation", "private", "sh", "-c", script, "box",
            *refused(how), *command]
    return subprocess.run(box, env=child_env(tmpdir), capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize("how", REFUSALS)
def test_without_namespaces_the_running_pcscd_is_used_and_said(tmpdir_mark, how):
    proc = in_box(tmpdir_mark, True, how, sys.executable, "-m", "cpsdiag", "emulator", "run", "--profile",
                  "cps4-infirmier", "--", sys.executable, "-m", "cpsdiag", "check", "--json", "--no-env")
    assert "Traceback" not in proc.stderr, proc.stderr
    report = json.loads(proc.stdout)
    assert report["card"]["reader"] == "Virtual PCD 00 00" and report["card"]["generation"] == "CPS4"
    assert proc.returncode == report["exit_status"] == 0, proc.stderr
    assert "using the pcscd running on the machine" in proc.stderr
    # Why, in the kernel's own words.
    assert ("No space left on device" if how == "no-user-namespaces" else "Operation not permitted") in proc.stderr
    assert list(tmpdir_mark.iterdir()) == []


@pytest.mark.parametrize("how", REFUSALS)
def test_without_namespaces_nor_pcscd_the_message_names_both_ways_out(tmpdir_mark, how):
    proc = in_box(tmpdir_mark, False, how, sys.executable, "-m", "cpsdiag", "emulator", "run", "--", "true")
    assert proc.returncode == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert "allow unprivileged user namespaces" in proc.stderr
    assert "start the machine's pcscd with the vpcd driver" in proc.stderr
    assert list(tmpdir_mark.iterdir()) == []
