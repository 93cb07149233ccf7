"""ISO/IEC 7816-3 ATR decoding.

Every expected value below was worked out by hand from the standard's tables (the
derivation is in the comments), not copied from the decoder's output.
"""

from __future__ import annotations

import functools
import json
import operator
import re

import pytest
from hypothesis import assume, given, settings, strategies as st

from cpsdiag.errors import MalformedDataError
from cpsdiag.iso7816.atr import Atr, parse_atr

CPS3 = "3B AC 00 40 2A 00 12 25 00 64 80 00 03 10 00 90 00"
CPS3_CL = "3B 8F 80 01 00 31 B8 64 04 B0 EC C1 73 94 01 80 82 90 00 0E"
CPS4_T0 = "3B DC 18 FF 00 00 12 25 00 64 80 00 04 01 00 90 00"
CPS4_T1 = "3B 9B 18 80 01 00 12 25 00 64 80 04 01 00 00 90 44"
CPS4_RC = "3B 9B 18 80 01 00 12 25 00 64 80 00 04 01 00 90 44"
OLDER = "3B AC 00 40 2A 00 12 25 00 64 80 82 02 12 00 90 00"
OUTSIDE = "3B 8A 80 01 80 58 43 50 53 44 49 41 47 31 A9"
TABLE = (CPS3, CPS3_CL, CPS4_T0, CPS4_T1, CPS4_RC, OLDER)

# 3.5712 MHz = 9600 x 372: the clock at which the default etu is exactly 1/9600 s.
CLOCK = 3_571_200


def tlv(atr: Atr) -> list[tuple[int, str]]:
    return [(o.tag, o.value.hex().upper()) for o in atr.objects]


def malformed(data: object, **kw: object) -> MalformedDataError:
    with pytest.raises(MalformedDataError) as err:
        parse_atr(data, **kw)  # type: ignore[arg-type]
    return err.value


# --------------------------------------------------------------------------- the CPS ATRs


def test_cps3_contact() -> None:
    atr = parse_atr(CPS3)
    # TS=3B direct. T0=AC: Y1=A (TD1, TB1), K=12. TB1=00 (no Vpp). TD1=40: Y2=4 (TC2), T=0.
    # TC2=2A: WI=42. No TA1: F=372, D=1, fmax 5 MHz. T=0 only: no TCK. 2+2+1+12 = 17 bytes.
    assert (atr.ts, atr.convention, atr.t0, atr.k) == (0x3B, "direct", 0xAC, 12)
    assert [(g.index, g.ta, g.tb, g.tc, g.td, g.qualifier) for g in atr.groups] == [
        (1, None, 0x00, None, 0x40, None), (2, None, None, 0x2A, None, 0)]
    assert atr.protocols == (0,) and atr.indicated_protocols == (0,) and not atr.has_t15
    assert (atr.fi, atr.di, atr.f_max_mhz, atr.operating_fd) == (372, 1, 5, (372, 1))
    assert atr.work_waiting_integer == 42 and atr.extra_guard_time == 0
    assert not atr.specific_mode and atr.specific_mode_parameters is None and atr.t1 is None
    assert atr.tck is None and atr.tck_ok is None and atr.problems == ()
    # Category 00: compact-TLV then LCS SW1 SW2. 12 25 00: tag 1 (country) len 2; 64 80 00 03 10: tag 6 len 4.
    hist = atr.historical_info
    assert hist.category == 0x00 and hist.offset == 5 and atr.historical == bytes.fromhex("001225006480000310009000")
    assert tlv(atr) == [(1, "2500"), (6, "80000310")]
    assert [o.name for o in atr.objects] == ["country code", "pre-issuing data"]
    assert [o.offset for o in atr.objects] == [6, 9]
    assert hist.country_code == "250"
    assert (atr.status_indicator.lcs, atr.status_indicator.sw) == (0x00, 0x9000)
    assert atr.status == bytes.fromhex("009000") and hist.problem is None


