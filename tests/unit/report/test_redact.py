"""Redaction: masks, keyed hashes, the salt, the schema's marks, distinguished names, and the APDU trace."""

from __future__ import annotations

import json
import stat

from hypothesis import given, settings, strategies as st

from cpsdiag.report.redact import (Redactor, Salt, keyed_hash, load_salt, mask, mask_subject, parse_rfc4514,
                                   redact_report, rfc4514_escape)
from cpsdiag.report.trace import redact_trace
from cpsdiag.transport.base import ApduRecord
from tests.support.report import as_report, card_doc, certificate_doc, finding_doc, holder_doc, inventory, report_doc

SALT = Salt(b"\x07" * 32, "installation")


def redacted(doc: dict, **kwargs) -> dict:
    """The redacted report of a document, as its JSON has it."""
    import msgspec

    return msgspec.to_builtins(redact_report(as_report(doc), SALT, **kwargs).report)


def sample_report() -> dict:
    holder = holder_doc(given_name="CAMILLE", surname="DUPONT-ESSAI", national_id="899900000011", id_type="N° RPPS",
                        id_kind="RPPS", identifier="99900000011", login_id="899900000011", title="Médecin",
                        profession_code=10, profession="Médecin")
    cert = certificate_doc(
        label="Certificat d'Authentification CPS", path="3F000001A001",
        subject="GN=CAMILLE+CN=899900000011+SN=DUPONT-ESSAI,title=Médecin,C=FR",
        issuer="CN=AC IGC-SANTE FORT PERSONNES,OU=IGC-SANTE,O=ASIP-SANTE,C=FR",
        serial="016994EAF388CEB5BBACD8FCC4BF170E", holder=holder, card_number="90000001",
        sha256="6A:E2:84:7E:83:59:A3:18:36:3F:F5:F5:C4:24:BA:44:19:41:C5:73:36:3E:B6:53:44:31:D0:5B:02:E0:0B:58",
        chain={"trusted": True, "anchor": None, "path": ["899900000011", "AC IGC-SANTE FORT PERSONNES"],
               "error": None, "detail": "The chain 899900000011 -> AC IGC-SANTE FORT PERSONNES is trusted."})
    read_ok = finding_doc("CARD_READ_OK", card_number="90000001")
    read_ok["title"] = "Card read: number 90000001"
    expired = finding_doc("CERT_EXPIRED", "error", login_id="899900000011")
    expired["remedy"] = "In the e-CPS app type your national identifier 899900000011."
    mismatch = finding_doc("CERT_HOLDER_MISMATCH", "error", auth_holder="CAMILLE DUPONT-ESSAI 899900000011")
    mismatch["detail"] = "Authentication: CAMILLE DUPONT-ESSAI 899900000011; ..."
    return report_doc(
        verdict="error", exit_status=1, findings=[read_ok, expired, mismatch],
        readers=[{"name": "Gemalto PC Twin Reader 00 00", "card_present": True,
                  "atr": "3B AC 00 40 2A 00 12 25 00 64 80 00 03 10 00 90 00", "exclusive": False, "selected": True}],
        card=card_doc(reader="Gemalto PC Twin Reader 00 00", card_number="90000001", pan="8025000001900000016",
                      pkcs15={"application": None, "pins": [], "keys": [], "problems": [],
                              "certificates": [{"label": "c", "id": None, "path": "3F 00 00 01 A0 01", "size": None}]}),
        certificates=[cert])


def test_masks_show_little_and_never_the_middle():
    assert mask("016994EAF388CEB5BBACD8FCC4BF170E", "serial") == "0169****170E"      # the shape
    assert mask("01 69 94 ea f3 88 ce b5 bb ac d8 fc c4 bf 17 0e", "serial") == "0169****170E"
    assert mask("899900000011") == "89****11"
    assert mask("90000001", "card_number") == "9****1"
    assert mask("CAMILLE", "name") == "C****" and mask("LI", "name") == "****"
    assert mask("12345") == "****"


