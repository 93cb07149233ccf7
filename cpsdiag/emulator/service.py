"""Virtual readers for one run, and the virtual cards put in them.

What ``cpsdiag emulator run`` and the pytest plugin share. ``VirtualReaders``
brings up a PC/SC service with vpcd readers, in the first way the machine
allows:

1. a private pcscd, alone in a mount namespace (after a user namespace when
   not root), on free vpcd ports; clients reach it through
   ``PCSCLITE_CSOCK_NAME``, and keep the machine's network;
2. else the pcscd already running on the machine, if it has Debian's vpcd
   readers ("Virtual PCD 00 00" and "00 01");
3. else an error naming both ways out.

``close()`` stops every card and pcscd it started and removes its folder,
whatever happened before.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import profile as profiles
from . import stack as stk
from . import runfolder

SYSTEM_SLOTS = [("Virtual PCD 00 00", 35963), ("Virtual PCD 00 01", 35964)]


def _quiet(text: str) -> None:
    pass


def anchors_of(prof: profiles.Profile) -> Path | None:
    """The trust anchors for a profile's certificates: its own ``anchors`` file, or the make-pki bundle beside it."""
    if prof.anchors is not None:
        return prof.anchors
    beside = prof.folder.parent.parent / "pki" / "anchors.pem"
    return beside if beside.is_file() else None


@dataclass
class VirtualCard:
    """A profile's card in one reader. ``insert()`` starts its emulator, ``remove()`` stops it."""

    data: profiles.Profile
    reader: str
    port: int
    log_file: Path
    client_env: dict[str, str] = field(default_factory=dict)
    verbose: bool = True
    _emulator: stk.Emulator | None = None
    _certificates: dict[str, Any] | None = None

    @property
    def profile(self) -> Path:
        return self.data.folder

    @property
    def atr(self) -> bytes:
        return self.data.atr

    @property
    def pin(self) -> str:
        return self.data.pin

    @property
    def card_number(self) -> str:
        return self.data.card_number

    @property
    def serial_number(self) -> str:
        """What EF.SN.ICC holds: the last 8 digits of a 10-digit card number (the Cryptolib's token serial)."""
        from .layout import serial_number

        return serial_number(self.data.card_number)

    @property
    def generation(self) -> str:
        return self.data.generation

    @property
    def anchors(self) -> Path | None:
        return anchors_of(self.data)

    @property
    def certificates(self) -> dict[str, Any]:
        """``"authentication"`` (and, on the contact interface, ``"signature"``) -> cryptography Certificate."""
        if self._certificates is None:
            from cryptography import x509

            pairs = {"authentication": self.data.auth, "signature": self.data.signature}
            self._certificates = {role: x509.load_der_x509_certificate(pair.certificate)
                                  for role, pair in pairs.items() if pair is not None}
        return self._certificates

    @property
    def env(self) -> dict[str, str]:
        """Environment for a program that should use this card (merge it into a subprocess's env)."""
        env = dict(self.client_env, CPSDIAG_READER=self.reader)
        if self.anchors is not None:
            env["CPSDIAG_ANCHORS"] = str(self.anchors)
        return env

    @property
    def present(self) -> bool:
        return self._emulator is not None and self._emulator.process is not None

    @property
    def pid(self) -> int | None:
        emulator = self._emulator
        return emulator.process.pid if emulator is not None and emulator.process is not None else None

    def insert(self, timeout: float = 15.0) -> "VirtualCard":
        """Put the card in its reader and wait until pcscd reports it present."""
        if not self.present:
            self._emulator = stk.Emulator(str(self.data.folder), self.port, verbose=self.verbose,
                                          log_file=self.log_file)
            self._emulator.start()
        stk.wait_for_card(self.reader, present=True, timeout=timeout)
        return self

    def remove(self, timeout: float = 5.0) -> None:
        """Take the card out and wait until pcscd reports the reader empty."""
        if self._emulator is not None:
            self._emulator.stop()
            self._emulator = None
            stk.wait_for_card(self.reader, present=False, timeout=timeout)

    def log(self) -> str:
        """What the emulator logged (with -v: every APDU, PIN bytes masked)."""
        return self.log_file.read_text(errors="replace") if self.log_file.exists() else ""

    def stop(self) -> None:
        """Stop the emulator without waiting for pcscd to notice (shutting down)."""
        if self._emulator is not None:
            self._emulator.stop()
            self._emulator = None


