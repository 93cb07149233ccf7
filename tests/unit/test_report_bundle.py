"""The helpdesk bundle: its files, its manifest, and privacy by default for every shipped profile (in-process)."""

from __future__ import annotations

import hashlib
import json
import os
import re
import zipfile
from pathlib import Path

import pytest

from cpsdiag.report.bundle import (BundleError, BundleSource, build_bundle, default_output, environment_from_report,
                                   load_report, source_from_result, write_bundle)
from cpsdiag.report.trace import trace_text
from cpsdiag.report.redact import Salt
from test_report_fixtures import identity_strings, leaks, run_emulated

ROOT = Path(__file__).resolve().parents[2]
PROFILES = sorted(p.name for p in (ROOT / "fixtures" / "cards").iterdir() if (p / "card.toml").exists())
SALT = Salt(b"\x01" * 32, "installation", "/nowhere/redaction-salt")
EXPECTED_FILES = ["report.json", "report.html", "apdu-trace.txt", "environment.txt", "manifest.json"]


def unzip(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


def bundle_files(checked, tmp_path: Path, **kwargs) -> dict[str, bytes]:
    bundle = build_bundle(source_from_result(checked.result, checked.report), salt=SALT, **kwargs)
    path = tmp_path / "bundle.zip"
    write_bundle(bundle, path)
    return unzip(path)


@pytest.mark.parametrize("profile", PROFILES)
def test_a_redacted_bundle_names_nobody(monkeypatch, pki, tmp_path, profile):
    checked = run_emulated(monkeypatch, pki.cards / profile, pki.anchors)
    identity = identity_strings(pki.cards / profile)
    files = bundle_files(checked, tmp_path)
    assert list(files) == EXPECTED_FILES
    assert leaks(files, identity) == []
    # The detector is not blind: the same card without redaction shows the identity in every text form.
    exposed = bundle_files(checked, tmp_path, redact=False)
    shown = {value for _file, value in leaks(exposed, identity)}
    assert shown == identity
    report = json.loads(files["report.json"])
    assert report["redaction"]["applied"] is True and report["redaction"]["certificates_included"] is False
    assert json.loads(exposed["report.json"])["redaction"] == {"applied": False, "reason": "--no-redact",
                                                              "certificates_included": False}


def test_the_trace_keeps_every_exchange_with_timings(monkeypatch, pki, tmp_path):
    checked = run_emulated(monkeypatch, pki.cards / "cps3-medecin", pki.anchors)
    trace = bundle_files(checked, tmp_path)["apdu-trace.txt"].decode()
    records = checked.result.facts.trace.records
    numbered = [line for line in trace.splitlines() if re.match(r"\s*\d+\s+\d+\.\d\d\s+\d+\.\d\d  [A-Z]", line)]
    assert len(numbered) == len(records) == checked.report["apdu"]["count"]
    assert f"{records[0].seconds * 1000:.2f}" in numbered[0]
    assert trace.count("[certificate data left out:") >= 2
    # EF.SN.ICC (read by short EF identifier 1C): its PAN is masked, the tag and length are kept.
    assert "      > 00 b0 9c 00 0c\n      < 5a 0a ** ** ** ** ** ** ** ** ** **\n" in trace
    # What does not identify stays readable: EF.DIR's application identifier.
    assert "e8 28 bd 08 0f 80 25 00 00 01 ff 00 10" in trace


def test_pin_data_stays_masked_in_the_trace():
    from cpsdiag.report.redact import Redactor
    from cpsdiag.report.trace import redact_trace
    from cpsdiag.transport.base import ApduTrace

    trace = ApduTrace()
    trace.add(bytes.fromhex("0020000108") + b"1234\xff\xff\xff\xff", b"", 0x9000, 0.01)
    for redactor in (Redactor(SALT, [("card_number", "90000001")]), None):
        text = trace_text(redact_trace(trace.records, redactor), {"card": None})
        assert "> 00 20 00 01 08 ** ** ** ** ** ** ** **" in text and "31 32 33 34" not in text
        assert "VERIFY" in text and "90 00  ok" in text


def test_manifest_hashes_every_other_file(monkeypatch, pki, tmp_path):
    checked = run_emulated(monkeypatch, pki.cards / "cps4-infirmier", pki.anchors)
    files = bundle_files(checked, tmp_path, include_certificates=True)
    manifest = json.loads(files["manifest.json"])
    assert manifest["schema"] == "cpsdiag.bundle/1" and manifest["redacted"] is True
    listed = {f["name"]: f for f in manifest["files"]}
    assert set(listed) == set(files) - {"manifest.json"}
    for name, entry in listed.items():
        assert entry["sha256"] == hashlib.sha256(files[name]).hexdigest() and entry["size"] == len(files[name])
    assert {"certificates/authentication.pem", "certificates/signature.pem"} <= set(files)
    assert files["certificates/authentication.pem"].startswith(b"-----BEGIN CERTIFICATE-----\n")
    assert json.loads(files["report.json"])["redaction"]["certificates_included"] is True


def test_certificates_included_are_the_cards_own(monkeypatch, pki, tmp_path):
    from cryptography import x509

    checked = run_emulated(monkeypatch, pki.cards / "cps3-medecin", pki.anchors)
    files = bundle_files(checked, tmp_path, include_certificates=True)
    for role, pem_name in (("authentication", "auth.pem"), ("signature", "signature.pem")):
        ours = x509.load_pem_x509_certificate(files[f"certificates/{role}.pem"])
        assert ours == x509.load_pem_x509_certificate((pki.cards / "cps3-medecin" / pem_name).read_bytes())


def test_same_card_same_hash_other_salt_other_hash(monkeypatch, pki, tmp_path):
    first = run_emulated(monkeypatch, pki.cards / "cps3-medecin", pki.anchors)
    second = run_emulated(monkeypatch, pki.cards / "cps3-medecin", pki.anchors)
    a = build_bundle(source_from_result(first.result, first.report), salt=SALT).report
    b = build_bundle(source_from_result(second.result, second.report), salt=SALT).report
    c = build_bundle(source_from_result(second.result, second.report), salt=Salt(b"\x02" * 32, "installation")).report
    assert a["card"]["card_number_hmac"] == b["card"]["card_number_hmac"] != c["card"]["card_number_hmac"]
    assert a["certificates"][0]["holder"]["national_id_hmac"] == b["certificates"][0]["holder"]["national_id_hmac"]
    # The card number of the certificate and of EF.SN.ICC hash alike: a mismatch would show.
    assert a["card"]["card_number_hmac"] == a["certificates"][0]["card_number_hmac"]
    assert a["redaction"]["salt_id"] == b["redaction"]["salt_id"] != c["redaction"]["salt_id"]


def test_environment_text_is_redacted_and_defaults_to_the_section():
    report = {"schema": "cpsdiag.report/1", "certificates": [
        {"serial": "01",
         "holder": {"given_name": "CAMILLE", "surname": "DUPONT-ESSAI", "national_id": "899900000011"}}]}
    source = BundleSource(report, environment_text="Firefox profile of DUPONT-ESSAI, cache for 899900000011\n")
    env = dict((f.name, f.data) for f in build_bundle(source, salt=SALT).files)["environment.txt"].decode()
    assert "DUPONT-ESSAI" not in env and "899900000011" not in env and "Firefox profile of" in env
    placeholder = environment_from_report(None)
    assert "not collected" in placeholder
    text = environment_from_report({"os": {"name": "Debian", "version": "12"}, "middleware": [
        {"name": "Cryptolib CPS", "version": "5.2.2", "installed": True}]})
    assert "os:\n  name: Debian\n" in text and "  -\n    name: Cryptolib CPS\n" in text and "installed: yes" in text


def test_default_output_never_overwrites(tmp_path):
    from datetime import datetime

    moment = datetime(2026, 11, 23, 21, 42, 6)
    first = default_output(tmp_path, moment)
    assert first.name == "cpsdiag-report-20261123-214206.zip"
    first.write_bytes(b"")
    assert default_output(tmp_path, moment).name == "cpsdiag-report-20261123-214206-2.zip"


def test_write_is_atomic(tmp_path, monkeypatch):
    source = BundleSource({"schema": "cpsdiag.report/1", "verdict": "ok", "findings": []})
    bundle = build_bundle(source, salt=SALT)
    target = tmp_path / "out.zip"

    def boom(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OSError):
        write_bundle(bundle, target)
    assert list(tmp_path.iterdir()) == []


def test_load_report_from_bundle_json_and_bad_files(tmp_path):
    source = BundleSource({"schema": "cpsdiag.report/1", "verdict": "ok", "findings": []})
    write_bundle(build_bundle(source, salt=SALT), tmp_path / "b.zip")
    assert load_report(tmp_path / "b.zip")["verdict"] == "ok"
    (tmp_path / "r.json").write_text(json.dumps({"schema": "cpsdiag.report/1", "verdict": "error"}))
    assert load_report(tmp_path / "r.json")["verdict"] == "error"
    cases = {"other.json": (b'{"schema": "cpsdiag.readers/1"}', "not a cpsdiag report"),
             "broken.json": (b"{", "not JSON"), "list.json": (b"[]", "not a cpsdiag report"),
             "binary.json": (b"\xff\xfe\x00", "not JSON")}
    for name, (data, message) in cases.items():
        (tmp_path / name).write_bytes(data)
        with pytest.raises(BundleError, match=message):
            load_report(tmp_path / name)
    with zipfile.ZipFile(tmp_path / "empty.zip", "w") as zf:
        zf.writestr("hello.txt", "hi")
    with pytest.raises(BundleError, match="no report.json"):
        load_report(tmp_path / "empty.zip")
    (tmp_path / "cut.zip").write_bytes((tmp_path / "b.zip").read_bytes()[:200])
    with pytest.raises(BundleError):
        load_report(tmp_path / "cut.zip")
