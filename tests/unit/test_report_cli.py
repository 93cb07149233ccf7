"""``cpsdiag report`` and ``report show`` through click, with the emulated card in-process."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile

import pytest
from click.testing import CliRunner

from cpsdiag.cli import main
from test_report_fixtures import identity_strings, leaks, run_emulated


@pytest.fixture
def emulated(monkeypatch, pki, tmp_path):
    """cps3-expired in the fake reader, a private config folder for the salt, the test PKI's anchors."""
    monkeypatch.setenv("CPSDIAG_CONFIG_DIR", str(tmp_path / "config"))
    run_emulated(monkeypatch, pki.cards / "cps3-expired", pki.anchors)        # installs the fake PC/SC layer
    monkeypatch.chdir(tmp_path)
    return ["--anchors", str(pki.anchors), "--lang", "en"]


def test_report_writes_a_bundle_says_where_and_exits_like_check(emulated, tmp_path, pki):
    result = CliRunner().invoke(main, ["report", *emulated])
    assert result.exit_code == 1, result.output             # CERT_EXPIRED is an error, as for check
    written = list(tmp_path.glob("cpsdiag-report-*.zip"))
    assert len(written) == 1
    out = result.stdout
    assert out.startswith("✖ Problem found\n") and f"Report written: {written[0].resolve()}" in out
    for name in ("report.json", "report.html", "apdu-trace.txt", "environment.txt", "manifest.json"):
        assert f"  {name}" in out
    assert "Redacted:" in out and "certificates are not included" in out
    with zipfile.ZipFile(written[0]) as zf:
        files = {n: zf.read(n) for n in zf.namelist()}
    assert leaks(files, identity_strings(pki.cards / "cps3-expired")) == []
    assert (tmp_path / "config" / "redaction-salt").exists()


def test_no_redact_is_stated_everywhere(emulated, tmp_path):
    result = CliRunner().invoke(main, ["report", *emulated, "--no-redact", "-o", str(tmp_path / "clear.zip")])
    assert "NOT redacted (--no-redact)" in result.stdout
    with zipfile.ZipFile(tmp_path / "clear.zip") as zf:
        assert json.loads(zf.read("report.json"))["redaction"]["applied"] is False
        for name in ("report.html", "apdu-trace.txt"):
            assert "NOT redacted" in zf.read(name).decode()
        manifest = json.loads(zf.read("manifest.json"))
        assert manifest["redacted"] is False


def test_output_folder_and_bad_output(emulated, tmp_path):
    (tmp_path / "out").mkdir()
    assert CliRunner().invoke(main, ["report", *emulated, "-o", str(tmp_path / "out")]).exit_code == 1
    assert len(list((tmp_path / "out").glob("cpsdiag-report-*.zip"))) == 1
    result = CliRunner().invoke(main, ["report", *emulated, "-o", str(tmp_path / "missing" / "r.zip")])
    assert result.exit_code == 2 and "does not exist" in result.stderr and "Traceback" not in result.output


def test_show_a_bundle_and_a_json_report(emulated, tmp_path):
    CliRunner().invoke(main, ["report", *emulated, "--no-redact", "-o", str(tmp_path / "b.zip")])
    shown = CliRunner().invoke(main, ["report", "show", str(tmp_path / "b.zip")])
    assert shown.exit_code == 1 and "The authentication certificate has expired" in shown.stdout
    assert "SACHA" in shown.stdout                           # not redacted: the holder's name
    with zipfile.ZipFile(tmp_path / "b.zip") as zf:
        (tmp_path / "r.json").write_bytes(zf.read("report.json"))
    again = CliRunner().invoke(main, ["report", "show", str(tmp_path / "r.json")])
    assert again.stdout == shown.stdout
    french = CliRunner().invoke(main, ["report", "show", str(tmp_path / "r.json"), "--lang", "fr"])
    assert "Le certificat d'authentification a expiré" in french.stdout
    as_json = CliRunner().invoke(main, ["report", "show", str(tmp_path / "r.json"), "--json"])
    assert json.loads(as_json.stdout)["schema"] == "cpsdiag.report/1"


def test_show_refuses_what_is_not_a_report(tmp_path):
    (tmp_path / "x.json").write_text("{}")
    result = CliRunner().invoke(main, ["report", "show", str(tmp_path / "x.json")])
    assert result.exit_code == 2 and "not a cpsdiag report" in result.stderr and "Traceback" not in result.output


def test_the_command_module_imports_nothing_heavy():
    heavy = "('rich', 'cryptography', 'smartcard', 'cpsdiag.report.html')"
    code = f"import sys, cpsdiag.cli.report; print(sorted(m for m in {heavy} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
    help_text = subprocess.run([sys.executable, "-m", "cpsdiag", "--help"], capture_output=True, text=True).stdout
    assert "report" in help_text


def test_a_bug_while_building_writes_nothing_and_no_traceback(emulated, tmp_path, monkeypatch):
    import cpsdiag.report.bundle as bundle

    def broken(*args, **kwargs):
        raise KeyError("surprise")

    monkeypatch.setattr(bundle, "build_bundle", broken)
    result = CliRunner().invoke(main, ["report", *emulated, "-o", str(tmp_path / "x.zip")])
    assert result.exit_code == 1 and "could not be built" in result.stderr and "Traceback" not in result.output
    assert not (tmp_path / "x.zip").exists()
