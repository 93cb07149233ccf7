"""ATR report form and messages, in full: every key of to_dict for real CPS ATRs, every refusal's sentence.

The ATRs are the real ones of /work/shared/research/card.md §1.1; the expected decodings are written by hand
from ISO/IEC 7816-3 §8 (T0/TDi presence bits, TA1 Fi/Di tables 7-8, TCK) and 7816-4 §8.1.1 (category
indicator, compact-TLV tag/length byte, status indicator), as card.md §1.1 spells them out for the CPS3.
"""

from __future__ import annotations

from functools import reduce

import pytest

from cpsdiag.errors import MalformedDataError
from cpsdiag.iso7816.atr import decode_compact_tlv, parse_atr

CPS3 = "3B AC 00 40 2A 00 12 25 00 64 80 00 03 10 00 90 00"
CPS3_CL = "3B 8F 80 01 00 31 B8 64 04 B0 EC C1 73 94 01 80 82 90 00 0E"
CPS4_T1 = "3B 9B 18 80 01 00 12 25 00 64 80 04 01 00 00 90 44"


def with_tck(text: str) -> str:
    """TEXT followed by the byte that makes the XOR of T0..TCK zero (ISO/IEC 7816-3 §8.2.5)."""
    raw = bytes.fromhex(text)
    return f"{text} {reduce(lambda a, b: a ^ b, raw[1:], 0):02X}"


def refusal(data, **kwargs) -> MalformedDataError:
    with pytest.raises(MalformedDataError) as caught:
        parse_atr(data, **kwargs)
    return caught.value


def test_cps3_contact_report_form_in_full():
    assert parse_atr(CPS3).to_dict() == {
        "hex": CPS3, "convention": "direct", "protocols": ["T=0"],
        "interface_bytes": [{"TB": "00", "TD": "40", "i": 1, "qualifier": None, "announces": 0},
                            {"TC": "2A", "i": 2, "qualifier": 0, "announces": None}],
        "fi": 372, "di": 1, "f_max_mhz": 5.0, "extra_guard_time": 0, "work_waiting_integer": 42,
        "specific_mode": False, "historical_bytes": "00 12 25 00 64 80 00 03 10 00 90 00", "category": "00",
        "objects": [{"tag": 1, "name": "country code", "value": "25 00", "offset": 6},
                    {"tag": 6, "name": "pre-issuing data", "value": "80 00 03 10", "offset": 9}],
        "status": "00 90 00", "tck": None, "tck_ok": None, "problems": [], "length": 17, "ts": "3B", "t0": "AC",
        "historical_length": 12, "indicated_protocols": [0], "t15_global": False, "operating_f": 372,
        "operating_d": 1, "specific_mode_parameters": None, "t1": None, "t15": None,
        "historical": {
            "raw": "00 12 25 00 64 80 00 03 10 00 90 00", "offset": 5, "category": "00",
            "category_name": "compact-TLV followed by a status indicator",
            "objects": [{"tag": 1, "name": "country code", "value": "25 00", "offset": 6},
                        {"tag": 6, "name": "pre-issuing data", "value": "80 00 03 10", "offset": 9}],
            "country_code": "250", "status": {"lcs": "00", "sw": "9000"}, "dir_reference": None, "problem": None},
    }


def test_cps3_contactless_pseudo_atr_report_form():
    doc = parse_atr(CPS3_CL).to_dict()
    assert doc["interface_bytes"] == [{"TD": "80", "i": 1, "qualifier": None, "announces": 0},
                                      {"TD": "01", "i": 2, "qualifier": 0, "announces": 1},
                                      {"i": 3, "qualifier": 1, "announces": None}]
    assert (doc["protocols"], doc["indicated_protocols"], doc["tck"], doc["tck_ok"]) == (["T=0", "T=1"], [0, 1], "0E", True)
    assert doc["t1"] == {"ifsc": 32, "bwi": 4, "cwi": 13, "edc": "LRC"}
    assert doc["objects"] == [{"tag": 3, "name": "card service data", "value": "B8", "offset": 5},
                              {"tag": 6, "name": "pre-issuing data", "value": "04 B0 EC C1", "offset": 7},
                              {"tag": 7, "name": "card capabilities", "value": "94 01 80", "offset": 12}]
    assert doc["historical"]["status"] == {"lcs": "82", "sw": "9000"} and doc["status"] == "82 90 00"
    assert doc["historical"]["country_code"] is None and doc["problems"] == []
    assert (doc["length"], doc["historical_length"], doc["historical"]["offset"]) == (20, 15, 4)


