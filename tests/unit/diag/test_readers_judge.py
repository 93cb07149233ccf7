"""The `readers` and `atr` commands' findings, decided in the library (cpsdiag.diag), not in the CLI."""

from __future__ import annotations

import pytest

from cpsdiag import errors
from cpsdiag.diag.judge import judge_readers
from cpsdiag.diag.readers import decode_atr
from cpsdiag.findings.model import Severity


def _codes(findings):
    return [(f.code, f.severity, f.step, f.params) for f in findings]


def test_readers_findings_name_only_what_is_wrong():
    assert judge_readers(None, 2) == []
    assert _codes(judge_readers(None, 0)) == [("PCSC_NO_READER", Severity.ERROR, "readers", {})]
    missing = errors.PcscLibraryMissing("libpcsclite.so.1", "not found")
    assert _codes(judge_readers(missing, 0)) == [
        ("PCSC_LIBRARY_MISSING", Severity.ERROR, "pcsc", {"library": "libpcsclite.so.1", "reason": "not found"})]
    stopped = errors.PcscNoService("SCardEstablishContext", 0x8010001D, "service not available")
    assert _codes(judge_readers(stopped, 0)) == [
        ("PCSC_NO_SERVICE", Severity.ERROR, "pcsc",
         {"operation": "SCardEstablishContext", "message": "service not available (0x8010001D)"})]


def test_a_cps3_atr_identifies_the_card():
    result = decode_atr("3B AC 00 40 2A 00 12 25 00 64 80 00 03 10 00 90 00")
    assert result.model is not None and result.model.generation == "CPS3" and not result.guessed
    assert [f.code for f in result.findings] == ["CARD_IDENTIFIED"]
    assert result.findings[0].params["atr"] == "3B AC 00 40 2A 00 12 25 00 64 80 00 03 10 00 90 00"
    assert result.exit_status == 0


def test_an_atr_of_no_known_card_is_an_error():
    result = decode_atr("3B 02 14 50")
    assert result.model is None and result.guessed
    assert _codes(result.findings) == [("CARD_UNKNOWN", Severity.ERROR, "card", {"atr": "3B 02 14 50"})]
    assert result.exit_status == 1


def test_text_that_is_not_an_atr_is_refused():
    with pytest.raises(errors.MalformedDataError):
        decode_atr("zz")

