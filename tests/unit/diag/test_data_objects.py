"""Data objects on the client side: the DODF parser, the practice-situation decoder, and how situations are judged.

The DODF bytes are written here by hand from ANS's Cryptolib's reading of a
DODF entry (../shared/research/cryptolib-data-objects.md §1.3): flags bit 0
private (03 02 07 80), bit 1 modifiable (03 02 06 40), authId, then
applicationName and the path under [1]. The situation bytes follow the one
public description (§2.1): EE { 84 name, 85 Struct_IdNat, 86 sector }.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from cpsdiag.card import pkcs15
from cpsdiag.card.situation import is_situation, parse_situation
from cpsdiag.findings.model import Severity
from cpsdiag.diag.judge_keys import judge_keys
from cpsdiag.diag.facts import KeyFacts, KeyOptions, PinOutcome
from cpsdiag.diag.situations import SituationFacts, SituationRead
from cpsdiag.errors import MalformedDataError


def h(text: str) -> bytes:
    return bytes.fromhex("".join(text.split()))


# CPS_DATA: public, modifiable, path 3F00/0001/D107.
CPS_DATA = h("30 23 30 0E 0C 08 43 50 53 5F 44 41 54 41 03 02 06 40 30 05 0C 03 43 50 53"
             " A1 0A 30 08 04 06 3F 00 00 01 D1 07")
# CPS_NAME_PS: public, no flags, no applicationName, a relative path D102.
NAME = h("30 19 30 0D 0C 0B 43 50 53 5F 4E 41 4D 45 5F 50 53 30 00 A1 06 30 04 04 02 D1 02")
# CPS_ACTIVITY_01_PS: private, authId 01.
SITUATION = h("30 30 30 1B 0C 12 43 50 53 5F 41 43 54 49 56 49 54 59 5F 30 31 5F 50 53 03 02 07 80 04 01 01"
              " 30 05 0C 03 43 50 53 A1 0A 30 08 04 06 3F 00 00 01 D1 20")


def test_dodf_entries_give_label_flags_application_and_path():
    objects = pkcs15.parse_dodf(CPS_DATA + NAME + SITUATION + b"\x00" * 8)       # files are padded
    assert objects == [
        pkcs15.DataObject("CPS_DATA", "CPS", h("3F000001D107"), private=False, modifiable=True, auth_id=None),
        pkcs15.DataObject("CPS_NAME_PS", None, h("D102"), private=False, modifiable=False, auth_id=None),
        pkcs15.DataObject("CPS_ACTIVITY_01_PS", "CPS", h("3F000001D120"), private=True, modifiable=False,
                          auth_id=b"\x01"),
    ]


def test_both_flags_in_one_bit_string():
    entry = CPS_DATA.replace(h("03 02 06 40"), h("03 02 06 C0"))
    (obj,) = pkcs15.parse_dodf(entry)
    assert (obj.private, obj.modifiable) == (True, True)


@pytest.mark.parametrize("entry,words", [
    (h("30 05 30 03 0C 01 41"), "fewer than two parts"),
    (h("30 0D 30 03 0C 01 41 30 00 A1 04 30 02 05 00"), "Path without efidOrPath"),
    (h("30 09 30 03 0C 01 41 04 02 D1 02"), "CommonDataObjectAttributes"),
    (h("30 09 30 03 0C 01 41 30 00 A0 00"), "type attributes"),
])
def test_malformed_dodf_entries_are_refused_with_the_reason(entry, words):
    with pytest.raises(MalformedDataError) as err:
        pkcs15.parse_dodf(entry, where="DODF 3F0000017006")
    assert words in str(err.value) and "3F0000017006" in str(err.value)


def situation(name: bytes, structure_id: bytes, sector: bytes) -> bytes:
    def tlv(tag: int, value: bytes) -> bytes:
        return bytes([tag, len(value)]) + value

    return tlv(0xEE, tlv(0x84, name) + tlv(0x85, structure_id) + tlv(0x86, sector))


def test_a_situation_in_the_public_form_is_decoded():
    decoded = parse_situation(situation("CABINET DU DR ÉMILE".encode(), b"399999999900019", b"SA07"))
    assert (decoded.structure_name, decoded.structure_id, decoded.sector) == (
        "CABINET DU DR ÉMILE", "399999999900019", "SA07")


@pytest.mark.parametrize("data,words", [
    (h("30 03 84 01 41"), "EE"),
    (h("EE 06 84 01 41 85 01 31"), "missing 86"),
    (situation(b"\xff\xfe", b"1", b"SA07"), "UTF-8"),
    (situation(b"A", b"1", b"SA07") + situation(b"B", b"2", b"SA08"), "one EE"),
])
def test_other_forms_are_not_guessed_at(data, words):
    with pytest.raises(MalformedDataError) as err:
        parse_situation(data, where="CPS_ACTIVITY_01_PS")
    assert words in str(err.value)


@pytest.mark.parametrize("label,yes", [("CPS_ACTIVITY_01_PS", True), ("CPS_ACTIVITY_16_PS", True),
                                       ("CPS_ACTIVITY_17_PS", False), ("CPS_ACTIVITY_00_PS", False),
                                       ("CPS2TER_ACTIVITY_01_PS", False), ("CPS_SIT_FACT", False)])
def test_which_objects_are_practice_situations(label, yes):
    assert is_situation(label) is yes


def judged(situations: SituationFacts | None, pin: str = "verified"):
    keys = KeyFacts(KeyOptions(sign=True), pin=PinOutcome(pin), situations=situations)
    out: list = []
    judge_keys(type("Facts", (), {"keys": keys, "model": None, "certificates": []})(), out, {})
    return [(f.code, f.severity, f.params) for f in out if f.step == "situations"]


def test_no_situation_is_a_warning_billing_cannot_work_without():
    assert judged(SituationFacts("apdu", listed=True)) == [("SITUATIONS_NONE", Severity.WARNING, {})]


def test_situations_read_are_counted():
    items = [SituationRead("CPS_ACTIVITY_01_PS", 58, b"\xee\x00"), SituationRead("CPS_ACTIVITY_02_PS", 47, b"\xee\x00")]
    assert judged(SituationFacts("pkcs11", listed=True, items=items)) == [
        ("SITUATIONS_READ", Severity.OK, {"count": 2, "labels": "CPS_ACTIVITY_01_PS, CPS_ACTIVITY_02_PS"})]


def test_an_unreadable_situation_or_dodf_is_said_not_counted_as_none():
    items = [SituationRead("CPS_ACTIVITY_01_PS", 58, None, "READ BINARY: 69 82")]
    assert judged(SituationFacts("apdu", listed=True, items=items)) == [
        ("SITUATIONS_UNREADABLE", Severity.WARNING, {"target": "CPS_ACTIVITY_01_PS", "error": "READ BINARY: 69 82"})]
    assert judged(SituationFacts("apdu", listed=False, error="DODF: bad Path")) == [
        ("SITUATIONS_UNREADABLE", Severity.WARNING, {"target": "DODF", "error": "DODF: bad Path"})]


def test_without_a_usable_pin_situations_are_not_judged():
    assert judged(SituationFacts("apdu", listed=True), pin="wrong") == []
    assert judged(None) == []


def test_situations_are_read_through_the_ops_and_decoded_only_in_the_public_form():
    from cpsdiag.card.reader import CardData, DataObjectFile
    from cpsdiag.diag.situations import read_situations
    from cpsdiag.errors import ApduError

    def obj(label: str, private: bool = True) -> DataObjectFile:
        return DataObjectFile(pkcs15.DataObject(label, "CPS", b"", private, False, b"\x01"), Path(label).name.encode(),
                              10)

    card = CardData("CPS3", data_objects=[obj("CPS_DATA", False), obj("CPS_ACTIVITY_01_PS"),
                                          obj("CPS_ACTIVITY_02_PS"), obj("CPS_ACTIVITY_03_PS"), obj("CPS_SIT_FACT")])
    contents = {b"CPS_ACTIVITY_01_PS": situation(b"A", b"1", b"SA07"), b"CPS_ACTIVITY_02_PS": b"\x30\x00"}

    def read(file: DataObjectFile) -> bytes:
        if file.path not in contents:
            raise ApduError("READ BINARY", 0x6982)
        return contents[file.path]

    seen: list[str] = []
    found = read_situations(card, read, "apdu", on_read=seen.append)
    assert seen == ["CPS_ACTIVITY_01_PS", "CPS_ACTIVITY_02_PS", "CPS_ACTIVITY_03_PS"]
    first, second, third = found.items
    assert first.decoded is not None and first.decoded.sector == "SA07"
    assert (second.raw, second.decoded) == (b"\x30\x00", None)
    assert third.raw is None and "6982" in (third.error or "")
    assert (found.listed, found.count) == (True, 3)