class VirtualReaders:
    """A PC/SC service with ``readers`` vpcd readers, and the cards inserted in them."""

    def __init__(self, readers: int = 2, isolate: bool | None = None, say: Callable[[str], None] = _quiet,
                 verbose_cards: bool = False):
        self.readers = readers
        self.isolate = isolate              # True: private pcscd or fail; False: the system's; None: either
        self.say = say
        self.verbose_cards = verbose_cards
        self.workdir: Path | None = None
        self.pcscd: stk.Pcscd | None = None
        self.slots: list[tuple[str, int]] = []
        self.cards: list[VirtualCard] = []
        self.mode = ""
        self._saved_env: dict[str, str | None] = {}
        self._counter = 0

    # -- the service ----------------------------------------------------------------

    def start(self) -> "VirtualReaders":
        # The socket's path must fit in a sockaddr_un (107 bytes and a NUL): too long a TMPDIR is not used.
        base = tempfile.gettempdir()
        if len(os.fsencode(base)) + len("/cpsdiag-vpcd-12345678/run/pcscd.comm") > 107:
            base = "/tmp"
        stale = runfolder.sweep(base)
        if stale:
            self.say(f"removed {len(stale)} folder(s) left in {base} by runs that were killed: "
                     + ", ".join(f.name for f in stale))
        self.workdir = workdir = runfolder.make(base)
        try:
            reason = None
            if self.isolate is not False:
                try:
                    self._start_private(workdir)
                    return self
                except stk.NoNamespace as exc:
                    if self.isolate:
                        raise
                    reason = str(exc).strip()
            self._use_system(reason)
            return self
        except BaseException:
            self.close()
            raise

    def _start_private(self, workdir: Path) -> None:
        last: Exception | None = None
        for _ in range(3):      # another program may take a port between choosing it and pcscd binding it
            self.pcscd = stk.Pcscd(port=stk.free_ports(2 * ((self.readers + 1) // 2)), workdir=workdir,
                                   readers=self.readers, private=True)
            self.pcscd.start()
            self._set_env(self.pcscd.client_env())
            try:
                stk.wait_for_readers([name for name, _ in self.pcscd.slots], timeout=5)
            except stk.StackError as exc:
                last = exc
                self.pcscd.stop()
                continue
            self.slots = self.pcscd.slots
            self.mode = "private"
            who = "a user namespace and a mount namespace" if os.geteuid() else "a mount namespace"
            ports = sorted({port for _, port in self.slots})
            ports_text = f"port {ports[0]}" if len(ports) == 1 else f"ports {ports[0]}-{ports[-1]}"
            pid = self.pcscd.process.pid if self.pcscd.process is not None else "?"
            self.say(f"pcscd started in {who} of its own, pid {pid}; vpcd {ports_text}; "
                     f"clients reach it through "
                     f"PCSCLITE_CSOCK_NAME={self.pcscd.socket_path}")
            return
        raise stk.StackError(f"the private pcscd does not offer its readers: {last}")

    def _use_system(self, reason: str | None) -> None:
        why = f" ({reason})" if reason else ""
        if not (stk.PCSCD_RUN_DIR / "pcscd.comm").exists() and self.isolate is False:
            raise stk.StackError("no pcscd is running, and --no-isolate asks for the machine's: start it with the "
                                 "vpcd driver (apt-get install pcscd vsmartcard-vpcd, then pcscd or systemctl "
                                 "start pcscd.socket), or leave out --no-isolate")
        if not (stk.PCSCD_RUN_DIR / "pcscd.comm").exists():
            raise stk.StackError(
                f"cannot run a private pcscd{why}, and no pcscd is running. Either allow unprivileged user "
                "namespaces (sysctl kernel.unprivileged_userns_clone=1 on Debian, "
                "kernel.apparmor_restrict_unprivileged_userns=0 on Ubuntu, user.max_user_namespaces above 0; "
                "a container may need --security-opt seccomp=unconfined), or start the machine's pcscd with the "
                "vpcd driver (apt-get install pcscd vsmartcard-vpcd, then pcscd or systemctl start pcscd.socket).")
        try:
            stk.wait_for_readers([name for name, _ in SYSTEM_SLOTS], timeout=2)
        except stk.StackError as exc:
            raise stk.StackError(f"the running pcscd has no vpcd reader ({exc}); install vsmartcard-vpcd and "
                                 "restart pcscd") from None
        self.slots = SYSTEM_SLOTS[:self.readers]
        self.mode = "system"
        self.say(f"no private pcscd{why}: using the pcscd running on the machine and its vpcd readers "
                 f"{', '.join(name for name, _ in self.slots)}")

    def _set_env(self, env: dict[str, str]) -> None:
        # libpcsclite reads PCSCLITE_CSOCK_NAME once per process: this process and its children must have it
        # before their first PC/SC call.
        for key, value in env.items():
            self._saved_env.setdefault(key, os.environ.get(key))
            os.environ[key] = value

    @property
    def client_env(self) -> dict[str, str]:
        return self.pcscd.client_env() if self.pcscd is not None and self.mode == "private" else {}

    # -- cards ----------------------------------------------------------------------

    def free_slots(self) -> list[tuple[str, int]]:
        used = {card.reader for card in self.cards}
        return [slot for slot in self.slots if slot[0] not in used]

    def card(self, profile: str | os.PathLike[str] | profiles.Profile, reader: str | None = None) -> VirtualCard:
        """A card for this profile (a name, a folder, or a loaded one) in a free reader (or the one named).

        The card is not inserted yet: ``insert()`` it.
        """
        prof = profile if isinstance(profile, profiles.Profile) else profiles.load(os.fspath(profile))
        free = self.free_slots()
        if reader is not None:
            free = [slot for slot in free if slot[0] == reader]
        if not free:
            taken = ", ".join(card.reader for card in self.cards)
            raise stk.StackError(f"no free virtual reader{f' named {reader!r}' if reader else ''} "
                                 f"({len(self.slots)} readers, cards in {taken or 'none'})")
        name, port = free[0]
        self._counter += 1
        if self.workdir is None:
            raise stk.StackError("the virtual readers are not started")
        log_file = self.workdir / f"emulator-{self._counter:03d}-{prof.name}.log"
        card = VirtualCard(prof, name, port, log_file, self.client_env, verbose=self.verbose_cards)
        self.cards.append(card)
        return card

    def insert(self, profile: str | os.PathLike[str] | profiles.Profile, reader: str | None = None) -> VirtualCard:
        return self.card(profile, reader).insert()

    def discard(self, card: VirtualCard) -> None:
        """Remove the card and free its reader."""
        try:
            card.remove()
        finally:
            if card in self.cards:
                self.cards.remove(card)

    # -- the end ----------------------------------------------------------------------

    def close(self) -> None:
        """Stop every card and pcscd started here and remove the folder, restoring the environment."""
        try:
            for card in self.cards:
                pid = card.pid
                card.stop()
                if pid:
                    self.say(f"emulator stopped (pid {pid})")
            self.cards.clear()
        finally:
            try:
                if self.pcscd is not None and self.pcscd.process is not None:
                    pid = self.pcscd.process.pid
                    self.pcscd.stop()
                    self.say(f"pcscd stopped (pid {pid})")
            finally:
                self.pcscd = None
                for key, value in self._saved_env.items():
                    if value is None:
                        os.environ.pop(key, None)
                    else:
                        os.environ[key] = value
                self._saved_env.clear()
                if self.workdir is not None:
                    shutil.rmtree(self.workdir, ignore_errors=True)
                    self.workdir = None