# Known answers for SALT (32 bytes 07), computed once with OpenSSL, outside cpsdiag, from the construction
# docs/helpdesk-report.md documents (HMAC-SHA256 of the normalised value, first 16 hex digits):
#   printf %s 90000001 | openssl dgst -sha256 -mac HMAC -macopt hexkey:$(printf '07%.0s' $(seq 32)) | cut -c 17-32
KNOWN_HASHES = {"90000001": "87d6b3dedc8c68e3", "899900000011": "d09726fa131f34db", "016994EA": "ced259cc4b94c6d1",
                "90000004": "e2ef60fbeca89c1d"}


def test_keyed_hash_gives_the_known_answers_openssl_gave():
    for value, expected in KNOWN_HASHES.items():
        assert keyed_hash(SALT, value) == expected
    # Normalised first: a serial's spaces, colons and case, and the spaces around any value, do not count.
    assert keyed_hash(SALT, "01 69 94 ea", "serial") == keyed_hash(SALT, "01:69:94:EA", "serial") == KNOWN_HASHES["016994EA"]
    assert keyed_hash(SALT, " 90000001 ") == KNOWN_HASHES["90000001"]


def test_keyed_hash_is_salted():
    assert keyed_hash(SALT, "90000001") != keyed_hash(Salt(b"\x08" * 32, "installation"), "90000001")
    assert len(keyed_hash(SALT, "x")) == 16


def test_salt_is_made_once_private_and_reused(tmp_path):
    first = load_salt(tmp_path / "cfg")
    path = tmp_path / "cfg" / "redaction-salt"
    assert first.origin == "installation" and path.exists()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_salt(tmp_path / "cfg").key == first.key
    path.write_text("not hex\n")
    broken = load_salt(tmp_path / "cfg")
    assert broken.origin == "ephemeral" and "redaction-salt" in (broken.problem or "")


