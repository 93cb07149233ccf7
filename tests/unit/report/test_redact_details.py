"""Redaction piece by piece: the salt file, masks, RFC 4514 escaping and parsing, needles in text and in bytes.

Expectations are written from the rules docs/helpdesk-report.md states (mask shapes, what a subject keeps),
RFC 4514 (which characters are escaped, how), the byte encodings of the values (UTF-8, Latin-1, UTF-16BE, BCD as
EF.SN.ICC packs a PAN) and HMAC-SHA256 known answers computed with OpenSSL outside cpsdiag:
    printf %s VALUE | openssl dgst -sha256 -mac HMAC -macopt hexkey:0707...07   (32 bytes of 07)
"""

from __future__ import annotations

import stat
import sys
from pathlib import Path

import pytest

from cpsdiag.report import redact
from cpsdiag.report.redact import (Redactor, Salt, config_dir, join_rfc4514, keyed_hash, load_salt, mask,
                                   mask_subject, not_redacted_block, parse_rfc4514, redaction_block, rfc4514_escape)

SALT = Salt(b"\x07" * 32, "installation")


# -- the salt --------------------------------------------------------------------------------------------------

def test_salt_id_is_the_known_hmac_of_its_label():
    # openssl: HMAC-SHA256(key 07*32, "cpsdiag salt id") = e03f35f886100d75...
    assert SALT.id == "e03f35f8"
    assert "key" not in repr(SALT) or "\\x07" not in repr(SALT)


def test_keyed_hash_known_answers_and_normalisation():
    assert keyed_hash(SALT, "00000001") == "1a570dc5d2c3a0a9"
    assert keyed_hash(SALT, "JEAN", "name") == "89699879126b9762"
    assert keyed_hash(SALT, "jean", "name") == "89699879126b9762"           # upper-cased before hashing
    # A 10-digit card number is hashed as its last 8 digits (EF.SN.ICC's); other lengths or non-digits as they are.
    assert keyed_hash(SALT, "0100000001", "card_number") == "1a570dc5d2c3a0a9"
    assert keyed_hash(SALT, "100000001", "card_number") != "1a570dc5d2c3a0a9"
    assert keyed_hash(SALT, "01000000O1", "card_number") != keyed_hash(SALT, "000000O1", "card_number")
    assert keyed_hash(SALT, "00 00 00 01", "fingerprint") == "1a570dc5d2c3a0a9"
    assert keyed_hash(SALT, "00 00 00 01", "identifier") != "1a570dc5d2c3a0a9"


def test_a_new_salt_file_holds_64_hex_digits_and_a_newline(tmp_path):
    salt = load_salt(tmp_path / "a" / "b")
    path = tmp_path / "a" / "b" / "redaction-salt"
    text = path.read_text()
    assert len(text) == 65 and text.endswith("\n") and bytes.fromhex(text) == salt.key
    assert (salt.origin, salt.path, salt.problem) == ("installation", str(path), None)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_an_existing_salt_is_read_not_replaced(tmp_path):
    path = tmp_path / "redaction-salt"
    path.write_text("  " + "ab" * 16 + "  \n")
    salt = load_salt(tmp_path)
    assert (salt.key, salt.origin, salt.problem) == (b"\xab" * 16, "installation", None)
    assert path.read_text() == "  " + "ab" * 16 + "  \n"


@pytest.mark.parametrize(("content", "reason"), [
    ("ab" * 15, "shorter than 16 bytes"),
    ("", "shorter than 16 bytes"),
    ("zz" * 16, "non-hexadecimal number found in fromhex() arg at position 0"),
])
def test_a_damaged_salt_file_gives_an_ephemeral_salt_saying_why(tmp_path, content, reason):
    path = tmp_path / "redaction-salt"
    path.write_text(content)
    salt = load_salt(tmp_path)
    assert (salt.origin, salt.path, salt.problem) == ("ephemeral", str(path), f"{path}: {reason}")
    assert len(salt.key) == 32 and salt.key != load_salt(tmp_path).key


def test_a_salt_file_that_is_not_ascii(tmp_path):
    (tmp_path / "redaction-salt").write_bytes(b"\xff" * 40)
    salt = load_salt(tmp_path)
    assert salt.origin == "ephemeral" and salt.problem.startswith(f"{tmp_path / 'redaction-salt'}: 'ascii' codec")


def test_an_unreadable_salt_names_the_system_error(tmp_path):
    (tmp_path / "redaction-salt").mkdir()          # a folder where the file should be
    salt = load_salt(tmp_path)
    assert salt.problem == f"{tmp_path / 'redaction-salt'}: Is a directory"


