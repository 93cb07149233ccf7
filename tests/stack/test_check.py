"""``cpsdiag check`` end to end: the real CLI, through pcscd and vpcd, on every shipped profile and failure."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections import Counter

import pytest

from tests.support.cli import codes, cpsdiag, cpsdiag_json
from cpsdiag.emulator import stack as stk

pytestmark = pytest.mark.stack

BASE = ["PCSC_OK", "READERS_OK", "CARD_IDENTIFIED", "CARD_READ_OK"]
EXPECTED = {
    "cps3-medecin": BASE + ["PIN_OK", "CERT_OK", "CERT_OK", "CERT_TEST_CARD", "CARD_CONSISTENT"],
    "cps4-infirmier": BASE + ["PIN_OK", "CERT_OK", "CERT_OK", "CERT_TEST_CARD", "CARD_CONSISTENT"],
    "cps4-t1-medecin": BASE + ["PIN_OK", "CERT_OK", "CERT_OK", "CERT_TEST_CARD", "CARD_CONSISTENT"],
    "cpe-etablissement": BASE + ["PIN_OK", "CERT_OK", "CERT_OK", "CERT_TEST_CARD", "CARD_CONSISTENT"],
    "cps3-expired": BASE + ["PIN_OK", "CERT_EXPIRED", "CERT_EXPIRED", "CERT_TEST_CARD", "CARD_CONSISTENT"],
    "cps3-expiring-soon": BASE + ["PIN_OK", "CERT_EXPIRES_SOON", "CERT_EXPIRES_SOON", "CERT_TEST_CARD",
                                  "CARD_CONSISTENT"],
    "cps3-pin-blocked": BASE + ["PIN_BLOCKED", "CERT_OK", "CERT_OK", "CERT_TEST_CARD", "CARD_CONSISTENT"],
    "cps3-pin-last-try": BASE + ["PIN_TRIES_LOW", "CERT_OK", "CERT_OK", "CERT_TEST_CARD", "CARD_CONSISTENT"],
    "cps3-sans-contact": BASE + ["CERT_OK", "CERT_TEST_CARD", "CARD_CONSISTENT"],
    # The default test PKI's URLs are under .invalid: nothing can say it is revoked (tests/stack/test_revocation.py).
    "cps3-revoked": BASE + ["PIN_OK", "CERT_OK", "CERT_OK", "CERT_TEST_CARD", "CARD_CONSISTENT"],
}
VERDICT = {"cps3-expired": ("error", 1), "cps3-pin-blocked": ("error", 1), "cps3-expiring-soon": ("warning", 0),
           "cps3-pin-last-try": ("warning", 0)}
# profile: (generation, interface, card number, tries left, max, given name, national id, profession). The card
# number is the 10 digits of a real card: its certificates carry it whole, EF.SN.ICC its last 8 (docs/emulator.md).
FACTS = {
    "cps3-medecin": ("CPS3", "contact", "2990000001", 3, 3, "CAMILLE", "899900000011", 10),
    "cps4-infirmier": ("CPS4", "contact", "3190000002", 3, 3, "DOMINIQUE", "0999900123", 60),
    "cps4-t1-medecin": ("CPS4", "contact", "3190000008", 3, 3, "ANDREA", "899900000088", 10),
    "cpe-etablissement": ("CPS3", "contact", "2990000003", 3, 3, "ALEX", "3999999990/CPET0001", None),
    "cps3-expired": ("CPS3", "contact", "2990000004", 3, 3, "SACHA", "899900000044", 21),
    "cps3-expiring-soon": ("CPS3", "contact", "2990000005", 3, 3, "MORGAN", "899900000055", 50),
    "cps3-pin-blocked": ("CPS3", "contact", "2990000006", 0, 3, "CHARLIE", "899900000066", 40),
    "cps3-pin-last-try": ("CPS3", "contact", "2990000007", 1, 3, "LOUISON", "899900000077", 70),
    "cps3-sans-contact": ("CPS3", "contactless", "2990000009", None, None, "CAMILLE", "899900000011", 10),
    "cps3-revoked": ("CPS3", "contact", "2990000010", 3, 3, "ALIX", "899900000100", 10),
}


def check_json(pki, *extra: str, env: dict | None = None, stdin: str | None = None) -> tuple[dict, subprocess.CompletedProcess]:
    kwargs = {} if stdin is None else {"stdin": stdin}
    return cpsdiag_json("check", "--json", "--no-env", "--anchors", str(pki.anchors), *extra, env=env, **kwargs)


TITLES = {"en": ("CARD_READ_OK", "Card read: number"), "fr": ("CARD_READ_OK", "Carte lue : numéro")}


@pytest.mark.parametrize("lang", ["en", "fr"])
@pytest.mark.parametrize("profile", sorted(EXPECTED))
def test_every_profile_gives_exactly_the_expected_findings(insert_card, pki, profile, lang):
    insert_card(profile)
    report, proc = check_json(pki, "--lang", lang)
    assert codes(report) == Counter(EXPECTED[profile]), report["findings"]
    assert report["language"] == lang
    code, title = TITLES[lang]
    assert next(f for f in report["findings"] if f["code"] == code)["title"].startswith(title)
    verdict, status = VERDICT.get(profile, ("ok", 0))
    assert (report["verdict"], proc.returncode, report["exit_status"]) == (verdict, status, status)
    generation, interface, number, left, maximum, given, nid, profession = FACTS[profile]
    card = report["card"]
    assert (card["generation"], card["interface"], card["card_number"]) == (generation, interface, number[-8:])
    assert card["card_number_check_ok"] is True
    if left is None:
        assert card["pin"] is None
    else:
        assert (card["pin"]["tries_left"], card["pin"]["max_tries"], card["pin"]["blocked"]) == \
            (left, maximum, left == 0)
    roles = sorted(c["role"] for c in report["certificates"])
    assert roles == (["authentication"] if interface == "contactless" else ["authentication", "signature"])
    for cert in report["certificates"]:
        holder = cert["holder"]
        assert (holder["given_name"], holder["national_id"], holder["profession_code"]) == (given, nid, profession)
        assert cert["card_number"] == number and cert["test_card"] is True
        assert cert["chain"]["anchor"] == "CPSDIAG EMULATEUR AC RACINE"
    assert report["schema"] == "cpsdiag.report/1"
    assert report["apdu"]["count"] > 0 and report["apdu"]["bytes_received"] > report["apdu"]["bytes_sent"]
    assert set(report["timings_ms"]) >= {"pcsc", "readers", "connect", "read", "certificates", "total"}


def test_structure_card_and_identifier_to_type(insert_card, pki):
    insert_card("cpe-etablissement")
    report, _ = check_json(pki)
    holder = report["certificates"][0]["holder"]
    assert holder["structure"]["name"] == "CENTRE HOSPITALIER EMULATEUR"
    assert holder["structure"]["state"] == "Paris (75)"
    assert report["certificates"][0]["card_type"] == 2


def test_identifier_to_type_and_ordre_in_remedies(insert_card, pki):
    insert_card("cps3-expired")
    report, _ = check_json(pki, "--lang", "fr")
    expired = [f for f in report["findings"] if f["code"] == "CERT_EXPIRED"]
    assert expired and all("Ordre national des pharmaciens" in f["remedy"] for f in expired)
    assert all("899900000044" in f["remedy"] for f in expired)          # 8 + RPPS, to type in e-CPS
    assert expired[0]["title"].startswith("Le certificat")


def test_without_the_test_anchors_the_certificates_are_untrusted(insert_card):
    insert_card("cps3-medecin")
    proc = cpsdiag("check", "--json", "--no-env")
    report = json.loads(proc.stdout)
    assert codes(report)["CERT_UNTRUSTED"] == 2 and proc.returncode == 1
    untrusted = next(f for f in report["findings"] if f["code"] == "CERT_UNTRUSTED")
    assert "CPSDIAG EMULATEUR AC FORT PERSONNES" in untrusted["detail"]


def test_at_date_after_expiry(insert_card, pki):
    insert_card("cps3-medecin")
    report, proc = check_json(pki, "--at", "2099-01-01")
    assert codes(report)["CERT_EXPIRED"] == 2 and proc.returncode == 1


@pytest.mark.parametrize("lang,env,word", [
    ("fr", {"LANG": "fr_FR.UTF-8"}, "Carte identifiée"),
    ("en", {"LANG": "C.UTF-8"}, "Card identified"),
    ("fr", {"LC_ALL": "fr_FR.UTF-8", "LANG": "en_US.UTF-8"}, "Carte identifiée"),
    ("en", {"LANG": "fr_FR.UTF-8", "_ARGS": "--lang en"}, "Card identified"),
])
def test_console_language_follows_the_locale(insert_card, pki, lang, env, word):
    insert_card("cps4-infirmier")
    extra = env.pop("_ARGS", "").split()
    proc = cpsdiag("check", "--no-env", "--anchors", str(pki.anchors), *extra, env=env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert word in proc.stdout
    assert "\x1b[" not in proc.stdout                   # no colour codes when piped / NO_COLOR
    assert "DOMINIQUE" in proc.stdout and "0999900123" in proc.stdout


def test_no_card_in_the_reader(stack, pki):
    stack.ensure_pcscd()
    report, proc = check_json(pki)
    assert codes(report) == Counter(["PCSC_OK", "READERS_OK", "CARD_ABSENT"])
    assert proc.returncode == 1


def test_unknown_card(stack, pki, tmp_path, insert_card):
    folder = tmp_path / "not-a-cps"
    shutil.copytree(pki.cards / "cps3-medecin", folder)
    toml = folder / "card.toml"
    toml.write_text(toml.read_text().replace('interface = "contact"',
                                             'interface = "contact"\natr = "3B 8A 80 01 80 58 43 50 53 44 49 41 47 31 A9"'))
    insert_card("x", folder)
    report, proc = check_json(pki)
    assert codes(report) == Counter(["PCSC_OK", "READERS_OK", "CARD_UNKNOWN"]) and proc.returncode == 1
    assert report["card"]["atr"] == "3B 8A 80 01 80 58 43 50 53 44 49 41 47 31 A9"


def test_card_held_exclusively_by_another_program(insert_card, pki, stack):
    insert_card("cps3-medecin")
    holder = subprocess.Popen([sys.executable, "-c", f"""
