"""The pytest plugin as integrators use it: a test project of their own, run by pytest in its own process.

Each test writes a small project with pytester and runs it in a subprocess
(``runpytest_subprocess``): a real session, where the plugin comes from the
``pytest11`` entry point of the installed cpsdiag. The inner tests check the
card through independent clients: pyscard, OpenSC's PKCS#11 module through
PyKCS11, ``cpsdiag check`` in a subprocess, ``SCardGetStatusChange``.

Self-contained (with tests/support/stop.py) so that scripts/test-install runs the
same file as an unprivileged user, in a separate project, from the wheel.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import pytest

from tests.support.stop import default_stop_signals, processes_marked, stop_and_check, tmpdir_mark, wait_until  # noqa: F401 (a fixture)

pytest_plugins = ["pytester"]

OPENSC_MODULES = ("/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so", "/usr/lib/aarch64-linux-gnu/opensc-pkcs11.so",
                  "/usr/lib/opensc-pkcs11.so")

# Helpers of the inner project: plain pyscard calls, nothing from cpsdiag.
INNER_CONFTEST = '''
import threading
from smartcard import scard


def context():
    rc, ctx = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
    assert rc == scard.SCARD_S_SUCCESS, scard.SCardGetErrorMessage(rc)
    return ctx


def readers():
    ctx = context()
    rc, names = scard.SCardListReaders(ctx, [])
    scard.SCardReleaseContext(ctx)
    return names if rc == scard.SCARD_S_SUCCESS else []


def state(reader):
    ctx = context()
    rc, states = scard.SCardGetStatusChange(ctx, 0, [(reader, scard.SCARD_STATE_UNAWARE)])
    scard.SCardReleaseContext(ctx)
    assert rc == scard.SCARD_S_SUCCESS
    return states[0][1], bytes(states[0][2])


def card_atr(reader):
    """The ATR pcscd got from the card, through a connection of our own."""
    ctx = context()
    rc, handle, protocol = scard.SCardConnect(ctx, reader, scard.SCARD_SHARE_SHARED,
                                              scard.SCARD_PROTOCOL_T0 | scard.SCARD_PROTOCOL_T1)
    assert rc == scard.SCARD_S_SUCCESS, scard.SCardGetErrorMessage(rc)
    rc, name, st, proto, atr = scard.SCardStatus(handle)
    scard.SCardDisconnect(handle, scard.SCARD_LEAVE_CARD)
    scard.SCardReleaseContext(ctx)
    return bytes(atr)


class ChangeWaiter:
    """SCardGetStatusChange blocking in a thread from the current state until the reader's state changes."""

    def __init__(self, reader):
        self.reader = reader
        self.known, _ = state(reader)
        self.result = None
        self.thread = threading.Thread(target=self._wait)
        self.thread.start()

    def _wait(self):
        ctx = context()
        try:
            self.result = scard.SCardGetStatusChange(ctx, 20000, [(self.reader, self.known)])
        finally:
            scard.SCardReleaseContext(ctx)

    def changed(self):
        self.thread.join(30)
        rc, states = self.result
        assert rc == scard.SCARD_S_SUCCESS, scard.SCardGetErrorMessage(rc)
        return states[0][1]
'''

INNER_TESTS = '''
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.serialization import Encoding
from smartcard import scard

from conftest import ChangeWaiter, card_atr, readers, state

SOCKETS = []


def test_default_card_seen_by_pyscard(virtual_card):
    SOCKETS.append(os.environ.get("PCSCLITE_CSOCK_NAME"))
    assert virtual_card.reader in readers()
    assert card_atr(virtual_card.reader) == virtual_card.atr
    # A CPS3's ATR (docs/emulator.md), and the shipped default profile's card.
    assert virtual_card.atr.hex().upper() == "3BAC00402A001225006480000310009000"
    assert virtual_card.generation == "CPS3" and virtual_card.profile.name == "cps3-medecin"
    auth = virtual_card.certificates["authentication"]
    assert isinstance(auth, x509.Certificate)
    assert isinstance(virtual_card.certificates["signature"], x509.Certificate)
    # The card number on the card's certificate (private extension .3), the PIN the card accepts.
    ext = auth.extensions.get_extension_for_oid(x509.ObjectIdentifier("1.2.250.1.71.1.2.3")).value.value
    assert ext.endswith(b"/" + virtual_card.card_number.encode())
    assert verify_pin(virtual_card.reader, virtual_card.pin) == 0x9000


def verify_pin(reader, pin):
    from smartcard.System import readers as pyscard_readers

    conn = next(r for r in pyscard_readers() if str(r) == reader).createConnection()
    conn.connect()
    try:
        conn.transmit([0x00, 0xA4, 0x00, 0x0C, 0x02, 0x3F, 0x00])
        _, sw1, sw2 = conn.transmit([0x00, 0x20, 0x00, 0x01, len(pin)] + list(pin.encode()))
        return sw1 << 8 | sw2
    finally:
        conn.disconnect()