def test_cps4_t1_report_form():
    doc = parse_atr(CPS4_T1).to_dict()
    # TA1 18: Fi code 1 (372, 5 MHz), Di code 8 (12).
    assert (doc["fi"], doc["di"], doc["f_max_mhz"], doc["operating_f"], doc["operating_d"]) == (372, 12, 5.0, 372, 12)
    assert doc["interface_bytes"][0] == {"TA": "18", "TD": "80", "i": 1, "qualifier": None, "announces": 0}
    assert (doc["tck"], doc["tck_ok"], doc["work_waiting_integer"]) == ("44", True, 10)
    # Category 00 keeps its last 3 bytes (00 00 90) as the status: the tag-6 object before them is cut short.
    assert doc["historical"]["problem"] == (
        "compact-TLV object 64 (tag 6) at offset 9 announces 4 byte(s) but only 3 remain (category 00 keeps the "
        "last 3 historical bytes for the status indicator)")
    assert doc["problems"] == ["historical bytes: " + doc["historical"]["problem"]]
    assert doc["historical"]["status"] == {"lcs": "00", "sw": "0090"}


def test_specific_mode_parameters():
    implicit = parse_atr(with_tck("3B 90 96 11 91"))
    assert implicit.to_dict()["specific_mode_parameters"] == {"protocol": 1, "can_change": False,
                                                             "implicit_parameters": True}
    assert implicit.operating_fd == (372, 1) and implicit.specific_mode
    explicit = parse_atr(with_tck("3B 90 96 11 01"))
    assert explicit.to_dict()["specific_mode_parameters"] == {"protocol": 1, "can_change": True,
                                                             "implicit_parameters": False}
    # TA1 96: Fi code 9 = 512 (5 MHz), Di code 6 = 32.
    assert (explicit.operating_fd, explicit.fi, explicit.di, explicit.f_max_mhz) == ((512, 32), 512, 32, 5)


def test_t1_and_t15_parameters_in_the_report():
    doc = parse_atr(with_tck("3B 80 80 71 FE 45 01")).to_dict()
    assert doc["t1"] == {"ifsc": 254, "bwi": 4, "cwi": 5, "edc": "CRC"}
    assert doc["interface_bytes"][2] == {"TA": "FE", "TB": "45", "TC": "01", "i": 3, "qualifier": 1, "announces": None}
    even_tc = parse_atr(with_tck("3B 80 80 41 02")).to_dict()
    assert even_tc["t1"] == {"ifsc": 32, "bwi": 4, "cwi": 13, "edc": "LRC"}
    t15 = parse_atr(with_tck("3B 80 80 3F C3 05")).to_dict()
    assert t15["t15"] == {"clock_stop": "no preference", "classes": ["A", "B"], "spu": "05"}
    assert (t15["t15_global"], t15["protocols"], t15["indicated_protocols"]) == (True, ["T=0"], [0, 15])
    assert parse_atr(with_tck("3B 80 80 1F 44")).to_dict()["t15"] == {"clock_stop": "state L", "classes": ["C"],
                                                                      "spu": None}
    assert parse_atr(with_tck("3B 80 80 1F 80")).to_dict()["t15"]["clock_stop"] == "state H"
    assert parse_atr(with_tck("3B 80 80 2F 07")).to_dict()["t15"] == {"clock_stop": None, "classes": [], "spu": "07"}
    assert parse_atr(with_tck("3B 80 80 1F 00")).global_t15.clock_stop == "not supported"


def test_inverse_convention_and_guard_time():
    doc = parse_atr("3F 40 FF").to_dict()
    assert (doc["convention"], doc["ts"], doc["extra_guard_time"]) == ("inverse", "3F", 255)
    assert doc["interface_bytes"] == [{"TC": "FF", "i": 1, "qualifier": None, "announces": None}]


# -- problems --------------------------------------------------------------------------------------------------

