"""The card-side parsers on bytes a real CPS3 returned (card.md §3.1) and on the documented PKCS#15 layout."""

from __future__ import annotations

import pytest

from cpsdiag.card import pkcs15
from cpsdiag.card.efsn import luhn_digit, parse_ef_sn
from cpsdiag.card.pin import parse_pin_sdo, status_from_verify_sw
from cpsdiag.errors import MalformedDataError
from cpsdiag.iso7816.fcp import parse_fcp


def h(text: str) -> bytes:
    return bytes.fromhex("".join(text.split()))


# Verbatim from a real CPS3 read by ANS's Cryptolib (OpenSC issue #2275, card.md §3.1).
REAL_EF_SN_FCP = h("62 25 80 02 00 0C 82 01 01 83 02 D0 03 88 01 E0 A1 12 8C 07 7B FF FF FF FF FF 00 "
                   "9C 07 7B FF FF FF FF FF 00 8A 01 05")
REAL_EF_SN = h("5A 0A 80 25 00 00 01 99 21 38 45 0F")
REAL_PIN_SDO = h("70 16 BF 81 01 12 A0 10 9A 01 03 9B 01 03 A1 08 8C 06 F3 00 00 13 FF 00")


def test_real_cps3_serial_number():
    serial = parse_ef_sn(REAL_EF_SN)
    assert serial.card_number == "99213845"
    assert serial.issuer == "8025000001" and serial.ans_issuer
    assert serial.check_digit == 0 and serial.check_ok


def test_real_cps3_ef_sn_fcp():
    info = parse_fcp(REAL_EF_SN_FCP)
    assert (info.fid, info.size, info.sfi, info.is_df, info.life_cycle) == (0xD003, 12, 0x1C, False, 0x05)


def test_real_cps3_pin_counter():
    status = parse_pin_sdo(REAL_PIN_SDO)
    assert (status.tries_left, status.max_tries, status.blocked) == (3, 3, False)


def test_pin_counter_after_wrong_pins_and_usage_counter():
    # card.md: after a wrong PIN the card answers 9B 01 02.
    assert parse_pin_sdo(h("70 16 BF 81 01 12 A0 10 9A 01 03 9B 01 02 A1 08 8C 06 F3 00 00 13 FF 00")).tries_left == 2
    # 9D (remaining usage counter) at zero makes the PIN unusable whatever 9B says.
    blocked = parse_pin_sdo(h("70 0F BF 81 01 0B A0 09 9A 01 03 9B 01 03 9D 01 00"))
    assert blocked.blocked


def test_verify_status_words():
    assert status_from_verify_sw(0x63C2, 3).tries_left == 2
    assert status_from_verify_sw(0x6983, 3).blocked
    assert status_from_verify_sw(0x9000, 3).verified
    assert status_from_verify_sw(0x6A86, 3) is None


def test_bad_serial_numbers_are_malformed():
    with pytest.raises(MalformedDataError):
        parse_ef_sn(h("5A 0A 80 25 00 00 01 99 2A 38 45 0F"))
    with pytest.raises(MalformedDataError):
        parse_ef_sn(h("4F 02 12 34"))
    bad_check = parse_ef_sn(h("5A 0A 80 25 00 00 01 99 21 38 45 1F"))
    assert not bad_check.check_ok


def test_luhn():
    # 802500000112345678 -> 9 (opensc-cpx.md §9: 12 34 56 78 9F)
    assert luhn_digit("802500000112345678") == 9


LAB = {
    "dir": "61 1A 4F 0D E8 28 BD 08 0F 80 25 00 00 01 FF 00 10 50 03 43 50 53 51 04 3F 00 00 01",
    "odf": "A8 06 30 04 04 02 70 01 A0 06 30 04 04 02 70 02 A4 06 30 04 04 02 70 05",
    "aodf": "30 30 30 09 0C 03 50 49 4E 03 02 06 C0 30 03 04 01 01 A1 1E 30 1C 03 02 03 08 0A 01 01 02 01 04 "
            "02 01 04 02 01 08 80 01 01 04 01 FF 30 04 04 02 3F 00",
}


def test_pkcs15_documented_layout():
    [app] = pkcs15.parse_ef_dir(h(LAB["dir"]) + b"\x00" * 10)     # files are often zero-padded
    assert app.aid == h("E8 28 BD 08 0F 80 25 00 00 01 FF 00 10") and app.path == h("3F00 0001") and app.label == "CPS"
    assert pkcs15.parse_odf(h(LAB["odf"])) == {"authObjects": [h("7001")], "privateKeys": [h("7002")],
                                              "certificates": [h("7005")]}
    [pin] = pkcs15.parse_aodf(h(LAB["aodf"]))
    assert (pin.label, pin.reference, pin.min_length, pin.max_length, pin.path) == ("PIN", 1, 4, 8, h("3F00"))
