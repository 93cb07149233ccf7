"""FCP templates (ISO/IEC 7816-4 §7.4.3, table 12), decoded by hand: a real CPS3 answer and one per field."""

from __future__ import annotations

import pytest

from cpsdiag.errors import MalformedDataError
from cpsdiag.iso7816.fcp import FileInfo, parse_fcp

# SELECT 3F00/D003 (EF.SN.ICC) on a real CPS3, opensc-cpx.md §9.
REAL = bytes.fromhex("62258002000C8201018302D0038801E0A1128C077BFFFFFFFFFF009C077BFFFFFFFFFF008A0105")
ACCESS_RULES = bytes.fromhex("8C077BFFFFFFFFFF009C077BFFFFFFFFFF00")


def test_the_real_ef_sn_icc_fcp():
    # 80 02 000C: 12 bytes; 82 01 01: a working EF; 83 02 D003; 88 01 E0: SFI 1C (bits 8-4);
    # A1: the IAS-ECC access rules; 8A 01 05: operational, activated.
    assert parse_fcp(REAL) == FileInfo(fid=0xD003, size=12, is_df=False, sfi=0x1C, aid=None, life_cycle=5,
                                       security=ACCESS_RULES)


@pytest.mark.parametrize("body,expected", [
    ("8102 0100", {"size": 256}),                                   # 81: the other size tag
    ("8002 0010 8102 0100", {"size": 16}),                          # 80 comes first
    ("8201 38", {"is_df": True}), ("8201 78", {"is_df": True}), ("8201 39", {"is_df": True}),
    ("8201 18", {"is_df": False}), ("8201 01", {"is_df": False}), ("8200", {"is_df": False}),
    ("8302 3F00", {"fid": 0x3F00}), ("8301 3F", {"fid": None}), ("8303 3F0001", {"fid": None}),
    ("8407 A0000000041010", {"aid": bytes.fromhex("A0000000041010")}),
    ("8801 08", {"sfi": 1}), ("8802 0800", {"sfi": None}), ("8800", {"sfi": None}),
    ("8A01 07", {"life_cycle": 7}), ("8A00", {"life_cycle": None}),
    ("8C03 7F0000", {"security": bytes.fromhex("7F0000")}),
    ("A103 8C0100 8C03 7F0000", {"security": bytes.fromhex("8C0100")}),   # A1 (IAS-ECC) first
])
def test_each_field(body, expected):
    value = bytes.fromhex(body.replace(" ", ""))
    for template in (0x62, 0x6F):                       # FCP and FCI read alike
        info = parse_fcp(bytes([template, len(value)]) + value)
        fields = {"fid": None, "size": None, "is_df": False, "sfi": None, "aid": None, "life_cycle": None,
                  "security": None, **expected}
        assert info == FileInfo(**fields)


@pytest.mark.parametrize("data", ["", "6400", "6200 6200", "8002000C"])
def test_not_one_fcp_template(data):
    with pytest.raises(MalformedDataError) as info:
        parse_fcp(bytes.fromhex(data), where="SELECT 3F00")
    assert str(info.value) == "FCP (SELECT 3F00): expected one 62 or 6F template at offset 0"


def test_a_broken_template_names_the_fcp():
    with pytest.raises(MalformedDataError) as info:
        parse_fcp(bytes.fromhex("6203 8005"), where="SELECT 3F00")
    assert str(info.value) == "FCP (SELECT 3F00): value of 3 bytes runs past the end (2 left) at offset 0"
    with pytest.raises(MalformedDataError) as info:
        parse_fcp(bytes.fromhex("6202 8005"), where="SELECT 3F00")
    assert str(info.value) == "FCP (SELECT 3F00): value of 5 bytes runs past the end (0 left) at offset 2"
