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
