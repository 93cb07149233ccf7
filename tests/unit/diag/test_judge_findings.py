"""The card judge, finding by finding, with every parameter: what the console, the report and the remedies show.

The facts are built by hand around the emulator's certificates; the expected
dates, issuers and numbers come from the certificate files (read with
``cryptography``), the profile's card.toml and a Luhn digit worked out in this
file, never from cpsdiag's own reading.
"""

from __future__ import annotations

import tomllib
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.x509.oid import NameOID

from cpsdiag import errors
from cpsdiag.card.efsn import parse_ef_sn
from cpsdiag.card.identify import KNOWN_ATRS, guess, identify
from cpsdiag.card.pin import PinStatus
from cpsdiag.card.pkcs15 import PinObject, PrivateKeyObject
from cpsdiag.card.reader import CardData, ReadProblem
from cpsdiag.diag.facts import CertFacts, CheckFacts, ReaderFacts
from cpsdiag.findings.model import Severity
from cpsdiag.diag.judge import EXPIRES_SOON_DAYS, judge
from cpsdiag.iso7816.atr import parse_atr
from cpsdiag.pki.certinfo import parse_certificate
from cpsdiag.pki.chain import ChainResult

OK, INFO, WARNING, ERROR = Severity.OK, Severity.INFO, Severity.WARNING, Severity.ERROR
CPS3 = bytes.fromhex("3BAC00402A001225006480000310009000")
CPS3_ATR = "3B AC 00 40 2A 00 12 25 00 64 80 00 03 10 00 90 00"
# The Ordre of profession 10 (médecin) and its members' page, as the seed guides give them.
MEDECINS = {"ordre": "Ordre des médecins", "ordre_url": "https://monespace.medecin.fr/user/login?destination=cas/login"}
AT0 = datetime(2026, 1, 1, tzinfo=timezone.utc)


def luhn(digits: str) -> int:
    """The Luhn check digit of DIGITS (ISO/IEC 7812-1 annex B), worked out here."""
    total = 0
    for i, d in enumerate(reversed(digits)):
        n = int(d) * (2 if i % 2 == 0 else 1)
        total += n - 9 if n > 9 else n
    return (10 - total % 10) % 10


def cert_dates(path: Path) -> tuple[datetime, datetime]:
    cert = x509.load_pem_x509_certificate(path.read_bytes())
    return cert.not_valid_before_utc, cert.not_valid_after_utc


def issuer_cn(path: Path) -> str:
    cert = x509.load_pem_x509_certificate(path.read_bytes())
    return cert.issuer.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value


def trusted() -> ChainResult:
    return ChainResult(True, "ROOT CA", ["leaf", "ROOT CA"], None, "", AT0)


def untrusted(error: str, missing: str | None = None) -> ChainResult:
    return ChainResult(False, None, ["leaf"], error, f"because {error}", AT0, missing_issuer=missing)


class Facts:
    """CheckFacts for a profile's card, judged at AT (by default 400 days before the certificates end)."""

    def __init__(self, pki, profile: str = "cps3-medecin", *, at: datetime | None = None, roles=("auth", "signature"),
                 chain: ChainResult | None = None, pin: PinStatus | None = PinStatus(3, 3, source="GET DATA"),
                 key_bits: int = 2048, serial: str | None = None):
        self.folder = pki.cards / profile
        self.toml = tomllib.loads((self.folder / "card.toml").read_text())
        self.before, self.after = cert_dates(self.folder / "auth.pem")
        # EF.SN.ICC holds the last 8 digits of a real card's 10-digit number (docs/emulator.md).
        number = serial or self.toml["card_number"][-8:]
        self.number = number
        pan = "8025000001" + number
        self.pan = pan + str(luhn(pan))
        sn = parse_ef_sn(bytes.fromhex("5A0A" + self.pan + "F"))
        self.facts = CheckFacts(at=at or self.after - timedelta(days=400), library="/usr/lib/libpcsclite.so.1",
                                readers=[ReaderFacts("Reader A", True, CPS3, False),
                                         ReaderFacts("Reader B", False, b"", False)], reader="Reader A", atr=CPS3)
        self.facts.atr_info = parse_atr(CPS3)
        self.facts.model = identify(self.facts.atr_info)
        self.facts.card = CardData("CPS3", serial=sn, pins=[PinObject("PIN", b"\x01", 1, 4, 8, 4, b"\x3f\x00", ())],
                                   pin_status=pin)
        for name in roles:
            info = parse_certificate((self.folder / f"{name}.pem").read_bytes())
            self.facts.certificates.append(CertFacts(
                info.role, f"label {name}", f"3F00/{name}", info.der, info=info, chain=chain or trusted(),
                key=PrivateKeyObject(name, b"", ("sign",), 0x82, None, key_bits, b"\x01")))

    def findings(self):
        return [(f.code, f.severity, f.step, f.params) for f in judge(self.facts)]

    def step(self, name: str):
        return [f for f in self.findings() if f[2] == name]