def test_load_salt_defaults_to_the_config_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("CPSDIAG_CONFIG_DIR", str(tmp_path / "cfg"))
    salt = load_salt()
    assert salt.path == str(tmp_path / "cfg" / "redaction-salt") and salt.origin == "installation"


def test_config_folder_by_platform(monkeypatch):
    home = Path.home()
    assert config_dir({"CPSDIAG_CONFIG_DIR": "/x/y"}) == Path("/x/y")
    assert config_dir({"CPSDIAG_CONFIG_DIR": "", "XDG_CONFIG_HOME": "/xdg"}) == Path("/xdg/cpsdiag")
    assert config_dir({}) == home / ".config" / "cpsdiag"
    assert config_dir({"XDG_CONFIG_HOME": ""}) == home / ".config" / "cpsdiag"
    monkeypatch.setattr(sys, "platform", "win32")
    assert config_dir({"APPDATA": "C:/Users/u/AppData/Roaming"}) == Path("C:/Users/u/AppData/Roaming/cpsdiag")
    assert config_dir({"XDG_CONFIG_HOME": "/xdg"}) == Path("/xdg/cpsdiag")          # no APPDATA: the fallback
    monkeypatch.setattr(sys, "platform", "darwin")
    assert config_dir({"APPDATA": "C:/a", "XDG_CONFIG_HOME": "/xdg"}) == home / "Library" / "Application Support" / "cpsdiag"


def test_config_folder_reads_the_process_environment(monkeypatch):
    monkeypatch.setenv("CPSDIAG_CONFIG_DIR", "/from/env")
    assert config_dir() == Path("/from/env")


# -- masks ------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("value", "kind", "shown"), [
    ("12345", "identifier", "****"),                   # fewer than 6 characters: nothing shown
    ("123456", "identifier", "1****6"),
    ("12345678901", "identifier", "1****1"),
    ("123456789012", "identifier", "12****12"),
    ("1" * 24 + "ABCD", "identifier", "1111****ABCD"),
    ("X" * 30 + "1234", "identifier", "XXXX****1234"),  # 4 at most at each end
    ("  123456  ", "identifier", "1****6"),
    ("ab:cd:ef:01:23:45", "serial", "AB****45"),
    ("ab cd ef 01 23 45", "fingerprint", "AB****45"),
    ("abcdef", "identifier", "a****f"),                # only hex kinds are upper-cased
    ("ANNE", "name", "A****"),
    ("ANN", "name", "****"),
    (" Zoé ", "name", "****"),
    (" Élodie ", "name", "É****"),
])
def test_mask_shapes(value, kind, shown):
    assert mask(value, kind) == shown


# -- RFC 4514 -------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("value", "escaped"), [
    ('a\\b"c+d,e;f<g>h', 'a\\\\b\\"c\\+d\\,e\\;f\\<g\\>h'),
    ("#1", "\\#1"),
    (" lead", "\\ lead"),
    ("trail ", "trail\\ "),
    (" ", "\\ "),
    ("a\0b", "a\\00b"),
    ("plain", "plain"),
    ("in#side", "in#side"),
])
def test_rfc4514_escape_as_cryptography_does(value, escaped):
    from cryptography import x509
    from cryptography.x509.oid import NameOID

    assert rfc4514_escape(value) == escaped
    if value != " ":        # cryptography escapes a lone space once more; a value of one space is not seen on cards
        assert x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, value)]).rfc4514_string() == "CN=" + escaped


def test_parse_rfc4514_escapes_hex_pairs_and_multi_valued_rdns():
    assert parse_rfc4514("CN=a\\2Cb\\+c,O=x\\=y+OU= z ,C=FR") == [
        [("CN", "a,b+c")], [("O", "x=y"), ("OU", " z ")], [("C", "FR")]]
    assert parse_rfc4514("CN=\\4A\\4a,SN=end\\") == [[("CN", "JJ")], [("SN", "end\\")]]
    assert parse_rfc4514("CN=\\4") == [[("CN", "4")]]
    assert parse_rfc4514("CN=a=b") == [[("CN", "a=b")]]
    assert parse_rfc4514(" CN =v") == [[("CN", "v")]]
    assert parse_rfc4514("") == []
    assert parse_rfc4514("novalue") == []


def test_join_rfc4514_escapes_values():
    assert join_rfc4514([[("CN", "a,b"), ("SN", "#x")], [("C", "FR")]]) == "CN=a\\,b+SN=\\#x,C=FR"
    assert join_rfc4514([]) == ""


