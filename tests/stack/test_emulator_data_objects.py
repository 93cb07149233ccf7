"""The emulated card's data objects through the real stack (pyscard -> pcscd -> vpcd -> emulator).

The CPS2ter APDUs are those ANS's Cryptolib sends to read CPS_SIT_FACT and
CPS2TER_ACTIVITY_nn_PS on a CPS3 (../shared/research/cryptolib-data-objects.md
§1.4): CLA A0, SELECT one file identifier at a time answered 9F xx, GET
RESPONSE A0 C0 with a description starting 85, READ BINARY A0 B0, 94 04 for a
file that is not there. Expected contents come from the profiles' [data]
tables, encoded here by hand as the research note describes them.
"""

from __future__ import annotations

import pytest

from tests.stack.test_emulator_pcsc import Conn

pytestmark = pytest.mark.stack

PIN_CPS3 = "0020000104" + b"1234".hex()


def situation(name: str, structure_id: str, sector: str) -> bytes:
    def tlv(tag: int, value: bytes) -> bytes:
        return bytes([tag, len(value)]) + value

    return tlv(0xEE, tlv(0x84, name.encode()) + tlv(0x85, structure_id.encode()) + tlv(0x86, sector.encode()))


FIRST = situation("CABINET DU DR EMULATEUR-MEDECIN", "399999999900019", "SA07")
SECOND = situation("CENTRE DE SANTE EMULATEUR", "1999999980", "SA05")


def select_cps2ter(c: Conn, fid: str) -> tuple[bytes, int]:
    """A0 A4 00 00 02 <fid> then, on 9F xx, A0 C0 00 00 xx: the description and the final status word."""
    data, sw = c.tx("A0A4000002" + fid)
    if sw >> 8 != 0x9F:
        return data, sw
    return c.tx(bytes([0xA0, 0xC0, 0, 0, sw & 0xFF]))


def test_cps2ter_side_serves_the_billing_situation_and_the_situations_after_the_pin(insert_card, stack):
    insert_card("cps3-medecin")
    c = Conn(stack.reader)
    assert c.tx("A0A40000023F00")[1] == 0x9F07
    data, sw = c.tx("A0C0000007")
    assert (data, sw) == (bytes.fromhex("8505 0000 3F00 01".replace(" ", "")), 0x9000)      # the MF, type 01
    data, sw = select_cps2ter(c, "7F01")
    assert (data, sw) == (bytes.fromhex("8505 0000 7F01 02".replace(" ", "")), 0x9000)      # a DF, type 02
    data, sw = select_cps2ter(c, "4000")
    assert sw == 0x9000 and data[:2] == b"\x85\x05" and data[4:] == bytes.fromhex("400004")  # an EF, type 04
    size = int.from_bytes(data[2:4], "big")
    # CPS_SIT_FACT: the holder's billing situation, which needs the PIN.
    assert c.tx(bytes([0xA0, 0xB0, 0, 0, size]))[1] == 0x9804
    assert c.tx(PIN_CPS3)[1] == 0x9000
    assert c.tx(bytes([0xA0, 0xB0, 0, 0, size])) == (FIRST, 0x9000)
    for fid, expected in (("4010", FIRST), ("4011", SECOND)):
        assert select_cps2ter(c, "3F00")[1] == 0x9000
        data, sw = select_cps2ter(c, fid)
        assert sw == 0x9000 and int.from_bytes(data[2:4], "big") == len(expected)
        # Read in two parts, as the Cryptolib reads in chunks of at most E7 with the offset in P1-P2.
        head, sw1 = c.tx(bytes([0xA0, 0xB0, 0, 0, 10]))
        tail, sw2 = c.tx(bytes([0xA0, 0xB0, 0, 10, len(expected) - 10]))
        assert (head + tail, sw1, sw2) == (expected, 0x9000, 0x9000)
    # Two situations on this card: no 4012, and reading past the end is refused.
    assert select_cps2ter(c, "3F00")[1] == 0x9000
    assert c.tx("A0A40000024012")[1] == 0x9404
    assert c.tx("A0A40000024011")[1] == 0x9F07
    assert c.tx(bytes([0xA0, 0xB0, 0, 0, len(SECOND) + 1]))[1] == 0x6700
    c.close()