@pytest.mark.virtual_card("cps4-infirmier")
def test_marked_card_seen_by_cpsdiag_in_a_subprocess(virtual_card):
    SOCKETS.append(os.environ.get("PCSCLITE_CSOCK_NAME"))
    assert virtual_card.generation == "CPS4"
    out = subprocess.run([sys.executable, "-m", "cpsdiag", "check", "--json", "--no-env"], capture_output=True,
                         text=True, env=dict(os.environ, **virtual_card.env), timeout=120)
    report = json.loads(out.stdout)
    assert report["card"]["reader"] == virtual_card.reader
    assert report["card"]["generation"] == "CPS4"
    assert report["card"]["card_number"] == virtual_card.serial_number == virtual_card.card_number[-8:]
    on_card = {c["role"]: c["sha256"].replace(":", "") for c in report["certificates"]}
    mine = {role: cert.fingerprint(SHA256()).hex().upper() for role, cert in virtual_card.certificates.items()}
    assert on_card == mine
    assert all(c["chain"]["trusted"] for c in report["certificates"])     # virtual_card.env gave the anchors


def test_opensc_pkcs11_reads_the_certificate(virtual_card, tmp_path):
    import PyKCS11

    SOCKETS.append(os.environ.get("PCSCLITE_CSOCK_NAME"))
    lib = PyKCS11.PyKCS11Lib()
    lib.load(os.environ["OPENSC_MODULE"])
    slot = next(s for s in lib.getSlotList(tokenPresent=True)
                if lib.getSlotInfo(s).slotDescription.strip().startswith(virtual_card.reader))
    session = lib.openSession(slot)
    try:
        found = {}
        for obj in session.findObjects([(PyKCS11.CKA_CLASS, PyKCS11.CKO_CERTIFICATE)]):
            label, value = session.getAttributeValue(obj, [PyKCS11.CKA_LABEL, PyKCS11.CKA_VALUE])
            found[label] = bytes(value)
    finally:
        session.closeSession()
    expected = virtual_card.certificates["authentication"].public_bytes(Encoding.DER)
    assert expected in found.values(), list(found)


def test_remove_and_insert_seen_by_status_change(virtual_card):
    SOCKETS.append(os.environ.get("PCSCLITE_CSOCK_NAME"))
    waiter = ChangeWaiter(virtual_card.reader)
    virtual_card.remove()
    assert waiter.changed() & scard.SCARD_STATE_EMPTY
    waiter = ChangeWaiter(virtual_card.reader)
    virtual_card.insert()
    assert waiter.changed() & scard.SCARD_STATE_PRESENT
    assert card_atr(virtual_card.reader) == virtual_card.atr


def test_cards_of_the_previous_tests_are_gone_and_the_factory_fills_other_readers(virtual_card_factory, tmp_path):
    SOCKETS.append(os.environ.get("PCSCLITE_CSOCK_NAME"))
    assert all(state(name)[0] & scard.SCARD_STATE_EMPTY for name in readers())
    cards = [virtual_card_factory(name) for name in ("cps3-medecin", "cps4-infirmier", "cpe-etablissement")]
    assert len({card.reader for card in cards}) == 3
    for card in cards:
        assert card_atr(card.reader) == card.atr
    folder = os.environ.get("INNER_PROFILE_FOLDER")
    if folder:
        mine = virtual_card_factory(folder)
        assert mine.card_number == "123456789" and mine.profile == Path(folder)
        assert card_atr(mine.reader) == mine.atr


def test_one_pcscd_for_the_session():
    assert len(SOCKETS) == 5 and len(set(SOCKETS)) == 1 and SOCKETS[0]