def test_cps3_contactless_pseudo_atr() -> None:
    atr = parse_atr(CPS3_CL)
    # T0=8F: TD1, K=15. TD1=80: TD2, T=0. TD2=01: T=1, nothing more. 4 + 15 + TCK = 20 bytes.
    assert atr.k == 15 and atr.protocols == (0, 1)
    assert [(g.td, g.qualifier) for g in atr.groups] == [(0x80, None), (0x01, 0), (None, 1)]
    # XOR of 8F..00 is 0E, which is the TCK.
    assert atr.tck == 0x0E and atr.tck_ok is True
    # 31 B8: card service data; 64 04 B0 EC C1: pre-issuing; 73 94 01 80: card capabilities; 82 90 00: status.
    assert tlv(atr) == [(3, "B8"), (6, "04B0ECC1"), (7, "940180")]
    assert (atr.status_indicator.lcs, atr.status_indicator.sw) == (0x82, 0x9000)
    # T=1 offered, but no interface byte after TD2: every T=1 parameter keeps its default.
    t1 = atr.t1
    assert t1 is not None and (t1.ifsc, t1.bwi, t1.cwi, t1.crc) == (32, 4, 13, False)
    assert atr.problems == ()


def test_cps4_t0_form() -> None:
    atr = parse_atr(CPS4_T0)
    # T0=DC: Y1=D (TD1, TC1, TA1), K=12. TA1=18: FI=1 -> Fi 372, fmax 5; DI=8 -> Di 12.
    # TC1=FF: minimum guard time. TD1=00: T=0, nothing more. No TCK.
    assert [(g.ta, g.tb, g.tc, g.td) for g in atr.groups] == [(0x18, None, 0xFF, 0x00), (None, None, None, None)]
    assert (atr.fi, atr.di, atr.f_max_mhz) == (372, 12, 5)
    assert atr.protocols == (0,) and atr.tck is None and atr.extra_guard_time == 255
    assert tlv(atr) == [(1, "2500"), (6, "80000401")]
    assert atr.status == bytes.fromhex("009000") and atr.problems == ()


def test_cps4_t1_form() -> None:
    atr = parse_atr(CPS4_T1)
    # T0=9B: Y1=9 (TD1, TA1), K=11. TA1=18: Fi 372, Di 12. TD1=80: TD2, T=0. TD2=01: T=1.
    # XOR 9B 18 80 01 00 12 25 00 64 80 04 01 00 00 90 = 44 = TCK.
    assert atr.k == 11 and atr.protocols == (0, 1)
    assert (atr.fi, atr.di) == (372, 12)
    assert atr.tck == 0x44 and atr.tck_ok is True
    # Category 00 keeps the last 3 of the 11 bytes (00 00 90) for the status indicator, which
    # leaves 12 25 00 64 80 04 01: tag 6 announces 4 bytes with 3 left. A real card's quirk,
    # reported as a problem, not an error.
    hist = atr.historical_info
    assert tlv(atr) == [(1, "2500")] and hist.country_code == "250"
    assert hist.problem is not None and "offset 9" in hist.problem
    assert (atr.status_indicator.lcs, atr.status_indicator.sw) == (0x00, 0x0090)
    assert any(p.startswith("historical bytes") for p in atr.problems)


def test_cps4_release_candidate_and_older() -> None:
    rc = parse_atr(CPS4_RC)
    # Same bytes as the T=1 form in another order, so the same TCK fits; same quirk (status 01 00 90).
    assert rc.tck_ok is True and rc.protocols == (0, 1)
    assert (rc.status_indicator.lcs, rc.status_indicator.sw) == (0x01, 0x0090) and rc.historical_info.problem
    older = parse_atr(OLDER)
    # Same layout as the CPS3; the pre-issuing data reads 80 82 02 12.
    assert older.protocols == (0,) and older.work_waiting_integer == 42
    assert tlv(older) == [(1, "2500"), (6, "80820212")] and older.problems == ()