def test_cps2ter_commands_leave_the_ias_side_alone(insert_card, stack):
    insert_card("cps3-medecin")
    c = Conn(stack.reader)
    assert c.tx("00A4090C063F000001D107")[1] == 0x9000
    assert c.tx("A0B0000001")[1] == 0x9400               # no CPS2ter EF selected: its MF is current
    assert select_cps2ter(c, "4010")[1] == 0x9000        # found under the CPS2ter MF, not the IAS DF 0001
    data, sw = c.tx("00B0000004")                        # and the IAS current file is still CPS_DATA
    assert (data, sw) == (bytes(4), 0x9000)
    assert select_cps2ter(c, "7F01")[1] == 0x9000
    assert c.tx("A0A40000024010")[1] == 0x9404           # one level at a time: 4010 is not in 7F01
    assert c.tx("A0CA000000")[1] == 0x6D00               # not a CPS2ter instruction
    c.close()


def test_a_cps4_has_no_cps2ter_side_on_its_contact_chip(insert_card, stack):
    insert_card("cps4-infirmier")
    c = Conn(stack.reader)
    assert c.tx("A0A40000023F00")[1] == 0x6E00
    c.close()


def test_cps3_private_situation_files_need_the_pin(insert_card, stack):
    insert_card("cps3-medecin")
    c = Conn(stack.reader)
    fcp, sw = c.tx_full("00A40904063F000001D120")
    assert sw == 0x9000 and fcp[4:6] == len(FIRST).to_bytes(2, "big")
    # The access rules in the FCP say so: read 11 (PIN, security environment #1), update FF (never).
    assert bytes.fromhex("8C077BFFFFFFFFFF11") in fcp
    assert c.tx(bytes([0, 0xB0, 0, 0, len(FIRST)]))[1] == 0x6982
    assert c.tx(PIN_CPS3)[1] == 0x9000
    assert c.tx(bytes([0, 0xB0, 0, 0, len(FIRST)])) == (FIRST, 0x9000)
    c.close()


def test_cps3_cps_data_takes_update_binary_after_the_pin_and_keeps_it(insert_card, stack):
    insert_card("cps3-medecin")
    c = Conn(stack.reader)
    fcp, sw = c.tx_full("00A40904063F000001D107")
    assert sw == 0x9000 and fcp[4:6] == (2048).to_bytes(2, "big")
    assert bytes.fromhex("8C077BFFFFFFFF1100") in fcp           # update 11 (PIN), read 00 (always)
    assert c.tx("00D6000004DEADBEEF")[1] == 0x6982
    assert c.tx(PIN_CPS3)[1] == 0x9000
    assert c.tx("00D6000004DEADBEEF")[1] == 0x9000
    assert c.tx("00D607FE02CAFE")[1] == 0x9000                  # the last two bytes of the file
    assert c.tx("00D607FF02CAFE")[1] == 0x6A84                  # one byte too many
    assert c.tx("00D6080001AA")[1] == 0x6B00                    # past the end
    c.close()
    # A new connection (the card reset, the PIN forgotten): the bytes written are still there.
    c = Conn(stack.reader)
    assert c.tx("00A4090C063F000001D107")[1] == 0x9000
    assert c.tx("00B0000004") == (bytes.fromhex("DEADBEEF"), 0x9000)
    assert c.tx("00B007FE02") == (bytes.fromhex("CAFE"), 0x9000)
    assert c.tx("00D6000001AA")[1] == 0x6982
    c.close()


def test_cps4_cps_data_is_read_only(insert_card, stack):
    insert_card("cps4-infirmier")
    c = Conn(stack.reader)
    assert c.tx("01A4040C088025000001FF0100")[1] == 0x9000
    fci, sw = c.tx_full("01A4080004 0001D107".replace(" ", ""), cla=0x01)
    assert sw == 0x9000 and fci[0] == 0x6F and bytes.fromhex("8C077BFFFFFFFFFF00") in fci
    assert c.tx("0120000104" + b"4321".hex())[1] == 0x9000
    assert c.tx("01D6000001FF")[1] == 0x6982
    assert c.tx("01B0000001") == (b"\x00", 0x9000)
    c.close()
