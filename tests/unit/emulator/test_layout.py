"""The emulated card files against the bytes OpenSC 0.23 and Cryptolib 5.2.2 were shown to accept.

Expected hex is copied from ../shared/research/opensc-cpx.md §9. The lab's token label
"CPS3v3-1234567801" has the form of a real card's (CPS3v3-2900995266): the card number 1234567801.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from cpsdiag.emulator import layout
from cpsdiag.emulator.generations import CPS3, CPS4
from cpsdiag.emulator.profile import KeyPair, Profile

DOC = {
    "EF.DIR": "61 1A 4F 0D E8 28 BD 08 0F 80 25 00 00 01 FF 00 10 50 03 43 50 53 51 04 3F 00 00 01",
    "ODF": "A8 06 30 04 04 02 70 01 A0 06 30 04 04 02 70 02 A4 06 30 04 04 02 70 05",
    "TokenInfo": """30 81 E4 02 01 00 04 00 0C 0A 41 53 49 50 20 53 41 4E 54 45 80 11 43 50 53 33 76 33 2D 31 32 33
34 35 36 37 38 30 31 03 02 06 C0 A2 81 A6 30 17 02 01 01 02 02 02 20 05 00 03 02 01 02 06 05 2B
0E 03 02 1A 02 01 10 30 1B 02 01 02 02 02 02 50 05 00 03 02 01 02 06 09 60 86 48 01 65 03 04 02
01 02 01 40 30 1A 02 01 03 02 01 06 05 00 03 02 06 40 06 09 2A 86 48 86 F7 0D 01 01 05 02 01 12
30 1A 02 01 04 02 01 40 05 00 03 02 06 40 06 09 2A 86 48 86 F7 0D 01 01 0B 02 01 42 30 1A 02 01
05 02 01 01 05 00 03 02 02 04 06 09 2A 86 48 86 F7 0D 01 01 01 02 01 1A 30 1A 02 01 06 02 01 01
05 00 03 02 06 40 06 09 2A 86 48 86 F7 0D 01 01 01 02 01 02 A5 11 18 0F 32 30 31 30 30 33 31 36
31 31 30 30 30 30 5A""",
    "AODF": """30 30 30 09 0C 03 50 49 4E 03 02 06 C0 30 03 04 01 01 A1 1E 30 1C 03 02 03 08 0A 01 01 02 01 04
02 01 04 02 01 08 80 01 01 04 01 FF 30 04 04 02 3F 00""",
    "PrKDF": """30 48 30 15 0C 0C 43 50 53 5F 50 52 49 56 5F 41 55 54 03 02 06 C0 04 01 01 30 1F 04 0E E8 28 BD
08 0F 80 25 00 00 01 FF 00 10 02 03 02 05 60 01 01 FF 03 02 04 B0 02 02 00 82 A1 0E 30 0C 30 06
04 04 3F 00 00 01 02 02 08 00 30 49 30 15 0C 0C 43 50 53 5F 50 52 49 56 5F 53 49 47 03 02 07 80
04 01 01 30 20 04 0E E8 28 BD 08 0F 80 25 00 00 01 FF 00 10 01 03 03 06 00 40 01 01 FF 03 02 04
B0 02 02 00 81 A1 0E 30 0C 30 06 04 04 3F 00 00 01 02 02 08 00""",
    "CDF": """30 45 30 23 0C 21 43 65 72 74 69 66 69 63 61 74 20 64 27 41 75 74 68 65 6E 74 69 66 69 63 61 74
