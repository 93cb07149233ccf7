"""CPS card identification from the ATR: strict table matching and the separate guess."""

from __future__ import annotations

import dataclasses
import json

import pytest
from hypothesis import given, settings, strategies as st

from cpsdiag.card.identify import GENERATION_HINT, KNOWN, KNOWN_ATRS, CardModel, guess, identify
from cpsdiag.errors import MalformedDataError
from cpsdiag.iso7816.atr import parse_atr


@pytest.mark.parametrize("text,key,generation,interface,cryptolib,protocols", [
    ("3B AC 00 40 2A 00 12 25 00 64 80 00 03 10 00 90 00", "cps3-contact", "CPS3", "contact", "5.0", (0,)),
    ("3B 8F 80 01 00 31 B8 64 04 B0 EC C1 73 94 01 80 82 90 00 0E", "cps3-contactless", "CPS3", "contactless",
     "5.0", (0, 1)),
    ("3B DC 18 FF 00 00 12 25 00 64 80 00 04 01 00 90 00", "cps4-contact-t0", "CPS4", "contact", "5.2", (0,)),
    ("3B 9B 18 80 01 00 12 25 00 64 80 04 01 00 00 90 44", "cps4-contact-t1", "CPS4", "contact", "5.2", (0, 1)),
    ("3B 9B 18 80 01 00 12 25 00 64 80 00 04 01 00 90 44", "cps4-rc", "CPS4", "contact", "5.2", (0, 1)),
    ("3B AC 00 40 2A 00 12 25 00 64 80 82 02 12 00 90 00", "cps-older", "CPS", "contact", None, (0,)),
])
def test_listed_atrs_are_identified_exactly(text: str, key: str, generation: str, interface: str,
                                            cryptolib: str | None, protocols: tuple[int, ...]) -> None:
    atr = parse_atr(text)
    assert atr.protocols == protocols and atr.tck_ok in (True, None)
    # Worked out by hand (ISO 7816-4 §8.1.1): the two T=1 ATRs have T0=9B, so K=11 historical bytes, category 00
    # keeps the last 3 for the status, and the compact-TLV part "12 25 00 64 80 .. .." ends with tag 6 announcing
    # 4 bytes when 3 remain. Every other listed ATR decodes cleanly.
    assert bool(atr.problems) == (key in ("cps4-contact-t1", "cps4-rc")), atr.problems
    model = identify(atr)
    assert model is not None
    assert (model.key, model.generation, model.interface, model.exact, model.min_cryptolib) == (
        key, generation, interface, True, cryptolib)
    assert guess(atr) == model
    assert KNOWN_ATRS[key] == atr.raw


def test_table_is_complete_and_masks_are_opensc_s() -> None:
    assert set(KNOWN_ATRS) == {"cps3-contact", "cps3-contactless", "cps4-contact-t0", "cps4-contact-t1", "cps4-rc",
                               "cps-older"}
    masks = {k.key: k.mask for k in KNOWN}
    assert masks["cps3-contact"] == bytes.fromhex("FF 00 00 00 00 FF FF FF FF FF FF 00 00 00 FF FF FF")
    assert masks["cps3-contactless"] == bytes.fromhex("FF FF FF FF FF FF FF FF 00 00 FF C0 FF FF FF FF FF FF FF FF")
    assert all(masks[k] is None for k in ("cps4-contact-t0", "cps4-contact-t1", "cps4-rc", "cps-older"))


def test_older_card_wins_over_the_cps3_mask_and_says_why() -> None:
    # It fits the CPS3 mask (only offsets 11..13 differ, all masked out), but the exact entry comes first.
    model = identify(parse_atr("3B AC 00 40 2A 00 12 25 00 64 80 82 02 12 00 90 00"))
    assert model.key == "cps-older" and model.exact and "5.2" in model.note and "OpenSC" in model.note
    # One masked byte further from it, it is only a mask match for the CPS3.
    near = identify(parse_atr("3B AC 00 40 2A 00 12 25 00 64 80 82 02 13 00 90 00"))
    assert near.key == "cps3-contact" and not near.exact and "offset 11, 12, 13" in near.note


@pytest.mark.parametrize("text,offsets", [
    ("3B AC 00 40 2A 00 12 25 00 64 80 00 03 11 00 90 00", "13"),     # masked historical byte
    ("3B AC 00 40 0A 00 12 25 00 64 80 00 03 10 00 90 00", "4"),      # TC2 is masked out too
])
def test_cps3_mask_match_is_not_exact(text: str, offsets: str) -> None:
    model = identify(parse_atr(text))
    assert model.key == "cps3-contact" and not model.exact and model.min_cryptolib == "5.0"
    assert "Cryptolib" in model.note and f"offset {offsets}" in model.note