def test_mask_subject_masks_all_but_country_region_locality_and_title():
    subject = "2.5.4.12=Chef,2.5.4.6=FR,2.5.4.8=Nord,2.5.4.7=Lille,L=Lens,st=Var,c=BE,O=AB12CD,OU=Service,CN=A"
    assert mask_subject(subject) == ("2.5.4.12=Chef,2.5.4.6=FR,2.5.4.8=Nord,2.5.4.7=Lille,L=Lens,st=Var,c=BE,"
                                     "O=A****D,OU=S****,CN=****")


# -- needles in text -----------------------------------------------------------------------------------------

def test_a_redactor_without_values_still_masks_pans_and_the_home_folder():
    r = Redactor(SALT, [], home="/home/jdupont")
    assert r.text("card 8025000001/90000001 at /home/jdupont/x and /home/jdupontx") == (
        "card 8025000001/9****1 at ~/x and /home/jdupontx")
    assert r.replacements == 1
    assert r.text("PAN 80250000019000000162F.") == "PAN 80250000019****F."
    assert r.text("x8025000001900000016 8025000001/123 18025000001/90000001a") == (
        "x8025000001900000016 8025000001/123 18025000001/90000001a")
    assert r.replacements == 2
    assert r.needles == () and r._byte_needles == ()


def test_no_home_folder():
    assert Redactor(SALT, [], home="").text("/home/a") == "/home/a"


def test_home_defaults_to_the_users():
    assert Redactor(SALT, []).home == str(Path.home())
    assert redact._home() == str(Path.home())


def test_home_of_one_character_is_not_masked(monkeypatch):
    monkeypatch.setattr(Path, "home", classmethod(lambda cls: Path("/")))
    assert redact._home() is None

    def no_home(cls):
        raise RuntimeError("no home")

    monkeypatch.setattr(Path, "home", classmethod(no_home))
    assert redact._home() is None


def test_values_are_found_in_every_written_form():
    r = Redactor(SALT, [("serial", "0A1B2C3D"), ("name", "Dupont"), ("identifier", "0B6087510/CPET0002"),
                        ("card_number", " 90000001 "), ("name", ""), ("name", "Dupont")], home="")
    assert set(r.values) == {"0A1B2C3D", "Dupont", "0B6087510/CPET0002", "90000001"}
    assert r.values["0A1B2C3D"] == ("serial", "0****D")
    assert r.text("s 0a:1b:2c:3d, 0A 1B 2C 3D, 0a1b2c3d, 169552957") == "s 0****D, 0****D, 0****D, 0****D"
    assert r.text("DUPONT dupont Dupont DUPONTS") == "D**** D**** D**** DUPONTS"
    assert r.text("0B6087510 and CPET0002 and 0B6087510/CPET0002") == "0B6****002 and 0B6****002 and 0B6****002"
    assert r.text("n=90000001;") == "n=9****1;"
    assert r.replacements == 11


def test_a_replacement_for_an_unknown_match_is_a_bare_mask():
    r = Redactor(SALT, [("name", "ÉLODIE")], home="")
    # "élodie" and "ÉLODIE" are the same word to the case-blind search.
    assert r.text("élodie") == "É****"


def test_short_names_count_only_as_written():
    r = Redactor(SALT, [("name", "LI"), ("name", "A")], home="")
    assert r.text("LI li Li LIS A a") == "**** li Li LIS A a"


def test_a_word_needle_ends_at_letters_only():
    r = Redactor(SALT, [("name", "JEAN")], home="")
    assert r.text("JEAN2 2JEAN _JEAN JEANNE éJEAN") == "J****2 2J**** _J**** JEANNE éJEAN"
    digits = Redactor(SALT, [("identifier", "123456")], home="")
    assert digits.text("a123456b 91234569") == "a1****6b 91****69"


# -- needles in bytes ---------------------------------------------------------------------------------------