69 6F 6E 20 43 50 53 30 10 04 0E E8 28 BD 08 0F 80 25 00 00 01 FF 00 10 02 A1 0C 30 0A 30 08 04
06 3F 00 00 01 A0 01 30 3F 30 1D 0C 1B 43 65 72 74 69 66 69 63 61 74 20 64 65 20 53 69 67 6E 61
74 75 72 65 20 43 50 53 30 10 04 0E E8 28 BD 08 0F 80 25 00 00 01 FF 00 10 01 A1 0C 30 0A 30 08
04 06 3F 00 00 01 A0 02""",
    "EF.SN": "5A 0A 80 25 00 00 01 12 34 56 78 9F",
}


def h(text: str) -> bytes:
    return bytes.fromhex("".join(text.split()))


@pytest.fixture(scope="module")
def lab_profile() -> Profile:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pair = KeyPair(b"\x30\x00", key, Path("auth.pem"), Path("auth.key"))
    return Profile(name="lab", folder=Path("."), generation="CPS3", interface="contact",
                   atr=bytes.fromhex("3BAC00402A001225006480000310009000"), card_number="1234567801",
                   pin="1234", puk="12345678", pin_tries_left=3, pin_max_tries=3, auth=pair, signature=pair)


def test_pkcs15_files_match_the_layout_openSC_and_cryptolib_accepted(lab_profile):
    image = layout.build(lab_profile, CPS3)
    app = image.app
    assert image.mf.child(0x2F00).data == h(DOC["EF.DIR"])
    # The lab's ODF, and the data objects' DODF (7006, the IAS-ECC convention) after it.
    assert app.child(0x5031).data == h(DOC["ODF"] + " A7 06 30 04 04 02 70 06")
    assert app.child(0x5032).data == h(DOC["TokenInfo"])
    assert app.child(0x7001).data == h(DOC["AODF"])
    assert app.child(0x7002).data == h(DOC["PrKDF"])
    assert app.child(0x7005).data == h(DOC["CDF"])


def test_real_card_serial_number_encoding():
    # A real CPS3 (card.md §3.1) holds 5A 0A 80 25 00 00 01 99 21 38 45 0F for card 99213845.
    assert layout.ef_sn_icc("99213845") == h("5A 0A 80 25 00 00 01 99 21 38 45 0F")
    assert layout.ef_sn_icc("12345678") == h(DOC["EF.SN"])


def test_a_ten_digit_card_number_keeps_the_twelve_bytes_of_a_real_ef_sn(lab_profile):
    # 12 bytes whatever the number (the Cryptolib refuses any other size): its last 8 digits, then the Luhn
    # digit over 802500000134567801 (2, worked by hand) and F.
    image = layout.build(lab_profile, CPS3)
    assert image.mf.child(0xD003).data == h("5A 0A 80 25 00 00 01 34 56 78 01 2F")


@pytest.mark.parametrize("facts,interface,label", [
    (CPS3, "contact", "CPS3v3-1234567801"), (CPS4, "contact", "CPS4v1-1234567801"),
    (CPS3, "contactless", "CPS3v3_CL"),
])
def test_token_labels_have_the_form_of_real_cards(lab_profile, facts, interface, label):
    # ANS's campaign: CPS3v3-2900995266, CPS4v1-3100603746; contactless results are named CPS3v3_CL.
    from dataclasses import replace

    assert layout.token_label(replace(lab_profile, interface=interface), facts) == label


def test_dodf_entries_carry_the_flags_the_cryptolib_reads(lab_profile):
    app = layout.build(lab_profile, CPS3).app
    dodf = app.child(0x7006).data
    # CPS_DATA: public, modifiable (03 02 06 40), application "CPS", path 3F00/0001/D107.
    cps_data = h("30 23 30 0E 0C 08 43 50 53 5F 44 41 54 41 03 02 06 40 30 05 0C 03 43 50 53"
                 " A1 0A 30 08 04 06 3F 00 00 01 D1 07")
    # CPS_ACTIVITY_01_PS: private (03 02 07 80) with the PIN's authId 01, at D120.
    situation = h("30 30 30 1B 0C 12 43 50 53 5F 41 43 54 49 56 49 54 59 5F 30 31 5F 50 53 03 02 07 80 04 01 01"
                  " 30 05 0C 03 43 50 53 A1 0A 30 08 04 06 3F 00 00 01 D1 20")
    assert dodf.startswith(cps_data)
    assert dodf.endswith(situation)
    # The Cryptolib builds CPS_SIT_FACT and CPS2TER_* of a CPS3 itself: listing them too would double them.
    assert b"CPS_SIT_FACT" not in dodf and b"CPS2TER" not in dodf
    assert app.child(0xD107).data == bytes(2048)


def test_sdo_answers_match_the_documented_bytes(lab_profile):
    from cpsdiag.emulator.card import virtual_card

    image = virtual_card(lab_profile)
    assert image.app.sdos[h("BF9002")][b"\xa0"] == h("A0 11 80 02 01 00 A1 08 8C 06 3B 11 11 FF FF 00 9E 01 00")
    assert image.app.sdos[h("BF9001")][b"\xa0"] == h("A0 10 80 02 01 00 A1 07 8C 05 4B 11 FF FF 00 9E 01 01")
    assert image.mf.sdos[h("BFFB01")][b"\x7b"] == h("7B 08 A4 06 83 01 01 95 01 08")