def test_a_healthy_card_gives_one_ok_finding_per_step_with_its_values(pki):
    card = Facts(pki)
    dates = {"not_before": card.before.strftime("%Y-%m-%d"), "not_after": card.after.strftime("%Y-%m-%d"),
             "days_left": 400}
    issuer = issuer_cn(card.folder / "auth.pem")
    assert card.findings() == [
        ("PCSC_OK", OK, "pcsc", {"library": "/usr/lib/libpcsclite.so.1"}),
        ("READERS_OK", OK, "readers", {"readers": "Reader A, Reader B", "count": 2}),
        ("CARD_IDENTIFIED", OK, "card", {"reader": "Reader A", "atr": CPS3_ATR, "label": "CPS3 (contact, IAS-ECC)",
                                         "generation": "CPS3", "interface": "contact"}),
        ("CARD_READ_OK", OK, "read", {"card_number": card.number, "certificates": 0, "keys": 0,
                                      "apdus": 0}),
        ("PIN_OK", OK, "pin", {"tries_left": 3, "max_tries": 3, "source": "GET DATA", "verified": False}),
        ("CERT_OK", OK, "certificates", {"role": "authentication", "label": "label auth", "path": "3F00/auth",
                                         **dates, "issuer": issuer, "anchor": "ROOT CA"}),
        ("CERT_OK", OK, "certificates", {"role": "signature", "label": "label signature", "path": "3F00/signature",
                                         **dates, "issuer": issuer, "anchor": "ROOT CA"}),
        ("CERT_TEST_CARD", INFO, "certificates", {}),      # card.toml: test_card = true
        ("CARD_CONSISTENT", OK, "consistency", {}),
    ]


