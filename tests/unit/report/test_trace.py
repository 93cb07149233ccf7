"""The APDU trace in a bundle: certificate reads left out three ways, EF.SN.ICC masked, PIN data never shown."""

from __future__ import annotations

import hashlib

from cpsdiag.report.redact import Redactor, Salt
from cpsdiag.report.trace import certificate_file_ids, redact_trace
from cpsdiag.transport.base import ApduRecord
from tests.support.report import as_report
from tests.unit.report.test_redact import sample_report

SALT = Salt(b"\x07" * 32, "installation")


def rec(command: str, response: str = "", sw: int = 0x9000) -> ApduRecord:
    return ApduRecord(command, response, sw, 0.001)


CERT_START = "30 82 05 61 30 82 04 49 a0 03 02 01 02"


def test_certificate_reads_are_left_out_by_file_by_content_and_by_shape():
    report = sample_report()
    fids = certificate_file_ids(as_report(report))
    assert fids == {bytes.fromhex("A001")}
    redactor = Redactor(SALT, [("card_number", "90000001")])
    blob = bytes.fromhex("3082056130820449a00302010202") + hashlib.sha512(b"certificate").digest() * 3
    records = [
        rec("00 a4 09 0c 06 3f 00 00 01 a0 01"),                  # the CDF's certificate file, by path
        rec("00 b0 00 00 00", "aa " * 10),
        rec("00 b0 01 00 00", "bb " * 10),
        rec("00 a4 09 0c 06 3f 00 00 01 50 31"),                  # another file: readable again
        rec("00 b0 00 00 08", "01 02 03 04 05 06 07 08"),
        rec("01 a4 08 0c 04 00 01 a0 09"),                        # unknown file, but the data starts a certificate
        rec("01 b0 00 00 00", CERT_START + " 00 00"),
        rec("01 b0 01 00 00", "cc dd"),
        rec("00 a4 00 0c 02 50 32"),
        rec("00 b0 00 00 00", " ".join(f"{b:02x}" for b in blob[20:60])),   # a piece of a known certificate
        rec("00 b0 9c 00 0c", "5a 0a 80 25 00 00 01 90 00 00 01 6f"),         # EF.SN.ICC by short EF identifier
        rec("00 a4 09 0c 06 3f 00 00 01 a0 01"),
        rec("00 b0 00 00 00", "", 0x6C10),
        rec("00 c0 00 00 10", "ee " * 16),                       # T=0 GET RESPONSE of a certificate read
    ]
    out = redact_trace(records, redactor, fids, [blob])
    assert [e.omitted for e in out] == [False, True, True, False, False, False, True, True, False, True, False,
                                        False, False, True]
    assert out[4].response == "01 02 03 04 05 06 07 08"
    assert out[10].response == "5a 0a " + " ".join(["**"] * 10)
    assert out[1].response == "" and out[1].response_length == 10


def test_bcd_at_an_odd_nibble_and_text_in_other_encodings_are_masked():
    redactor = Redactor(SALT, [("card_number", "90000001"), ("name", "CAMILLE")])
    odd = bytes.fromhex("5a0a8025000001f90000001f")      # the number starts on a low nibble
    hidden = redactor.data_mask(odd)
    assert {7, 8, 9, 10, 11} <= hidden and 0 not in hidden
    for encoded in ("CAMILLE".encode("utf-16-be"), b"camille", "Camille".encode("latin-1")):
        assert redactor.data_mask(b"\x0c\x07" + encoded) == set(range(2, 2 + len(encoded)))


def test_without_a_redactor_the_trace_is_as_recorded():
    records = [rec("00 a4 09 0c 06 3f 00 00 01 a0 01"), rec("00 b0 00 00 00", CERT_START)]
    out = redact_trace(records, None, {bytes.fromhex("A001")})
    assert out[1].response == CERT_START and not out[1].omitted