def test_contactless_mask_match() -> None:
    # 04 B0 -> 05 B1 flips bit 0 twice: the TCK 0E still fits.
    atr = parse_atr("3B 8F 80 01 00 31 B8 64 05 B1 EC C1 73 94 01 80 82 90 00 0E")
    assert atr.tck_ok is True
    model = identify(atr)
    assert model.key == "cps3-contactless" and model.interface == "contactless" and not model.exact
    assert "offset 8, 9" in model.note


def test_unmasked_difference_is_unknown() -> None:
    # Offset 10 (80 -> 81) is under FF in the CPS3 mask; pre-issuing data 81 .. matches no hint either.
    atr = parse_atr("3B AC 00 40 2A 00 12 25 00 64 81 00 03 10 00 90 00")
    assert identify(atr) is None and guess(atr) is None


def test_atr_from_outside_the_table() -> None:
    atr = parse_atr("3B 8A 80 01 80 58 43 50 53 44 49 41 47 31 A9")
    assert identify(atr) is None and guess(atr) is None


@pytest.mark.parametrize("text,generation,interface", [
    # CPS4 T=0 ATR with its last byte changed: no exact match, no mask for CPS4. Pre-issuing 80 00 04 01.
    ("3B DC 18 FF 00 00 12 25 00 64 80 00 04 01 00 90 01", "CPS4", "contact"),
    # CPS4 T=0/T=1 ATR with a corrupted TCK: walked leniently, the pre-issuing data is 80 04 01 00.
    ("3B 9B 18 80 01 00 12 25 00 64 80 04 01 00 00 90 45", "CPS4", "contact"),
    # No interface byte, T0=0C: 12 historical bytes of CPS3 shape with another pre-issuing value.
    ("3B 0C 00 12 25 00 64 80 00 03 20 00 90 00", "CPS3", "contact"),
    # PC/SC contactless shape 3B 8C 80 01 ..; TCK = 8C^80^01^(historical bytes) = 48.
    ("3B 8C 80 01 00 12 25 00 64 80 00 04 02 00 90 00 48", "CPS4", "contactless"),
])
def test_guess_from_historical_bytes(text: str, generation: str, interface: str) -> None:
    atr = parse_atr(text)
    assert identify(atr) is None
    model = guess(atr)
    assert model is not None
    assert (model.generation, model.interface, model.exact) == (generation, interface, False)
    assert model.key == f"{generation.lower()}-guess"
    assert model.min_cryptolib == {"CPS3": "5.0", "CPS4": "5.2"}[generation]
    assert model.note.startswith("guess")


def test_guess_checks_the_tck_case_separately() -> None:
    assert parse_atr("3B 8C 80 01 00 12 25 00 64 80 00 04 02 00 90 00 48").tck_ok is True


@pytest.mark.parametrize("text", [
    "3B 0C 00 12 24 00 64 80 00 03 20 00 90 00",     # country code 240, not 250
    "3B 07 00 12 25 00 00 90 00",                    # no pre-issuing data
    "3B 0C 00 12 25 00 64 80 00 05 20 00 90 00",     # pre-issuing data 80 00 05: no hint
    "3B 0C 41 12 25 00 64 80 00 04 20 00 90 00",     # proprietary category: not compact-TLV
    "3B 00",
])
def test_no_guess_without_the_signature(text: str) -> None:
    assert guess(parse_atr(text)) is None


def test_models_are_frozen_and_serialisable() -> None:
    model = identify(parse_atr("3B AC 00 40 2A 00 12 25 00 64 80 00 03 10 00 90 00"))
    assert isinstance(model, CardModel)
    with pytest.raises(dataclasses.FrozenInstanceError):
        model.key = "x"  # type: ignore[misc]
    json.dumps(dataclasses.asdict(model))
    with pytest.raises(TypeError):
        GENERATION_HINT[b"\x80"] = "CPS2"  # type: ignore[index]


@settings(max_examples=500, deadline=None)
@given(st.binary(max_size=40))
def test_any_atr_that_decodes_is_identified_or_guessed_without_error(data: bytes) -> None:
    try:
        atr = parse_atr(data)
    except MalformedDataError:
        return
    model = identify(atr)
    # A guess is never more certain than the table: an exact match only comes from identify.
    assert model is not None or guess(atr) is None or not guess(atr).exact