def test_unwritable_config_gives_an_ephemeral_salt(tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    salt = load_salt(blocker / "cpsdiag")
    assert salt.origin == "ephemeral" and salt.problem and len(salt.key) == 32


def test_salt_follows_the_config_folder(monkeypatch, tmp_path):
    from cpsdiag.report.redact import config_dir

    monkeypatch.delenv("CPSDIAG_CONFIG_DIR", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    assert config_dir() == tmp_path / "cpsdiag"
    monkeypatch.setenv("CPSDIAG_CONFIG_DIR", str(tmp_path / "shared"))
    assert config_dir() == tmp_path / "shared"


def test_redaction_masks_every_identifying_value_and_adds_hashes():
    done = redacted(sample_report(), home="/home/nobody")
    text = json.dumps(done, ensure_ascii=False)
    for secret in ("CAMILLE", "DUPONT-ESSAI", "899900000011", "99900000011", "90000001", "8025000001900000016",
                   "016994EAF388CEB5BBACD8FCC4BF170E", "6A:E2:84:7E"):
        assert secret not in text, secret
    cert = done["certificates"][0]
    assert cert["holder"]["national_id"] == "89****11"
    assert cert["holder"]["national_id_hmac"] == KNOWN_HASHES["899900000011"]
    assert cert["subject"] == "GN=C****+CN=89****11+SN=D****,title=Médecin,C=FR"
    assert cert["chain"]["path"] == ["89****11", "AC IGC-SANTE FORT PERSONNES"]
    assert done["findings"][0]["title"] == "Card read: number 9****1"
    # What a helpdesk needs stays: issuer, profession, reader, ATR, dates.
    assert cert["issuer"].startswith("CN=AC IGC-SANTE FORT PERSONNES") and cert["holder"]["profession"] == "Médecin"
    assert done["readers"] == sample_report()["readers"]
    block = done["redaction"]
    assert block["applied"] and block["salt"] == "installation" and block["salt_id"] == SALT.id
    assert "certificates[0].holder.given_name" in block["fields"] and block["replacements_in_text"] >= 4


def test_identifying_fields_are_found_by_the_schemas_marks_and_each_has_its_hash_sibling():
    import msgspec

    from cpsdiag.record import identifying_fields
    from cpsdiag.report.schema import IDENTIFYING_PARAMS, Report

    # Names that identify wherever they are (what redaction keyed on before the schema was code): each such field
    # of the schema must be marked, whatever the marks say; a field renamed keeps its mark, the test its meaning.
    by_name = {"given_name", "surname", "national_id", "identifier", "login_id", "card_number", "pan",
               "card_serial", "cache_serials", "serial", "sha256"}
    seen: set[type] = set()
    marked: list[str] = []

    def visit(t):
        info = t if isinstance(t, msgspec.inspect.Type) else msgspec.inspect.type_info(t)
        if isinstance(info, msgspec.inspect.StructType) and info.cls not in seen:
            seen.add(info.cls)
            marks = identifying_fields(info.cls)
            names = [f.name for f in info.fields]
            for i, f in enumerate(info.fields):
                if f.name in by_name:
                    assert f.name in marks, (info.cls.__name__, f.name)
                if f.name in marks:
                    marked.append(f"{info.cls.__name__}.{f.name}")
                    if marks[f.name] != "subject":
                        assert names[i + 1] == f.name + "_hmac", (info.cls.__name__, f.name)
                visit(f.type)
        for attr in ("type", "item_type", "value_type", "types"):
            inner = getattr(info, attr, None)
            for one in (inner if isinstance(inner, tuple) else (inner,)):
                if isinstance(one, msgspec.inspect.Type):
                    visit(one)

    visit(Report)
    assert {"Holder.given_name", "Structure.name", "Structure.unit", "Certificate.subject",
            "EnvironmentSection.card_serial", "Cryptolib.cache_serials"} <= set(marked)
    assert by_name - {"card_serial", "cache_serials"} <= set(IDENTIFYING_PARAMS)


def test_short_names_and_names_inside_words():
    detail = finding_doc("X")
    detail["detail"] = "LIBRARY of ANNECY; holder LI ANNE; Li Anne"
    report = report_doc(certificates=[certificate_doc(holder=holder_doc(given_name="LI", surname="ANNE"),
                                                      subject="GN=LI+SN=ANNE+CN=10001234567,C=FR")],
                        findings=[detail])
    done = redacted(report)
    assert done["certificates"][0]["subject"] == "GN=****+SN=A****+CN=1****7,C=FR"
    # Whole words only; a name of 3 letters or fewer counts only as written in the certificate.
    assert done["findings"][0]["detail"] == "LIBRARY of ANNECY; holder **** A****; Li A****"


def test_rfc4514_escaped_values_are_found():
    name = "DUPONT, JEAN+FILS"
    report = report_doc(certificates=[certificate_doc(
        holder=holder_doc(surname=name), subject=f"SN={rfc4514_escape(name)},C=FR",
        chain={"trusted": False, "anchor": None, "path": [], "error": "other",
               "detail": f"leaf SN={rfc4514_escape(name)} untrusted"})])
    done = redacted(report)["certificates"][0]
    assert "DUPONT" not in json.dumps(done)
    assert parse_rfc4514(done["subject"]) == [[("SN", "D****")], [("C", "FR")]]


_values = st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=20)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(st.tuples(st.sampled_from(["CN", "O", "OU", "GN", "SN", "C", "ST"]), _values),
                         min_size=1, max_size=3), min_size=1, max_size=4))
def test_rfc4514_parse_reads_what_cryptography_writes(rdns):
    from cryptography import x509
    from cryptography.x509.oid import NameOID

    oids = {"CN": NameOID.COMMON_NAME, "O": NameOID.ORGANIZATION_NAME, "OU": NameOID.ORGANIZATIONAL_UNIT_NAME,
            "GN": NameOID.GIVEN_NAME, "SN": NameOID.SURNAME, "C": NameOID.COUNTRY_NAME,
            "ST": NameOID.STATE_OR_PROVINCE_NAME}
    built = []
    for rdn in rdns:
        attrs = {}
        for t, v in rdn:
            if t == "C":
                v = "FR"
            attrs.setdefault(t, v)           # one value per type in an RDN
        built.append(x509.RelativeDistinguishedName([x509.NameAttribute(oids[t], v) for t, v in attrs.items()]))
    name = x509.Name(built)
    text = name.rfc4514_string({NameOID.GIVEN_NAME: "GN", NameOID.SURNAME: "SN"})
    parsed = parse_rfc4514(text)
    expected = [sorted((a.rfc4514_attribute_name if a.oid not in (NameOID.GIVEN_NAME, NameOID.SURNAME)
                        else {NameOID.GIVEN_NAME: "GN", NameOID.SURNAME: "SN"}[a.oid], a.value) for a in rdn)
                for rdn in reversed(name.rdns)]
    assert [sorted(rdn) for rdn in parsed] == expected


