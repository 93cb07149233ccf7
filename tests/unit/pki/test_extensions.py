"""Private extension decoders. Golden bytes: research/pki.md §2.3 (TEST CPS and CPE certificates)."""

from __future__ import annotations

import pytest
from asn1crypto import core
from hypothesis import given, settings
from hypothesis import strategies as st

from cpsdiag.errors import MalformedDataError
from cpsdiag.pki.extensions import (
    CardIdentifier,
    decode_card_identifier,
    decode_card_type,
    decode_private_extensions,
    decode_product_category,
    decode_profession,
    read_single_tlv,
)

CPS_CARD_ID = bytes([0x13, 0x15]) + b"8025000001/2800636234"


def test_golden_values_from_test_cps() -> None:
    assert decode_product_category(bytes.fromhex("040180")) == 0x80
    assert decode_card_type(bytes.fromhex("020100")) == 0
    assert decode_card_type(bytes.fromhex("020102")) == 2
    assert decode_profession(bytes.fromhex("02013C")) == 60
    assert decode_card_identifier(CPS_CARD_ID) == CardIdentifier(
        raw="8025000001/2800636234", issuer="8025000001", number="2800636234"
    )


def test_integer_with_leading_zero_byte() -> None:
    # 128 needs a leading 00 in DER so that it is not read as negative.
    assert decode_profession(bytes.fromhex("02020080")) == 128


def test_card_identifier_without_slash_and_utf8() -> None:
    assert decode_card_identifier(b"\x0c\x0a2800636234") == CardIdentifier("2800636234", None, "2800636234")


def test_long_form_length() -> None:
    value = b"A" * 130
    assert read_single_tlv(b"\x04\x81\x82" + value, "x") == (0x04, value)


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "truncated"),
        (b"\x02", "truncated"),
        (b"\x02\x00", "empty INTEGER"),
        (b"\x02\x01\xff", "negative"),
        (b"\x02\x05\x01\x02\x03\x04\x05", "too long"),
        (b"\x04\x01\x00", "tag 0x04"),
        (b"\x02\x02\x01", "overruns"),
        (b"\x02\x01\x01\x00", "trailing"),
        (b"\x02\x80\x01\x00\x00", "indefinite"),
        (b"\x1f\x01\x01\x01", "multi-byte"),
    ],
)
def test_profession_rejects(data: bytes, reason: str) -> None:
    with pytest.raises(MalformedDataError) as info:
        decode_profession(data, where="test")
    assert reason in info.value.reason
    assert info.value.where == "test"


@pytest.mark.parametrize("data", [b"\x04\x00", b"\x04\x02\x80\x00", b"\x02\x01\x80"])
def test_product_category_rejects(data: bytes) -> None:
    with pytest.raises(MalformedDataError):
        decode_product_category(data)


@pytest.mark.parametrize("data", [b"\x13\x00", b"\x13\x0b8025000001/", b"\x0c\x02\xc3\x28", b"\x13\x01\x07", b"\x02\x01\x01"])
def test_card_identifier_rejects(data: bytes) -> None:
    with pytest.raises(MalformedDataError):
        decode_card_identifier(data)


def test_decode_all_collects_problems() -> None:
    result = decode_private_extensions(
        {
            "1.2.250.1.71.1.2.2": bytes.fromhex("020100"),
            "1.2.250.1.71.1.2.5": b"\x04\x02\x80\x00",
            "1.2.250.1.71.1.2.7": bytes.fromhex("02013C"),
        }
    )
    assert result.card_type == 0
    assert result.profession == 60
    assert result.product_category is None
    assert result.card_identifier is None
    assert len(result.problems) == 1 and "1.2.250.1.71.1.2.5" in result.problems[0]


def asn1crypto_reading(data: bytes, spec):
    """(value, content octets) as asn1crypto, an independent DER decoder, reads DATA as SPEC; None if it refuses."""
    try:
        value = spec.load(data, strict=True)
        return value.native, value.contents
    except (ValueError, TypeError):
        return None


