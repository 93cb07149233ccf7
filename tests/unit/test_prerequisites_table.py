"""The prerequisites table of the stack and peer tests (tests/support/prerequisites.py) says true things."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from tests.support import prerequisites
from tests.support.paths import ROOT
from tests.support.prerequisites import PREREQUISITES

SETUP = ROOT / "scripts" / "setup"


def setup_packages() -> set[str]:
    match = re.search(r"^DEB_PACKAGES=\(([^)]*)\)", SETUP.read_text(), re.M)
    assert match, "scripts/setup has no DEB_PACKAGES list"
    return set(match.group(1).split())


def essential(package: str) -> bool:
    proc = subprocess.run(["dpkg-query", "-W", "-f=${Essential}", package], capture_output=True, text=True)
    return proc.stdout.strip() == "yes"


@pytest.mark.parametrize("key", [k for k, p in PREREQUISITES.items() if p.debian_package])
def test_the_setup_step_named_for_each_prerequisite_really_installs_it(key):
    package = PREREQUISITES[key].debian_package
    assert package in setup_packages() or essential(package), f"{key}: scripts/setup does not install {package}"
    assert package in PREREQUISITES[key].installed_by


@pytest.mark.parametrize("environ,expected", [
    ({}, False), ({"CI": "true"}, True), ({"CI": "1"}, True), ({"CI": "false"}, False), ({"CI": ""}, False),
    ({"CPSDIAG_TEST_STRICT": "1"}, True), ({"CPSDIAG_TEST_STRICT": "0", "CI": "0"}, False),
])
def test_ci_or_strict_mode_turns_a_missing_prerequisite_into_an_error(monkeypatch, environ, expected):
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.delenv("CPSDIAG_TEST_STRICT", raising=False)
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    assert prerequisites.strict() is expected


def test_the_loader_finds_a_system_library_and_not_an_absent_one():
    path = prerequisites.loader_path("libz.so.1")
    assert path is not None and Path(path).name.startswith("libz.so.1") and Path(path).exists()
    assert prerequisites.loader_path("libcpsdiag-no-such-library.so.7") is None


def test_a_missing_optional_prerequisite_is_a_skip_even_in_strict_mode(monkeypatch):
    # Local checks (ANS's Cryptolib) must not fail CI, where they can never run.
    monkeypatch.setenv("CPSDIAG_TEST_STRICT", "1")
    monkeypatch.setitem(PREREQUISITES, "nothing", prerequisites.Prerequisite(
        "a thing", "never installed", lambda: None, optional=True))
    with pytest.raises(pytest.skip.Exception) as skipped:
        prerequisites.require("nothing")
    assert prerequisites.optional_skip(str(skipped.value))
    assert prerequisites.optional_skip(f"Skipped: {skipped.value}")
    # A prerequisite that is not optional still fails in strict mode.
    monkeypatch.setitem(PREREQUISITES, "nothing", prerequisites.Prerequisite("a thing", "setup", lambda: None))
    with pytest.raises(pytest.fail.Exception):
        prerequisites.require("nothing")
    assert not prerequisites.optional_skip("Skipped: missing prerequisite 'nothing'")


def test_the_cryptolib_is_the_only_optional_prerequisite():
    assert [key for key, p in PREREQUISITES.items() if p.optional] == ["cryptolib"]
    assert PREREQUISITES["cryptolib"].debian_package is None