def test_problem_sentences():
    assert parse_atr("3B 80 01 11").problems == ("TCK 11 is wrong (XOR of T0..TCK is 90, not 00)",)
    assert parse_atr("3B 10 70").problems == ("TA1 70 uses a reserved (RFU) Fi or Di code; F=372, D=1 assumed",)
    assert parse_atr("3B 10 1A").problems == ("TA1 1A uses a reserved (RFU) Fi or Di code; F=372, D=1 assumed",)
    assert parse_atr("3B 10 11").problems == ()
    assert parse_atr("3B 20 05").problems == (
        "TB1 05 asks for a programming voltage Vpp (deprecated since ISO/IEC 7816-3:2006)",)
    assert parse_atr(with_tck("3B 80 0F")).problems == (
        "TD1 announces T=15, which may only qualify interface bytes from TD2 on",)
    assert parse_atr(with_tck("3B 80 81 00")).problems == ("TDi announce protocols out of ascending order: T=1, T=0",)
    assert parse_atr("3B 80 40 00").problems == ("TC2 00 is RFU (WI is 1..255); WI=10 assumed",)
    assert parse_atr(with_tck("3B 80 80 11 00")).problems == ("T=1 IFSC byte 00 is RFU",)
    assert parse_atr(with_tck("3B 80 80 11 FF")).problems == ("T=1 IFSC byte FF is RFU",)
    assert parse_atr("3B 02 00 90").problems == (
        "historical bytes: category 00 needs a 3-byte status indicator at the end, only 1 byte(s) follow",)


def test_rfu_codes_fall_back_to_the_defaults_in_timing():
    atr = parse_atr("3B 10 70")
    assert (atr.fi, atr.f_max_mhz, atr.di, atr.operating_fd) == (None, None, None, (372, 1))
    # Fi valid, Di RFU (code A): the defaults for both.
    assert parse_atr("3B 10 1A").operating_fd == (372, 1) and parse_atr("3B 10 1A").fi == 372
    assert atr.work_waiting_time_seconds(3_720_000) == 10 * 960 * 372 / 3_720_000


# -- historical bytes -------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("hist", "category_name", "status", "problem"), [
    ("80 82 90 00", "compact-TLV", {"lcs": None, "sw": "9000"}, None),
    ("80 81 05", "compact-TLV", {"lcs": "05", "sw": None}, None),
    ("80 83 07 90 00", "compact-TLV", {"lcs": "07", "sw": "9000"}, None),
    ("80 84 01 02 03 04", "compact-TLV", None, "status indicator object has 4 byte(s), expected 1, 2 or 3"),
    ("80 31 80 82", "compact-TLV", None, "compact-TLV object 82 (tag 8) at offset 5 announces 2 byte(s) but only 0 remain"),
    ("10 A1 B2", "DIR data reference", None, None),
    ("10", "DIR data reference", None, "category 10 announces a DIR data reference but none follows"),
    ("81 00", "RFU", None, None),
    ("8F", "RFU", None, None),
    ("90 12", "proprietary", None, None),
    ("7F", "proprietary", None, None),
])
def test_historical_categories(hist, category_name, status, problem):
    raw = bytes.fromhex(hist)
    info = parse_atr(bytes([0x3B, len(raw)]) + raw).historical_info.to_dict()
    assert (info["category"], info["category_name"], info["status"], info["problem"]) == (
        f"{raw[0]:02X}", category_name, status, problem)
    assert info["dir_reference"] == {"10 A1 B2": "A1 B2", "10": ""}.get(hist)


def test_no_historical_bytes():
    info = parse_atr("3B 00").historical_info
    assert info.to_dict() == {"raw": "", "offset": 2, "category": None, "category_name": None, "objects": [],
                              "country_code": None, "status": None, "dir_reference": None, "problem": None}


def test_country_code_needs_two_bcd_bytes():
    assert parse_atr("3B 03 80 11 25").historical_info.country_code is None      # one byte only
    assert parse_atr("3B 04 80 12 A5 00").historical_info.country_code is None   # not digits
    assert parse_atr("3B 06 80 21 01 12 02 50").historical_info.country_code == "025"  # the first tag-1 object
    assert parse_atr("3B 04 80 12 25 00").historical_info.find(0x2) is None