@settings(max_examples=400, deadline=None)
@given(st.one_of(st.binary(max_size=300),
                 st.integers(-2**40, 2**40).map(lambda n: core.Integer(n).dump()),
                 st.sampled_from([b"\x02\x00", b"\x02\x81\x01\x05", b"\x04\x81\x01\x80", b"\x02\x84\x00\x00\x00\x01\x07"]),
                 st.binary(max_size=3).map(lambda b: core.OctetString(b).dump()),
                 st.text(max_size=30).map(lambda t: core.UTF8String(t).dump())))
def test_decoders_agree_with_asn1crypto(data: bytes) -> None:
    """A code is a non-negative INTEGER of 1 to 4 content bytes, the category one byte in an OCTET STRING
    (pki.md §2.3); single-byte tags only, and a definite length in short or long form."""
    multi_byte_tag = data[:1] and data[0] & 0x1F == 0x1F
    for decoder in (decode_card_type, decode_profession):
        read = asn1crypto_reading(data, core.Integer)
        expected = read[0] if read and 1 <= len(read[1]) <= 4 and read[0] >= 0 and not multi_byte_tag else None
        try:
            assert decoder(data) == expected
        except MalformedDataError:
            assert expected is None
    read = asn1crypto_reading(data, core.OctetString)
    expected = read[1][0] if read and len(read[1]) == 1 and not multi_byte_tag else None
    try:
        assert decode_product_category(data) == expected
    except MalformedDataError:
        assert expected is None


@given(st.sampled_from([core.PrintableString, core.UTF8String, core.IA5String]),
       st.text(alphabet="0123456789ABCDEF/ -", min_size=1, max_size=40))
def test_card_identifier_is_split_at_its_first_slash(kind, text: str) -> None:
    # "<issuer>/<card number>" (pki.md §2.3), encoded by asn1crypto.
    issuer, slash, number = text.partition("/")
    try:
        got = decode_card_identifier(kind(text).dump())
    except MalformedDataError:
        assert slash and not number
        return
    assert got == CardIdentifier(text, issuer or None if slash else None, number if slash else text)


@given(st.dictionaries(st.sampled_from(["1.2.250.1.71.1.2.2", "1.2.250.1.71.1.2.3", "1.2.250.1.71.1.2.5",
                                        "1.2.250.1.71.1.2.7", "1.2.3"]),
                       st.one_of(st.binary(max_size=40), st.integers(0, 300).map(lambda n: core.Integer(n).dump()))))
def test_decode_all_keeps_each_extension_or_names_its_problem(raw: dict[str, bytes]) -> None:
    result = decode_private_extensions(raw)
    fields = {"1.2.250.1.71.1.2.2": (result.card_type, decode_card_type),
              "1.2.250.1.71.1.2.3": (result.card_identifier, decode_card_identifier),
              "1.2.250.1.71.1.2.5": (result.product_category, decode_product_category),
              "1.2.250.1.71.1.2.7": (result.profession, decode_profession)}
    for oid, (value, decoder) in fields.items():
        named = [p for p in result.problems if oid in p]
        if oid not in raw:
            assert value is None and not named
            continue
        try:
            assert value == decoder(raw[oid]) and not named
        except MalformedDataError:
            assert value is None and len(named) == 1
    assert len(result.problems) == sum(1 for oid in fields if oid in raw and fields[oid][0] is None)


PROFESSION = "profession extension (1.2.250.1.71.1.2.7)"
CARD_TYPE = "card type extension (1.2.250.1.71.1.2.2)"
CATEGORY = "product category extension (1.2.250.1.71.1.2.5)"
IDENTIFIER = "card identifier extension (1.2.250.1.71.1.2.3)"