def test_atr_from_outside_the_table() -> None:
    atr = parse_atr(OUTSIDE)
    # T0=8A: TD1, K=10. TD1=80: TD2, T=0. TD2=01: T=1. Category 80, then 58: tag 5 len 8 "CPSDIAG1".
    # XOR 8A..31 = A9 = TCK.
    assert atr.protocols == (0, 1) and atr.tck == 0xA9 and atr.tck_ok is True
    assert atr.category == 0x80 and atr.historical_info.category_name == "compact-TLV"
    assert [(o.tag, o.name, o.value) for o in atr.objects] == [(5, "card issuer's data", b"CPSDIAG1")]
    assert atr.status is None and atr.status_indicator is None and atr.problems == ()


def test_corrupted_tck_is_kept_and_reported() -> None:
    atr = parse_atr(CPS4_T1[:-2] + "45")
    # The XOR of T0..TCK is now 44 ^ 45 = 01.
    assert atr.tck == 0x45 and atr.tck_ok is False
    assert any("TCK 45" in p and "01" in p for p in atr.problems)


def test_inverse_convention() -> None:
    # TS=3F; as from a PC/SC reader, the following bytes are already logical values.
    # T0=65: Y1=6 (TC1, TB1), K=5. TB1=25, TC1=08, historical 93 04 6C 90 00 (proprietary category 93).
    atr = parse_atr("3F 65 25 08 93 04 6C 90 00")
    assert atr.convention == "inverse" and atr.protocols == (0,)
    assert (atr.tb1, atr.tc1, atr.extra_guard_time) == (0x25, 0x08, 8)
    assert atr.category == 0x93 and atr.historical_info.category_name == "proprietary" and atr.objects == ()
    # TB1 other than 00 asks for Vpp, which the 2006 edition deprecated.
    assert any("TB1 25" in p for p in atr.problems)


# --------------------------------------------------------------------------- TA1, TA2, T=1, T=15


@pytest.mark.parametrize("ta1,fi,di,fmax", [
    (0x01, 372, 1, 4), (0x11, 372, 1, 5), (0x18, 372, 12, 5), (0x22, 558, 2, 6), (0x33, 744, 4, 8),
    (0x44, 1116, 8, 12), (0x55, 1488, 16, 16), (0x66, 1860, 32, 20), (0x97, 512, 64, 5), (0xA9, 768, 20, 7.5),
    (0xB1, 1024, 1, 10), (0xC2, 1536, 2, 15), (0xD3, 2048, 4, 20),
    # RFU codes: FI 7, 8, E, F; DI 0 and A..F.
    (0x71, None, 1, None), (0x81, None, 1, None), (0xE1, None, 1, None), (0xF1, None, 1, None),
    (0x10, 372, None, 5), (0x1A, 372, None, 5), (0x1F, 372, None, 5),
])
def test_ta1_tables(ta1: int, fi: int | None, di: int | None, fmax: float | None) -> None:
    # T0=10: TA1 only, no historical byte, T=0 only, so no TCK.
    atr = parse_atr(bytes([0x3B, 0x10, ta1]))
    assert (atr.fi, atr.di, atr.f_max_mhz) == (fi, di, fmax)
    rfu = fi is None or di is None
    assert atr.operating_fd == ((372, 1) if rfu else (fi, di))
    assert any("RFU" in p for p in atr.problems) == rfu


def test_specific_mode() -> None:
    # T0=90: TA1, TD1. TD1=10: TA2, T=0. TA2=80: b8=1 cannot change mode, b5=0 TA1 values apply, T=0.
    atr = parse_atr("3B 90 96 10 80")
    mode = atr.specific_mode_parameters
    assert atr.specific_mode and mode is not None
    assert (mode.protocol, mode.can_change, mode.implicit_parameters) == (0, False, False)
    # TA1=96: Fi 512, Di 32, so 16 clock cycles per etu: 250 kbit/s at 4 MHz.
    assert atr.operating_fd == (512, 32) and atr.baud_rate(4e6) == pytest.approx(250_000)
    # TA2=10: b5=1, F and D are implicit, i.e. unknown here: the defaults are used.
    implicit = parse_atr("3B 90 96 10 10")
    assert implicit.specific_mode_parameters.implicit_parameters
    assert implicit.specific_mode_parameters.can_change
    assert implicit.operating_fd == (372, 1)


