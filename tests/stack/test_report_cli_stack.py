"""``cpsdiag report`` end to end through pcscd + vpcd + the emulator: privacy for every profile, show == check."""

from __future__ import annotations

import json
import re
import subprocess
import zipfile
from pathlib import Path

import pytest

from tests.support.cli import cpsdiag as run_cpsdiag
from tests.support.report import assert_console_shows_the_profile, identity_strings, leaks, profile_facts
from tests.support.paths import ROOT

pytestmark = pytest.mark.stack

PROFILES = sorted(p.name for p in (ROOT / "cpsdiag" / "emulator" / "profiles").iterdir() if (p / "card.toml").exists())
FILES = ["report.json", "report.html", "apdu-trace.txt", "environment.txt", "manifest.json"]


@pytest.fixture
def config(tmp_path) -> Path:
    return tmp_path / "config"


def cpsdiag(*args: str, config: Path, env: dict | None = None, cwd: Path | None = None,
            stdin: str | None = None) -> subprocess.CompletedProcess:
    return run_cpsdiag(*args, env={"CPSDIAG_CONFIG_DIR": str(config), **(env or {})}, cwd=cwd, timeout=90, stdin=stdin)


def unzip(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


def same_run(text: str) -> str:
    """Two runs differ only in how long they took and in the second they judged the chain at."""
    return re.sub(r"\d\d:\d\d:\d\d UTC", "hh:mm:ss UTC", re.sub(r"\d+ ms\.", "N ms.", text))


@pytest.mark.parametrize("profile", PROFILES)
def test_a_redacted_bundle_of_every_profile_names_nobody(insert_card, pki, profile, tmp_path, config):
    insert_card(profile)
    proc = cpsdiag("report", "--anchors", str(pki.anchors), cwd=tmp_path, config=config)
    written = list(tmp_path.glob("cpsdiag-report-*.zip"))
    assert len(written) == 1 and str(written[0].resolve()) in proc.stdout
    files = unzip(written[0])
    assert list(files) == FILES
    identity = identity_strings(pki.cards / profile)
    assert leaks(files, identity) == []
    report = json.loads(files["report.json"])
    assert report["redaction"]["applied"] is True and report["redaction"]["certificates_included"] is False
    assert report["card"]["card_number_hmac"]
    assert proc.returncode == report["exit_status"]
    # The same card without redaction: every identifying value is there, so the search above can find them.
    clear = cpsdiag("report", "--anchors", str(pki.anchors), "--no-redact", "-o", str(tmp_path / "clear.zip"),
                    config=config)
    assert clear.returncode == proc.returncode
    assert {value for _f, value in leaks(unzip(tmp_path / "clear.zip"), identity)} == identity


def test_a_redacted_bundle_with_the_practice_situations_names_no_practice(insert_card, pki, tmp_path, config):
    """The situations read after the PIN name the holder's practices: masked like the holder's identity."""
    import tomllib

    insert_card("cps3-medecin")
    situations = tomllib.loads((pki.cards / "cps3-medecin" / "card.toml").read_text())["data"]["situations"]
    identity = identity_strings(pki.cards / "cps3-medecin") | {
        text for s in situations for text in (s["structure_name"], s["structure_id"])}
    proc = cpsdiag("report", "--sign", "--pin-stdin", "--anchors", str(pki.anchors), cwd=tmp_path, config=config,
                   stdin="1234\n")
    files = unzip(next(tmp_path.glob("cpsdiag-report-*.zip")))
    report = json.loads(files["report.json"])
    assert report["situations"]["count"] == 2 and proc.returncode == report["exit_status"]
    assert all(item["raw_hmac"] and item["decoded"]["structure_name_hmac"] for item in report["situations"]["items"])
    assert leaks(files, identity) == []
    clear = cpsdiag("report", "--sign", "--pin-stdin", "--anchors", str(pki.anchors), "--no-redact", "-o",
                    str(tmp_path / "clear.zip"), config=config, stdin="1234\n")
    assert clear.returncode == proc.returncode
    assert {value for _f, value in leaks(unzip(tmp_path / "clear.zip"), identity)} == identity


# Every profile in both languages is compared in-process (test_report_contents.py); here, the command line.
@pytest.mark.parametrize("profile,lang", [("cps3-medecin", "en"), ("cps4-infirmier", "en"), ("cps3-expired", "fr"),
                                          ("cpe-etablissement", "fr")])
def test_report_show_prints_what_check_printed(insert_card, pki, profile, lang, tmp_path, config):
    insert_card(profile)
    env = {"LANG": "fr_FR.UTF-8" if lang == "fr" else "C.UTF-8"}
    check = cpsdiag("check", "--anchors", str(pki.anchors), env=env, config=config)
    cpsdiag("report", "--anchors", str(pki.anchors), "--no-redact", "-o", str(tmp_path / "b.zip"), env=env,
            config=config)
    shown = cpsdiag("report", "show", str(tmp_path / "b.zip"), env={"LANG": "C.UTF-8"}, config=config)
    # What the card holds, from the profile's own files: not from another rendering of the same report.
    assert_console_shows_the_profile(shown.stdout, profile_facts(pki.cards / profile), lang)   # the report's language
    assert same_run(shown.stdout) == same_run(check.stdout)
    assert shown.returncode == check.returncode
    # check --json, shown: the same.
    (tmp_path / "r.json").write_text(cpsdiag("check", "--json", "--anchors", str(pki.anchors), env=env,
                                             config=config).stdout)
    assert same_run(cpsdiag("report", "show", str(tmp_path / "r.json"), config=config).stdout) == same_run(check.stdout)


def test_without_a_card_and_without_the_service(stack, pki, tmp_path, config):
    stack.ensure_pcscd()
    check = cpsdiag("check", "--anchors", str(pki.anchors), config=config)
    proc = cpsdiag("report", "--anchors", str(pki.anchors), "-o", str(tmp_path / "absent.zip"), config=config)
    assert proc.returncode == check.returncode == 1
    report = json.loads(unzip(tmp_path / "absent.zip")["report.json"])
    # The workstation findings depend on the machine (middleware installed or not): the card side is fixed.
    assert [f["code"] for f in report["findings"] if f["step"] != "environment"] == \
        ["PCSC_OK", "READERS_OK", "CARD_ABSENT"]
    assert "No command was sent to the card." in unzip(tmp_path / "absent.zip")["apdu-trace.txt"].decode()
    assert same_run(cpsdiag("report", "show", str(tmp_path / "absent.zip"), config=config).stdout.replace(
        "Redacted report: names, identifiers, card numbers and certificate serials are masked.\n", "")) == \
        same_run(check.stdout)
    pcscd = stack.require_managed()
    pcscd.stop()
    try:
        proc = cpsdiag("report", "-o", str(tmp_path / "down.zip"), config=config)
        assert proc.returncode == 1
        report = json.loads(unzip(tmp_path / "down.zip")["report.json"])
        assert [f["code"] for f in report["findings"] if f["step"] != "environment"] == ["PCSC_NO_SERVICE"]
    finally:
        pcscd.start()


def test_two_reports_of_one_card_on_one_machine_match(insert_card, pki, tmp_path, config):
    insert_card("cps4-infirmier")
    for name in ("a.zip", "b.zip"):
        cpsdiag("report", "--anchors", str(pki.anchors), "-o", str(tmp_path / name), config=config)
    a, b = (json.loads(unzip(tmp_path / n)["report.json"]) for n in ("a.zip", "b.zip"))
    assert a["card"]["card_number_hmac"] == b["card"]["card_number_hmac"]
    assert a["certificates"][0]["serial_hmac"] == b["certificates"][0]["serial_hmac"]
    assert a["redaction"]["salt_id"] == b["redaction"]["salt_id"]
    other = cpsdiag("report", "--anchors", str(pki.anchors), "-o", str(tmp_path / "c.zip"),
                    config=tmp_path / "another-machine")
    assert other.returncode == 0
    c = json.loads(unzip(tmp_path / "c.zip")["report.json"])
    assert c["card"]["card_number_hmac"] != a["card"]["card_number_hmac"]


def test_include_certificates_and_summarize_the_bundles(insert_card, pki, tmp_path, config):
    insert_card("cps3-expiring-soon")
    folder = tmp_path / "fleet"
    folder.mkdir()
    proc = cpsdiag("report", "--anchors", str(pki.anchors), "--include-certificates", "-o", str(folder / "a.zip"),
                   config=config)
    assert "certificates are included" in proc.stdout
    assert {"certificates/authentication.pem", "certificates/signature.pem"} <= set(unzip(folder / "a.zip"))
    (folder / "b.json").write_text(cpsdiag("check", "--json", "--anchors", str(pki.anchors), config=config).stdout)
    summary = json.loads(cpsdiag("report", "summarize", str(folder), "--json", config=config).stdout)
    assert summary["reports"] == 2 and summary["generations"] == {"CPS3": 2}
    assert summary["readers"] == {"cpsdiag VPCD": 2}
    assert summary["expiry"]["within_30_days"] == 4 and len(summary["certificates"]) == 4


def test_report_says_where_it_wrote_what_and_exits_like_check(insert_card, pki, tmp_path, config):
    insert_card("cps3-expired")
    proc = cpsdiag("report", "--anchors", str(pki.anchors), cwd=tmp_path, config=config)
    assert proc.returncode == 1                   # CERT_EXPIRED is an error, as for check
    written = list(tmp_path.glob("cpsdiag-report-*.zip"))
    assert len(written) == 1
    assert proc.stdout.startswith("✖ Problem found\n") and f"Report written: {written[0].resolve()}" in proc.stdout
    for name in FILES:
        assert f"  {name}" in proc.stdout
    assert "Redacted:" in proc.stdout and "certificates are not included" in proc.stdout
    assert (config / "redaction-salt").exists()


def test_no_redact_is_stated_everywhere(insert_card, pki, tmp_path, config):
    insert_card("cps3-expired")
    proc = cpsdiag("report", "--anchors", str(pki.anchors), "--no-redact", "-o", str(tmp_path / "clear.zip"),
                   config=config)
    assert "NOT redacted (--no-redact)" in proc.stdout
    files = unzip(tmp_path / "clear.zip")
    assert json.loads(files["report.json"])["redaction"] == {"applied": False, "reason": "--no-redact",
                                                            "certificates_included": False}
    for name in ("report.html", "apdu-trace.txt"):
        assert "NOT redacted" in files[name].decode()
    assert json.loads(files["manifest.json"])["redacted"] is False


def test_output_folder_and_bad_output(insert_card, pki, tmp_path, config):
    insert_card("cps3-expired")
    (tmp_path / "out").mkdir()
    assert cpsdiag("report", "--anchors", str(pki.anchors), "-o", str(tmp_path / "out"), config=config).returncode == 1
    assert len(list((tmp_path / "out").glob("cpsdiag-report-*.zip"))) == 1
    proc = cpsdiag("report", "--anchors", str(pki.anchors), "-o", str(tmp_path / "missing" / "r.zip"), config=config)
    assert proc.returncode == 2 and "does not exist" in proc.stderr


def test_show_a_bundle_and_a_json_report(insert_card, pki, tmp_path, config):
    insert_card("cps3-expired")
    cpsdiag("report", "--anchors", str(pki.anchors), "--no-redact", "-o", str(tmp_path / "b.zip"), config=config)
    shown = cpsdiag("report", "show", str(tmp_path / "b.zip"), config=config)
    assert shown.returncode == 1 and "The authentication certificate has expired" in shown.stdout
    assert "SACHA" in shown.stdout                           # not redacted: the holder's name
    (tmp_path / "r.json").write_bytes(unzip(tmp_path / "b.zip")["report.json"])
    assert cpsdiag("report", "show", str(tmp_path / "r.json"), config=config).stdout == shown.stdout
    french = cpsdiag("report", "show", str(tmp_path / "r.json"), "--lang", "fr", config=config)
    assert "Le certificat d'authentification a expiré" in french.stdout
    as_json = cpsdiag("report", "show", str(tmp_path / "r.json"), "--json", config=config)
    assert json.loads(as_json.stdout)["schema"] == "cpsdiag.report/1"


def test_a_bug_while_building_writes_nothing_and_no_traceback(insert_card, pki, tmp_path, monkeypatch):
    # In-process, to plant the bug: the check itself runs on the real stack.
    from click.testing import CliRunner

    import cpsdiag.report.bundle as bundle
    from cpsdiag.cli import main

    def broken(*args, **kwargs):
        raise KeyError("surprise")

    insert_card("cps3-expired")
    monkeypatch.setenv("CPSDIAG_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setattr(bundle, "build_bundle", broken)
    result = CliRunner().invoke(main, ["report", "--anchors", str(pki.anchors), "--lang", "en",
                                       "-o", str(tmp_path / "x.zip")])
    assert result.exit_code == 1 and "could not be built" in result.stderr and "Traceback" not in result.output
    assert not (tmp_path / "x.zip").exists()
