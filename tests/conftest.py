"""Shared fixtures: the test PKI and the real PC/SC stack (pcscd + vpcd + emulator).

As root the whole test session moves into private mount and network
namespaces (cpsdiag.emulator.stack.isolate) and runs its own pcscd there, so a
pcscd already running on the machine is never touched. Without root, the
stack tests use the system pcscd and Debian's "Virtual PCD" reader; the tests
that must stop or kill pcscd are then skipped.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from cpsdiag.emulator import stack as stk
# tests/ is a package: pytest puts the folder holding it on sys.path, and the helpers shared by test modules of every
# folder are imported as tests.support.* (docs/testing.md, "Layout and imports").
from tests.support.prerequisites import optional_skip, require, strict

STRICT = strict()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """In CI and strict mode (scripts/test as root) a skipped test is a failure: a missing peer must not pass.

    Except a local check whose optional prerequisite is missing (ANS's Cryptolib: tests/support/prerequisites.py)."""
    outcome = yield
    report = outcome.get_result()
    if STRICT and report.skipped and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        if optional_skip(reason):
            return
        report.outcome = "failed"
        report.longrepr = f"skipped in CI / strict mode (CI or CPSDIAG_TEST_STRICT=1): {reason}"


def _skip_reason(report) -> str:
    return report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)


def pytest_terminal_summary(terminalreporter):
    """The count of skipped tests, always said (each one is listed with -rs); in CI any is a failure, but local
    checks whose optional prerequisite is missing."""
    skipped = terminalreporter.stats.get("skipped", [])
    optional = sum(1 for r in skipped if optional_skip(_skip_reason(r)))
    line = f"skipped tests: {len(skipped)}" + (" (listed above)" if skipped else "")
    if optional:
        line += f"; {optional} of them local checks whose optional prerequisite is missing (allowed in CI)"
    terminalreporter.write_line(line)


def pytest_sessionfinish(session, exitstatus):
    # Skips raised outside a test's own run (at collection, say) do not pass through makereport above.
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if STRICT and reporter is not None and exitstatus == 0 and any(
            not optional_skip(_skip_reason(r)) for r in reporter.stats.get("skipped", [])):
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_collection_finish(session):
    """When the tests are meant to run against an installed cpsdiag (scripts/test-pythons sets
    CPSDIAG_TEST_INSTALLED to the venv holding the wheel), every cpsdiag module imported by then (the pytest
    plugin, this file, every collected test module) must come from there, never from a source tree on sys.path."""
    installed = os.environ.get("CPSDIAG_TEST_INSTALLED")
    if not installed:
        return
    prefix = os.path.realpath(installed) + os.sep
    for name, module in sorted(sys.modules.items()):
        where = getattr(module, "__file__", None)
        if (name == "cpsdiag" or name.startswith("cpsdiag.")) and where \
                and not os.path.realpath(where).startswith(prefix):
            pytest.exit(f"{name} was imported from {where}, not from the installed cpsdiag under {installed}",
                        returncode=pytest.ExitCode.USAGE_ERROR)


@pytest.fixture(autouse=True)
def english():
    """Each test starts in English, whatever the locale or the test before chose (the language is process-wide)."""
    from cpsdiag.i18n import set_language

    set_language("en")
    yield
    set_language("en")


@pytest.fixture(scope="session")
def opensc_module() -> str:
    """OpenSC's PKCS#11 module where the dynamic loader finds it, whatever the machine's architecture."""
    return require("opensc-module")


@pytest.fixture(scope="session")
def pykcs11() -> str:
    """PyKCS11: cpsdiag's PKCS#11 path and the middleware probes of ``env`` go through it."""
    return require("PyKCS11")


@pytest.fixture(scope="session")
def pki(tmp_path_factory):
    """Today's test PKI and every shipped profile with its certificates."""
    from cpsdiag.emulator.pkigen import cached_pki, make_pki

    if os.environ.get("CPSDIAG_MUTATION") == "1":
        # scripts/mutation runs the tests once per mutant: the same generator, made once a day, not each time.
        return cached_pki()
    return make_pki(tmp_path_factory.mktemp("pki"))


@dataclass
class Stack:
    pcscd: stk.Pcscd | None      # None: the system pcscd, not ours to stop
    reader: str
    port: int
    logs: Path

    @property
    def managed(self) -> bool:
        return self.pcscd is not None

    def require_managed(self) -> stk.Pcscd:
        if self.pcscd is None:
            require("root")
        assert self.pcscd is not None
        return self.pcscd

    def run_without_pcsc_library(self, *cpsdiag_args: str) -> subprocess.CompletedProcess:
        """``cpsdiag ARGS`` with libpcsclite.so.1 hidden by a bind mount, in a mount namespace of its own."""
        self.require_managed()
        lib, unshare = require("libpcsclite"), require("unshare")
        script = f"mount --bind /dev/null {lib} && exec {sys.executable} -m cpsdiag {' '.join(cpsdiag_args)}"
        return subprocess.run([unshare, "-m", "--propagation", "private", "sh", "-c", script],
                              capture_output=True, text=True, timeout=120)

    def ensure_pcscd(self) -> None:
        if self.pcscd is not None and (self.pcscd.process is None or self.pcscd.process.poll() is not None):
            self.pcscd.start()


_isolated = False


@pytest.fixture(scope="session")
def stack(tmp_path_factory):
    global _isolated
    logs = tmp_path_factory.mktemp("stack-logs")
    require("vpcd")
    require("pcscd")
    if os.geteuid() == 0:
        require("ip")
        if not _isolated:
            stk.isolate()
            _isolated = True
        pcscd = stk.Pcscd(workdir=logs)
        pcscd.start()
        yield Stack(pcscd, pcscd.reader, pcscd.port, logs)
        pcscd.stop()
    else:
        if not (stk.PCSCD_RUN_DIR / "pcscd.comm").exists():
            require("root")        # not root, and no system pcscd to use instead
        yield Stack(None, "Virtual PCD 00 00", 35963, logs)


class Card:
    """An emulated card inserted in the stack's reader for one test."""

    inserted = 0

    def __init__(self, stack: Stack, profile: Path, verbose: bool = True):
        self.stack = stack
        self.profile = profile
        Card.inserted += 1
        # One log per insertion: tests read what reached this card, and only this one.
        self.log_file = stack.logs / f"emulator-{Card.inserted:03d}-{profile.name}.log"
        self.emulator = stk.Emulator(str(profile), stack.port, verbose=verbose, log_file=self.log_file)

    def insert(self) -> "Card":
        self.stack.ensure_pcscd()
        self.emulator.start()
        stk.wait_for_card(self.stack.reader, present=True)
        return self

    def remove(self) -> None:
        self.emulator.stop()
        try:
            stk.wait_for_card(self.stack.reader, present=False, timeout=5)
        except stk.StackError:
            pass

    def log(self) -> str:
        return self.log_file.read_text(errors="replace") if self.log_file.exists() else ""


@pytest.fixture
def insert_card(stack, pki):
    """insert_card("cps3-medecin") -> Card; removed at the end of the test."""
    cards: list[Card] = []

    def insert(name: str, folder: Path | None = None) -> Card:
        card = Card(stack, folder or pki.cards / name).insert()
        cards.append(card)
        return card

    yield insert
    for card in cards:
        card.remove()
