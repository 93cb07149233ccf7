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

AT = datetime(2026, 11, 23, 12, 0, tzinfo=timezone.utc)
SALT = Salt(b"\x05" * 32, "installation")


def iso(days: float) -> str:
    return (AT + timedelta(days=days)).isoformat().replace("+00:00", "Z")


def finding(code: str, severity: str) -> dict:
    return {"code": code, "severity": severity, "step": "x", "title": code, "detail": "", "remedy": None,
            "params": {}}


def cert(role: str, serial: str, days: float, number: str) -> dict:
    return {"role": role, "serial": serial, "not_before": iso(days - 1000), "not_after": iso(days),
            "days_left": int(days), "card_number": number,
            "holder": {"given_name": "CAMILLE", "surname": "ESSAI", "national_id": "899900000011"}}


def report(n: int, generation: str | None, reader: str | None, findings: list, certs: list, env=None,
           card: bool = True) -> dict:
    doc = {"schema": "cpsdiag.report/1", "generated_at": iso(-1 + n / 1000), "language": "en",
           "verdict": "error" if any(f["severity"] == "error" for f in findings) else
           "warning" if any(f["severity"] == "warning" for f in findings) else "ok",
           "findings": findings, "readers": [] if reader is None else [{"name": reader, "selected": True}],
           "card": None if not card else {"reader": reader, "generation": generation, "card_number": f"9{n:07d}"},
           "certificates": certs}
    if env is not None:
        doc["environment"] = env
    return doc


GEMALTO = "Gemalto PC Twin Reader (645D3A2F) 00 00"


@pytest.fixture(scope="module")
def fleet(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("fleet")
    (root / "site-a" / "floor-1").mkdir(parents=True)
    (root / "site-b").mkdir()
    ok = [finding("PCSC_OK", "ok"), finding("CARD_READ_OK", "ok"), finding("CERT_OK", "ok"), finding("CERT_OK", "ok")]
    for n in range(10):       # T1: healthy CPS3, JSON files
        doc = report(n, "CPS3", GEMALTO, ok, [cert("authentication", f"{n:032X}", 200, f"9{n:07d}")],
                     {"middleware": [{"name": "Cryptolib CPS", "version": "5.2.2", "installed": True}]})
        (root / "site-a" / "floor-1" / f"r{n}.json").write_text(json.dumps(doc))
    for n in range(10, 15):   # T2: CPS4 expiring, redacted bundles
        doc = report(n, "CPS4", "Alcor Micro AU9540 00 00",
                     [finding("PCSC_OK", "ok"), finding("CERT_EXPIRES_SOON", "warning"),
                      finding("CERT_EXPIRES_SOON", "warning")],
                     [cert("authentication", f"A{n:031X}", 20.5, f"9{n:07d}"),
                      cert("signature", f"B{n:031X}", 45.5, f"9{n:07d}")],
                     {"middleware": {"Cryptolib CPS": {"version": "5.1.0"}, "OpenSC": "0.25.1"}})
        write_bundle(build_bundle(BundleSource(doc), salt=SALT), root / "site-b" / f"b{n}.zip")
    for n in range(15, 18):   # T3: no card in the reader
        doc = report(n, None, "Gemalto PC Twin Reader (11AA22BB) 00 01",
                     [finding("PCSC_OK", "ok"), finding("CARD_ABSENT", "error")], [], card=False)
        (root / "site-a" / f"r{n}.json").write_text(json.dumps(doc))
    for n in range(18, 20):   # T4: service down
        doc = report(n, None, None, [finding("PCSC_NO_SERVICE", "error")], [], {"cryptolib": {"installed": False}},
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
    # Not reports: an unzipped bundle's manifest (ignored), and three files that count as skipped.
    (root / "site-b" / "unzipped").mkdir()
    (root / "site-b" / "unzipped" / "manifest.json").write_text(json.dumps({"schema": "cpsdiag.bundle/1"}))
    (root / "site-b" / "broken.json").write_text("{")
    (root / "site-b" / "readers.json").write_text(json.dumps({"schema": "cpsdiag.readers/1"}))
    with zipfile.ZipFile(root / "site-a" / "photos.zip", "w") as zf:
        zf.writestr("a.txt", "x")
    (root / "site-a" / "notes.txt").write_text("not looked at")
    return root


def test_counts_on_a_known_fleet(fleet):
    s = summarize([fleet], at=AT)
    assert (s.reports, s.skipped) == (23, 3)
    assert {Path(f).name for f, _ in s.skipped_sample} == {"broken.json", "readers.json", "photos.zip"}
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
    assert doc["schema"] == "cpsdiag.summary/1" and doc["reports"] == 23 and doc["skipped"] == 3
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
    assert "23 reports read, 3 files skipped" in result.stdout and "Alcor Micro AU9540" in result.stdout
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


def test_middleware_shapes():
    assert middleware_versions(None) == ["not reported"]
    assert middleware_versions({"middleware": [{"name": "Cryptolib CPS"}]}) == ["Cryptolib CPS (version unknown)"]
    assert middleware_versions({"cryptolib": {"version": "5.2.2"}}) == ["Cryptolib CPS 5.2.2"]
    assert middleware_versions({"os": "Debian"}) == ["not reported"]


def test_middleware_from_the_workstation_inventory():
    env = {"cryptolib": {"installed": True, "version": "5.2.2", "cache_serials": []},
           "modules": [{"name": "opensc-pkcs11", "kind": "opensc", "probe": {"library_version": "0.23"}},
                       {"name": "opensc-pkcs11", "kind": "opensc", "source": "firefox:default",
                        "probe": {"library_version": "0.23"}},
                       {"name": "p11-kit-trust", "kind": "p11-kit-trust", "probe": None},
                       {"name": "libcps3_pkcs11_lux", "kind": "cryptolib", "probe": None},
                       {"name": "vendor-p11", "kind": "other", "probe": None}]}
    assert sorted(set(middleware_versions(env))) == ["Cryptolib CPS 5.2.2", "OpenSC 0.23",
                                                     "vendor-p11 (version unknown)"]
    assert middleware_versions({"cryptolib": {"installed": False}, "modules": []}) == [
        "Cryptolib CPS (not installed)"]
