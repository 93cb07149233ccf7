"""The PIN counter: IAS-ECC's PIN security data object (GET DATA BF81xx) and VERIFY's status words
(ISO/IEC 7816-4 §11.5.6: 63 Cx = x tries left, 69 83 = blocked), decoded by hand."""

from __future__ import annotations

import pytest

from cpsdiag.card.pin import PinStatus, parse_pin_sdo, status_from_verify_sw
from cpsdiag.errors import MalformedDataError


def h(text: str) -> bytes:
    return bytes.fromhex(text.replace(" ", ""))


@pytest.mark.parametrize("data,reference,left,most", [
    ("70 0C BF 81 01 08 A0 06 9A 01 03 9B 01 03", 1, 3, 3),
    ("BF 81 01 08 A0 06 9A 01 03 9B 01 01", 1, 1, 3),           # without the 70 template
    ("BF 81 02 06 9A 01 0F 9B 01 0A", 2, 10, 15),                # without the A0 wrapper, PIN 2
    ("BF 81 01 08 A0 06 9A 01 05 9B 01 04", 0x81, 4, 5),       # a local reference: the low 6 bits only
    ("BF 81 01 05 A0 03 9B 01 02", 1, 2, None),                  # no maximum given
    ("BF 81 01 09 A0 07 9A 01 03 9B 02 01 00", 1, 256, 3),       # two-byte counters
    ("BF 81 01 0B A0 09 9A 01 03 9B 01 03 9D 01 00", 1, 0, 3),   # usage counter 9D at zero: no use left
    ("BF 81 01 0B A0 09 9A 01 03 9B 01 03 9D 01 05", 1, 3, 3),
])
def test_the_security_data_object(data, reference, left, most):
    assert parse_pin_sdo(h(data), reference) == PinStatus(left, most, verified=False, source="GET DATA")


@pytest.mark.parametrize("data,message", [
    ("", "expected one object at offset 0"),
    ("9B 01 03 9B 01 03", "expected one object at offset 0"),
    ("70 0B BF 81 01 00 BF 81 01 03 9B 01 03", "expected one SDO in the 70 template at offset 0"),
    ("70 00", "expected one SDO in the 70 template at offset 0"),
    ("70 05 BF 81 02 01 00", "expected SDO BF8101, got BF8102 at offset 2"),
    ("BF 81 01 05 A0 03 9A 01 03", "no tries-left counter (tag 9B) at offset 0"),
    ("BF 81 01 04 A0 02 9B 00", "tag 9B has 0 bytes"),
    ("BF 81 01 07 A0 05 9B 03 00 00 01", "tag 9B has 3 bytes"),
    ("BF 81 01 07 A0 05 9B 01 01 9A 00", "tag 9A has 0 bytes"),
])
def test_malformed_objects(data, message):
    with pytest.raises(MalformedDataError) as info:
        parse_pin_sdo(h(data), 1, where="GET DATA BF8101")
    assert str(info.value) == f"PIN status (GET DATA BF8101): {message}"


def test_the_default_reference_and_place():
    with pytest.raises(MalformedDataError) as info:
        parse_pin_sdo(h("BF 81 02 03 9B 01 03"))
    assert info.value.where == "GET DATA BF8101" and info.value.reason == "expected SDO BF8101, got BF8102"
    assert parse_pin_sdo(h("BF 81 01 03 9B 01 03")).tries_left == 3


@pytest.mark.parametrize("sw,most,expected", [
    (0x9000, 3, PinStatus(3, 3, verified=True, source="VERIFY")),
    (0x9000, None, PinStatus(0, None, verified=True, source="VERIFY")),
    (0x63C2, 3, PinStatus(2, 3, source="VERIFY")),
    (0x63C0, 3, PinStatus(0, 3, source="VERIFY")),
    (0x63CF, None, PinStatus(15, None, source="VERIFY")),
    (0x6983, 3, PinStatus(0, 3, source="VERIFY")),
    (0x6300, 3, None), (0x63B2, 3, None), (0x6982, 3, None), (0x6A88, 3, None), (0x9001, 3, None),
])
def test_verify_status_words(sw, most, expected):
    assert status_from_verify_sw(sw, most) == expected


def test_blocked_means_no_try_left():
    assert PinStatus(0, 3).blocked and not PinStatus(1, 3).blocked