def test_an_unknown_compact_tlv_tag_is_rfu():
    assert parse_atr("3B 03 80 91 AA").to_dict()["objects"] == [{"tag": 9, "name": "RFU", "value": "AA", "offset": 3}]


def test_decode_compact_tlv_alone():
    objects, problem = decode_compact_tlv(bytes.fromhex("12 25 00 00"))
    assert [(o.tag, o.value, o.offset) for o in objects] == [(1, b"\x25\x00", 0), (0, b"", 3)] and problem is None
    objects, problem = decode_compact_tlv(bytes.fromhex("12 25"), base_offset=10)
    assert objects == () and problem == ("compact-TLV object 12 (tag 1) at offset 10 announces 2 byte(s) but only 1 "
                                         "remain")
    [obj] = decode_compact_tlv(bytes.fromhex("31 B8"), base_offset=7)[0]
    assert (obj.tag, obj.value, obj.offset) == (3, b"\xb8", 7)


# -- refusals -------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("data", "message"), [
    ("", "ATR (r): empty: an ATR has at least TS and T0 at offset 0"),
    ("3B", "ATR (r): 1 byte: an ATR has at least TS and T0 at offset 1"),
    ("3C 00", "ATR (r): TS is 3C: expected 3B (direct) or 3F (inverse convention) at offset 0"),
    ("03 00", "ATR (r): TS is 03: expected 3B (direct) or 3F (inverse convention) (03 is what an inverse-convention "
              "3F looks like read as direct) at offset 0"),
    ("3B 10", "ATR (r): TA1 announced by T0 but the ATR ends at offset 2"),
    ("3B 20", "ATR (r): TB1 announced by T0 but the ATR ends at offset 2"),
    ("3B 40", "ATR (r): TC1 announced by T0 but the ATR ends at offset 2"),
    ("3B 80", "ATR (r): TD1 announced by T0 but the ATR ends at offset 2"),
    ("3B 80 81", "ATR (r): TD2 announced by TD1 but the ATR ends at offset 3"),
    ("3B 80 80 81", "ATR (r): TD3 announced by TD2 but the ATR ends at offset 4"),
    ("3B 03 80", "ATR (r): T0 announces 3 historical bytes, only 1 left at offset 3"),
    ("3B 80 01", "ATR (r): TCK missing (required when a protocol other than T=0 is indicated) at offset 3"),
    ("3B 80 80 0F", "ATR (r): TCK missing (required when a protocol other than T=0 is indicated) at offset 4"),
    ("3B 00 00", "ATR (r): 1 unexpected byte(s) after the historical bytes; if it is meant as a TCK, ISO/IEC 7816-3 "
                 "forbids one when only T=0 is indicated at offset 2"),
    ("3B 00 00 00", "ATR (r): 2 unexpected byte(s) after the historical bytes at offset 2"),
    ("3B 80 01 81 00", "ATR (r): 1 unexpected byte(s) after the TCK at offset 4"),
    ("3B" + " 00" * 33, "ATR (r): 34 bytes: an ATR has at most 33 at offset 33"),
])
def test_structural_refusal_sentences(data, message):
    assert str(refusal(bytes.fromhex(data), where="r")) == message


@pytest.mark.parametrize(("text", "message"), [
    ("3B 0", "ATR: odd number of hex digits in '0' at character position 3"),
    ("3BA C0", "ATR: odd number of hex digits in '3BA' at character position 0"),
    ("3B AG", "ATR: 'G' at character position 4 is not a hexadecimal digit"),
    ("3B;00", "ATR: ';' at character position 2 is not a hexadecimal digit"),
    ("3B " + "00" * 33, "ATR: more than 33 bytes: an ATR has at most 33 at offset 33"),
])
def test_hex_text_refusal_sentences(text, message):
    assert str(refusal(text)) == message