import sys
from smartcard import scard
rc, ctx = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
rc, card, proto = scard.SCardConnect(ctx, {stack.reader!r}, scard.SCARD_SHARE_EXCLUSIVE,
                                     scard.SCARD_PROTOCOL_T0 | scard.SCARD_PROTOCOL_T1)
print(rc, flush=True)
sys.stdin.read()          # holds the card until the test closes this pipe
"""], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "0"
        report, proc = check_json(pki)
        assert codes(report) == Counter(["PCSC_OK", "READERS_OK", "CARD_SHARING_VIOLATION"])
        assert proc.returncode == 1
        assert report["readers"][0]["exclusive"] is True
    finally:
        holder.kill()
        holder.wait()


def test_pcscd_stopped(stack, pki):
    pcscd = stack.require_managed()
    pcscd.stop()
    try:
        report, proc = check_json(pki)
        assert codes(report) == Counter(["PCSC_NO_SERVICE"]) and proc.returncode == 1
        assert report["pcsc"]["error"]["hresult"] == "0x8010001D"
        [finding] = report["findings"]
        assert finding["detail"].count("SCardEstablishContext") == 1, finding["detail"]   # the call named once
        human = cpsdiag("check", "--no-env", "--lang", "fr")
        assert "Le service carte à puce n'est pas démarré" in human.stdout and "Traceback" not in human.stderr
    finally:
        pcscd.start()


def test_no_reader_at_all(stack, pki):
    pcscd = stack.require_managed()
    pcscd.stop()
    empty = stk.Pcscd(workdir=stack.logs, with_reader=False)
    empty.start()
    try:
        report, proc = check_json(pki)
        assert codes(report) == Counter(["PCSC_OK", "PCSC_NO_READER"]) and proc.returncode == 1
    finally:
        empty.stop()
        pcscd.start()


def test_pcsc_library_missing(stack, pki):
    proc = stack.run_without_pcsc_library("check", "--json", "--no-env")
    report = json.loads(proc.stdout)
    assert codes(report) == Counter(["PCSC_LIBRARY_MISSING"]) and proc.returncode == 1
    assert "Traceback" not in proc.stderr and "Failed to dlopen" not in proc.stdout


def test_unknown_reader_is_a_usage_error(insert_card, pki):
    insert_card("cps3-medecin")
    proc = cpsdiag("check", "--reader", "no such reader")
    assert proc.returncode == 2 and "no reader matches" in proc.stderr and "Traceback" not in proc.stderr
    report, proc = check_json(pki, "--reader", "vpcd 00 00")
    assert proc.returncode == 0 and report["card"]["reader"].endswith("00 00")


def test_certificates_of_another_holder_and_card(insert_card, pki, tmp_path):
    """A card whose signature certificate was issued to someone else, for another card."""
    folder = tmp_path / "mixed"
    shutil.copytree(pki.cards / "cps3-medecin", folder)
    for name in ("signature.pem", "signature.key"):
        shutil.copy(pki.cards / "cps3-expired" / name, folder / name)
    insert_card("mixed", folder)
    report, proc = check_json(pki)
    found = codes(report)
    assert found["CERT_HOLDER_MISMATCH"] == 1 and found["CARD_NUMBER_MISMATCH"] == 1
    assert "CARD_CONSISTENT" not in found and proc.returncode == 1
    mismatch = next(f for f in report["findings"] if f["code"] == "CARD_NUMBER_MISMATCH")
    assert mismatch["params"] == {"role": "signature", "cert_card_number": "2990000004", "card_number": "90000001"}


def test_check_includes_the_workstation_inventory(insert_card, pki):
    insert_card("cps3-medecin")
    proc = cpsdiag("check", "--json", "--anchors", str(pki.anchors))
    report = json.loads(proc.stdout)
    env = report["environment"]
    assert env["system"]["platform"] == "linux" and env["pcsc"]["library"]
    assert env["card_generation"] == "CPS3" and env["card_serial"] == "90000001"
    found = codes(report, "environment")
    # No Cryptolib CPS on this machine means a warning naming ANS's download page, and the other way round.
    assert ("MIDDLEWARE_MISSING" in found) == (not env["cryptolib"]["installed"])
    assert "PCSC_SERVICE_OK" not in found and "PCSC_NOT_PROBED" not in found     # check says it itself
    # check never loads a PKCS#11 module (it would read the whole card again): the probes did not run.
    assert all(m["probe"] is None or m["probe"]["error_kind"] == "not_run" for m in env["modules"])
    console = cpsdiag("check", "--anchors", str(pki.anchors), "--lang", "en")
    assert "Workstation" in console.stdout and "Debian" in console.stdout


# The data objects each kind of card lists (docs/emulator.md): label -> (private, modifiable), in DODF order.
CPS_PUBLIC = {"CPS_DATA": (False, True), "CPS_ID_CARD": (False, False), "CPS_NAME_PS": (False, False),
              "CPS_LANG_PS": (False, False), "CPS_INFO_PS": (False, False)}
CPS4_PUBLIC = {**CPS_PUBLIC, "CPS_DATA": (False, False), **{f"CPS2TER_{n}": (False, False) for n in (
    "ATR", "ID", "ICC", "NAME", "LANG", "PSINFO", "DIRAMO")}}


@pytest.mark.parametrize("profile,expected", [
    ("cps3-medecin", {**CPS_PUBLIC, "CPS_ACTIVITY_01_PS": (True, False), "CPS_ACTIVITY_02_PS": (True, False)}),
    ("cps4-infirmier", {**CPS4_PUBLIC, "CPS_ACTIVITY_01_PS": (True, False), "CPS_SIT_FACT": (True, False),
                        "CPS2TER_ACTIVITY_01_PS": (True, False)}),
    ("cps3-sans-contact", {"CPS_DATA": (False, False)}),
])
def test_check_lists_the_data_objects_without_the_pin(insert_card, pki, profile, expected):
    insert_card(profile)
    report, proc = check_json(pki)
    objects = report["card"]["pkcs15"]["data_objects"]
    assert {o["label"]: (o["private"], o["modifiable"]) for o in objects} == expected
    assert [o["label"] for o in objects] == list(expected)
    app_df = "3F000002" if profile == "cps3-sans-contact" else "3F000001"     # the contactless application DF
    assert all(o["application"] == "CPS" and o["path"].startswith(app_df) for o in objects)
    # Sizes come from each file's FCP; CPS_DATA's is the profile's cps_data_size.
    assert next(o["size"] for o in objects if o["label"] == "CPS_DATA") == 2048
    assert all(isinstance(o["size"], int) and o["size"] > 0 for o in objects)
    # Without the PIN nothing private is read, and no PIN was asked for.
    assert report["situations"] is None and report["keys"] is None
    # The console shows the same inventory in the card panel.
    text = cpsdiag("check", "--no-env", "--anchors", str(pki.anchors), "--lang", "en", env={"COLUMNS": "200"}).stdout
    private = sum(1 for p, _m in expected.values() if p)
    assert f"{len(expected)}: {len(expected) - private} public, {private} readable after the PIN" in text
    for label, (private_object, modifiable) in expected.items():
        line = next(line for line in text.splitlines() if f" {label} " in line)
        assert ("after the PIN" in line) == private_object and ("writable" in line) == modifiable, line


def _situation(name: str, structure_id: str, sector: str) -> str:
    def tlv(tag: int, value: bytes) -> bytes:
        return bytes([tag, len(value)]) + value

    return tlv(0xEE, tlv(0x84, name.encode()) + tlv(0x85, structure_id.encode()) + tlv(0x86, sector.encode())).hex().upper()


@pytest.mark.parametrize("via", ["apdu", "pkcs11"])
def test_with_the_pin_check_reads_the_practice_situations(insert_card, pki, via, opensc_module, pykcs11):
    insert_card("cps3-medecin")
    extra = ["--via", "pkcs11", "--module", opensc_module] if via == "pkcs11" else []
    report, proc = check_json(pki, "--sign", "--pin-stdin", *extra, stdin="1234\n")
    situations = report["situations"]
    assert (situations["via"], situations["listed"], situations["count"]) == (via, True, 2)
    first, second = situations["items"]
    # The bytes of the profile's [data.situations], encoded as the research note describes them.
    assert first["raw"] == _situation("CABINET DU DR EMULATEUR-MEDECIN", "399999999900019", "SA07")
    assert second["raw"] == _situation("CENTRE DE SANTE EMULATEUR", "1999999980", "SA05")
    assert first["decoded"] == {"structure_name": "CABINET DU DR EMULATEUR-MEDECIN",
                                "structure_id": "399999999900019", "sector": "SA07",
                                "sector_label": "Cabinet individuel"}
    read = next(f for f in report["findings"] if f["code"] == "SITUATIONS_READ")
    assert read["params"] == {"count": 2, "labels": "CPS_ACTIVITY_01_PS, CPS_ACTIVITY_02_PS"}
    assert proc.returncode == 0


def test_a_card_without_practice_situations_gets_a_warning(insert_card, pki, tmp_path):
    folder = tmp_path / "no-situation"
    shutil.copytree(pki.cards / "cps4-infirmier", folder)
    toml = folder / "card.toml"
    text = toml.read_text()
    toml.write_text(text[:text.index("[[data.situations]]")] + "situations = []\n")
    insert_card("no-situation", folder)
    report, proc = check_json(pki, "--sign", "--pin-stdin", stdin="4321\n")
    assert "CPS_ACTIVITY_01_PS" not in [o["label"] for o in report["card"]["pkcs15"]["data_objects"]]
    assert (report["situations"]["listed"], report["situations"]["count"]) == (True, 0)
    none = next(f for f in report["findings"] if f["code"] == "SITUATIONS_NONE")
    assert none["severity"] == "warning" and "bill" in none["detail"]
    assert (report["verdict"], proc.returncode) == ("warning", 0)