@pytest.mark.parametrize("decoder,what,data,reason", [
    (decode_profession, PROFESSION, "", "truncated TLV header at offset 0"),
    (decode_profession, PROFESSION, "02", "truncated TLV header at offset 1"),
    (decode_profession, PROFESSION, "1F 01 01 01", "multi-byte tags are not used here at offset 0"),
    (decode_profession, PROFESSION, "02 80 01 00 00", "indefinite length is not allowed in DER at offset 1"),
    (decode_profession, PROFESSION, "02 85 00 00 00 00 01 05", "length field of 5 bytes at offset 1"),
    (decode_profession, PROFESSION, "02 82 00", "truncated length field at offset 3"),
    (decode_profession, PROFESSION, "02 02 01", "value of 2 bytes overruns the 3-byte buffer at offset 2"),
    (decode_profession, PROFESSION, "02 01 01 00", "1 trailing bytes after the value at offset 3"),
    (decode_profession, PROFESSION, "04 01 01", "tag 0x04 where 0x02 was expected at offset 0"),
    (decode_profession, PROFESSION, "02 00", "empty INTEGER at offset 2"),
    (decode_profession, PROFESSION, "02 05 01 02 03 04 05", "INTEGER of 5 bytes is too long for a code at offset 2"),
    (decode_profession, PROFESSION, "02 01 FF", "negative code -1 at offset 2"),
    (decode_card_type, CARD_TYPE, "02 02 FF 00", "negative code -256 at offset 2"),
    (decode_product_category, CATEGORY, "04 02 80 00", "2 bytes where one was expected at offset 2"),
    (decode_product_category, CATEGORY, "02 01 80", "tag 0x02 where 0x04 was expected at offset 0"),
    (decode_card_identifier, IDENTIFIER, "02 01 01", "tag 0x02 where 0x0C/0x13/0x16 was expected at offset 0"),
    (decode_card_identifier, IDENTIFIER, "13 00", "empty string at offset 2"),
    (decode_card_identifier, IDENTIFIER, "0C 03 41 C3 28", "string is not valid text at offset 3"),
    (decode_card_identifier, IDENTIFIER, "13 02 41 E9", "string is not valid text at offset 3"),   # ASCII only
    (decode_card_identifier, IDENTIFIER, "13 01 07", "string holds control characters at offset 2"),
    (decode_card_identifier, IDENTIFIER, "13 0B" + b"8025000001/".hex(), "nothing after the '/' at offset 13"),
    (decode_card_identifier, IDENTIFIER, "13 82 01 01" + "31" * 257, "string of 257 bytes is implausibly long at offset 2"),
])
def test_each_refusal_names_the_extension_the_place_the_fault_and_its_offset(decoder, what, data, reason):
    with pytest.raises(MalformedDataError) as info:
        decoder(bytes.fromhex(data.replace(" ", "")), where="card.pem")
    assert str(info.value) == f"{what} (card.pem): {reason}"


def test_the_longest_allowed_values():
    assert decode_profession(bytes.fromhex("02 84 00 00 00 01 05".replace(" ", ""))) == 5      # 4-byte length field
    assert decode_card_type(bytes.fromhex("0204 7FFFFFFF")) == 2**31 - 1                        # 4 content bytes
    text = "1" * 256
    assert decode_card_identifier(bytes.fromhex("13820100") + text.encode()).number == text
    assert decode_card_identifier(bytes.fromhex("16 03 2F 31 32".replace(" ", ""))) == CardIdentifier("/12", None, "12")
    with pytest.raises(MalformedDataError) as info:
        read_single_tlv("0201", "x", where="w")                                               # type: ignore[arg-type]
    assert str(info.value) == "x (w): expected bytes, got str"


def test_a_problem_says_which_extension_and_where():
    result = decode_private_extensions({"1.2.250.1.71.1.2.7": bytes.fromhex("0201FF")}, where="card.pem")
    assert result.problems == (f"{PROFESSION} (card.pem): negative code -1 at offset 2",)
    assert decode_private_extensions({"1.2.250.1.71.1.2.7": bytes.fromhex("02013C")}, where="x").profession == 60
