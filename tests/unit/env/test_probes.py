"""The PKCS#11 helper process: what it prints with and without PyKCS11, for good and bad modules."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.support.prerequisites import loader_path


def helper(*args: str, prelude: str = "") -> dict:
    code = f"{prelude}\nfrom cpsdiag.env.probe_pkcs11 import main\nmain({list(args)!r})"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    lines = proc.stdout.strip().splitlines()
    assert proc.returncode == 0 and len(lines) == 1, (proc.stdout, proc.stderr)   # one JSON line, nothing else
    return json.loads(lines[0])


def test_without_pykcs11_the_helper_says_so():
    out = helper("/nonexistent/module.so", prelude="import sys; sys.modules['PyKCS11'] = None")
    assert (out["pykcs11"], out["loaded"], out["error_kind"]) == (False, False, "pykcs11_missing")


def test_usage_error_is_an_answer_too():
    assert helper()["error_kind"] == "usage"


def test_missing_file(pykcs11):
    out = helper("/nonexistent/module.so")
    assert out["pykcs11"] is True and out["error_kind"] == "load_failed" and "no such file" in out["error"]


def test_a_library_that_is_not_a_pkcs11_module(pykcs11):
    lib = loader_path("libz.so.1")          # zlib is part of every Debian system
    assert lib is not None
    out = helper(lib)
    assert out["loaded"] is False and out["error_kind"] in ("load_failed", "pkcs11_error")


def test_opensc_module_loads_and_says_who_it_is(opensc_module, pykcs11):
    out = helper(opensc_module)
    assert out["loaded"] is True and out["error_kind"] is None
    assert out["info"]["manufacturer"] == "OpenSC Project" and out["info"]["cryptoki_version"].startswith("2.")
    assert isinstance(out["slots"], list)