@pytest.mark.parametrize("shift,code,severity", [
    (timedelta(days=-1), "CERT_EXPIRED", ERROR),
    (timedelta(seconds=-1), "CERT_EXPIRED", ERROR),
    (timedelta(hours=1), "CERT_EXPIRES_SOON", WARNING),
    (timedelta(days=EXPIRES_SOON_DAYS, hours=1), "CERT_EXPIRES_SOON", WARNING),
    (timedelta(days=EXPIRES_SOON_DAYS + 1, hours=1), "CERT_OK", OK),
])
def test_the_end_date(pki, shift, code, severity):
    probe = Facts(pki)
    card = Facts(pki, at=probe.after - shift)
    days = int((probe.after - card.facts.at).total_seconds() // 86400)       # whole days, rounded down
    found = card.step("certificates")
    assert [f[:3] for f in found] == [(code, severity, "certificates")] * 2 + [("CERT_TEST_CARD", INFO, "certificates")]
    params = found[0][3]
    assert (params["not_after"], params["days_left"]) == (probe.after.strftime("%Y-%m-%d"), days)
    # The remedies of an expired or expiring card name the holder's Ordre and the identifier to type for e-CPS.
    personal = {**MEDECINS, "login_id": card.toml["holder"]["national_id"]}
    if code == "CERT_EXPIRED":
        assert params == {**found[0][3], "days_ago": -days, **personal} and days < 0
    elif code == "CERT_EXPIRES_SOON":
        assert personal.items() <= params.items() and "days_ago" not in params
    else:
        assert "ordre" not in params and params["anchor"] == "ROOT CA"


def test_a_certificate_not_yet_valid(pki):
    probe = Facts(pki)
    card = Facts(pki, at=probe.before - timedelta(seconds=1))
    found = card.step("certificates")
    assert found[0] == ("CERT_NOT_YET_VALID", ERROR, "certificates", {
        "role": "authentication", "label": "label auth", "path": "3F00/auth",
        "not_before": probe.before.strftime("%Y-%m-%d"), "not_after": probe.after.strftime("%Y-%m-%d"),
        "days_left": int((probe.after - card.facts.at).total_seconds() // 86400)})
    assert Facts(pki, at=probe.before).step("certificates")[0][0] == "CERT_OK"      # valid from its first second


@pytest.mark.parametrize("error,code,severity", [
    ("unknown_issuer", "CERT_UNTRUSTED", ERROR), ("bad_signature", "CERT_UNTRUSTED", ERROR),
    ("test_chain_missing", "CERT_TEST_CHAIN_MISSING", WARNING),
])
def test_a_chain_that_does_not_reach_an_anchor(pki, error, code, severity):
    card = Facts(pki, chain=untrusted(error, missing="AC X"))
    found = card.step("certificates")
    assert found[0] == (code, severity, "certificates", {
        "role": "authentication", "label": "label auth", "path": "3F00/auth", "chain_error": error,
        "chain_detail": f"because {error}", "missing_issuer": "AC X", "issuer": issuer_cn(card.folder / "auth.pem")})
    # The dates are fine: no CERT_OK beside it, nothing else either.
    assert [f[0] for f in found] == [code, code, "CERT_TEST_CARD"]


@pytest.mark.parametrize("error", ["expired", "not_yet_valid"])
def test_a_chain_refused_for_its_dates_is_said_once_by_the_dates(pki, error):
    card = Facts(pki, chain=untrusted(error))
    assert [f[0] for f in card.step("certificates")] == ["CERT_TEST_CARD"]


def test_a_certificate_for_no_known_purpose(pki):
    card = Facts(pki, roles=("auth",))
    cf = card.facts.certificates[0]
    cf.role = "unknown"
    found = card.step("certificates")
    usage = ", ".join(cf.info.key_usage)
    assert ("CERT_PURPOSE_UNEXPECTED", WARNING, "certificates", {
        "role": "unknown", "label": "label auth", "path": "3F00/auth", "key_usage": usage,
        "extended_key_usage": ", ".join(cf.info.extended_key_usage)}) in found
    assert [f[3]["role"] for f in found if f[0] == "CERT_MISSING"] == ["authentication", "signature"]


def test_missing_and_unreadable_certificates(pki):
    card = Facts(pki, roles=("auth",))
    card.facts.certificates.append(CertFacts("signature", "Sig", "3F00/sig", None,
                                             error=errors.ApduError("READ BINARY", 0x6581)))
    card.facts.certificates.append(CertFacts("signature", "Sig2", "3F00/sig2", None))
    found = card.step("certificates")
    malformed = [f for f in found if f[0] == "CERT_MALFORMED"]
    assert malformed == [
        ("CERT_MALFORMED", ERROR, "certificates", {"role": "signature", "label": "Sig", "path": "3F00/sig",
                                                   "error": str(errors.ApduError("READ BINARY", 0x6581))}),
        ("CERT_MALFORMED", ERROR, "certificates", {"role": "signature", "label": "Sig2", "path": "3F00/sig2",
                                                   "error": "not read"})]
    assert "CERT_MISSING" not in [f[0] for f in found]
    contactless = Facts(pki, "cps3-sans-contact", roles=("auth",))
    contactless.facts.model = identify(parse_atr(KNOWN_ATRS["cps3-contactless"]))
    assert "CERT_MISSING" not in [f[0] for f in contactless.findings()]
    assert [f[3] for f in Facts(pki, roles=()).findings() if f[0] == "CERT_MISSING"] == [
        {"role": "authentication"}, {"role": "signature"}]


# -- the stack, the reader and the card ------------------------------------------------------------------------------

def test_the_pcsc_library_missing_or_the_service_down(pki):
    card = Facts(pki)
    card.facts.pcsc_error = errors.PcscLibraryMissing("libpcsclite.so.1", "cannot open shared object file")
    assert card.findings() == [("PCSC_LIBRARY_MISSING", ERROR, "pcsc", {"library": "libpcsclite.so.1",
                                                                         "reason": "cannot open shared object file"})]
    card.facts.pcsc_error = errors.PcscNoService("SCardEstablishContext", 0x8010001D, "Service not available.")
    assert card.findings() == [("PCSC_NO_SERVICE", ERROR, "pcsc", {
        "operation": "SCardEstablishContext", "hresult": "0x8010001D",
        "message": "Service not available. (0x8010001D)"})]
    card.facts.pcsc_error, card.facts.readers = None, []
    assert card.findings()[1:] == [("PCSC_NO_READER", ERROR, "readers", {})]


@pytest.mark.parametrize("error,code", [
    (errors.CardAbsent("SCardConnect", 0x8010000C), "CARD_ABSENT"),
    (errors.CardSharingViolation("SCardConnect", 0x8010000B), "CARD_SHARING_VIOLATION"),
    (errors.CardRemoved("SCardConnect", 0x80100069), "CARD_REMOVED"),
    (errors.CardMute("SCardConnect", 0x80100066), "CARD_MUTE"),
    (errors.ReaderUnavailable("SCardConnect", 0x80100017), "CARD_MUTE"),
])
@pytest.mark.parametrize("when", ["card", "read", "keys"])
def test_what_a_pcsc_error_on_the_card_means(pki, error, code, when):
    card = Facts(pki)
    card.facts.readers.append(ReaderFacts("Reader C", True, CPS3, False))
    setattr(card.facts, {"card": "card_error", "read": "read_error", "keys": "keys_error"}[when], error)
    found = card.findings()
    params = {"reader": "Reader A", "message": str(error), "hresult": f"0x{error.hresult:08X}"}
    if code == "CARD_ABSENT":
        params["other_readers"] = "Reader C"       # the one with a card; Reader B has none
    assert found[-1] == (code, ERROR, when, params)
    if when != "keys":
        assert [f[0] for f in found[:-1]] == ["PCSC_OK", "READERS_OK"] + (["CARD_IDENTIFIED"] if when == "read" else [])


def test_the_service_gone_while_reading(pki):
    card = Facts(pki)
    card.facts.read_error = errors.PcscNoService("SCardTransmit", 0x8010001D)
    assert card.findings()[-1] == ("PCSC_NO_SERVICE", ERROR, "read", {
        "operation": "SCardTransmit", "message": "failed (0x8010001D)"})


def test_a_card_absent_with_no_card_elsewhere_names_no_other_reader(pki):
    card = Facts(pki)
    card.facts.card_error = errors.CardAbsent("SCardConnect", 0x8010000C)
    assert "other_readers" not in card.findings()[-1][3]


def test_atrs_that_do_not_identify_a_card(pki):
    card = Facts(pki)
    card.facts.atr_error = errors.MalformedDataError("ATR", "TS is 00")
    assert card.findings()[-1] == ("CARD_ATR_MALFORMED", ERROR, "card", {
        "reader": "Reader A", "atr": CPS3_ATR, "error": str(card.facts.atr_error)})
    card = Facts(pki)
    card.facts.model = None
    assert card.findings()[2:] == [("CARD_UNKNOWN", ERROR, "card", {"reader": "Reader A", "atr": CPS3_ATR})]
    card = Facts(pki)
    card.facts.atr, card.facts.model = None, None
    assert card.findings()[2:] == [("CARD_UNKNOWN", ERROR, "card", {"reader": "Reader A", "atr": ""})]
    # A guess is a warning and the check goes on.
    card = Facts(pki)
    card.facts.model_guessed = True
    assert card.findings()[2] == ("CARD_UNKNOWN", WARNING, "card", {"reader": "Reader A", "atr": CPS3_ATR})
    assert card.findings()[3][0] == "CARD_READ_OK"


def test_an_atr_matched_by_mask_only(pki):
    near = parse_atr("3B AC 00 40 2A 00 12 25 00 64 80 00 03 11 00 90 00")
    card = Facts(pki)
    card.facts.atr, card.facts.model = near.raw, guess(near)
    assert card.facts.model is not None and not card.facts.model.exact
    found = card.findings()
    assert found[3] == ("CARD_ATR_NOT_EXACT", WARNING, "card", {
        "atr": "3B AC 00 40 2A 00 12 25 00 64 80 00 03 11 00 90 00", "label": card.facts.model.label,
        "note": card.facts.model.note})


def test_read_problems_and_a_wrong_check_digit(pki):
    card = Facts(pki, serial="90000001")
    card.facts.card.problems = [ReadProblem("odf", "ODF 3F00/5031", errors.ApduError("SELECT", 0x6A82)),
                                ReadProblem("pin", "PIN", errors.ApduError("GET DATA", 0x6A88)),
                                ReadProblem("certificate", "C", errors.ApduError("READ BINARY", 0x6282))]
    wrong = card.pan[:-1] + str((luhn(card.pan[:-1]) + 1) % 10)
    card.facts.card.serial = parse_ef_sn(bytes.fromhex("5A0A" + wrong + "F"))
    found = card.step("read")
    assert found == [
        ("CARD_READ_ERROR", ERROR, "read", {"target": "ODF 3F00/5031", "error": str(errors.ApduError("SELECT", 0x6A82))}),
        ("CARD_SERIAL_INVALID", ERROR, "read", {"pan": wrong, "expected": luhn(card.pan[:-1])})]
    # No read problem: CARD_READ_OK, with the counts of what the card listed and of the commands exchanged.
    card = Facts(pki)
    card.facts.card.serial = None
    assert card.step("read") == [("CARD_READ_OK", OK, "read", {"card_number": "?", "certificates": 0, "keys": 0,
                                                               "apdus": 0})]


# -- the PIN --------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("status,expected", [
    (PinStatus(3, 3), ("PIN_OK", OK)),
    (PinStatus(2, 3), ("PIN_TRIES_LOW", WARNING)),
    (PinStatus(2, 3, verified=True), ("PIN_OK", OK)),      # presented already: the counter is about to reset
    (PinStatus(1, None), ("PIN_OK", OK)),                   # the card does not say its maximum
    (PinStatus(0, 3), ("PIN_BLOCKED", ERROR)),
])
def test_the_pin_counter(pki, status, expected):
    found = Facts(pki, pin=status).step("pin")
    params = {"tries_left": status.tries_left, "max_tries": "?" if status.max_tries is None else status.max_tries,
              "source": "", "verified": status.verified}
    if expected[0] == "PIN_BLOCKED":
        params.update(MEDECINS, login_id="899900000011")
    assert found == [(*expected, "pin", params)]


def test_an_unknown_pin_counter_and_the_cards_without_pin(pki):
    card = Facts(pki, pin=None)
    card.facts.card.problems = [ReadProblem("pin", "PIN", errors.ApduError("GET DATA", 0x6A88))]
    assert card.step("pin") == [("PIN_UNKNOWN", WARNING, "pin", {"error": str(errors.ApduError("GET DATA", 0x6A88))})]
    assert Facts(pki, pin=None).step("pin") == [("PIN_UNKNOWN", WARNING, "pin", {"error": "?"})]
    card = Facts(pki)
    card.facts.model = identify(parse_atr(KNOWN_ATRS["cps3-contactless"]))    # card.md: no PIN
    assert card.step("pin") == []
    card = Facts(pki)
    card.facts.card.pins = []
    assert card.step("pin") == []


# -- consistency ----------------------------------------------------------------------------------------------------

def test_two_holders_on_one_card(pki):
    card = Facts(pki)
    other = Facts(pki, "cps4-infirmier")
    card.facts.certificates[1] = other.facts.certificates[1]
    theirs, mine = other.toml["holder"], card.toml["holder"]
    assert card.step("consistency") == [
        ("CERT_HOLDER_MISMATCH", ERROR, "consistency", {
            "auth_holder": f"{mine['given_name']} {mine['surname']} {mine['national_id']}",
            "signature_holder": f"{theirs['given_name']} {theirs['surname']} {theirs['national_id']}"}),
        # The card number of extension 1.2.250.1.71.1.2.3 is the other card's too.
        ("CARD_NUMBER_MISMATCH", ERROR, "consistency", {"role": "signature", "cert_card_number": other.toml["card_number"],
                                                        "card_number": card.number})]


def test_a_card_number_that_is_not_the_cards(pki):
    card = Facts(pki, serial="90000002")
    assert card.step("consistency") == [
        ("CARD_NUMBER_MISMATCH", ERROR, "consistency", {"role": role, "cert_card_number": card.toml["card_number"],
                                                        "card_number": "90000002"})
        for role in ("authentication", "signature")]


def test_a_key_whose_size_is_not_the_certificates(pki):
    card = Facts(pki, key_bits=1024)
    assert card.step("consistency") == [
        ("CERT_KEY_MISMATCH", ERROR, "consistency", {"role": role, "cert_bits": 2048, "key_bits": 1024})
        for role in ("authentication", "signature")]
    card.facts.certificates[0].key = None         # a key the PrKDF does not give: nothing to compare
    card.facts.certificates[1].key = None
    assert card.step("consistency") == [("CARD_CONSISTENT", OK, "consistency", {})]


def test_without_certificates_nothing_is_compared(pki):
    assert Facts(pki, roles=()).step("consistency") == []


# -- a bug in a judging part -----------------------------------------------------------------------------------------

def test_a_judging_part_that_fails_is_one_internal_error_and_the_findings_made_before_it_stay(pki):
    # A lower layer that let through a counter without its number of tries: comparing it raises TypeError.
    card = Facts(pki, pin=PinStatus(None, 3))
    found = card.findings()
    assert [f[:3] for f in found[:2]] == [("PCSC_OK", OK, "pcsc"), ("READERS_OK", OK, "readers")]
    [failure] = [f for f in found if f[0] == "INTERNAL_ERROR"]
    assert failure[1:3] == (ERROR, "card") and failure[3]["error"].startswith("TypeError: ")
    assert "pin" not in {f[2] for f in found} and "certificates" not in {f[2] for f in found}
    assert any(f[2] == "card" and f[0] != "INTERNAL_ERROR" for f in found)      # the card's own finding stays