def test_t1_and_t15_specific_bytes() -> None:
    # T0=80: TD1. TD1=80: TD2, T=0. TD2=B1: TA3, TB3, TD3, T=1. TA3=FE: IFSC 254.
    # TB3=45: BWI 4, CWI 5. TD3=1F: TA4, T=15. TA4=C7: clock stop 11 (no preference), classes A, B, C.
    # TCK = 80^80^B1^FE^45^1F^C7 = D2.
    atr = parse_atr("3B 80 80 B1 FE 45 1F C7 D2")
    assert [g.qualifier for g in atr.groups] == [None, 0, 1, 15]
    assert atr.protocols == (0, 1) and atr.indicated_protocols == (0, 1, 15) and atr.has_t15
    assert atr.tck_ok is True
    t1 = atr.t1
    assert t1 is not None and (t1.ifsc, t1.bwi, t1.cwi, t1.crc) == (254, 4, 5, False)
    t15 = atr.global_t15
    assert t15 is not None and (t15.clock_stop, t15.classes, t15.spu) == ("no preference", ("A", "B", "C"), None)


def test_t0_with_t15_needs_a_tck() -> None:
    # TD1=80: TD2, T=0. TD2=1F: TA3, T=15. TA3=07: classes A, B, C, clock stop not supported.
    # ISO 7816-3 8.2.5: T=0 with T=15 still requires TCK = 80^80^1F^07 = 18.
    atr = parse_atr("3B 80 80 1F 07 18")
    assert atr.protocols == (0,) and atr.has_t15 and atr.tck_ok is True
    assert atr.global_t15.clock_stop == "not supported" and atr.global_t15.classes == ("A", "B", "C")
    assert malformed("3B 80 80 1F 07").offset == 5


def test_tc2_zero_and_td_order_are_problems() -> None:
    # TD1=40: TC2, T=0. TC2=00 is RFU: WI falls back to 10.
    atr = parse_atr("3B 80 40 00")
    assert atr.work_waiting_integer == 10 and any("TC2" in p for p in atr.problems)
    # TD1=81: TD2, T=1. TD2=00: T=0 after T=1. TCK = 80^81^00 = 01.
    unordered = parse_atr("3B 80 81 00 01")
    assert unordered.protocols == (1, 0) and any("ascending" in p for p in unordered.problems)


# --------------------------------------------------------------------------- timing


def test_timing_of_a_cps3() -> None:
    atr = parse_atr(CPS3)
    # F/D = 372 clock cycles per etu: 9600 bit/s at 3.5712 MHz; 12 etu per byte: 1.25 ms.
    assert atr.etu_seconds(CLOCK) == pytest.approx(1 / 9600)
    assert atr.baud_rate(CLOCK) == pytest.approx(9600)
    assert atr.byte_time_seconds(CLOCK) == pytest.approx(1.25e-3)
    # WT = 42 x 960 x 372 / 3.5712 MHz = 4.2 s.
    assert atr.work_waiting_time_seconds(CLOCK) == pytest.approx(4.2)


def test_timing_of_a_cps4() -> None:
    atr = parse_atr(CPS4_T0)
    # After PPS to TA1 (Fi 372, Di 12): 31 clock cycles per etu, 115200 bit/s at 3.5712 MHz.
    assert atr.baud_rate(CLOCK) == pytest.approx(115_200)
    assert atr.baud_rate(CLOCK, initial=True) == pytest.approx(9600)
    # TC1=FF: minimum guard time, 12 etu per character in T=0, 11 in T=1.
    assert atr.character_etus() == 12 and atr.character_etus(protocol=1) == 11
    assert atr.byte_time_seconds(CLOCK) == pytest.approx(12 / 115_200)
    # No TC2: WI 10, WT = 10 x 960 x 372 / f = 1 s at 3.5712 MHz.
    assert atr.work_waiting_time_seconds(CLOCK) == pytest.approx(1.0)
    # The extra guard time N of TC1 adds N etu: TC1=02 gives 14 etu.
    assert parse_atr("3B 40 02").character_etus() == 14


