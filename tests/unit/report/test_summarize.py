"""``report summarize`` on a generated fleet whose contents are known: every count, every output format."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner

from cpsdiag.cli import main
from cpsdiag.report.bundle import BundleSource, build_bundle, write_bundle
from cpsdiag.report.redact import Salt
from cpsdiag.report.summarize import iter_files, middleware_versions, reader_model, summarize
from tests.support.report import as_report, card_doc, certificate_doc, holder_doc, inventory, report_doc

AT = datetime(2026, 11, 23, 12, 0, tzinfo=timezone.utc)
SALT = Salt(b"\x05" * 32, "installation")


def iso(days: float) -> str:
    return (AT + timedelta(days=days)).isoformat().replace("+00:00", "Z")


def finding(code: str, severity: str) -> dict:
    return {"code": code, "severity": severity, "step": "x", "title": code, "detail": "", "remedy": None,
            "params": {}}


def cert(role: str, serial: str, days: float, number: str) -> dict:
    return certificate_doc(role=role, serial=serial, not_before=iso(days - 1000), not_after=iso(days),
                           days_left=int(days), card_number=number,
                           holder=holder_doc(given_name="CAMILLE", surname="ESSAI", national_id="899900000011"))


def workstation(cryptolib: str | None, installed: bool = True, opensc: str | None = None) -> dict:
    """The fake Linux inventory with a Cryptolib of this version (or none) and OpenSC of that version (or none)."""
    env = inventory()
    env["cryptolib"].update(installed=installed, version=cryptolib)
    probe = {"path": "/usr/lib/opensc-pkcs11.so", "loaded": True, "error_kind": None, "error": None,
             "manufacturer": None, "description": None, "cryptoki_version": None, "library_version": opensc,
             "slots": []}
    env["modules"] = [{**m, "probe": probe} for m in env["modules"] if m["kind"] == "opensc"][:1] if opensc else []
    return env


def report(n: int, generation: str | None, reader: str | None, findings: list, certs: list, env=None,
           card: bool = True) -> dict:
    verdict = ("error" if any(f["severity"] == "error" for f in findings) else
               "warning" if any(f["severity"] == "warning" for f in findings) else "ok")
    return report_doc(
        generated_at=iso(-1 + n / 1000), verdict=verdict, exit_status=int(verdict == "error"), findings=findings,
        readers=[] if reader is None else [{"name": reader, "card_present": card, "atr": None, "exclusive": False,
                                            "selected": True}],
        card=None if not card else card_doc(reader=reader, generation=generation, card_number=f"9{n:07d}"),
        certificates=certs, environment=env)


GEMALTO = "Gemalto PC Twin Reader (645D3A2F) 00 00"


@pytest.fixture(scope="module")
def fleet(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("fleet")
    (root / "site-a" / "floor-1").mkdir(parents=True)
    (root / "site-b").mkdir()
    ok = [finding("PCSC_OK", "ok"), finding("CARD_READ_OK", "ok"), finding("CERT_OK", "ok"), finding("CERT_OK", "ok")]
    for n in range(10):       # T1: healthy CPS3, JSON files
        doc = report(n, "CPS3", GEMALTO, ok, [cert("authentication", f"{n:032X}", 200, f"9{n:07d}")],
                     workstation("5.2.2"))
        (root / "site-a" / "floor-1" / f"r{n}.json").write_text(json.dumps(doc))
    for n in range(10, 15):   # T2: CPS4 expiring, redacted bundles
        doc = report(n, "CPS4", "Alcor Micro AU9540 00 00",
                     [finding("PCSC_OK", "ok"), finding("CERT_EXPIRES_SOON", "warning"),
                      finding("CERT_EXPIRES_SOON", "warning")],
                     [cert("authentication", f"A{n:031X}", 20.5, f"9{n:07d}"),
                      cert("signature", f"B{n:031X}", 45.5, f"9{n:07d}")],
                     workstation("5.1.0", opensc="0.25.1"))
        write_bundle(build_bundle(BundleSource(as_report(doc)), salt=SALT), root / "site-b" / f"b{n}.zip")
    for n in range(15, 18):   # T3: no card in the reader
        doc = report(n, None, "Gemalto PC Twin Reader (11AA22BB) 00 01",
                     [finding("PCSC_OK", "ok"), finding("CARD_ABSENT", "error")], [], card=False)
        (root / "site-a" / f"r{n}.json").write_text(json.dumps(doc))
    for n in range(18, 20):   # T4: service down
        doc = report(n, None, None, [finding("PCSC_NO_SERVICE", "error")], [], workstation(None, installed=False),
                     card=False)
        (root / f"r{n}.json").write_text(json.dumps(doc))
    for n in range(20, 22):   # T5: the same card reported twice: its certificates are listed once
        doc = report(n, "CPS3", "Identiv uTrust 3700 F CL Reader [uTrust 3700 F CL Reader] 00 00",
                     [finding("PCSC_OK", "ok"), finding("CERT_EXPIRED", "error")],
                     [cert("authentication", "C" * 32, -5.5, "90000099"),
                      cert("signature", "D" * 32, 80.5, "90000099")])
        (root / "site-b" / f"same-card-{n}.json").write_text(json.dumps(doc))
    doc = report(22, None, "Generic Reader 0", [finding("PCSC_OK", "ok"), finding("CARD_UNKNOWN", "error")], [])
    (root / "site-b" / "unknown.json").write_text(json.dumps(doc))
    # Not reports: an unzipped bundle's manifest (ignored), and five files that count as skipped.
    (root / "site-b" / "unzipped").mkdir()
    (root / "site-b" / "unzipped" / "manifest.json").write_text(json.dumps({"schema": "cpsdiag.bundle/1"}))
    (root / "site-b" / "broken.json").write_text("{")
    (root / "site-b" / "readers.json").write_text(json.dumps({"schema": "cpsdiag.readers/1"}))
    (root / "site-b" / "wrong-types.json").write_text(json.dumps(report_doc(findings="none", card=7)))
    deep = json.dumps(report_doc()).replace('"timings_ms": {}', '"timings_ms": {}, "extra": ' + "[" * 100_000 +
                                                                    "]" * 100_000)
    (root / "site-b" / "deep.json").write_text(deep)
    with zipfile.ZipFile(root / "site-a" / "photos.zip", "w") as zf:
        zf.writestr("a.txt", "x")
    (root / "site-a" / "notes.txt").write_text("not looked at")
    return root


def test_counts_on_a_known_fleet(fleet):
    s = summarize([fleet], at=AT)
    assert (s.reports, s.skipped, s.tampered) == (23, 5, 0)
    assert {Path(f).name for f, _ in s.skipped_sample} == {"broken.json", "readers.json", "photos.zip",
                                                           "wrong-types.json", "deep.json"}
    reasons = dict((Path(f).name, r) for f, r in s.skipped_sample)
    assert reasons["wrong-types.json"].startswith("not a valid cpsdiag.report/1 document: $.findings")
    assert "nested too deeply" in reasons["deep.json"]
    assert dict(s.verdicts) == {"ok": 10, "warning": 5, "error": 8}
    assert dict(s.findings) == {("PCSC_OK", "ok"): 21, ("CARD_READ_OK", "ok"): 10, ("CERT_OK", "ok"): 20,
                                ("CERT_EXPIRES_SOON", "warning"): 10, ("CARD_ABSENT", "error"): 3,
                                ("PCSC_NO_SERVICE", "error"): 2, ("CERT_EXPIRED", "error"): 2,
                                ("CARD_UNKNOWN", "error"): 1}
    assert dict(s.severities) == {"ok": 51, "warning": 10, "error": 8}
    assert dict(s.generations) == {"CPS3": 12, "CPS4": 5, "no card": 5, "unknown": 1}
    assert dict(s.readers) == {"Gemalto PC Twin Reader": 13, "Alcor Micro AU9540": 5, "no reader": 2,
                               "Identiv uTrust 3700 F CL Reader [uTrust 3700 F CL Reader]": 2, "Generic Reader": 1}
    assert dict(s.middleware) == {"Cryptolib CPS 5.2.2": 10, "Cryptolib CPS 5.1.0": 5, "OpenSC 0.25.1": 5,
                                  "Cryptolib CPS (not installed)": 2, "not reported": 6}
    assert s.window_counts() == {"expired": 1, "within_30_days": 5, "within_60_days": 10, "within_90_days": 11}
    listed = s.expiring()
    assert [c.days_left for c in listed] == [-6] + [20] * 5 + [45] * 5 + [80]
    # The card reported twice: listed once, from its latest report.
    assert [Path(c.file).name for c in listed if c.days_left in (-6, 80)] == ["same-card-21.json"] * 2
    # Redacted bundles show masked card numbers only.
    assert all("****" in c.card for c in listed if c.days_left in (20, 45))


def test_the_walk_is_lazy_and_takes_only_zip_and_json(fleet):
    files = iter_files([fleet])
    assert iter(files) is files
    names = {Path(p).name for p in files}
    assert "notes.txt" not in names and "manifest.json" in names and "b10.zip" in names


def test_json_and_csv_outputs_through_the_cli(fleet):
    runner = CliRunner()
    result = runner.invoke(main, ["report", "summarize", str(fleet), "--json", "--at", "2026-11-23T12:00"])
    assert result.exit_code == 1                          # some files could not be read
    doc = json.loads(result.stdout)
    assert doc["schema"] == "cpsdiag.summary/1" and doc["reports"] == 23 and doc["skipped"] == 5
    assert doc["expiry"]["within_90_days"] == 11
    assert {"code": "CERT_EXPIRES_SOON", "severity": "warning", "count": 10} in doc["findings"]
    # Counted by hand from the fleet above (occurrences, as CERT_EXPIRES_SOON shows): PCSC_OK in 10 + 5 + 3 + 2 + 1
    # reports, CERT_OK twice in each of the 10 healthy ones.
    for code, severity, count in (("PCSC_OK", "ok", 21), ("CERT_OK", "ok", 20), ("CARD_ABSENT", "error", 3),
                                  ("PCSC_NO_SERVICE", "error", 2), ("CERT_EXPIRED", "error", 2),
                                  ("CARD_UNKNOWN", "error", 1), ("CARD_READ_OK", "ok", 10)):
        assert {"code": code, "severity": severity, "count": count} in doc["findings"], code
    assert sum(f["count"] for f in doc["findings"]) == 10 * 4 + 5 * 3 + 3 * 2 + 2 * 1 + 2 * 2 + 2
    result = runner.invoke(main, ["report", "summarize", str(fleet), "--csv", "--at", "2026-11-23T12:00"])
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert {"table": "finding", "key": "CARD_ABSENT", "severity": "error", "count": "3"}.items() <= next(
        r for r in rows if r["key"] == "CARD_ABSENT").items()
    assert next(r for r in rows if r["table"] == "reader" and r["key"] == "Alcor Micro AU9540")["count"] == "5"
    certs = [r for r in rows if r["table"] == "certificate"]
    assert len(certs) == 12 and certs[0]["key"] == "expired" and certs[-1]["key"] == "within_90_days"
    result = runner.invoke(main, ["report", "summarize", str(fleet), "--at", "2026-11-23T12:00"])
    assert "23 reports read, 5 files skipped" in result.stdout and "Alcor Micro AU9540" in result.stdout
    assert "skipped" in result.stderr


def test_usage_errors(fleet, tmp_path):
    runner = CliRunner()
    assert runner.invoke(main, ["report", "summarize", str(fleet), "--json", "--csv"]).exit_code == 2
    assert runner.invoke(main, ["report", "summarize", str(tmp_path / "nope")]).exit_code == 2
    good = next((fleet / "site-a" / "floor-1").iterdir())
    assert runner.invoke(main, ["report", "summarize", str(good)]).exit_code == 0


@pytest.mark.parametrize("name,model", [
    ("Gemalto PC Twin Reader (645D3A2F) 00 00", "Gemalto PC Twin Reader"),
    ("Alcor Micro AU9540 00 00", "Alcor Micro AU9540"),
    ("Gemalto USB Smart Card Reader 0", "Gemalto USB Smart Card Reader"),
    ("OMNIKEY 3x21 Smart Card Reader [OMNIKEY 3x21 Smart Card Reader] 00 00",
     "OMNIKEY 3x21 Smart Card Reader [OMNIKEY 3x21 Smart Card Reader]"),
    (None, "no reader"),
])
def test_reader_models(name, model):
    assert reader_model(name) == model


def test_middleware_from_the_workstation_inventory():
    assert middleware_versions(None) == ["not reported"]
    env = as_report(report_doc(environment=workstation("5.2.2", opensc="0.23"))).environment
    assert middleware_versions(env) == ["Cryptolib CPS 5.2.2", "OpenSC 0.23"]
    env = as_report(report_doc(environment=workstation(None))).environment
    assert middleware_versions(env) == ["Cryptolib CPS (version unknown)"]
    env = as_report(report_doc(environment=workstation(None, installed=False))).environment
    assert middleware_versions(env) == ["Cryptolib CPS (not installed)"]


def test_a_bundle_changed_after_it_was_written_is_counted_and_listed_as_tampered(tmp_path):
    doc = report(1, "CPS3", GEMALTO, [finding("PCSC_OK", "ok")], [cert("authentication", "AB" * 16, 20, "90000001")])
    write_bundle(build_bundle(BundleSource(as_report(doc)), salt=SALT), tmp_path / "good.zip")
    with zipfile.ZipFile(tmp_path / "good.zip") as zf:
        files = {name: zf.read(name) for name in zf.namelist()}
    edited = json.loads(files["report.json"])
    edited["verdict"] = "error"
    files["report.json"] = json.dumps(edited).encode()
    with zipfile.ZipFile(tmp_path / "edited.zip", "w") as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    s = summarize([tmp_path], at=AT)
    assert (s.reports, s.skipped, s.tampered) == (2, 0, 1)
    assert [(Path(f).name, r) for f, r in s.tampered_sample] == [
        ("edited.zip", "report.json does not match its SHA-256 in manifest.json")]
    assert dict(s.verdicts) == {"ok": 1, "error": 1}             # the content still counts, for what it is
    result = CliRunner().invoke(main, ["report", "summarize", str(tmp_path), "--json", "--at", "2026-11-23"])
    assert result.exit_code == 1 and json.loads(result.stdout)["tampered"] == 1
    assert "tampered" in result.stderr and "edited.zip" in result.stderr


def revocation_doc(status: str, source: str | None = None) -> dict:
    return {"status": status, "source": source, "url": None, "produced_at": None, "revoked_at": None, "reason": None,
            "error": None, "cached": False, "attempts": []}


def test_revoked_and_unknown_certificates_are_counted(tmp_path):
    from cpsdiag.report.summarize import summary_dict, write_csv

    fleet = tmp_path / "fleet"
    fleet.mkdir()
    statuses = [("revoked", "ocsp"), ("revoked", "crl"), ("unknown", None), ("good", "ocsp"), ("not_checked", None)]
    for n, (status, source) in enumerate(statuses):
        c = {**cert("authentication", f"{n:032X}", 400, f"2990000{n:03d}"), "revocation": revocation_doc(status, source)}
        (fleet / f"r{n}.json").write_text(json.dumps(report(n, "CPS3", "R", [], [c])))
    # A report written before revocation was checked has no such field: it counts in none of them.
    (fleet / "old.json").write_text(json.dumps(report(9, "CPS3", "R", [], [cert("signature", "AB" * 16, 400, "1")])))
    s = summarize([fleet], at=AT)
    assert s.reports == 6
    assert summary_dict(s)["revocation"] == {"revoked": 2, "unknown": 1, "good": 1, "not_checked": 1}
    out = io.StringIO()
    write_csv(s, out)
    rows = [r for r in csv.reader(io.StringIO(out.getvalue())) if r[0] == "revocation"]
    assert [(r[1], r[3]) for r in rows] == [("revoked", "2"), ("unknown", "1"), ("good", "1"), ("not_checked", "1")]
    console = CliRunner().invoke(main, ["report", "summarize", str(fleet)], env={"COLUMNS": "120"})
    assert "Certificate revocation" in console.output and "revoked" in console.output