def test_byte_needles_cover_the_encodings_and_bcd():
    r = Redactor(SALT, [("name", "Zoé"), ("card_number", "90000001"), ("serial", "0A1B2C3D"), ("serial", "0A1B"),
                        ("fingerprint", "ABC"), ("identifier", "12")], home="")
    needles = set(r._byte_needles)
    assert ("5a6fc3a9", False) in needles            # UTF-8
    assert ("5a6fe9", False) in needles              # Latin-1
    assert ("005a006f00e9", False) in needles        # UTF-16BE
    assert ("3930303030303031", False) in needles    # the card number as ASCII
    assert ("90000001", True) in needles             # BCD, at any nibble
    assert ("0a1b2c3d", False) in needles
    assert ("0a1b", False) not in needles            # fewer than 8 hex digits: too common to mask in APDUs
    assert not any(n.startswith("abc") for n, _ in needles)
    assert not any(n in ("3132", "12") for n, _ in needles)
    assert [len(n) for n, _ in r._byte_needles] == sorted((len(n) for n, _ in r._byte_needles), reverse=True)


def test_a_name_that_latin_1_cannot_encode_is_skipped_in_that_codec():
    r = Redactor(SALT, [("name", "Łukasz")], home="")
    needles = {n for n, _ in r._byte_needles}
    assert "c581756b61737a" in needles and "0141756b0061007300" not in needles
    assert "0141" + "0075006b00610073007a" in needles


def test_data_mask_marks_the_bytes_of_a_value():
    r = Redactor(SALT, [("card_number", "90000001"), ("serial", "0A1B2C3D")], home="")
    # EF.SN.ICC: 5A 0A 80 25 00 00 01 90 00 00 01 F6 -> the card number at a byte boundary.
    assert r.data_mask(bytes.fromhex("5A0A80250000019000000 1F6".replace(" ", ""))) == {7, 8, 9, 10}
    # Shifted by a nibble (a PAN of odd length): the bytes that hold any of its digits.
    assert r.data_mask(bytes.fromhex("090000001F")) == {0, 1, 2, 3, 4}
    # A hex value only at a byte boundary.
    assert r.data_mask(bytes.fromhex("0A1B2C3D")) == {0, 1, 2, 3}
    assert r.data_mask(bytes.fromhex("00A1B2C3D0")) == set()
    # Twice in the data: both.
    assert r.data_mask(bytes.fromhex("0A1B2C3D 00 0A1B2C3D".replace(" ", ""))) == {0, 1, 2, 3, 5, 6, 7, 8}
    assert r.data_mask(b"card 90000001") == set(range(5, 13))
    assert r.data_mask(b"") == set()


# -- the redaction block ---------------------------------------------------------------------------------------

def test_redaction_block_says_how():
    block = redaction_block(SALT, ["name"], ["a.b"], 3, True)
    assert block.method == ("partial mask; HMAC-SHA256 keyed with a per-installation salt, first 16 hex digits in "
                            "<field>_hmac")
    assert (block.applied, block.salt, block.salt_id, block.kinds, block.fields, block.replacements_in_text,
            block.certificates_included) == (True, "installation", "e03f35f8", ["name"], ["a.b"], 3, True)
    assert block.trace == "certificate contents omitted; identifying bytes shown as **"
    import msgspec

    assert "salt_problem" not in msgspec.to_builtins(block)
    ephemeral = redaction_block(Salt(b"\x01" * 32, "ephemeral", "/p", "/p: denied"), [], [], 0, False)
    assert (ephemeral.salt, ephemeral.salt_problem, ephemeral.certificates_included) == ("ephemeral", "/p: denied", False)


def test_not_redacted_block():
    block = not_redacted_block(True)
    assert (block.applied, block.reason, block.certificates_included) == (False, "--no-redact", True)
    assert not_redacted_block(False).certificates_included is False


def test_identifying_value_shapes():
    assert redact._scalar("x") and redact._scalar(0) and redact._scalar(12)
    assert not redact._scalar(True) and not redact._scalar(" ") and not redact._scalar(None) and not redact._scalar(1.5)
    assert redact._identifying(["a", 2]) and not redact._identifying([]) and not redact._identifying(["a", None])
    assert redact._identifying("a") and not redact._identifying({"a": 1})


def test_parts_split_only_card_number_lists():
    assert redact._parts("90000001, 90000004,", "card_number") == ["90000001", "90000004"]
    assert redact._parts("90000001", "card_number") == ["90000001"]
    assert redact._parts("DUPONT, JEAN", "name") == ["DUPONT, JEAN"]


def test_variants():
    assert redact._variants("A,B", "name") == {"A,B", "A\\,B"}
    assert redact._variants("Anne", "name") == {"Anne", "ANNE", "anne"}
    assert redact._variants("00ff", "serial") == {"00ff", "00FF", "00 FF", "00:FF", "00 ff", "00:ff", "255"}
    assert redact._variants("0F:F0", "fingerprint") == {"0F:F0", "0FF0", "0ff0", "0F F0", "0f f0", "0f:f0"}
    assert redact._variants("1234/5678 AB", "identifier") == {"1234/5678 AB", "1234", "5678"}
    assert redact._variants("1234/5678", "card_number") == {"1234/5678", "1234", "5678"}
    assert redact._variants("1234/5678", "name") == {"1234/5678"}
    assert redact._variants("GZ", "serial") == {"GZ", "gz", "G Z".replace(" ", "")} | {"GZ"}