@pytest.mark.parametrize("clock", [0, -1, float("nan"), float("inf"), True])
def test_timing_rejects_a_bad_clock(clock: float) -> None:
    with pytest.raises(ValueError):
        parse_atr(CPS3).etu_seconds(clock)


# --------------------------------------------------------------------------- historical bytes


@pytest.mark.parametrize("text,category,lcs,sw,problem", [
    ("3B 04 80 82 90 00", 0x80, None, 0x9000, False),        # tag 8 len 2: SW1 SW2
    ("3B 05 80 83 05 90 00", 0x80, 0x05, 0x9000, False),     # tag 8 len 3: LCS SW1 SW2
    ("3B 02 80 81", 0x80, None, None, True),                 # tag 8 len 1 announced, nothing follows
    ("3B 06 80 84 01 02 03 04", 0x80, None, None, True),     # a 4-byte status indicator does not exist
    ("3B 02 00 90", 0x00, None, None, True),                 # category 00 without room for 3 status bytes
])
def test_status_indicator(text: str, category: int, lcs: int | None, sw: int | None, problem: bool) -> None:
    atr = parse_atr(text)
    status = atr.status_indicator
    assert atr.category == category
    assert (None if status is None else (status.lcs, status.sw)) == (None if sw is None and lcs is None else (lcs, sw))
    assert (atr.historical_info.problem is not None) == problem


def test_other_categories() -> None:
    assert parse_atr("3B 00").category is None
    dir_ref = parse_atr("3B 02 10 01").historical_info
    assert dir_ref.category_name == "DIR data reference" and dir_ref.dir_reference == b"\x01"
    assert parse_atr("3B 01 10").historical_info.problem is not None
    assert parse_atr("3B 02 85 00").historical_info.category_name == "RFU"
    assert parse_atr("3B 02 41 42").historical_info.category_name == "proprietary"
    # An RFU compact-TLV tag keeps its bytes; F is the application identifier.
    atr = parse_atr("3B 06 80 91 AA F2 A0 00")
    assert [(o.tag, o.name, o.value) for o in atr.objects] == [(9, "RFU", b"\xaa"), (15, "application identifier",
                                                                                        b"\xa0\x00")]


# --------------------------------------------------------------------------- malformed input


@pytest.mark.parametrize("text,offset,words", [
    ("", 0, "at least TS"),
    ("3B", 1, "at least TS"),
    ("3C 00", 0, "TS is 3C"),
    ("03 00", 0, "inverse"),
    ("3B AC 00", 3, "TD1 announced by T0"),
    ("3B AC 00 40", 4, "TC2 announced by TD1"),
    (CPS3[:-3], 16, "12 historical bytes, only 11"),
    (CPS4_T1[:-3], 16, "TCK missing"),
    (CPS3 + " 00", 17, "unexpected byte"),
    (CPS4_T1 + " 00", 17, "after the TCK"),
])
def test_structural_errors_name_the_offset(text: str, offset: int, words: str) -> None:
    err = malformed(text, where="reader X")
    assert err.what == "ATR" and err.where == "reader X" and err.offset == offset
    assert words in err.reason


@pytest.mark.parametrize("text", TABLE + (OUTSIDE,))
def test_every_proper_prefix_and_extension_is_refused(text: str) -> None:
    raw = bytes.fromhex(text)
    for end in range(len(raw)):
        malformed(raw[:end])
    assert malformed(raw + b"\x00").offset == len(raw)


def test_length_limit() -> None:
    # T0=0F: 15 historical bytes; 2 + 15 = 17, padded to 34 bytes > 33.
    assert malformed(bytes([0x3B, 0x0F]) + bytes(32)).offset == 33
    assert malformed("3B " * 40).offset == 33
    assert malformed("00" * 100_000).offset == 33


def test_hex_text_forms() -> None:
    ref = parse_atr(bytes.fromhex(CPS3))
    for form in (CPS3.lower(), CPS3.replace(" ", ":"), CPS3.replace(" ", ""), "3BAC0040 2A001225\t0064800003\n10009000",
                 " " + CPS3 + " \n"):
        assert parse_atr(form) == ref
    assert parse_atr(bytearray(ref.raw)) == ref and parse_atr(memoryview(ref.raw)) == ref
    assert parse_atr("0x3B 0x00").raw == b"\x3b\x00"
    assert ref.hex == CPS3


