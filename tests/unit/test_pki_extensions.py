"""Private extension decoders. Golden bytes: research/pki.md §2.3 (TEST CPS and CPE certificates)."""

from __future__ import annotations

import pytest
from hypothesis import given
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


@given(st.binary(max_size=300))
def test_decoders_only_raise_malformed(data: bytes) -> None:
    for decoder in (decode_card_type, decode_profession, decode_product_category, decode_card_identifier):
        try:
            decoder(data)
        except MalformedDataError:
            pass


@given(st.dictionaries(st.sampled_from(["1.2.250.1.71.1.2.2", "1.2.250.1.71.1.2.3", "1.2.250.1.71.1.2.5",
                                        "1.2.250.1.71.1.2.7", "1.2.3"]), st.binary(max_size=40)))
def test_decode_all_never_raises(raw: dict[str, bytes]) -> None:
    decode_private_extensions(raw)