def test_mask_subject_keeps_country_region_title():
    subject = "GN=ALEX+CN=3999999990/CPET0001+SN=EMULATEUR,title=Personnel,OU=1999999990,O=CENTRE X,ST=Paris (75),C=FR"
    assert mask_subject(subject) == ("GN=A****+CN=399****001+SN=E****,title=Personnel,OU=1****0,O=C****,"
                                     "ST=Paris (75),C=FR")


def rec(command: str, response: str = "", sw: int = 0x9000) -> ApduRecord:
    return ApduRecord(command, response, sw, 0.001)


def test_a_pan_no_field_names_is_still_masked():
    # A damaged EF.SN.ICC: the report has no card number, the error message quotes the file.
    report = report_doc(card=card_doc(pkcs15={"application": None, "pins": [], "keys": [], "certificates": [],
                                              "problems": [{"step": "serial", "target": "EF.SN.ICC", "error":
                                                            "EF.SN.ICC: PAN 802500000190000001F6 is not BCD digits "
                                                            "padded with F"}]}),
                        certificates=[{"role": "unknown", "label": None, "path": None,
                                       "error": "card id 8025000001/90000001"}])
    text = json.dumps(redacted(report))
    assert "90000001" not in text and "PAN 80250000019****6 is not BCD" in text and "card id 8025000001/9****1" in text
    records = [rec("00 b0 9c 00 0c", "5a 0a 80 25 00 00 01 90 00 00 01 f6"),
               rec("00 a4 09 0c 04 3f 00 d0 03"), rec("00 b0 00 00 0c", "5a 0a 80 25 00 00 01 90 00 00 01 f6"),
               rec("00 a4 09 0c 02 2f 00"), rec("00 b0 00 00 04", "61 02 4f 00")]
    out = redact_trace(records, Redactor(SALT, []))
    assert out[0].response == out[2].response == "5a 0a " + " ".join(["**"] * 10)
    assert out[4].response == "61 02 4f 00"


def test_the_inventorys_card_serials_are_masked_in_lists_and_in_texts():
    report = sample_report()
    environment = inventory()
    environment["card_serial"] = "90000001"
    environment["cryptolib"].update(cache_dir="/home/cdupont/.cps/cache", cache_serials=["90000001", "90000004"])
    report["environment"] = environment
    stale = finding_doc("MIDDLEWARE_STALE_CACHE", "warning", "environment", serials="90000001, 90000004")
    stale["detail"] = "The cache holds files for card(s) 90000001, 90000004."
    report["findings"].append(stale)
    done = redacted(report, home="/home/cdupont")
    text = json.dumps(done)
    assert "90000004" not in text and "90000001" not in text and "cdupont" not in text
    lib = done["environment"]["cryptolib"]
    assert lib["cache_serials"] == ["9****1", "9****4"]
    assert lib["cache_serials_hmac"] == [KNOWN_HASHES["90000001"], KNOWN_HASHES["90000004"]]
    assert lib["cache_serials_hmac"][0] == done["card"]["card_number_hmac"]   # the same card, recognisably
    assert done["findings"][-1]["detail"] == "The cache holds files for card(s) 9****1, 9****4."



def test_a_ten_digit_card_number_hashes_as_its_ef_sn_digits():
    # Certificates carry a real card's 10 digits, EF.SN.ICC the last 8: the same card, the same hash.
    assert keyed_hash(SALT, "2990000001", "card_number") == keyed_hash(SALT, "90000001", "card_number")
    assert keyed_hash(SALT, "2990000001", "card_number") != keyed_hash(SALT, "2990000002", "card_number")
    assert keyed_hash(SALT, "2990000001", "identifier") != keyed_hash(SALT, "90000001", "identifier")
