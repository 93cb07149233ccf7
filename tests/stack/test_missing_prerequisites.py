"""In CI a missing prerequisite of the stack and peer tests fails the run, naming it and its setup step.

Each prerequisite is really taken away in a mount namespace of its own: a
command or a library is covered by /dev/null (not executable, not loadable),
a folder by an empty tmpfs. A nested pytest then runs, with ``CI`` set as
the CI runner sets it, a test that needs the missing thing.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.prerequisites import missing_message, require
from tests.support.paths import ROOT

pytestmark = pytest.mark.stack


# What each run hides, and for each hidden prerequisite the test that needs it and only it of the hidden ones.
RUNS = {
    "ip, msgfmt, PyKCS11 and the OpenSC module": {
        "ip": "tests/stack/test_check.py::test_no_reader_at_all",
        "msgfmt": "tests/unit/test_i18n.py::test_compiled_catalogue_is_up_to_date",
        "PyKCS11": "tests/unit/env/test_probes.py::test_missing_file",
        "opensc-module": "tests/unit/env/test_probes.py::test_opensc_module_loads_and_says_who_it_is",
    },
    "the vpcd driver": {"vpcd": "tests/stack/test_check.py::test_no_reader_at_all"},
    "pcscd": {"pcscd": "tests/stack/test_check.py::test_no_reader_at_all"},
    "the peers' commands": {
        "nginx": "tests/peers/test_tls.py::test_server_not_trusted_without_its_ca",
        "openssl": "tests/peers/test_tls.py::test_ca_names_from_openssl_s_server",
        "chromium": "tests/peers/test_report_html_chromium.py::test_the_page_prints_to_pdf",
        "opensc-tool": "tests/peers/test_opensc_cpx.py::test_opensc_matches_cpx_and_names_the_driver",
        "unshare": "tests/stack/test_check.py::test_pcsc_library_missing",
    },
    "the PC/SC client library": {"libpcsclite": "tests/stack/test_check.py::test_pcsc_library_missing"},
}


def cover(key: str) -> str:
    """The shell command that takes prerequisite KEY away in the current mount namespace."""
    if key == "vpcd":
        return f"mount -t tmpfs none {Path(require('vpcd')).parent}"
    if key == "PyKCS11":        # the package's folder emptied: Python finds no module in it
        return f"mount -t tmpfs none {Path(require('PyKCS11')).parent}"
    return f"mount --bind /dev/null {os.path.realpath(require(key))}"


@pytest.mark.parametrize("hidden", list(RUNS), ids=list(RUNS))
def test_a_missing_prerequisite_fails_the_ci_run_and_names_its_setup_step(hidden, stack, tmp_path):
    stack.require_managed()         # root: mounts in a nested namespace
    wanted = RUNS[hidden]
    script = " && ".join([cover(key) for key in wanted] + [
        f"exec {sys.executable} -m pytest -p no:cacheprovider -q -rfEs --basetemp={tmp_path / 'nested'} "
        + " ".join(wanted.values())])
    environ = {k: v for k, v in os.environ.items() if k not in ("CPSDIAG_TEST_STRICT", "PYTEST_ADDOPTS")}
    proc = subprocess.run([require("unshare"), "-m", "--propagation", "private", "sh", "-c", script],
                          capture_output=True, text=True, timeout=600, cwd=ROOT, env={**environ, "CI": "true"})
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1, out[-3000:]
    for key, node in wanted.items():
        # Each test fails, and the failure names what is missing and what installs it.
        assert re.search(rf"^(FAILED|ERROR) {re.escape(node)}\b", out, re.M), (key, out[-3000:])
        assert missing_message(key) in out, (key, out[-3000:])
    assert " passed" not in out.splitlines()[-1] and "skipped tests: 0" in out, out[-3000:]


def test_outside_ci_a_missing_prerequisite_is_a_skip_that_is_listed_and_counted(stack, tmp_path):
    stack.require_managed()
    node = "tests/unit/test_i18n.py::test_compiled_catalogue_is_up_to_date"
    script = (f"{cover('msgfmt')} && exec {sys.executable} -m pytest -p no:cacheprovider -q -rfEs "
              f"--basetemp={tmp_path / 'nested'} {node}")
    environ = {k: v for k, v in os.environ.items() if k not in ("CI", "CPSDIAG_TEST_STRICT", "PYTEST_ADDOPTS")}
    proc = subprocess.run([require("unshare"), "-m", "--propagation", "private", "sh", "-c", script],
                          capture_output=True, text=True, timeout=600, cwd=ROOT, env=environ)
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert re.search(r"^SKIPPED \[1\] .*" + re.escape(missing_message("msgfmt")), proc.stdout, re.M), proc.stdout
    assert "skipped tests: 1 (listed above)" in proc.stdout
