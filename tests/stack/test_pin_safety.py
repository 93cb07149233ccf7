"""PIN safety on the real stack: one try at most, never the last one unless forced, never a blocked one,
and the PIN in no output. The emulator's APDU log (PIN bytes masked) shows what reached the card."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections import Counter

import pytest

pytestmark = pytest.mark.stack

VERIFY_WITH_PIN = re.compile(r"^> 00 20 00 01 0[4-8]( \*\*)+$", re.M)


def check(pki, stdin: str, *args: str, env: dict | None = None) -> tuple[dict, subprocess.CompletedProcess]:
    proc = subprocess.run([sys.executable, "-m", "cpsdiag", "check", "--json", "--no-env", "--anchors",
                           str(pki.anchors), "--pin-stdin", *args], input=stdin, capture_output=True, text=True, timeout=120,
                          env={**os.environ, **(env or {})})
    assert "Traceback" not in proc.stderr, proc.stderr
    return (json.loads(proc.stdout) if proc.stdout.strip() else {}), proc


def codes(report: dict, step: str = "keys") -> Counter:
    return Counter(f["code"] for f in report["findings"] if f["step"] == step)


def tries_left(pki, card) -> int:
    report, _ = check(pki, "", )
    return report["card"]["pin"]["tries_left"]


def test_wrong_pin_is_tried_once_and_reported(insert_card, pki):
    card = insert_card("cps3-medecin")
    report, proc = check(pki, "9999\n", "--sign")
    assert codes(report) == Counter(["PIN_WRONG"]) and proc.returncode == 1
    assert next(f for f in report["findings"] if f["code"] == "PIN_WRONG")["params"]["tries_left"] == 2
    assert len(VERIFY_WITH_PIN.findall(card.log())) == 1
    assert "KEY_SIGN_OK" not in codes(report)


def test_last_try_is_not_spent(insert_card, pki):
    card = insert_card("cps3-pin-last-try")
    report, proc = check(pki, "1234\n", "--sign")
    assert codes(report) == Counter(["PIN_LAST_TRY_REFUSED"])
    assert not VERIFY_WITH_PIN.findall(card.log())
    assert report["card"]["pin"]["tries_left"] == 1


def test_last_try_spent_when_forced(insert_card, pki):
    card = insert_card("cps3-pin-last-try")
    report, proc = check(pki, "1234\n", "--sign", "--force-last-try")
    assert codes(report) == Counter(["PIN_VERIFIED", "KEY_SIGN_OK", "KEY_CAPABILITIES"]), report["findings"]
    assert len(VERIFY_WITH_PIN.findall(card.log())) == 1
    after, _ = check(pki, "")
    assert after["card"]["pin"]["tries_left"] == 3       # a right PIN resets the counter


def test_blocked_pin_is_never_presented(insert_card, pki):
    card = insert_card("cps3-pin-blocked")
    report, proc = check(pki, "1234\n", "--sign", "--force-last-try")
    assert codes(report) == Counter(["KEY_TESTS_SKIPPED"]) and proc.returncode == 1
    assert codes(report, "pin") == Counter(["PIN_BLOCKED"])
    assert not VERIFY_WITH_PIN.findall(card.log())


def test_no_pin_given(insert_card, pki):
    insert_card("cps3-medecin")
    report, proc = check(pki, "\n", "--sign")
    assert codes(report) == Counter(["PIN_NOT_GIVEN"])


def test_malformed_pin_is_a_usage_error_that_does_not_repeat_it(insert_card, pki):
    card = insert_card("cps3-medecin")
    _, proc = check(pki, "12ab99\n", "--sign")
    assert proc.returncode == 2 and "4 to 8 digits" in proc.stderr and "12ab99" not in proc.stderr + proc.stdout
    assert not VERIFY_WITH_PIN.findall(card.log())


def test_cps4_sign_all(insert_card, pki):
    insert_card("cps4-infirmier")
    report, proc = check(pki, "4321\n", "--sign-all")
    assert codes(report) == Counter(["PIN_VERIFIED", "KEY_SIGN_OK", "KEY_SIGN_OK", "KEY_SIGN_OK",
                                     "KEY_CAPABILITIES"]) and proc.returncode == 0
    schemes = {(s["role"], s["scheme"]) for s in report["keys"]["signatures"]}
    assert schemes == {("authentication", "pkcs1-sha256"), ("authentication", "pss-sha256"),
                       ("signature", "pkcs1-sha256")}


def test_the_pin_appears_nowhere(insert_card, pki, tmp_path):
    """A distinctive PIN through every command that takes one (check --sign, --sign-all, --tls, report,
    the PKCS#11 path): it must be in no output, trace, report, bundle, log or file written."""
    import zipfile

    pin = "86429731"
    folder = tmp_path / "distinctive"
    shutil.copytree(pki.cards / "cps3-medecin", folder)
    toml = folder / "card.toml"
    toml.write_text(toml.read_text().replace('pin = "1234"', f'pin = "{pin}"'))
    card = insert_card("distinctive", folder)
    home = tmp_path / "home"
    home.mkdir()
    env = {**os.environ, "HOME": str(home), "TMPDIR": str(home), "XDG_CACHE_HOME": str(home / "cache"),
           "XDG_CONFIG_HOME": str(home / "config"), "CPSDIAG_CONFIG_DIR": str(home / "config")}
    server_ca = home / "testssl-ca.pem"
    server = subprocess.Popen([sys.executable, "-m", "cpsdiag", "testssl-server", "--port", "18443",
                               "--anchors", str(pki.anchors), "--ca-out", str(server_ca)], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    from netsupport import wait_port

    outputs = []
    runs = [["check", "--json", "--sign-all"], ["check", "--sign", "--debug"],
            ["check", "--json", "--tls", "https://localhost:18443/", "--tls-ca", str(server_ca)],
            ["check", "--tls", "https://localhost:18443/", "--tls-ca", str(server_ca), "--debug"],
            ["report", "--sign-all", "--no-redact", "-o", str(home / "bundle.zip")]]
    pkcs11 = next((m for m in ("/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so",
                               "/usr/lib/aarch64-linux-gnu/opensc-pkcs11.so") if os.path.exists(m)), None)
    try:
        import PyKCS11  # noqa: F401
    except ImportError:
        pkcs11 = None
    if pkcs11:
        runs.append(["check", "--json", "--sign", "--via", "pkcs11", "--module", pkcs11])
    try:
        wait_port(18443)
        for args in runs:
            proc = subprocess.run([sys.executable, "-m", "cpsdiag", *args, "--anchors", str(pki.anchors),
                                   "--pin-stdin"], input=pin + "\n", capture_output=True, text=True, timeout=120,
                                  env=env)
            assert "Traceback" not in proc.stderr, (args, proc.stderr)
            outputs += [proc.stdout, proc.stderr]
            if "--json" in args:
                assert "PIN_VERIFIED" in codes(json.loads(proc.stdout)), args
    finally:
        server.terminate()
        out, err = server.communicate(timeout=10)
        outputs += [out, err]
    outputs.append(card.log())
    with zipfile.ZipFile(home / "bundle.zip") as bundle:       # --no-redact: even then, never the PIN
        assert "PIN_VERIFIED" in bundle.read("report.json").decode()
        outputs += [bundle.read(name).decode("latin-1") for name in bundle.namelist()]
    for path in home.rglob("*"):
        if path.is_file():
            outputs.append(path.read_bytes().decode("latin-1"))
    forms = {pin, pin.encode().hex(), " ".join(f"{b:02x}" for b in pin.encode()),
             " ".join(f"{b:02X}" for b in pin.encode())}
    for text in outputs:
        for form in forms:
            assert form not in text


def test_virtual_reader_has_no_pin_pad(insert_card, stack):
    """vpcd offers no PC/SC part 10 features: the PIN is then asked on the keyboard, never on a pad."""
    from cpsdiag.card.pinpad import reader_features
    from cpsdiag.transport.pcsc import PcscContext

    insert_card("cps3-medecin")
    with PcscContext() as ctx:
        with ctx.connect(stack.reader) as link:
            assert not reader_features(link).pin_pad