@pytest.mark.parametrize("text,words", [
    ("3B AG", "'G' at character position 4"),
    ("3B zz", "not a hexadecimal digit"),
    ("\uff13B 00", "position 0"),      # fullwidth 3: a digit to str.isdigit, not to us
    ("\u0663B 00", "position 0"),      # Arabic-Indic 3
    ("3 BAC", "odd number"),
    ("3B0", "odd number"),
])
def test_bad_hex_text(text: str, words: str) -> None:
    err = malformed(text)
    assert words in err.reason


@pytest.mark.parametrize("value", [None, 3, 3.0, [0x3B, 0x00], (0x3B, 0x00), object()])
def test_other_types_are_malformed_not_type_errors(value: object) -> None:
    assert "expected bytes or hex text" in malformed(value).reason


# --------------------------------------------------------------------------- report form


@pytest.mark.parametrize("text", TABLE + (OUTSIDE, "3B 80 80 B1 FE 45 1F C7 D2", "3F 65 25 08 93 04 6C 90 00"))
def test_to_dict_is_json(text: str) -> None:
    doc = parse_atr(text).to_dict()
    assert json.loads(json.dumps(doc)) == doc
    # The keys docs/report-schema.md promises.
    for key in ("hex", "convention", "protocols", "interface_bytes", "fi", "di", "f_max_mhz", "extra_guard_time",
                "work_waiting_integer", "specific_mode", "historical_bytes", "category", "objects", "status", "tck",
                "tck_ok", "problems"):
        assert key in doc


def test_to_dict_values() -> None:
    doc = parse_atr(CPS3).to_dict()
    assert doc["hex"] == CPS3 and doc["protocols"] == ["T=0"] and doc["work_waiting_integer"] == 42
    assert doc["interface_bytes"][0] == {"TB": "00", "TD": "40", "i": 1, "qualifier": None, "announces": 0}
    assert doc["objects"][1] == {"tag": 6, "name": "pre-issuing data", "value": "80 00 03 10", "offset": 9}
    assert doc["status"] == "00 90 00" and doc["historical"]["status"] == {"lcs": "00", "sw": "9000"}
    assert doc["tck"] is None and doc["tck_ok"] is None


# --------------------------------------------------------------------------- properties


_optional_byte = st.one_of(st.none(), st.integers(0, 255))


@st.composite
def well_formed(draw: st.DrawFn) -> tuple[bytes, list[tuple[int | None, int | None, int | None]], list[int], bytes]:
    """An ATR built from the spec's rules, independently of the decoder."""
    count = draw(st.integers(1, 5))
    groups = [(draw(_optional_byte), draw(_optional_byte), draw(_optional_byte)) for _ in range(count)]
    protocols = [draw(st.integers(0, 15)) for _ in range(count - 1)]     # T announced by TD1..TD(count-1)
    hist = draw(st.binary(max_size=15))

    def presence(i: int) -> int:
        ta, tb, tc = groups[i]
        return (ta is not None) | (tb is not None) << 1 | (tc is not None) << 2 | (i < count - 1) << 3

    body = bytearray([presence(0) << 4 | len(hist)])
    for i, (ta, tb, tc) in enumerate(groups):
        body.extend(b for b in (ta, tb, tc) if b is not None)
        if i < count - 1:
            body.append(presence(i + 1) << 4 | protocols[i])
    body.extend(hist)
    if any(t != 0 for t in protocols):
        check = 0
        for b in body:
            check ^= b
        body.append(check)
    raw = b"\x3b" + bytes(body)
    assume(len(raw) <= 33)
    return raw, groups, protocols, hist


