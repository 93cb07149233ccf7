"""Status words described as ISO/IEC 7816-4 §5.6 (tables 5 and 6) names them."""

from __future__ import annotations

import pytest

from cpsdiag.iso7816.sw import SW, describe


@pytest.mark.parametrize("sw,text", [
    (0x9000, "ok"),
    (0x6282, "end of file"),
    (0x63C0, "verification failed, 0 tries left"),
    (0x63C2, "verification failed, 2 tries left"),
    (0x63CF, "verification failed, 15 tries left"),
    (0x6300, "warning, state of non-volatile memory changed"),     # 63 00: no counter in SW2
    (0x6381, "warning, state of non-volatile memory changed"),
    (0x6281, "warning, state of non-volatile memory unchanged"),
    (0x6581, "memory failure"),
    (0x6400, "execution error, memory unchanged"),
    (0x6501, "execution error, memory changed"),
    (0x6700, "wrong length"),
    (0x6701, "wrong length"),
    (0x6881, "logical channel not supported"),
    (0x6882, "function in CLA not supported"),
    (0x6982, "security status not satisfied"),
    (0x6983, "auth method blocked"),
    (0x6984, "command not allowed"),
    (0x6A82, "file not found"),
    (0x6A88, "referenced data not found"),
    (0x6A84, "wrong parameters P1-P2"),
    (0x6B00, "wrong p1p2"),
    (0x6B01, "wrong parameters P1-P2"),
    (0x6C10, "wrong Le, the exact length is in SW2"),
    (0x6110, "more response bytes available (GET RESPONSE)"),
    (0x6D00, "ins not supported"),
    (0x6D01, "instruction not supported"),
    (0x6E01, "class not supported"),
    (0x6F00, "no precise diagnosis"),
    (0x6F01, "no precise diagnosis"),
    (0x9001, "unknown status"),
    (0x6600, "unknown status"),
])
def test_describe(sw, text):
    assert describe(sw) == text


def test_the_named_values_are_iso_7816_4_s():
    assert (SW.OK, SW.FILE_NOT_FOUND, SW.SECURITY_STATUS_NOT_SATISFIED, SW.AUTH_METHOD_BLOCKED) == (
        0x9000, 0x6A82, 0x6982, 0x6983)
    assert (SW.WRONG_LENGTH, SW.INS_NOT_SUPPORTED, SW.CLA_NOT_SUPPORTED, SW.VERIFY_FAILED) == (
        0x6700, 0x6D00, 0x6E00, 0x63C0)
