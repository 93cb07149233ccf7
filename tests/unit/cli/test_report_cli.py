"""``cpsdiag report`` without a card: bad input, a light command module, bundles read back (verified, decoded
strictly, shown safely), the progress of ``summarize``.

With a card, through pcscd and the emulator: tests/stack/test_report_cli_stack.py."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.support.cli import clean_environ, cpsdiag
from cpsdiag.cli import main
from cpsdiag.report.bundle import BundleSource, build_bundle, write_bundle
from cpsdiag.report.redact import Salt
from tests.support.report import as_report, certificate_doc, finding_doc, holder_doc, report_doc


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


# -- bundles read back: verified, decoded strictly, shown safely (the command in its own process) ---------------

SALT = Salt(b"\x03" * 32, "installation")


def bundle(path: Path, doc: dict, redact: bool = False) -> Path:
    write_bundle(build_bundle(BundleSource(as_report(doc)), redact=redact, salt=SALT), path)
    return path


def rewritten(path: Path, target: Path, change) -> Path:
    """A copy of a bundle with report.json changed by ``change(text) -> text``, the manifest left as it was."""
    with zipfile.ZipFile(path) as zf:
        files = {name: zf.read(name) for name in zf.namelist()}
    files["report.json"] = change(files["report.json"].decode()).encode()
    with zipfile.ZipFile(target, "w") as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return target


def sample() -> dict:
    finding = finding_doc("CARD_READ_OK", "ok", "read", card_number="90000001")
    finding["title"] = "Card read: number 90000001"
    return report_doc(findings=[finding], certificates=[certificate_doc(
        holder=holder_doc(given_name="CAMILLE", surname="ESSAI-MEDECIN"))])


def test_a_bundle_edited_after_it_was_written_is_flagged_first_and_still_shown(tmp_path):
    good = bundle(tmp_path / "good.zip", sample())
    shown = cpsdiag("report", "show", str(good))
    assert shown.returncode == 0 and "changed after" not in shown.stdout
    edited = rewritten(good, tmp_path / "edited.zip", lambda text: text.replace("ESSAI-MEDECIN", "SOMEONE-ELSE"))
    proc = cpsdiag("report", "show", str(edited))
    assert proc.returncode == 1
    first, _sep, rest = (" ".join(text.split()) for text in proc.stdout.partition("cpsdiag 0.1.0 —"))
    assert "This report was changed after cpsdiag wrote it" in first
    assert "report.json does not match its SHA-256 in manifest.json" in first
    assert "SOMEONE-ELSE" in rest and "OK: the card and the workstation are ready" in rest
    as_json = cpsdiag("report", "show", str(edited), "--json")
    assert as_json.returncode == 1 and "REPORT_TAMPERED" in as_json.stderr
    assert json.loads(as_json.stdout)["certificates"][0]["holder"]["surname"] == "SOMEONE-ELSE"
    french = cpsdiag("report", "show", str(edited), "--lang", "fr")
    assert french.stdout.startswith("✖ Ce rapport a été modifié après que cpsdiag l'a écrit")


def test_a_bundle_missing_a_file_or_with_one_added_is_flagged(tmp_path):
    good = bundle(tmp_path / "good.zip", sample())
    with zipfile.ZipFile(good) as zf:
        files = {name: zf.read(name) for name in zf.namelist()}
    with zipfile.ZipFile(tmp_path / "changed.zip", "w") as zf:
        for name, data in files.items():
            if name != "apdu-trace.txt":
                zf.writestr(name, data)
        zf.writestr("extra.txt", "added later")
    proc = cpsdiag("report", "show", str(tmp_path / "changed.zip"))
    assert proc.returncode == 1
    shown = " ".join(proc.stdout.split())
    assert "apdu-trace.txt is listed in manifest.json but missing" in shown
    assert "extra.txt is not listed in manifest.json" in shown


@pytest.mark.parametrize("change,named", [
    (lambda t: t.replace('"findings": [', '"findings": "none", "x": ['), "$.findings"),
    (lambda t: t.replace('"card": null', '"card": 7'), "$.card"),
    (lambda t: t.replace('"pcsc": {', '"pcsc_gone": {'), "missing required field pcsc"),
    (lambda t: t.replace('"card": null', '"card": ' + "[" * 100_000 + "]" * 100_000), "$.card"),
    (lambda t: t.replace('"card": null', '"card": null, "x": ' + "[" * 100_000 + "]" * 100_000), "nested too deeply"),
])
def test_show_refuses_a_report_that_breaks_the_schema_naming_what_is_wrong(tmp_path, change, named):
    broken = rewritten(bundle(tmp_path / "good.zip", sample()), tmp_path / "broken.zip", change)
    proc = cpsdiag("report", "show", str(broken))
    assert proc.returncode == 2 and proc.stdout == ""
    assert f"{broken}: not a valid cpsdiag.report/1 document" in proc.stderr and named in proc.stderr


ESCAPES = ["\x1b[2J\x1b[H", "\x1b]8;;https://evil.example/\x1b\\", "\x1b]0;title\x07", "\u009b31m", "\u202e", "\r"]


def test_escape_sequences_from_a_bundle_never_reach_the_terminal(tmp_path):
    hostile = "EVIL" + "".join(ESCAPES) + "END"
    doc = sample()
    doc["findings"][0].update(title=hostile, detail=hostile, remedy=hostile)
    doc["readers"] = [{"name": hostile, "card_present": True, "atr": None, "exclusive": False, "selected": True}]
    doc["certificates"][0]["holder"]["surname"] = hostile
    path = bundle(tmp_path / "hostile.zip", doc)
    for args in (["report", "show", str(path)], ["report", "show", str(path), "--json"],
                 ["report", "summarize", str(tmp_path)]):
        proc = cpsdiag(*args)
        out = proc.stdout + proc.stderr
        assert not any(c in out for c in "\x1b\x07\u009b\u202e\r"), (args, repr(out))
    shown = cpsdiag("report", "show", str(path)).stdout
    assert "EVILEND" in shown


def test_summarize_skips_broken_reports_with_a_count_and_still_prints_its_summary(tmp_path):
    bundle(tmp_path / "good.zip", sample())
    (tmp_path / "types.json").write_text(json.dumps(report_doc(findings="none", card=7)))
    (tmp_path / "deep.json").write_text('{"schema": "cpsdiag.report/1", "x": ' + "[" * 100_000 + "]" * 100_000 + "}")
    proc = cpsdiag("report", "summarize", str(tmp_path))
    assert proc.returncode == 1
    assert "1 reports read, 2 files skipped" in proc.stdout and "Verdicts" in proc.stdout
    assert "types.json: not a valid cpsdiag.report/1 document: $.findings" in proc.stderr


def run_on_a_terminal(*args: str, columns: int = 100) -> str:
    """``cpsdiag ARGS`` with its standard output and error on a pseudo-terminal: what the terminal received."""
    import os
    import pty

    leader, follower = pty.openpty()
    env = clean_environ({"COLUMNS": str(columns), "TERM": "xterm"})
    proc = subprocess.Popen([sys.executable, "-m", "cpsdiag", *args], stdin=subprocess.DEVNULL, stdout=follower,
                            stderr=follower, env=env, close_fds=True)
    os.close(follower)
    chunks = []
    while True:
        try:
            data = os.read(leader, 65536)
        except OSError:            # EIO: the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    proc.wait(timeout=120)
    os.close(leader)
    return b"".join(chunks).decode(errors="replace")


def test_summarize_shows_a_progress_bar_with_the_count_on_a_terminal_only(tmp_path):
    for n in range(3):
        bundle(tmp_path / f"b{n}.zip", sample())
    screen = run_on_a_terminal("report", "summarize", str(tmp_path))
    assert "Reading reports" in screen and "3/3" in screen and "3 reports read, 0 files skipped" in screen
    assert "Reading reports" not in run_on_a_terminal("report", "summarize", str(tmp_path), "--quiet")
    assert "Reading reports" not in run_on_a_terminal("report", "summarize", str(tmp_path), "--json")
    piped = cpsdiag("report", "summarize", str(tmp_path))
    assert "Reading reports" not in piped.stdout + piped.stderr and "3 reports read" in piped.stdout


def test_show_and_summarize_on_an_output_that_cannot_take_utf8(tmp_path):
    doc = sample()
    doc["certificates"][0]["holder"]["surname"] = "HÉLÈNE-ESSAI"
    path = bundle(tmp_path / "b.zip", doc)
    plain = {"LC_ALL": "POSIX", "LANG": "POSIX", "PYTHONUTF8": "0"}
    for args in (["report", "show", str(path)], ["report", "show", str(path), "--json"],
                 ["report", "summarize", str(tmp_path)], ["report", "summarize", str(tmp_path), "--json"],
                 ["report", "summarize", str(tmp_path), "--csv"]):
        proc = cpsdiag(*args, env=plain)
        assert proc.returncode == 0 and proc.stdout.isascii(), (args, proc.stderr)
    shown = cpsdiag("report", "show", str(path), env=plain).stdout
    assert "HELENE-ESSAI" in shown and "+ OK" in shown
    as_json = json.loads(cpsdiag("report", "show", str(path), "--json", env=plain).stdout)
    assert as_json["certificates"][0]["holder"]["surname"] == "HÉLÈNE-ESSAI"
