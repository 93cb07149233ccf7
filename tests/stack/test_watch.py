"""``cpsdiag watch`` on the real stack: the virtual card inserted and removed, flapping, the daemon stopping."""

from __future__ import annotations

import json
import signal
import threading
import time

import pytest

from tests.support.cli import spawn_cpsdiag
from cpsdiag.emulator import stack as stk

pytestmark = pytest.mark.stack


class Watch:
    def __init__(self):
        self.proc = spawn_cpsdiag("watch", "--json")
        self.events: list[dict] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self):
        for line in self.proc.stdout:
            self.events.append(json.loads(line))

    def wait_for(self, kind: str, count: int = 1, timeout: float = 15) -> list[dict]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = [e for e in self.events if e["event"] == kind]
            if len(found) >= count:
                return found
            time.sleep(0.05)
        raise AssertionError(f"no {count} x {kind} in {self.events}")

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
        code = self.proc.wait(15)
        self._reader.join(5)
        assert "Traceback" not in self.proc.stderr.read()
        return code


def test_insert_and_remove_are_reported_with_the_card(stack, pki):
    stack.ensure_pcscd()
    watch = Watch()
    try:
        watch.wait_for("watching")
        emulator = stk.Emulator(str(pki.cards / "cps3-medecin"), stack.port)
        emulator.start()
        inserted = watch.wait_for("card_inserted")[-1]
        assert inserted["reader"] == stack.reader and inserted["card"].startswith("CPS3")
        assert inserted["atr"] == "3B AC 00 40 2A 00 12 25 00 64 80 00 03 10 00 90 00"
        emulator.stop()
        assert watch.wait_for("card_removed")[-1]["reader"] == stack.reader
    finally:
        code = watch.stop()
    assert code == 0
    assert watch.events[-1]["event"] == "summary" and watch.events[-1]["card_events"][stack.reader] == 2


def test_flapping_card(stack, pki):
    stack.ensure_pcscd()
    watch = Watch()
    try:
        watch.wait_for("watching")
        for _ in range(4):               # a bad contact: the card comes and goes within seconds
            emulator = stk.Emulator(str(pki.cards / "cps4-infirmier"), stack.port)
            emulator.start()
            stk.wait_for_card(stack.reader, present=True)
            emulator.stop()
            stk.wait_for_card(stack.reader, present=False)
        flapping = watch.wait_for("card_flapping")
        assert flapping[0]["reader"] == stack.reader
    finally:
        assert watch.stop() == 0


def test_daemon_stopping_ends_the_watch(stack):
    pcscd = stack.require_managed()
    watch = Watch()
    try:
        watch.wait_for("watching")
        pcscd.stop()
        stopped = watch.wait_for("service_stopped")
        assert stopped
        assert watch.proc.wait(15) == 1
    finally:
        watch.stop()
        pcscd.start()