# -- the schema's marks, read from a report (docs/report-schema.md gives each field's kind) ----------------------

def marked_report():
    from tests.support.report import as_report, card_doc, certificate_doc, finding_doc, holder_doc, report_doc

    doc = report_doc(
        card=card_doc(card_number="90000001, 90000006", pan="8025000001900000016"),
        certificates=[certificate_doc(subject="GN=ANNE+SN=MARTIN+OU=SERVICE,C=FR",
                                      holder=holder_doc(given_name="ANNE", surname="MARTIN", national_id="810001234567")),
                      certificate_doc(subject="CN=x", serial="0A1B2C3D", sha256="AB" * 32)],
        findings=[finding_doc("X", serials="90000001, 90000004", reader="R 0", auth_holder="ANNE MARTIN"),
                  finding_doc("Y", cache_serials=["90000001", "90000005"], card_number=None)])
    return as_report(doc)


def test_identifying_values_follow_the_documented_marks():
    assert sorted(redact.identifying_values(marked_report())) == sorted([
        ("card.card_number", "card_number", "90000001"), ("card.card_number", "card_number", "90000006"),
        ("card.pan", "card_number", "8025000001900000016"),
        ("certificates[0].serial", "serial", "5A3F09B7C2D4E6F8A1B2C3D4E5F60718"),
        ("certificates[0].holder.given_name", "name", "ANNE"), ("certificates[0].holder.surname", "name", "MARTIN"),
        ("certificates[0].holder.national_id", "identifier", "810001234567"),
        ("certificates[0].sha256", "fingerprint", "9F" * 32),
        ("certificates[1].serial", "serial", "0A1B2C3D"), ("certificates[1].sha256", "fingerprint", "AB" * 32),
        ("findings[0].params.serials", "card_number", "90000001"),
        ("findings[0].params.serials", "card_number", "90000004"),
        ("findings[0].params.auth_holder", "name", "ANNE MARTIN"),
        ("findings[1].params.cache_serials", "card_number", "90000001"),
        ("findings[1].params.cache_serials", "card_number", "90000005"),
    ])


def test_subjects_are_found_in_every_certificate():
    assert list(redact.subjects(marked_report())) == ["GN=ANNE+SN=MARTIN+OU=SERVICE,C=FR", "CN=x"]


def test_every_other_subject_value_is_masked_as_a_name():
    r = redact.redactor_for(marked_report(), SALT, home="")
    assert r.values["SERVICE"] == ("name", "S****")
    assert r.values["x"] == ("name", "****")
    assert "FR" not in r.values


def test_data_mask_finds_every_occurrence_including_overlapping_ones():
    r = Redactor(SALT, [("identifier", "111111")], home="")
    # Digits at any nibble: "111111" starts at nibbles 0 and 1 of 11 11 11 10.
    assert r.data_mask(bytes.fromhex("11111110")) == {0, 1, 2, 3}
    serial = Redactor(SALT, [("serial", "0A1B2C3D")], home="")
    three = bytes.fromhex("0A1B2C3D 00 0A1B2C3D 00 0A1B2C3D".replace(" ", ""))
    assert serial.data_mask(three) == {0, 1, 2, 3, 5, 6, 7, 8, 10, 11, 12, 13}


def test_a_two_character_home_is_masked(monkeypatch):
    monkeypatch.setattr(Path, "home", classmethod(lambda cls: Path("/a")))
    assert redact._home() == "/a"


def redacted_marked(**kwargs):
    import msgspec

    from tests.support.report import as_report, card_doc, certificate_doc, finding_doc, holder_doc, report_doc

    doc = report_doc(
        card=card_doc(card_number="0100000001"),
        certificates=[certificate_doc(subject="GN=ANNE+SN=MARTIN,C=FR", sha256="00:00:00:01",
                                      holder=holder_doc(given_name="ANNE", surname="MARTIN"))],
        findings=[finding_doc("X", serials="0100000001, 90000004", reader="R 0", given_name=["ANNE", "MARIE"]),
                  finding_doc("Y", cache_serials=["0100000001", "90000005"])])
    done = redact.redact_report(as_report(doc), SALT, home="", **kwargs)
    return done, msgspec.to_builtins(done.report)


