"""PIN safety on the real stack: one try at most, never the last one unless forced, never a blocked one,
and the PIN in no output. The emulator's APDU log (PIN bytes masked) shows what reached the card."""

from __future__ import annotations

import shutil
import subprocess
from collections import Counter

import pytest

from tests.support.cli import VERIFY_WITH_PIN, codes, cpsdiag, cpsdiag_json, spawn_cpsdiag

pytestmark = pytest.mark.stack



def check(pki, stdin: str, *args: str, env: dict | None = None) -> tuple[dict, subprocess.CompletedProcess]:
    return cpsdiag_json("check", "--json", "--no-env", "--anchors", str(pki.anchors), "--pin-stdin", *args,
                        stdin=stdin, env=env)


def key_codes(report: dict) -> Counter:
    return codes(report, "keys")


def test_wrong_pin_is_tried_once_and_reported(insert_card, pki):
    card = insert_card("cps3-medecin")
    report, proc = check(pki, "9999\n", "--sign")
    assert key_codes(report) == Counter(["PIN_WRONG"]) and proc.returncode == 1
    assert next(f for f in report["findings"] if f["code"] == "PIN_WRONG")["params"]["tries_left"] == 2
    assert len(VERIFY_WITH_PIN.findall(card.log())) == 1
    assert "KEY_SIGN_OK" not in key_codes(report)


def test_last_try_is_not_spent(insert_card, pki):
    card = insert_card("cps3-pin-last-try")
    report, proc = check(pki, "1234\n", "--sign")
    assert key_codes(report) == Counter(["PIN_LAST_TRY_REFUSED"])
    assert not VERIFY_WITH_PIN.findall(card.log())
    assert report["card"]["pin"]["tries_left"] == 1


def test_last_try_spent_when_forced(insert_card, pki):
    card = insert_card("cps3-pin-last-try")
    report, proc = check(pki, "1234\n", "--sign", "--force-last-try")
    assert key_codes(report) == Counter(["PIN_VERIFIED", "KEY_SIGN_OK", "KEY_CAPABILITIES"]), report["findings"]
    assert len(VERIFY_WITH_PIN.findall(card.log())) == 1
    # The PIN came with --pin-stdin: the report says so, not that it was typed on the keyboard.
    verified = next(f for f in report["findings"] if f["code"] == "PIN_VERIFIED")
    assert "standard input" in verified["detail"] + verified["title"] and "keyboard" not in verified["detail"]
    after, _ = check(pki, "")
    assert after["card"]["pin"]["tries_left"] == 3       # a right PIN resets the counter


def test_blocked_pin_is_never_presented(insert_card, pki):
    card = insert_card("cps3-pin-blocked")
    report, proc = check(pki, "1234\n", "--sign", "--force-last-try")
    assert key_codes(report) == Counter(["KEY_TESTS_SKIPPED"]) and proc.returncode == 1
    assert codes(report, "pin") == Counter(["PIN_BLOCKED"])
    assert not VERIFY_WITH_PIN.findall(card.log())


def test_no_pin_given(insert_card, pki):
    insert_card("cps3-medecin")
    report, proc = check(pki, "\n", "--sign")
    assert key_codes(report) == Counter(["PIN_NOT_GIVEN"])


def test_malformed_pin_is_a_usage_error_that_does_not_repeat_it(insert_card, pki):
    card = insert_card("cps3-medecin")
    _, proc = check(pki, "12ab99\n", "--sign")
    assert proc.returncode == 2 and "4 to 8 digits" in proc.stderr and "12ab99" not in proc.stderr + proc.stdout
    assert not VERIFY_WITH_PIN.findall(card.log())


