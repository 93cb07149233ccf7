"""Faults in the middle of an operation, on the real stack: every one ends in the right finding and exit
status, within a bounded time (each run has a hard subprocess timeout), with the report still written."""

from __future__ import annotations

import json
import shutil
import subprocess
import time

import pytest

from tests.support.cli import codes, cpsdiag_json, spawn_cpsdiag

pytestmark = pytest.mark.stack

BOUND = 60      # seconds: a run that takes longer is a hang, and fails


def faulty(pki, tmp_path, profile: str, faults: str):
    folder = tmp_path / f"{profile}-faulty"
    shutil.copytree(pki.cards / profile, folder)
    toml = folder / "card.toml"
    toml.write_text(toml.read_text() + "\n[faults]\n" + faults + "\n")
    return folder


def check(pki, *args: str, stdin: str = "") -> tuple[dict, subprocess.CompletedProcess]:
    return cpsdiag_json("check", "--json", "--no-env", "--anchors", str(pki.anchors), *args, stdin=stdin,
                        timeout=BOUND)


def test_card_removed_during_the_read(insert_card, pki, tmp_path):
    insert_card("x", faulty(pki, tmp_path, "cps3-medecin", "remove_after_apdus = 12"))
    report, proc = check(pki)
    assert codes(report)["CARD_REMOVED"] == 1 and proc.returncode == 1, report["findings"]
    assert report["card"]["atr"]                       # what was read before is still reported


def test_mute_card(insert_card, pki, tmp_path):
    insert_card("x", faulty(pki, tmp_path, "cps3-medecin", "mute_after_apdus = 6"))
    report, proc = check(pki, "--card-timeout", "2")
    assert codes(report)["CARD_MUTE"] == 1 and proc.returncode == 1, report["findings"]
    mute = next(f for f in report["findings"] if f["code"] == "CARD_MUTE")
    assert "2 s" in mute["detail"]


def test_card_at_real_t0_speed(insert_card, pki, tmp_path):
    card = insert_card("x", faulty(pki, tmp_path, "cps3-medecin", "slow = true\nclock_mhz = 4.0"))
    report, proc = check(pki)
    assert codes(report)["CERT_OK"] == 2 and proc.returncode == 0
    assert "slow card" in card.log()


def test_status_word_for_get_data(insert_card, pki, tmp_path):
    insert_card("x", faulty(pki, tmp_path, "cps3-medecin", 'status_words = { "CB" = "6F00" }'))
    report, proc = check(pki)
    assert codes(report)["PIN_UNKNOWN"] == 1 and "PIN_OK" not in codes(report)


def test_card_refusing_to_sign(insert_card, pki, tmp_path):
    insert_card("x", faulty(pki, tmp_path, "cps3-medecin", 'status_words = { "88" = "6985" }'))
    report, proc = check(pki, "--sign", "--pin-stdin", stdin="1234\n")
    failed = [f for f in report["findings"] if f["code"] == "KEY_SIGN_FAILED"]
    assert failed and "6985" in failed[0]["detail"] and proc.returncode == 1


@pytest.mark.parametrize("fault,role", [('corrupt_files = ["0001/A001"]', "authentication"),
                                        ('truncate_files = { "0001/A002" = 300 }', "signature")])
def test_corrupt_or_truncated_certificate(insert_card, pki, tmp_path, fault, role):
    insert_card("x", faulty(pki, tmp_path, "cps3-medecin", fault))
    report, proc = check(pki)
    malformed = [f for f in report["findings"] if f["code"] == "CERT_MALFORMED"]
    assert len(malformed) == 1 and malformed[0]["params"]["role"] == role and proc.returncode == 1


def test_corrupt_certificate_directory(insert_card, pki, tmp_path):
    insert_card("x", faulty(pki, tmp_path, "cps3-medecin", 'corrupt_files = ["0001/7005"]'))
    report, proc = check(pki)
    assert codes(report)["CARD_READ_ERROR"] >= 1 and proc.returncode == 1
    assert any("CDF" in f["detail"] for f in report["findings"] if f["code"] == "CARD_READ_ERROR")


def test_cps4_6985_is_recovered_like_the_cryptolib(insert_card, pki, tmp_path):
    card = insert_card("x", faulty(pki, tmp_path, "cps4-infirmier", "cps4_6985_once = true"))
    report, proc = check(pki)
    assert proc.returncode == 0 and codes(report)["CERT_OK"] == 2, report["findings"]
    assert "< 69 85" in card.log()


def test_pcscd_killed_in_the_middle(insert_card, pki, tmp_path, stack):
    pcscd = stack.require_managed()
    card = insert_card("x", faulty(pki, tmp_path, "cps3-medecin", "slow = true\nclock_mhz = 2.0"))
    before = card.log().count("\n> ")
    proc = spawn_cpsdiag("check", "--json", "--no-env", "--anchors", str(pki.anchors))
    try:
        # Kill pcscd once the read is under way: a dozen commands in (the slow card takes seconds for the rest).
        deadline = time.monotonic() + BOUND
        while card.log().count("\n> ") < before + 12 and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert proc.poll() is None, "the check ended before pcscd could be killed"
        pcscd.kill()
        out, err = proc.communicate(timeout=BOUND)
    finally:
        if proc.poll() is None:
            proc.kill()
        pcscd.start()
    assert "Traceback" not in err
    report = json.loads(out)
    assert report["card"]["atr"], "the card was reached before pcscd died"
    assert codes(report)["PCSC_NO_SERVICE"] == 1 and proc.returncode == 1, [f["detail"] for f in report["findings"]]