def iso_length(data: bytes) -> int | None:
    """The length ISO/IEC 7816-3 §8.2 gives an ATR starting like DATA (None when DATA ends before the interface
    bytes say): TS, T0, the interface bytes each TDi announces, K historical bytes, and TCK unless only T=0 is
    indicated. Written from the standard, independently of the decoder."""
    if len(data) < 2:
        return None
    y, k, pos, protocols = data[1] >> 4, data[1] & 0x0F, 2, set()
    while True:
        pos += bin(y & 0x7).count("1")          # TAi, TBi, TCi
        if not y & 0x8:
            break
        if pos >= len(data):
            return None
        td = data[pos]
        pos += 1
        protocols.add(td & 0x0F)
        y = td >> 4
    return pos + k + (1 if protocols - {0} else 0)


@settings(max_examples=600, deadline=None)
@st.composite
def near_atrs(draw: st.DrawFn) -> bytes:
    """A well-formed ATR, cut short, lengthened, or with one byte changed: the inputs near the boundary."""
    data = bytearray(draw(well_formed())[0])
    edit = draw(st.sampled_from(["keep", "cut", "extend", "change"]))
    if edit == "cut":
        del data[draw(st.integers(0, len(data) - 1)):]
    elif edit == "extend":
        data += draw(st.binary(min_size=1, max_size=3))
    elif edit == "change":
        data[draw(st.integers(0, len(data) - 1))] = draw(st.integers(0, 255))
    return bytes(data)


@given(st.one_of(st.binary(max_size=40), near_atrs()))
def test_bytes_decode_exactly_when_the_standard_s_structure_fits(data: bytes) -> None:
    structured = data[:1] in (b"\x3b", b"\x3f") and len(data) <= 33 and iso_length(data) == len(data)
    try:
        atr = parse_atr(data)
    except MalformedDataError:
        assert not structured, data.hex(" ")
        return
    assert structured, data.hex(" ")
    assert atr.raw == data and len(atr.historical) == data[1] & 0x0F
    assert parse_atr(atr.hex) == atr and json.loads(json.dumps(atr.to_dict()))["hex"] == atr.hex
    if atr.tck is not None:                      # TCK makes the XOR of T0..TCK zero (§8.2.5)
        assert atr.tck_ok is (functools.reduce(operator.xor, data[1:]) == 0)


def hex_text_bytes(text: str) -> bytes | None:
    """What the docstring of parse_atr promises for hex text: tokens split on spaces, colons, dots, commas or dashes,
    each an optional 0x prefix and whole pairs of ASCII hex digits. None: not such text."""
    out = b""
    for token in re.split(r"[ \t\r\n:.,-]", text):
        token = re.sub(r"^(0[xX])+", "", token)
        if not re.fullmatch(r"(?a:[0-9a-fA-F]{2})*", token):
            return None
        out += bytes.fromhex(token)
    return out


@settings(max_examples=800, deadline=None)
@given(st.one_of(st.text(alphabet="0123456789abcdefABCDEF :\t\n-.,xXgG\u0663\uff13\u00a0", max_size=120),
                 st.text(max_size=80), near_atrs().map(lambda data: data.hex(" "))))
def test_hex_text_decodes_to_the_bytes_it_spells(text: str) -> None:
    expected = hex_text_bytes(text)
    try:
        atr = parse_atr(text)
    except MalformedDataError:
        # Refused: not hex text, or hex text that is no ATR.
        if expected is not None and len(expected) <= 33:
            with pytest.raises(MalformedDataError):
                parse_atr(expected)
        return
    assert expected is not None and atr.raw == expected, text


@settings(max_examples=500, deadline=None)
@given(well_formed())
def test_well_formed_atrs_decode_back(case: tuple[bytes, list, list[int], bytes]) -> None:
    raw, groups, protocols, hist = case
    atr = parse_atr(raw)
    assert [(g.ta, g.tb, g.tc) for g in atr.groups] == groups
    assert list(atr.indicated_protocols) == protocols
    assert [g.qualifier for g in atr.groups] == [None, *protocols]
    assert atr.historical == hist
    assert atr.tck_ok is (True if any(protocols) else None)
    assert parse_atr(atr.hex) == atr
    if atr.tck is not None:
        corrupted = parse_atr(raw[:-1] + bytes([raw[-1] ^ 0x01]))
        assert corrupted.tck_ok is False