def test_redact_report_masks_and_hashes_each_kind_its_own_way():
    # Known answers (openssl, header): "00000001" -> 1a570dc5d2c3a0a9, "ANNE" -> 6b64385e5754240e. A 10-digit card number is hashed as its
    # last 8 digits, a fingerprint without its colons: both land on that answer.
    done, doc = redacted_marked()
    assert (doc["card"]["card_number"], doc["card"]["card_number_hmac"]) == ("0****1", "1a570dc5d2c3a0a9")
    cert = doc["certificates"][0]
    assert (cert["sha256"], cert["sha256_hmac"]) == ("0****1", "1a570dc5d2c3a0a9")
    assert (cert["holder"]["given_name"], cert["holder"]["surname"]) == ("A****", "M****")
    params = doc["findings"][0]["params"]
    assert params["serials"] == "0****1, 9****4"
    assert params["serials_hmac"][0] == "1a570dc5d2c3a0a9" and len(params["serials_hmac"]) == 2
    assert params["given_name"] == ["A****", "M****"] and params["given_name_hmac"][0] == "6b64385e5754240e"
    assert params["reader"] == "R 0" and "reader_hmac" not in params
    lib = doc["findings"][1]["params"]
    assert lib["cache_serials"] == ["0****1", "9****5"] and lib["cache_serials_hmac"][0] == "1a570dc5d2c3a0a9"
    fields = doc["redaction"]["fields"]
    assert {"card.card_number", "findings[0].params.serials", "findings[0].params.given_name",
            "findings[1].params.cache_serials", "certificates[0].subject"} <= set(fields)
    assert doc["redaction"]["certificates_included"] is False
    assert done.redactor.values["0100000001"] == ("card_number", "0****1")
    assert redacted_marked(include_certificates=True)[1]["redaction"]["certificates_included"] is True


def test_word_boundaries_depend_on_the_needles_ends():
    r = Redactor(SALT, [("identifier", "AB1234"), ("identifier", "12345B"), ("identifier", "A12345")], home="")
    assert r.text("xAB1234 AB1234") == "xAB1234 A****4"
    assert r.text("12345Bx 12345B") == "12345Bx 1****B"
    assert r.text("xA12345 A12345") == "xA12345 A****5"


def test_case_rules_for_three_and_four_letter_names():
    r = Redactor(SALT, [("name", "ANN"), ("name", "ANNE"), ("name", "DUPONT")], home="")
    assert r.text("ANN ann Ann") == "**** ann Ann"
    assert r.text("aNNe DuPont") == "A**** D****"


def test_a_match_that_folds_to_no_needle_gets_a_bare_mask():
    # re's case-blind search takes the dotless ı for an I; casefold keeps it apart, so no mask is on file for it.
    r = Redactor(SALT, [("name", "MARTIN")], home="")
    assert r.text("MARTıN") == "****"


def test_byte_needles_of_hex_values_and_the_values_after_them():
    r = Redactor(SALT, [("serial", "0a:1b:2c:3d"), ("name", "ZOEY"), ("identifier", "1234-5678"),
                        ("identifier", "12345"), ("name", "Fabcde")], home="")
    needles = set(r._byte_needles)
    assert ("0a1b2c3d", False) in needles
    assert ("5a4f4559", False) in needles                    # ZOEY in ASCII, after the hex value
    assert r.data_mask(bytes.fromhex("12345678")) == set()    # not digits only: no BCD form
    assert r.data_mask(bytes.fromhex("012345")) == set()      # five digits: too short for BCD
    assert r.data_mask(bytes.fromhex("FABCDE")) == set()      # letters are no BCD digits


def test_parse_rfc4514_non_hex_escapes_and_short_trailing_spaces():
    assert parse_rfc4514("CN=a\\XAb") == [[("CN", "aXAb")]]
    assert rfc4514_escape("a ") == "a\\ "


def test_identifying_lists_in_records_give_one_value_each():
    from tests.support.report import as_report, inventory, report_doc

    environment = inventory()
    environment["cryptolib"].update(cache_serials=["90000001", "90000004"])
    values = list(redact.identifying_values(as_report(report_doc(environment=environment))))
    assert [v for v in values if v[0].endswith("cache_serials")] == [
        ("environment.cryptolib.cache_serials", "card_number", "90000001"),
        ("environment.cryptolib.cache_serials", "card_number", "90000004")]