def test_cps4_sign_all(insert_card, pki):
    insert_card("cps4-infirmier")
    report, proc = check(pki, "4321\n", "--sign-all")
    assert key_codes(report) == Counter(["PIN_VERIFIED", "KEY_SIGN_OK", "KEY_SIGN_OK", "KEY_SIGN_OK",
                                     "KEY_CAPABILITIES"]) and proc.returncode == 0
    schemes = {(s["role"], s["scheme"]) for s in report["keys"]["signatures"]}
    assert schemes == {("authentication", "pkcs1-sha256"), ("authentication", "pss-sha256"),
                       ("signature", "pkcs1-sha256")}


def test_the_pin_appears_nowhere(insert_card, pki, tmp_path, opensc_module, pykcs11):
    """A distinctive PIN through every command that takes one (check --sign, --sign-all, --tls, report,
    the PKCS#11 path), each presenting it once: it must be in no output, trace, report, bundle, log or file written."""
    import zipfile

    from tests.support.net import free_port, wait_port
    from tests.support.report import leaks

    pin = "86429731"
    folder = tmp_path / "distinctive"
    shutil.copytree(pki.cards / "cps3-medecin", folder)
    toml = folder / "card.toml"
    toml.write_text(toml.read_text().replace('pin = "1234"', f'pin = "{pin}"'))
    card = insert_card("distinctive", folder)
    home = tmp_path / "home"
    home.mkdir()
    env = {"HOME": str(home), "TMPDIR": str(home), "XDG_CACHE_HOME": str(home / "cache"),
           "XDG_CONFIG_HOME": str(home / "config"), "CPSDIAG_CONFIG_DIR": str(home / "config")}
    server_ca, port = home / "testssl-ca.pem", free_port()
    url = f"https://localhost:{port}/"
    server = spawn_cpsdiag("testssl-server", "--port", str(port), "--anchors", str(pki.anchors),
                           "--ca-out", str(server_ca), env=env, cwd=home)
    outputs: dict[str, bytes] = {}
    runs = [["check", "--json", "--sign-all"], ["check", "--sign", "--debug"],
            ["check", "--json", "--tls", url, "--tls-ca", str(server_ca)],
            ["check", "--tls", url, "--tls-ca", str(server_ca), "--debug"],
            ["report", "--sign-all", "--no-redact", "-o", str(home / "bundle.zip")],
            ["check", "--json", "--sign", "--via", "pkcs11", "--module", opensc_module]]
    try:
        wait_port(port)
        for n, args in enumerate(runs):
            presented = len(VERIFY_WITH_PIN.findall(card.log()))
            proc = cpsdiag(*args, "--anchors", str(pki.anchors), "--pin-stdin", stdin=pin + "\n", env=env, cwd=home)
            outputs[f"run {n} stdout"], outputs[f"run {n} stderr"] = proc.stdout.encode(), proc.stderr.encode()
            # Each run really went as far as the card with the PIN: a run that failed early proves nothing.
            assert len(VERIFY_WITH_PIN.findall(card.log())) == presented + 1, (args, proc.stdout, proc.stderr)
    finally:
        server.terminate()
        out, err = server.communicate(timeout=10)
        outputs["server stdout"], outputs["server stderr"] = out.encode(), err.encode()
    outputs["emulator log"] = card.log().encode()
    with zipfile.ZipFile(home / "bundle.zip") as bundle:       # --no-redact: even then, never the PIN
        assert "PIN_VERIFIED" in bundle.read("report.json").decode()
        outputs.update({f"bundle {name}": bundle.read(name) for name in bundle.namelist()})
    outputs.update({str(path): path.read_bytes() for path in home.rglob("*") if path.is_file()})
    assert leaks(outputs, {pin}) == []


def test_virtual_reader_has_no_pin_pad(insert_card, stack):
    """vpcd offers no PC/SC part 10 features: the PIN is then asked on the keyboard, never on a pad."""
    from cpsdiag.card.pinpad import reader_features
    from cpsdiag.transport.pcsc import PcscContext

    insert_card("cps3-medecin")
    with PcscContext() as ctx:
        with ctx.connect(stack.reader) as link:
            assert not reader_features(link).pin_pad
