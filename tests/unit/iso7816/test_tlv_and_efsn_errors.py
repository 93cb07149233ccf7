"""Malformed BER-TLV and EF.SN.ICC: the error names the structure, the place, the fault and its byte offset
(cpsdiag.errors.MalformedDataError's contract), each worked out by hand from ISO/IEC 8825-1 and card.md."""

from __future__ import annotations

import pytest

from cpsdiag.card.efsn import parse_ef_sn
from cpsdiag.errors import MalformedDataError
from cpsdiag.iso7816 import tlv


def h(text: str) -> bytes:
    return bytes.fromhex(text)


@pytest.mark.parametrize("data,message", [
    ("5F", "EF.X (card 3F00/2F00): truncated tag at offset 10"),                 # 5F says "more tag bytes"
    ("5F81", "EF.X (card 3F00/2F00): truncated tag at offset 10"),
    ("5F81818181 00", "EF.X (card 3F00/2F00): tag longer than 4 bytes at offset 10"),
    ("04", "EF.X (card 3F00/2F00): missing length at offset 11"),
    ("04 01 AA 04", "EF.X (card 3F00/2F00): missing length at offset 14"),
    ("04 80 00 00", "EF.X (card 3F00/2F00): indefinite length is not allowed here at offset 11"),
    ("04 84 00 00 00 01 AA", "EF.X (card 3F00/2F00): bad length field at offset 11"),
    ("04 82 00", "EF.X (card 3F00/2F00): bad length field at offset 11"),
    ("04 03 AA BB", "EF.X (card 3F00/2F00): value of 3 bytes runs past the end (2 left) at offset 10"),
    ("04 00 04 81 05 AA", "EF.X (card 3F00/2F00): value of 5 bytes runs past the end (1 left) at offset 12"),
])
def test_malformed_tlv_says_what_where_and_at_which_byte(data, message):
    with pytest.raises(MalformedDataError) as info:
        tlv.parse(h(data), what="EF.X", where="card 3F00/2F00", base=10)
    assert str(info.value) == message
    assert (info.value.what, info.value.where) == ("EF.X", "card 3F00/2F00")


def test_long_tags_and_lengths_that_are_allowed():
    [obj] = tlv.parse(h("BF8101 83 000002 AABB"))               # a 3-byte tag, a 3-byte length field
    assert (obj.tag, obj.value, obj.offset, obj.what, obj.where) == (0xBF8101, h("AABB"), 0, "BER-TLV", None)
    assert [(o.tag, o.offset) for o in tlv.parse(h("5F2001AA 9F7F00"), base=4)] == [(0x5F20, 4), (0x9F7F, 8)]


def test_padding_is_skipped_only_when_asked():
    data = h("00 FF 04 01 AA 00 00 FF")
    assert [(o.tag, o.value, o.offset) for o in tlv.parse(data, skip_padding=True)] == [(0x04, h("AA"), 2)]
    with pytest.raises(MalformedDataError):
        tlv.parse(h("01 04 01 AA"), skip_padding=True)          # 01 is no filler: a tag with length 04
    assert [o.tag for o in tlv.parse(h("00 00"))] == [0x00]          # without skipping, 00 00 is an empty object


def test_children_inherit_the_name_the_place_and_the_offsets():
    [outer] = tlv.parse(h("61 07 4F 02 E8 28 50 01 41"), what="EF.DIR", where="card 3F00/2F00", base=100)
    assert outer.constructed and outer.tag_class == 1
    children = outer.children()
    assert [(c.tag, c.value, c.offset, c.what, c.where) for c in children] == [
        (0x4F, h("E828"), 102, "EF.DIR", "card 3F00/2F00"), (0x50, h("41"), 106, "EF.DIR", "card 3F00/2F00")]
    assert outer.find(0x50) == children[1] and outer.find(0x51) is None
    with pytest.raises(MalformedDataError) as info:
        tlv.parse(h("61 02 4F 05"), what="EF.DIR", where="w", base=100)[0].children()
    assert str(info.value) == "EF.DIR (w): value of 5 bytes runs past the end (0 left) at offset 102"


@pytest.mark.parametrize("tag,constructed,tag_class", [
    (0x04, False, 0), (0x30, True, 0), (0x4F, False, 1), (0x61, True, 1), (0x80, False, 2), (0xA0, True, 2),
    (0xC1, False, 3), (0xE1, True, 3), (0xBF8101, True, 2), (0x5F20, False, 1), (0x7F4900, True, 1),
])
def test_the_first_tag_byte_gives_the_class_and_the_form(tag, constructed, tag_class):
    obj = tlv.Tlv(tag, b"", 0)
    assert (obj.constructed, obj.tag_class) == (constructed, tag_class)


@pytest.mark.parametrize("head,total", [
    ("30 03 02 01", 5), ("04 7F", 129), ("04 81 80", 131), ("04 82 01 00", 260), ("04 84 00 00 01 00", 262),
    ("BF 81 01 02 AA", 6), ("5F 20 05", 8),
    ("30", None), ("", None), ("BF 81", None), ("BF 81 01", None), ("04 80", None), ("04 85 00 00 00 00 01", None),
    ("04 82 01", None),
])
def test_der_total_length_from_the_head_of_an_object(head, total):
    assert tlv.der_total_length(h(head)) == total


# -- EF.SN.ICC: 5A 0A, then the PAN in BCD padded with F (card.md) -------------------------------------------------

@pytest.mark.parametrize("data,message", [
    ("", "EF.SN.ICC (card D003): expected 5A <len> <PAN>, got nothing at offset 0"),
    ("5A 00", "EF.SN.ICC (card D003): expected 5A <len> <PAN>, got 5a 00 at offset 0"),
    ("4F 02 12 34", "EF.SN.ICC (card D003): expected 5A <len> <PAN>, got 4f 02 12 34 at offset 0"),
    ("5A 0A 80 25 00 00 01 99 21 38 45", "EF.SN.ICC (card D003): expected 5A <len> <PAN>, got 5a 0a 80 25 at offset 0"),
    ("5A 0B 80 25 00 00 01 99 21 38 45 0F AA",
     "EF.SN.ICC (card D003): PAN 8025000001992138450FAA is not BCD digits padded with F at offset 2"),
    ("5A 0A 80 25 00 00 01 99 2A 38 45 0F",
     "EF.SN.ICC (card D003): PAN 8025000001992A38450F is not BCD digits padded with F at offset 2"),
    ("5A 06 80 25 00 00 01 9F", "EF.SN.ICC (card D003): PAN 80250000019F is not BCD digits padded with F at offset 2"),
])
def test_a_malformed_ef_sn_icc(data, message):
    with pytest.raises(MalformedDataError) as info:
        parse_ef_sn(h(data), where="card D003")
    assert str(info.value) == message


def test_the_shortest_pan_that_holds_the_issuer_a_digit_and_the_check_digit():
    serial = parse_ef_sn(h("5A 06 80 25 00 00 01 97"))
    assert (serial.pan, serial.issuer, serial.card_number, serial.check_digit) == ("802500000197", "8025000001",
                                                                                  "9", 7)
    with pytest.raises(MalformedDataError):
        parse_ef_sn(h("5A 05 80 25 00 00 01"))                  # the issuer alone: no number, no check digit
    with pytest.raises(MalformedDataError) as info:
        parse_ef_sn(h("5A 01"))
    assert info.value.where == "EF.SN.ICC" and info.value.what == "EF.SN.ICC"     # the default place
