"""The judge on hand-built facts: the findings no shipped profile produces."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timezone

import pytest

from cpsdiag import errors
from cpsdiag.card.efsn import parse_ef_sn
from cpsdiag.card.identify import identify
from cpsdiag.card.pin import PinStatus
from cpsdiag.card.pkcs15 import PinObject, PrivateKeyObject
from cpsdiag.card.reader import CardData, ReadProblem
from cpsdiag.diag.collect import choose_reader
from cpsdiag.diag.facts import CertFacts, CheckFacts, ReaderFacts
from cpsdiag.diag.judge import card_numbers_match, judge
from cpsdiag.iso7816.atr import parse_atr
from cpsdiag.pki.certinfo import load_certificates, parse_certificate
from cpsdiag.pki.chain import validate_chain

CPS3 = bytes.fromhex("3BAC00402A001225006480000310009000")


def facts_for(pki, profile="cps3-medecin", *, roles=("auth", "signature"), key_bits=2048, card_number="90000001",
              problems=(), pin=PinStatus(3, 3)) -> CheckFacts:
    at = datetime.now(timezone.utc)
    facts = CheckFacts(at=at, library="lib", readers=[ReaderFacts("R", True, CPS3, False)], reader="R", atr=CPS3)
    facts.atr_info = parse_atr(CPS3)
    facts.model = identify(facts.atr_info)
    serial = bytes.fromhex("5A0A8025000001" + card_number + "3F")
    card = CardData("CPS3", serial=parse_ef_sn(serial), pins=[PinObject("PIN", b"\x01", 1, 4, 8, 4, b"\x3f\x00", ())],
                    pin_status=pin, problems=list(problems))
    facts.card = card
    anchors = load_certificates(pki.anchors.read_bytes())
    for name in roles:
        info = parse_certificate((pki.cards / profile / f"{name}.pem").read_bytes())
        facts.certificates.append(CertFacts(info.role, name, "3F000001A001", info.der, info=info,
                                            chain=validate_chain(info, anchors=anchors, at=at),
                                            key=PrivateKeyObject(name, b"", ("sign",), 0x82, None, key_bits, b"\x01")))
    return facts


def codes(findings) -> Counter:
    return Counter(f.code for f in findings)


def test_baseline_is_all_ok(pki):
    found = codes(judge(facts_for(pki)))
    assert found["CERT_OK"] == 2 and found["CARD_CONSISTENT"] == 1
    # The card number 90000001 with a wrong check digit 3: the Luhn digit is 6.
    assert found["CARD_SERIAL_INVALID"] == 1


def test_missing_signature_certificate(pki):
    assert codes(judge(facts_for(pki, roles=("auth",))))["CERT_MISSING"] == 1


def test_unreadable_certificate(pki):
    facts = facts_for(pki, roles=("auth",))
    facts.certificates.append(CertFacts("signature", "Certificat de Signature CPS", "3F000001A002", None,
                                        error=errors.ApduError("READ BINARY", 0x6581)))
    found = judge(facts)
    malformed = [f for f in found if f.code == "CERT_MALFORMED"]
    assert malformed and "6581" in malformed[0].params["error"]


def test_key_size_mismatch(pki):
    assert codes(judge(facts_for(pki, key_bits=1024)))["CERT_KEY_MISMATCH"] == 2


def test_read_problem_and_unknown_pin(pki):
    problem = ReadProblem("odf", "ODF 3F0000015031", errors.ApduError("SELECT", 0x6A82))
    found = codes(judge(facts_for(pki, problems=[problem], pin=None)))
    assert found["CARD_READ_ERROR"] == 1 and found["PIN_UNKNOWN"] == 1 and "CARD_READ_OK" not in found


@pytest.mark.parametrize("error,code", [
    (errors.CardRemoved("SCardTransmit", 0x80100069), "CARD_REMOVED"),
    (errors.CardMute("SCardTransmit", 0x80100066), "CARD_MUTE"),
    (errors.PcscNoService("SCardTransmit", 0x8010001D), "PCSC_NO_SERVICE"),
])
def test_card_gone_while_reading(pki, error, code):
    facts = facts_for(pki)
    facts.card, facts.certificates, facts.read_error = None, [], error
    found = judge(facts)
    assert [f.code for f in found][-1] == code


def test_mute_card_at_connection(pki):
    facts = facts_for(pki)
    facts.card, facts.certificates = None, []
    facts.card_error = errors.CardMute("SCardConnect", 0x80100066)
    assert [f.code for f in judge(facts)] == ["PCSC_OK", "READERS_OK", "CARD_MUTE"]


def test_not_yet_valid(pki):
    facts = facts_for(pki)
    facts.at = datetime(2000, 1, 1, tzinfo=timezone.utc)
    assert codes(judge(facts))["CERT_NOT_YET_VALID"] == 2


@pytest.mark.parametrize("cert,card,digit,ok", [
    ("90000001", "90000001", 6, True), ("900000016", "90000001", 6, True), ("0090000001", "90000001", 6, True),
    ("2800636234", "99213845", 0, False), ("90000002", "90000001", 6, False),
    # Real cards: 10 digits in the extension (2800636234), the last 8 in EF.SN.ICC.
    ("2800636234", "00636234", 7, True), ("2990000001", "90000001", 6, True), ("2990000001", "90000002", 3, False),
    ("2990000001", "29900000", 4, False),
])
def test_card_number_rule(cert, card, digit, ok):
    assert card_numbers_match(cert, card, digit) is ok


def test_reader_choice():
    readers = [ReaderFacts("A", False, b"", False), ReaderFacts("B", True, bytes.fromhex("3B00"), False),
               ReaderFacts("C", True, CPS3, False)]
    assert choose_reader(readers, None) == "C"          # the one holding a CPS card
    assert choose_reader(readers, "b") == "B"
    with pytest.raises(errors.UsageError):
        choose_reader(readers, "x")
    assert choose_reader(readers[:2], None) == "B"
    assert choose_reader(readers[:1], None) == "A"
