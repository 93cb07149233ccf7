"""The standalone executable alone (no venv, no Python on PATH, as root every Python hidden) diagnoses the virtual
card through its own ``emulator run``, in English and French, writes the helpdesk bundle, and behaves as
double-clicked when started with no argument and no terminal.

The machines here have the locales C, C.UTF-8 and POSIX only: ``LANG=fr_FR.UTF-8`` names a locale the system
lacks, as on many a desk; the language comes from the variable all the same, and C.UTF-8 with ``--lang fr`` too.
"""

from __future__ import annotations

import json
import os
import queue
import subprocess
import threading
import time
import zipfile
from pathlib import Path

import pytest

from cpsdiag import __version__
from cpsdiag.cli import COMMANDS
from tests.support.paths import ROOT

pytestmark = pytest.mark.stack

CERTIFICATES = ROOT / "tests" / "data" / "pki"
PROFILES = ROOT / "cpsdiag" / "emulator" / "profiles"
CPS3_ATR = "3B AC 00 40 2A 00 12 25 00 64 80 00 03 10 00 90 00"
BUNDLE_FILES = {"report.json", "report.html", "apdu-trace.txt", "environment.txt", "manifest.json"}


@pytest.fixture(scope="module")
def home(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("home")


def on_card(executable, profile: str, *args: str, home: Path, **kwargs) -> subprocess.CompletedProcess:
    """``EXE emulator run --profile NAME -- EXE ARGS``: the executable serves one of the profiles it carries, with
    today's test certificates it makes itself, and diagnoses the card."""
    return executable.run("emulator", "run", "--profile", profile, "--", str(executable.path), *args,
                          home=home, **kwargs)


def unzip(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


# -- what it carries --------------------------------------------------------------------------------------


def test_carries_python_the_catalogue_and_the_anchors_but_not_the_pcsc_library(executable):
    from PyInstaller.archive.readers import CArchiveReader

    names = set(CArchiveReader(str(executable.path)).toc)
    assert any(n.startswith("libpython3") for n in names)
    assert "cpsdiag/locale/fr/LC_MESSAGES/cpsdiag.mo" in names
    anchors = {f"cpsdiag/pki/anchors/{p.name}" for p in (ROOT / "cpsdiag" / "pki" / "anchors").glob("*.pem")}
    assert len(anchors) >= 10 and anchors <= names
    profiles = {f"cpsdiag/emulator/profiles/{p.parent.name}/card.toml" for p in PROFILES.glob("*/card.toml")}
    assert len(profiles) >= 9 and profiles <= names
    assert not [n for n in names if "pcsclite" in n.lower() or "winscard" in n.lower()]


def test_makes_the_test_pki_of_every_profile_it_carries(executable, tmp_path):
    proc = executable.run("emulator", "make-pki", str(tmp_path / "out"), home=tmp_path)
    assert proc.returncode == 0, proc.stderr
    made = sorted(p.parent.name for p in (tmp_path / "out" / "cards").glob("*/card.toml"))
    assert made == sorted(p.parent.name for p in PROFILES.glob("*/card.toml"))
    assert all((tmp_path / "out" / "cards" / name / "auth.pem").is_file() for name in made)
    assert "BEGIN CERTIFICATE" in (tmp_path / "out" / "pki" / "anchors.pem").read_text()


def test_uses_the_systems_pcsc_library(executable, tmp_path):
    # With the system's libpcsclite hidden the executable has none of its own to fall back on.
    proc = executable.run("check", "--json", "--no-env", home=tmp_path, hide_pcsc_library=True)
    doc = json.loads(proc.stdout)
    assert [f["code"] for f in doc["findings"]] == ["PCSC_LIBRARY_MISSING"] and proc.returncode == 1


# -- without a card ---------------------------------------------------------------------------------------


def test_version_and_help(executable, tmp_path):
    proc = executable.run("--version", home=tmp_path)
    assert proc.returncode == 0 and proc.stdout.strip() == f"cpsdiag, version {__version__}"
    proc = executable.run("--help", home=tmp_path)
    assert proc.returncode == 0
    assert all(f"  {name} " in proc.stdout for name in COMMANDS), proc.stdout


def test_no_argument_in_a_terminal_prints_the_help_and_writes_nothing(executable, tmp_path):
    (tmp_path / "Desktop").mkdir()
    controller, terminal = os.openpty()
    try:
        proc = executable.run(home=tmp_path, stdin=terminal, timeout=60)
    finally:
        os.close(terminal)
        os.close(controller)
    assert proc.returncode == 2 and "Usage:" in proc.stderr and "check" in proc.stderr
    assert list((tmp_path / "Desktop").iterdir()) == []


def test_atr(executable, tmp_path):
    proc = executable.run("atr", CPS3_ATR, "--json", home=tmp_path)
    assert proc.returncode == 0
    assert json.loads(proc.stdout)["card"]["generation"] == "CPS3"


def test_cert_on_the_real_ans_test_certificates(executable, tmp_path):
    proc = executable.run("cert", str(CERTIFICATES / "cps-infirmier-signature-TEST.pem"),
                          str(CERTIFICATES / "cpe-etablissement-auth-TEST.pem"), "--json", "--at", "2022-01-01",
                          "--offline", home=tmp_path)
    nurse, cpe = json.loads(proc.stdout)["files"]
    [cert] = nurse["certificates"]
    assert (cert["holder"]["given_name"], cert["holder"]["surname"]) == ("OLIVIER", "INFIRMCS ADELI8751")
    assert cert["card_number"] == "2800636234" and cert["role"] == "signature" and cert["test_card"] is True
    assert sorted(f["code"] for f in nurse["findings"]) == ["CERT_REVOCATION_NOT_CHECKED", "CERT_TEST_CARD",
                                                           "CERT_TEST_CHAIN_MISSING"]
    assert cert["revocation"]["status"] == "not_checked"      # the revocation modules are in the executable
    assert "HOPITAL DES 3 DAMES" in json.dumps(cpe, ensure_ascii=False)
    french = executable.run("cert", "--offline", str(CERTIFICATES / "cps-infirmier-signature-TEST.pem"), home=tmp_path,
                            env={"LANG": "fr_FR.UTF-8"})
    assert "Carte de TEST" in french.stdout and "Infirmier" in french.stdout and french.returncode == 1


def test_runs_cpsdiag_modules_only(executable, tmp_path):
    proc = executable.run("-m", "os", home=tmp_path)
    assert proc.returncode == 2 and "cpsdiag's own modules only" in proc.stderr


# -- the virtual card ------------------------------------------------------------------------------------


def test_check_json_on_the_virtual_card(executable, home):
    proc = on_card(executable, "cps3-medecin", "check", "--json", home=home)
    doc = json.loads(proc.stdout)
    codes = [f["code"] for f in doc["findings"]]
    assert proc.returncode == doc["exit_status"] == 0, proc.stderr
    assert doc["card"]["generation"] == "CPS3" and doc["card"]["card_number"] == "90000001"
    assert {"CARD_READ_OK", "PIN_OK", "CERT_OK"} <= set(codes) and codes.count("CERT_OK") == 2
    assert doc["environment"]["pcsc"]["library"].startswith("/usr/lib/")


def test_env_probes_run_as_the_executables_own_children(executable, home, opensc_module):
    # `env` asks the PC/SC service and the PKCS#11 modules from child processes (EXE -m cpsdiag.env.probe_...).
    proc = on_card(executable, "cps3-medecin", "env", "--json", home=home)
    doc = json.loads(proc.stdout)["environment"]
    assert doc["pcsc"]["probed"] is True and doc["pcsc"]["probe_error"] is None
    [reader] = [r for r in doc["pcsc"]["readers"] if r["card_present"]]
    assert reader["atr"].replace(" ", "").upper() == CPS3_ATR.replace(" ", "")
    opensc = [m for m in doc["modules"] if m["kind"] == "opensc"]
    assert opensc and opensc[0]["probe"]["loaded"] is True and opensc[0]["probe"]["slots"]


def test_report_on_the_virtual_card(executable, home, tmp_path):
    out = tmp_path / "bundle.zip"
    proc = on_card(executable, "cps4-infirmier", "report", "--output", str(out), home=home)
    assert proc.returncode == 0, proc.stderr
    assert f"Report written: {out}" in proc.stdout
    files = unzip(out)
    assert set(files) == BUNDLE_FILES
    report = json.loads(files["report.json"])
    assert report["card"]["generation"] == "CPS4" and report["redaction"]["applied"] is True
    for identity in ("EMULATEUR-INFIRMIER", "DOMINIQUE", "0999900123"):    # the holder's, from the profile
        assert not [name for name, data in files.items() if identity.encode() in data], identity


@pytest.mark.parametrize("env, args", [({"LANG": "fr_FR.UTF-8"}, ()), ({"LANG": "C.UTF-8"}, ("--lang", "fr"))],
                         ids=["LANG=fr_FR.UTF-8", "C.UTF-8 --lang fr"])
def test_french(executable, home, tmp_path, env, args):
    proc = on_card(executable, "cps3-medecin", "check", *args, home=home, env=env)
    assert proc.returncode == 0, proc.stderr
    assert "Code porteur" in proc.stdout and "3 essai(s) restant(s) sur 3" in proc.stdout
    assert "diagnostic de la carte CPS" in proc.stdout and "commandes échangées avec la carte" in proc.stdout
    out = tmp_path / "rapport.zip"
    proc = on_card(executable, "cps3-medecin", "report", "--output", str(out), *args, home=home, env=env)
    assert "Rapport écrit" in proc.stdout
    assert json.loads(unzip(out)["report.json"])["language"] == "fr"


# -- the double-click ------------------------------------------------------------------------------------


@pytest.mark.parametrize("lang, desktop", [("C.UTF-8", "Desktop"), ("fr_FR.UTF-8", "Bureau")])
def test_double_click_writes_the_bundle_on_the_desktop_and_waits_for_enter(executable, tmp_path, lang,
                                                                           desktop):
    home = tmp_path / "home"
    (home / desktop).mkdir(parents=True)
    if desktop != "Desktop":               # a French desktop names its folder in user-dirs.dirs
        (home / ".config").mkdir()
        (home / ".config" / "user-dirs.dirs").write_text(f'XDG_DESKTOP_DIR="$HOME/{desktop}"\n')
    prompt = "Appuyez sur Entrée" if lang.startswith("fr") else "Press Enter"
    # No argument, standard input a pipe (not a terminal): as Explorer, Finder or a file manager start it.
    # PYINSTALLER_RESET_ENVIRONMENT: a start of its own, not a child of `emulator run` (the same executable,
    # whose unpacked files a child would otherwise reuse).
    command = executable.command("emulator", "run", "--profile", "cps3-medecin", "--",
                                 "env", "PYINSTALLER_RESET_ENVIRONMENT=1", str(executable.path),
                                 home=home, env={"LANG": lang})
    proc = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, encoding="utf-8", errors="replace")
    try:
        shown = read_until(proc, prompt, timeout=180)
        bundles = list((home / desktop).glob("cpsdiag-report-*.zip"))
        assert len(bundles) == 1, shown
        assert str(bundles[0]) in shown
        assert proc.poll() is None                  # waiting for Enter, the window still open
        proc.stdin.write("\n")
        proc.stdin.close()
        assert proc.wait(60) == 0
        assert "Traceback" not in proc.stderr.read()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    report = json.loads(unzip(bundles[0])["report.json"])
    assert report["card"]["generation"] == "CPS3" and report["redaction"]["applied"] is True
    assert report["language"] == ("fr" if lang.startswith("fr") else "en")
    assert "Code porteur" in shown if lang.startswith("fr") else "PIN" in shown   # the diagnosis was shown


def read_until(proc: subprocess.Popen, text: str, timeout: float) -> str:
    """Standard output as it comes, until a line holds TEXT (or the process ends, or the time is up)."""
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in iter(proc.stdout.readline, "")] + [lines.put("")],
                     daemon=True).start()
    seen: list[str] = []
    deadline = time.monotonic() + timeout
    while True:
        try:
            line = lines.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            break
        if not line:
            break
        seen.append(line)
        if text in line:
            return "".join(seen)
    raise AssertionError(f"{text!r} never shown:\n{''.join(seen)}")
