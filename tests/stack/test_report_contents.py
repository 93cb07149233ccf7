"""What a report holds, for a check run in-process through pcscd + vpcd + the emulator.

The bundle (trace, manifest, certificates, salted hashes), report.html for
every profile, and the console view read back from the JSON. The same check
through the command line is in test_report_cli_stack.py.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import zipfile
from pathlib import Path

import msgspec
import pytest

from cpsdiag.report.bundle import build_bundle, source_from_result, write_bundle
from cpsdiag.report.jsonreport import to_json
from cpsdiag.report.redact import Salt, redact_report
from cpsdiag.i18n import set_language
from cpsdiag.report.schema import decode_report
from tests.support.report import (VERDICTS, assert_console_shows_the_profile, assert_page_shows_the_profile,
                           assert_self_contained, check_inserted, parse_page, profile_facts)
from tests.support.paths import ROOT

pytestmark = pytest.mark.stack

PROFILES = sorted(p.name for p in (ROOT / "cpsdiag" / "emulator" / "profiles").iterdir() if (p / "card.toml").exists())
SALT = Salt(b"\x01" * 32, "installation", "/nowhere/redaction-salt")


def bundle_files(checked, tmp_path: Path, **kwargs) -> dict[str, bytes]:
    bundle = build_bundle(source_from_result(checked.result, checked.report), salt=SALT, **kwargs)
    path = tmp_path / "bundle.zip"
    write_bundle(bundle, path)
    with zipfile.ZipFile(path) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


def printed(render, obj) -> str:
    from cpsdiag.report.console import make_console

    out = io.StringIO()
    render(obj, make_console(file=out, width=100, no_color=True))
    return out.getvalue()


# -- the bundle ---------------------------------------------------------------------------------------------------

def test_the_trace_keeps_every_exchange_with_timings(insert_card, pki, tmp_path):
    insert_card("cps3-medecin")
    checked = check_inserted(pki.anchors)
    trace = bundle_files(checked, tmp_path)["apdu-trace.txt"].decode()
    records = checked.result.facts.trace.records
    numbered = [line for line in trace.splitlines() if re.match(r"\s*\d+\s+\d+\.\d\d\s+\d+\.\d\d  [A-Z]", line)]
    assert len(numbered) == len(records) == checked.report.apdu.count
    assert f"{records[0].seconds * 1000:.2f}" in numbered[0]
    assert trace.count("[certificate data left out:") >= 2
    # EF.SN.ICC (read by short EF identifier 1C): its PAN is masked, the tag and length are kept.
    assert "      > 00 b0 9c 00 0c\n      < 5a 0a ** ** ** ** ** ** ** ** ** **\n" in trace
    # What does not identify stays readable: EF.DIR's application identifier.
    assert "e8 28 bd 08 0f 80 25 00 00 01 ff 00 10" in trace


def test_manifest_hashes_every_other_file(insert_card, pki, tmp_path):
    insert_card("cps4-infirmier")
    files = bundle_files(check_inserted(pki.anchors), tmp_path, include_certificates=True)
    manifest = json.loads(files["manifest.json"])
    assert manifest["schema"] == "cpsdiag.bundle/1" and manifest["redacted"] is True
    listed = {f["name"]: f for f in manifest["files"]}
    assert set(listed) == set(files) - {"manifest.json"}
    for name, entry in listed.items():
        assert entry["sha256"] == hashlib.sha256(files[name]).hexdigest() and entry["size"] == len(files[name])
    assert {"certificates/authentication.pem", "certificates/signature.pem"} <= set(files)
    assert files["certificates/authentication.pem"].startswith(b"-----BEGIN CERTIFICATE-----\n")
    assert json.loads(files["report.json"])["redaction"]["certificates_included"] is True


def test_certificates_included_are_the_cards_own(insert_card, pki, tmp_path):
    from cryptography import x509

    insert_card("cps3-medecin")
    files = bundle_files(check_inserted(pki.anchors), tmp_path, include_certificates=True)
    for role, pem_name in (("authentication", "auth.pem"), ("signature", "signature.pem")):
        ours = x509.load_pem_x509_certificate(files[f"certificates/{role}.pem"])
        assert ours == x509.load_pem_x509_certificate((pki.cards / "cps3-medecin" / pem_name).read_bytes())


def test_same_card_same_hash_other_salt_other_hash(insert_card, pki):
    insert_card("cps3-medecin")
    first, second = check_inserted(pki.anchors), check_inserted(pki.anchors)
    a, b, c = (msgspec.to_builtins(build_bundle(source_from_result(checked.result, checked.report), salt=salt).report)
               for checked, salt in ((first, SALT), (second, SALT), (second, Salt(b"\x02" * 32, "installation"))))
    assert a["card"]["card_number_hmac"] == b["card"]["card_number_hmac"] != c["card"]["card_number_hmac"]
    assert a["certificates"][0]["holder"]["national_id_hmac"] == b["certificates"][0]["holder"]["national_id_hmac"]
    # The card number of the certificate and of EF.SN.ICC hash alike: a mismatch would show.
    assert a["card"]["card_number_hmac"] == a["certificates"][0]["card_number_hmac"]
    assert a["redaction"]["salt_id"] == b["redaction"]["salt_id"] != c["redaction"]["salt_id"]


# -- report.html ----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("profile", PROFILES)
def test_every_profile_gives_a_self_contained_page_with_the_verdict_first(insert_card, pki, profile):
    from cpsdiag.report.html import render_html

    insert_card(profile)
    record = redact_report(check_inserted(pki.anchors).report, SALT).report
    html = render_html(record)
    report = msgspec.to_builtins(record)
    assert_self_contained(html)
    assert parse_page(html).texts[:2] == list(VERDICTS["en"][report["verdict"]])
    order = [html.index(f'id="{s}"') for s in ("verdict", "steps", "card", "certificates", "environment", "remedies")]
    assert order == sorted(order)
    for f in report["findings"]:
        assert f["title"].replace("'", "&#x27;") in html
    assert html.count("<rect") == len([c for c in report["certificates"] if "serial" in c])
    # Unredacted, the page shows the card's own values: from the profile's card.toml and certificates.
    assert_page_shows_the_profile(parse_page(render_html(check_inserted(pki.anchors).report)).texts,
                                  profile_facts(pki.cards / profile))


def test_french_page(insert_card, pki):
    from cpsdiag.report.html import render_html

    insert_card("cps3-expiring-soon")
    html = render_html(check_inserted(pki.anchors, lang="fr").report)
    assert '<html lang="fr">' in html
    assert "Fonctionne, avec des avertissements" in html and "Carte et porteur" in html and "Que faire ?" in html
    assert "expire dans" in html           # the findings' own French texts


# -- the console view, from the JSON alone ----------------------------------------------------------------------------

@pytest.mark.parametrize("profile", PROFILES)
def test_a_report_read_back_from_json_shows_the_cards_own_values(insert_card, pki, profile):
    from cpsdiag.report.console import render_report

    insert_card(profile)
    facts = profile_facts(pki.cards / profile)
    for lang, heading in (("en", "Card and holder"), ("fr", "Carte et porteur")):
        checked = check_inserted(pki.anchors, lang=lang)
        # Through JSON text, as a bundle stores it.
        report = decode_report(to_json(checked.report))
        text = printed(render_report, report)
        assert heading in text
        assert_console_shows_the_profile(text, facts, lang)


def test_a_report_shown_in_another_language_is_rendered_again_from_its_codes(insert_card, pki):
    from cpsdiag.report.console import render_report

    insert_card("cps3-expired")
    french = check_inserted(pki.anchors, lang="fr")
    assert "Carte lue : numéro 90000004" in to_json(french.report)
    set_language("en")
    text = printed(render_report, french.report)
    # English words only, none of the French texts the report holds; the card's values all there.
    assert "Card read: number 90000004" in text and "Card and holder" in text
    assert "Carte lue" not in text and "Carte et porteur" not in text and "Que faire" not in text
    assert_console_shows_the_profile(text, profile_facts(pki.cards / "cps3-expired"), "en")


def test_a_redacted_report_says_so(insert_card, pki):
    from cpsdiag.report.console import render_report

    insert_card("cps3-medecin")
    text = printed(render_report, redact_report(check_inserted(pki.anchors).report, SALT).report)
    assert "CAMILLE" not in text and "C****" in text and "Redacted report" in text
