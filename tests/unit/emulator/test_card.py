"""The virtual card's command processing, without the PC/SC stack (the stack tests cover the wire)."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings, strategies as st

from cpsdiag.emulator import profile as profiles
from cpsdiag.emulator.card import mask_secrets, virtual_card
from cpsdiag.emulator.cardbase import CardBase
from cpsdiag.emulator.sharesume import finish


@pytest.fixture(scope="module")
def cps3(pki) -> CardBase:
    return virtual_card(profiles.load_folder(pki.cards / "cps3-medecin"))


@pytest.fixture(scope="module")
def cps4(pki) -> CardBase:
    return virtual_card(profiles.load_folder(pki.cards / "cps4-infirmier"))


def sw(rsp: bytes) -> int:
    return int.from_bytes(rsp[-2:], "big")


def test_get_response_chunks_and_6c(cps3):
    cps3.power_on()
    assert cps3.process(bytes.fromhex("00A40904063F000001A001")) == b"\x61\x24"
    # Asking more than is pending: T=0 asks for the exact length, data stays pending.
    assert cps3.process(bytes.fromhex("00C0000030")) == b"\x6c\x24"
    rsp = cps3.process(bytes.fromhex("00C0000024"))
    assert sw(rsp) == 0x9000 and rsp[0] == 0x62 and len(rsp) == 0x24 + 2
    # Any other command drops pending response data.
    assert cps3.process(bytes.fromhex("00A40904063F000001A001")) == b"\x61\x24"
    assert sw(cps3.process(bytes.fromhex("00A4090C023F00"))) == 0x9000
    assert sw(cps3.process(bytes.fromhex("00C0000024"))) == 0x6985


def test_cps3_caps_get_response_at_e7_but_cps4_gives_256(cps3, cps4):
    for card, pin, mse, cmd in (
        (cps3, b"1234", "002241A406800102840182", bytes([0, 0x88, 0, 0, 32]) + bytes(32)),
        (cps4, b"4321", "012281B604910228A1", bytes([1, 0x2A, 0x9E, 0x9A, 32]) + bytes(32)),
    ):
        card.power_on()
        cla = cmd[0]
        assert sw(card.process(bytes([cla, 0x20, 0, 1, len(pin)]) + pin)) == 0x9000
        assert sw(card.process(bytes.fromhex(mse))) == 0x9000
        assert card.process(cmd) == b"\x61\x00"
        rsp = card.process(bytes([cla, 0xC0, 0, 0, 0]))
        if card is cps3:
            assert rsp == b"\x6c\xe7"
            rsp = card.process(bytes([cla, 0xC0, 0, 0, 0xE7]))
            assert len(rsp) == 0xE7 + 2 and rsp[-2:] == b"\x61\x19"
        else:
            assert len(rsp) == 258 and sw(rsp) == 0x9000


def test_pin_status_query_spends_no_try(cps3):
    cps3.power_on()
    for _ in range(5):
        assert cps3.process(bytes.fromhex("00200001")) == b"\x63\xc3"
    assert cps3.process(bytes.fromhex("0020000100")) == b"\x63\xc3"   # T=0 form with P3=00


def test_reset_retry_counter_unblocks(pki):
    card = virtual_card(profiles.load_folder(pki.cards / "cps3-pin-blocked"))
    assert card.process(bytes.fromhex("00200001")) == b"\x69\x83"
    assert sw(card.process(bytes.fromhex("002C010108") + b"00000000")) == 0x63C9   # wrong unblock code
    assert sw(card.process(bytes.fromhex("002C00010C") + b"12345678" + b"9876")) == 0x9000
    assert card.process(bytes.fromhex("00200001")) == b"\x63\xc3"
    assert sw(card.process(bytes.fromhex("0020000104") + b"9876")) == 0x9000


def test_pso_hash_resumes_sha1_state(cps3):
    cps3.power_on()
    # Whole message in the last block (<= 64 bytes): no intermediate state.
    assert sw(cps3.process(bytes.fromhex("002241AA03800110"))) == 0x9000
    msg = b"xxxxxxxxxxxxxxxxxxx\n"
    body = b"\x90\x00\x80" + bytes([len(msg)]) + msg
    assert sw(cps3.process(bytes([0, 0x2A, 0x90, 0xA0, len(body)]) + body)) == 0x9000
    assert cps3.env.digest == ("sha1", hashlib.sha1(msg).digest())
    assert finish("sha1", msg) == hashlib.sha1(msg).digest()


def test_mask_secrets_hides_pin_bytes():
    assert mask_secrets(bytes.fromhex("002000010431323334")) == "00 20 00 01 04 ** ** ** **"
    assert mask_secrets(bytes.fromhex("00A4090C023F00")) == "00 a4 09 0c 02 3f 00"


@settings(max_examples=300, deadline=None)
@given(st.binary(min_size=0, max_size=300))
def test_any_bytes_get_a_status_word_never_an_exception(cps3, raw):
    rsp = cps3.process(raw)
    assert len(rsp) >= 2
    assert rsp[-2] in (0x90, 0x61, 0x62, 0x63, 0x67, 0x68, 0x69, 0x6A, 0x6B, 0x6C, 0x6D, 0x6E, 0x6F)
    assert rsp[-2:] != b"\x6f\x00", f"internal error on {raw.hex()}"


def test_cps2ter_get_response_keeps_its_data_for_one_command_only(cps3):
    cps3.power_on()
    assert cps3.process(bytes.fromhex("A0A40000023F00")) == b"\x9f\x07"
    assert cps3.process(bytes.fromhex("A0C0000008")) == b"\x67\x00"        # more than waits: refused, still there
    assert cps3.process(bytes.fromhex("A0C0000007")) == bytes.fromhex("85050000 3F0001 9000".replace(" ", ""))
    assert cps3.process(bytes.fromhex("A0C0000007")) == b"\x6f\x00"        # delivered once
    assert cps3.process(bytes.fromhex("A0A40000023F00")) == b"\x9f\x07"
    assert sw(cps3.process(bytes.fromhex("00A4090C023F00"))) == 0x9000     # an IAS command in between
    assert cps3.process(bytes.fromhex("A0C0000007")) == b"\x6f\x00"
    assert cps3.process(bytes.fromhex("A0A40100023F00")) == b"\x6b\x00"    # P1-P2 must be 00 00
    assert cps3.process(bytes.fromhex("A0A40000013F")) == b"\x67\x00"


def test_each_generation_takes_its_own_mse_and_pso_forms(cps3, cps4):
    cps3.power_on()
    cps4.power_on()
    assert sw(cps3.process(bytes.fromhex("002281B604910228A1"))) == 0x6A80    # the CPS4 form on a CPS3
    assert sw(cps4.process(bytes.fromhex("012241B606800142840181"))) == 0x6A80  # the CPS3 form on a CPS4
    assert sw(cps4.process(bytes.fromhex("012241AA03800140"))) == 0x6A86      # no card-side hash on a CPS4


def test_update_binary_needs_a_current_ef_and_no_le(cps3, pki):
    cps3.power_on()
    assert sw(cps3.process(bytes.fromhex("00A4090C023F00"))) == 0x9000
    assert sw(cps3.process(bytes.fromhex("00D6000001AA"))) == 0x6986           # the MF is no EF
    assert sw(cps3.process(bytes.fromhex("00A4090C063F000001D107"))) == 0x9000
    assert sw(cps3.process(bytes.fromhex("00D6000001AA00"))) == 0x6700         # a Le has no place here
    contactless = virtual_card(profiles.load_folder(pki.cards / "cps3-sans-contact"))
    assert sw(contactless.process(bytes.fromhex("00A4090C063F000002D107"))) == 0x9000
    assert sw(contactless.process(bytes.fromhex("00D6000001AA"))) == 0x6982    # read-only on that face
    assert contactless.process(bytes.fromhex("A0A40000023F00")) == b"\x6e\x00"  # and no CPS2ter side
