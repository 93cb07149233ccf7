"""A step that fails unexpectedly (a bug) is INTERNAL_ERROR for that step only: the rest of the report stays.

The card is real (pcscd + vpcd + emulator); the bug is injected by making one
step's function raise, in process, as a bug in it would.
"""

from __future__ import annotations

import json
from collections import Counter

import pytest

from cpsdiag.diag.check import CheckOptions, run_check
from cpsdiag.diag.facts import KeyOptions
from cpsdiag.pinentry import Pin
from cpsdiag.report.jsonreport import dumps

pytestmark = pytest.mark.stack

CARD_SIDE = ["PCSC_OK", "READERS_OK", "CARD_IDENTIFIED", "CARD_READ_OK", "PIN_OK", "CERT_OK", "CERT_OK",
             "CERT_TEST_CARD", "CARD_CONSISTENT"]


def test_a_crash_in_the_tls_probe_keeps_the_card_findings(insert_card, pki, monkeypatch):
    import cpsdiag.tls.probe

    insert_card("cps4-infirmier")

    def broken(*args, **kwargs):
        raise ValueError("Caller provided invalid server host name: 127.0.0.1")

    monkeypatch.setattr(cpsdiag.tls.probe, "probe", broken)
    result = run_check(CheckOptions(anchors=(pki.anchors,), environment=False, keys=KeyOptions(
        tls_url="https://127.0.0.1:8443/", pin_source=lambda lo, hi: Pin(b"4321"))))
    found = Counter(f.code for f in result.findings)
    # With the PIN presented, the CPS4's practice situations are read too (SITUATIONS_READ).
    assert found == Counter(CARD_SIDE + ["PIN_VERIFIED", "SITUATIONS_READ", "INTERNAL_ERROR"]), found
    internal = next(f for f in result.findings if f.code == "INTERNAL_ERROR")
    assert internal.step == "tls" and "invalid server host name" in internal.params["error"]
    assert result.facts.failures[0].traceback.startswith("Traceback")
    report = json.loads(dumps(result))          # the JSON report holds the card, whatever the probe did
    assert report["card"]["card_number"] == "90000002" and len(report["certificates"]) == 2
    assert "Traceback" not in dumps(result)


def test_a_crash_in_one_certificate_keeps_the_other(insert_card, pki, monkeypatch):
    import cpsdiag.pki.chain

    insert_card("cps3-medecin")
    original = cpsdiag.pki.chain.validate_chain

    def fails_for_signature(info, **kwargs):
        if info.role == "signature":
            raise KeyError("boom")
        return original(info, **kwargs)

    monkeypatch.setattr(cpsdiag.pki.chain, "validate_chain", fails_for_signature)
    result = run_check(CheckOptions(anchors=(pki.anchors,), environment=False))
    by_step = Counter((f.step, f.code) for f in result.findings)
    assert by_step[("certificates", "INTERNAL_ERROR")] == 1 and by_step[("certificates", "CERT_OK")] == 1
    assert by_step[("read", "CARD_READ_OK")] == 1 and by_step[("pin", "PIN_OK")] == 1
    assert len(result.facts.certificates) == 2


def test_a_crash_in_the_workstation_inventory_keeps_the_card(insert_card, pki, monkeypatch):
    import cpsdiag.env.collect

    insert_card("cps3-medecin")

    def broken(*args, **kwargs):
        raise RuntimeError("inventory bug")

    monkeypatch.setattr(cpsdiag.env.collect, "collect_environment", broken)
    result = run_check(CheckOptions(anchors=(pki.anchors,), environment=True))
    found = Counter(f.code for f in result.findings)
    assert found == Counter(CARD_SIDE[:4] + ["PIN_OK", "CERT_OK", "CERT_OK", "CERT_TEST_CARD", "CARD_CONSISTENT",
                                             "INTERNAL_ERROR"]), found
    assert next(f for f in result.findings if f.code == "INTERNAL_ERROR").step == "environment"