'''


@pytest.fixture
def marked_tmpdir(tmpdir_mark, monkeypatch):
    """TMPDIR of the inner session: its folders land there and its processes carry the path."""
    monkeypatch.setenv("TMPDIR", str(tmpdir_mark))
    return tmpdir_mark


@pytest.fixture
def opensc(monkeypatch):
    module = next((p for p in OPENSC_MODULES if os.path.exists(p)), None)
    if module is None:
        pytest.skip("OpenSC's PKCS#11 module is not installed (Debian package opensc)")
    monkeypatch.setenv("OPENSC_MODULE", module)
    return module


def inner_project(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(INNER_CONFTEST)
    pytester.makepyfile(test_inner=INNER_TESTS)
    # The separate project has a pyproject of its own: no ini from this repository applies.
    pytester.makefile(".ini", pytest="[pytest]\n")


def test_fixtures_in_a_separate_project(pytester, marked_tmpdir, opensc, monkeypatch, tmp_path):
    folder = tmp_path / "my-card"
    made = subprocess.run([sys.executable, "-m", "cpsdiag", "emulator", "new-profile", str(folder),
                           "--card-number", "123456789"], capture_output=True, text=True, timeout=120)
    assert made.returncode == 0, made.stderr
    monkeypatch.setenv("INNER_PROFILE_FOLDER", str(folder))
    inner_project(pytester)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", timeout=600)
    result.assert_outcomes(passed=6)
    # One private pcscd, or the machine's if the kernel refused namespaces: it says which.
    assert sum("cpsdiag virtual cards: pcscd started" in line for line in result.outlines) == 1
    assert processes_marked(str(marked_tmpdir)) == {}
    assert list(marked_tmpdir.iterdir()) == []


def test_marker_with_a_profile_folder_and_a_failing_test_leave_nothing(pytester, marked_tmpdir, tmp_path):
    folder = tmp_path / "nurse"
    made = subprocess.run([sys.executable, "-m", "cpsdiag", "emulator", "new-profile", str(folder),
                           "--generation", "CPS4", "--id-type", "adeli", "--profession", "60",
                           "--card-number", "4242"], capture_output=True, text=True, timeout=120)
    assert made.returncode == 0, made.stderr
    pytester.makepyfile(test_marked=f'''
import pytest

@pytest.mark.virtual_card({str(folder)!r})
def test_folder(virtual_card):
    assert virtual_card.card_number == "4242" and virtual_card.generation == "CPS4"
    raise RuntimeError("the software under test failed")
''')
    pytester.makefile(".ini", pytest="[pytest]\n")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", timeout=300)
    result.assert_outcomes(failed=1)
    assert any("RuntimeError: the software under test failed" in line for line in result.outlines)
    assert processes_marked(str(marked_tmpdir)) == {}
    assert list(marked_tmpdir.iterdir()) == []


def test_more_cards_than_readers_is_an_error_naming_the_readers(pytester, marked_tmpdir):
    pytester.makepyfile(test_many="""
def test_many(virtual_card_factory):
    for _ in range(3):
        virtual_card_factory()
""")
    pytester.makefile(".ini", pytest="[pytest]\nvirtual_card_readers = 2\n")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", timeout=300)
    result.assert_outcomes(failed=1)
    assert any("virtual card: no free virtual reader (2 readers" in line for line in result.outlines)
    assert processes_marked(str(marked_tmpdir)) == {} and list(marked_tmpdir.iterdir()) == []


def test_a_session_without_the_fixtures_starts_nothing(pytester, marked_tmpdir):
    pytester.makepyfile(test_plain="def test_plain():\n    assert True\n")
    pytester.makefile(".ini", pytest="[pytest]\n")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
    assert not any("cpsdiag virtual cards" in line for line in result.outlines)
    assert list(marked_tmpdir.iterdir()) == []


def test_an_unknown_profile_is_an_error_naming_it(pytester, marked_tmpdir):
    pytester.makepyfile(test_unknown='''
import pytest

@pytest.mark.virtual_card("no-such-card")
def test_unknown(virtual_card):
    pass
''')
    pytester.makefile(".ini", pytest="[pytest]\n")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", timeout=300)
    result.assert_outcomes(errors=1)
    assert any("virtual card: no-such-card: unknown profile name" in line for line in result.outlines)
    assert not any("Traceback" in line for line in result.outlines)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP, signal.SIGINT],
                         ids=lambda s: signal.Signals(s).name)
def test_a_signal_in_the_middle_of_a_test_leaves_nothing(pytester, marked_tmpdir, signum):
    ready = marked_tmpdir.parent / f"{marked_tmpdir.name}.ready"
    pytester.makepyfile(test_long=f'''
import pathlib, time

def test_long(virtual_card, virtual_card_factory):
    virtual_card_factory("cps4-infirmier")
    pathlib.Path({str(ready)!r}).write_text("ready")
    time.sleep(600)
''')
    pytester.makefile(".ini", pytest="[pytest]\n")
    try:
        proc = pytester.popen([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q"],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                              text=True, preexec_fn=default_stop_signals)
        wait_until(ready.exists, 120, "the inner test's cards")
        running = processes_marked(str(marked_tmpdir))
        assert sum("pcscd" in cmd for cmd in running.values()) == 1
        assert sum("cpsdiag emulator" in cmd for cmd in running.values()) == 2
        status, output = stop_and_check(proc, signum, marked_tmpdir)
    finally:
        ready.unlink(missing_ok=True)
    if signum == signal.SIGINT:         # pytest's own Ctrl-C: "interrupted", exit status 2
        assert status == 2 and "KeyboardInterrupt" in output, output
    else:
        assert status == 128 + signum, output
        assert f"stopped by {signal.Signals(signum).name}" in output