def test_hex_text_accepted_forms():
    assert parse_atr("0x3B,0x00").raw == b"\x3b\x00"
    assert parse_atr("0X3B-00").raw == b"\x3b\x00"
    assert parse_atr("3B.00").raw == b"\x3b\x00"
    assert parse_atr("3B\u00a000").raw == b"\x3b\x00"        # a no-break space from a web page
    assert parse_atr("3b\r\n00").raw == b"\x3b\x00"
    assert parse_atr("3B 0A 00 00 00 00 00 00 00 00 00 00".replace(" ", "")).raw == bytes.fromhex("3B0A") + bytes(10)
    # 33 bytes as one token is the most: 66 digits.
    assert len(parse_atr("3B0F" + "00" * 15).raw) == 17
    limit = "3B" + "00" * 32
    assert str(refusal(limit)) == "ATR: 31 unexpected byte(s) after the historical bytes at offset 2"
    assert str(refusal(limit + "0")).startswith("ATR: odd number of hex digits")
    assert str(refusal(limit + "00")) == "ATR: more than 33 bytes: an ATR has at most 33 at offset 33"


def test_type_refusal_sentence():
    assert str(refusal([0x3B, 0x00], where="pcsc")) == (
        "ATR (pcsc): expected bytes or hex text, got list (for pyscard's list of ints, pass bytes(atr))")


def test_global_parameter_and_clock_messages():
    atr = parse_atr(CPS3)
    assert (atr.global_parameter("tb"), atr.global_parameter("td"), atr.global_parameter("ta")) == (0x00, 0x40, None)
    with pytest.raises(ValueError) as caught:
        atr.global_parameter("te")
    assert str(caught.value) == "no interface byte named 'te'"
    for clock in (0, -1.0, float("nan"), float("inf"), True, "3.5"):
        with pytest.raises(ValueError) as caught:
            atr.etu_seconds(clock)
        assert str(caught.value) == f"clock frequency must be a positive number of hertz, got {clock!r}"
    with pytest.raises(ValueError):
        atr.work_waiting_time_seconds(0)


def test_hex_text_refusals_say_where_and_count_after_a_0x_prefix():
    assert str(refusal("0x3B 0x0", where="log")) == "ATR (log): odd number of hex digits in '0' at character position 7"
    assert str(refusal("3B G0", where="log")) == "ATR (log): 'G' at character position 3 is not a hexadecimal digit"
    assert str(refusal("3B" + "00" * 33, where="log")) == (
        "ATR (log): more than 33 bytes: an ATR has at most 33 at offset 33")


def test_timing_arguments_are_passed_through():
    # CPS4 T=1: F=372, D=12 once the ATR is over; the ATR itself runs at F=372, D=1.
    cps4 = parse_atr(CPS4_T1)
    assert cps4.etu_seconds(3_720_000) == pytest.approx(372 / (12 * 3_720_000))
    assert cps4.etu_seconds(1) == 31.0 and cps4.etu_seconds(1, initial=True) == 372.0
    assert cps4.byte_time_seconds(3_720_000) == pytest.approx(12 * 372 / (12 * 3_720_000))
    assert cps4.byte_time_seconds(3_720_000, initial=True) == pytest.approx(12 * 372 / 3_720_000)
    # TC1 = FF: the minimum guard time, 11 etu a character for T=1, 12 for T=0; 12 during the ATR whatever TC1.
    guard = parse_atr(with_tck("3B C0 FF 81 01"))
    assert (guard.protocols, guard.extra_guard_time) == ((1,), 255)
    assert (guard.character_etus(), guard.character_etus(protocol=0), guard.character_etus(initial=True)) == (11, 12, 12)
    assert guard.byte_time_seconds(1, protocol=0) == 12 * 372 and guard.byte_time_seconds(1) == 11 * 372
    assert parse_atr("3B 40 05").character_etus(initial=True) == 12 and parse_atr("3B 40 05").character_etus() == 17
    assert parse_atr(CPS3).global_parameter("tc") is None and parse_atr("3B 40 05").global_parameter("tc") == 5


def test_category_00_with_only_a_status_and_category_80_status_bytes():
    # 00 | 00 90 00: no compact-TLV object, just the 3-byte status indicator (LCS 00, SW 9000).
    only_status = parse_atr("3B 04 00 00 90 00")
    assert (only_status.objects, only_status.status, only_status.problems) == ((), b"\x00\x90\x00", ())
    assert parse_atr("3B 04 80 82 90 00").status == b"\x90\x00"
    assert parse_atr("3B 04 80 82 90 00").to_dict()["status"] == "90 00"


def test_the_atr_itself_is_timed_without_the_guard_time():
    guard = parse_atr(with_tck("3B C0 FF 81 01"))
    assert guard.byte_time_seconds(1, initial=True) == 12 * 372
