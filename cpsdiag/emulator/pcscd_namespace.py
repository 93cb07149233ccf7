"""Run one program (pcscd) in mount namespace of its own where /run/pcscd is a folder of our choosing.

``python -m cpsdiag.emulator.pcscd_namespace RUN_DIR -- PROGRAM ARGS...``

pcscd's socket path is compiled in (``/run/pcscd/pcscd.comm``) and only one
pcscd can run per mount namespace. Here pcscd gets a namespace whose
``/run/pcscd`` is RUN_DIR, bind-mounted; it creates its socket there, and any
PC/SC client outside reaches it through ``PCSCLITE_CSOCK_NAME=RUN_DIR/pcscd.comm``
(the client library honours that variable, the daemon does not). The network
namespace is left alone, so clients keep the machine's network.

Without root, a user namespace comes first (the current user mapped to root
inside it, which is what lets the mounts happen). The program is exec'd in
place, so its PID is the one the caller started, and it gets SIGTERM if the
caller dies, even by SIGKILL.

Exit status 125 with a message on stderr when a namespace cannot be made: the
caller then knows isolation is not available here (and says why).
"""

from __future__ import annotations

import ctypes
import errno
import os
import signal
import sys

CLONE_NEWNS = 0x00020000
CLONE_NEWUSER = 0x10000000
MS_BIND = 0x1000
MS_REC = 0x4000
MS_PRIVATE = 1 << 18
PR_SET_PDEATHSIG = 1
NO_NAMESPACE = 125
PCSCD_RUN_DIR = "/run/pcscd"


class NamespaceError(OSError):
    pass


# What the kernel's answer usually means here.
_HINTS = {errno.EPERM: "not permitted here", errno.ENOSPC: "the user.max_user_namespaces limit is reached",
          errno.EINVAL: "not supported here"}


def _check(result: int, what: str) -> None:
    if result != 0:
        code = ctypes.get_errno()
        hint = f" ({_HINTS[code]})" if code in _HINTS else ""
        raise NamespaceError(code, f"{what}: {os.strerror(code)}{hint}")


def _write(path: str, text: str) -> None:
    with open(path, "w") as fh:
        fh.write(text)


def enter(run_dir: str) -> None:
    """Move this (single-threaded) process into new namespaces with run_dir mounted on /run/pcscd."""
    libc = ctypes.CDLL(None, use_errno=True)
    uid, gid = os.geteuid(), os.getegid()
    if uid == 0:
        _check(libc.unshare(CLONE_NEWNS), "unshare(mount namespace)")
    else:
        _check(libc.unshare(CLONE_NEWUSER | CLONE_NEWNS), "unshare(user and mount namespaces)")
        # An unprivileged process may map only its own IDs, and only after giving up setgroups.
        _write("/proc/self/setgroups", "deny")
        _write("/proc/self/uid_map", f"0 {uid} 1")
        _write("/proc/self/gid_map", f"0 {gid} 1")
    _check(libc.mount(b"none", b"/", None, MS_REC | MS_PRIVATE, None), "making the mounts private")
    if not os.path.isdir(PCSCD_RUN_DIR):
        # No /run/pcscd to mount on (pcscd never ran here) and /run is root's: give this namespace an
        # empty /run of its own; only pcscd lives in it and it needs nothing else there.
        _check(libc.mount(b"tmpfs", b"/run", b"tmpfs", 0, b"mode=0755"), "mounting a tmpfs on /run")
        os.mkdir(PCSCD_RUN_DIR)
    _check(libc.mount(run_dir.encode(), PCSCD_RUN_DIR.encode(), None, MS_BIND, None),
           f"bind-mounting {run_dir} on {PCSCD_RUN_DIR}")


def exit_with_parent() -> None:
    """SIGTERM when the process that started us dies, so that a killed caller leaves no daemon behind."""
    libc = ctypes.CDLL(None, use_errno=True)
    parent = os.getppid()
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() != parent:      # the parent died before prctl: nobody would send it
        os.kill(os.getpid(), signal.SIGTERM)


def main(argv: list[str]) -> int:
    if len(argv) < 3 or argv[1] != "--":
        print("usage: python -m cpsdiag.emulator.pcscd_namespace RUN_DIR -- PROGRAM [ARGS...]", file=sys.stderr)
        return 2
    run_dir, program = argv[0], argv[2:]
    try:
        enter(os.path.abspath(run_dir))
    except OSError as exc:
        print(f"cpsdiag: no private namespace for pcscd: {exc.strerror or exc}", file=sys.stderr)
        return NO_NAMESPACE
    exit_with_parent()
    os.execv(program[0], program)
    return 127      # not reached


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
