"""`cpsdiag emulator run` as integrators use it: every shipped profile by name, and cards of their own made with
`emulator new-profile`, diagnosed by `cpsdiag check` as they were specified.

Self-contained (with tests/support/stop.py): scripts/test-install runs it as an unprivileged user from the wheel, where
the profiles must come from the installed package.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from importlib import resources

import pytest

from tests.support.stop import child_env, processes_marked, tmpdir_mark  # noqa: F401 (a fixture)

pytestmark = pytest.mark.stack

# What docs/emulator.md promises ("Shipped profiles"); tests/unit/emulator/test_profile.py holds the table to it.
SHIPPED = ["cpe-etablissement", "cps3-expired", "cps3-expiring-soon", "cps3-medecin", "cps3-pin-blocked",
           "cps3-pin-last-try", "cps3-revoked", "cps3-sans-contact", "cps4-infirmier", "cps4-t1-medecin"]




def cpsdiag(tmpdir, *args: str) -> subprocess.CompletedProcess:
    proc = subprocess.run([sys.executable, "-m", "cpsdiag", *args], env=child_env(tmpdir), capture_output=True,
                          text=True, timeout=300)
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc


def run_check(tmpdir, profile: str) -> dict:
    """emulator run + check, as the README shows it; nothing may be left behind."""
    proc = cpsdiag(tmpdir, "emulator", "run", "--profile", profile, "--", sys.executable, "-m", "cpsdiag", "check",
                   "--json", "--no-env")
    assert proc.stdout, proc.stderr
    report = json.loads(proc.stdout)
    assert proc.returncode == report["exit_status"], proc.stderr
    assert processes_marked(str(tmpdir)) == {} and list(tmpdir.iterdir()) == []
    return report


def test_every_shipped_profile_is_in_the_package():
    folder = resources.files("cpsdiag.emulator").joinpath("profiles")
    assert sorted(p.name for p in folder.iterdir() if p.joinpath("card.toml").is_file()) == SHIPPED


@pytest.mark.parametrize("name", SHIPPED)
def test_every_shipped_profile_by_name_through_emulator_run(tmpdir_mark, name):
    toml = tomllib.loads(resources.files("cpsdiag.emulator").joinpath("profiles", name, "card.toml").read_text())
    report = run_check(tmpdir_mark, name)
    assert report["card"]["generation"] == toml["generation"]
    assert report["card"]["interface"] == toml.get("interface", "contact")
    # EF.SN.ICC holds the last 8 digits of a real card's 10-digit number (docs/emulator.md).
    assert report["card"]["card_number"] == toml["card_number"][-8:] and len(toml["card_number"]) == 10
    # The day's test PKI issued the certificates, and emulator run handed its anchors to the command.
    assert report["certificates"] and not {"CERT_UNTRUSTED", "CERT_TEST_CHAIN_MISSING"} & codes(report)


def codes(report: dict) -> set[str]:
    return {f["code"] for f in report["findings"]}


def test_new_profile_cps4_nurse_expiring_with_one_try_left(tmpdir_mark, tmp_path):
    folder = tmp_path / "nurse"
    made = cpsdiag(tmpdir_mark, "emulator", "new-profile", str(folder), "--generation", "CPS4", "--id-type",
                   "adeli", "--id", "0B6087510", "--profession", "60", "--given-name", "OLIVIER", "--surname",
                   "INFIRMIER-TEST", "--expires-in", "30d", "--tries-left", "1", "--card-number", "777")
    assert made.returncode == 0, made.stderr
    report = run_check(tmpdir_mark, str(folder))
    card = report["card"]
    assert (card["generation"], card["card_number"]) == ("CPS4", "777")
    assert (card["pin"]["tries_left"], card["pin"]["max_tries"]) == (1, 3)
    assert {"PIN_TRIES_LOW", "CERT_EXPIRES_SOON"} <= codes(report)
    for cert in report["certificates"]:
        holder = cert["holder"]
        assert (holder["given_name"], holder["surname"]) == ("OLIVIER", "INFIRMIER-TEST")
        assert (holder["id_kind"], holder["identifier"]) == ("ADELI", "0B6087510")
        assert (holder["profession_code"], holder["profession"]) == (60, "Infirmier")
        assert cert["days_left"] == 30 and cert["card_type"] == 0 and cert["chain"]["trusted"]


def test_new_profile_cpe_expired_and_blocked(tmpdir_mark, tmp_path):
    folder = tmp_path / "staff"
    made = cpsdiag(tmpdir_mark, "emulator", "new-profile", str(folder), "--card-type", "CPE", "--id-type",
                   "structure", "--id", "999999990/CPET0042", "--organization", "CLINIQUE DES TESTS", "--expired",
                   "--tries-left", "0", "--pin", "86420", "--revoked")
    assert made.returncode == 0, made.stderr
    assert "revoked = true" in (folder / "card.toml").read_text()      # recorded for the PKI to publish later
    report = run_check(tmpdir_mark, str(folder))
    assert report["card"]["pin"]["blocked"] is True
    assert {"PIN_BLOCKED", "CERT_EXPIRED"} <= codes(report)
    for cert in report["certificates"]:
        assert cert["card_type"] == 2 and cert["days_left"] < 0
        assert cert["holder"]["id_kind"] != "RPPS" and "999999990" in cert["holder"]["national_id"]
        assert cert["holder"]["structure"], cert["holder"]


def test_new_profile_contactless_cps3(tmpdir_mark, tmp_path):
    folder = tmp_path / "nfc"
    made = cpsdiag(tmpdir_mark, "emulator", "new-profile", str(folder), "--interface", "contactless",
                   "--id", "99900000123")
    assert made.returncode == 0, made.stderr
    report = run_check(tmpdir_mark, str(folder))
    assert report["card"]["interface"] == "contactless"
    assert [c["role"] for c in report["certificates"]] == ["authentication"]
    assert report["certificates"][0]["holder"]["identifier"] == "99900000123"


@pytest.mark.parametrize("args,words", [
    (["--interface", "contactless", "--generation", "CPS4"], "only a CPS3 has a contactless face"),
    (["--interface", "contactless", "--pin", "1234"], "the contactless face has no PIN"),
    (["--card-type", "CPE"], "identified within their structure"),
    (["--id-type", "structure"], "RPPS or ADELI"),
    (["--card-type", "CPA", "--id-type", "structure", "--profession", "10"], "no profession code"),
    (["--card-type", "CPF", "--profession", "60"], "not a profession a CPF carries"),
    (["--expired", "--expires-in", "30d"], "choose one"),
    (["--expires-in", "5000d"], "between 1 day and 1095 days"),
    (["--expires-in", "soon"], "number of days"),
    (["--tries-left", "4"], "between 0 (blocked) and --max-tries (3)"),
    (["--id-type", "rpps", "--id", "123"], "11 digits"),
    (["--profession", "12"], "not a profession a CPS carries"),
    (["--card-number", "12345678901"], "1 to 10 digits"),
    (["--situation", "CABINET;399999999900019"], "STRUCTURE NAME;STRUCTURE ID;SECTOR"),
    (["--situation", "CABINET;399999999900019;07"], "R02 code"),
    (["--interface", "contactless", "--situation", "C;3;SA07"], "the contactless face holds no practice situation"),
    (["--cps-data-size", "0"], "--cps-data-size 0"),
])
def test_new_profile_refuses_impossible_cards(tmpdir_mark, tmp_path, args, words):
    proc = cpsdiag(tmpdir_mark, "emulator", "new-profile", str(tmp_path / "card"), *args)
    assert proc.returncode == 2 and words in proc.stderr, proc.stderr
    assert not (tmp_path / "card").exists()


def test_new_profile_situations_card_number_and_cps_data(tmpdir_mark, tmp_path):
    folder = tmp_path / "two-practices"
    made = cpsdiag(tmpdir_mark, "emulator", "new-profile", str(folder), "--card-number", "2912345678",
                   "--situation", "CABINET DU DR TESTEUR;399999999900019;SA07",
                   "--situation", "CENTRE DE SANTE TESTEUR;1999999980;SA05", "--cps-data-size", "512")
    assert made.returncode == 0, made.stderr
    toml = tomllib.loads((folder / "card.toml").read_text())
    assert toml["card_number"] == "2912345678" and toml["data"]["cps_data_size"] == 512
    assert [s["sector"] for s in toml["data"]["situations"]] == ["SA07", "SA05"]
    report = run_check(tmpdir_mark, str(folder))
    assert report["card"]["card_number"] == "12345678"              # the last 8 digits, in EF.SN.ICC
    assert {c["card_number"] for c in report["certificates"]} == {"2912345678"}
    objects = {o["label"]: o for o in report["card"]["pkcs15"]["data_objects"]}
    assert objects["CPS_DATA"]["size"] == 512 and objects["CPS_DATA"]["modifiable"] is True
    assert [label for label in objects if label.startswith("CPS_ACTIVITY")] == ["CPS_ACTIVITY_01_PS",
                                                                                "CPS_ACTIVITY_02_PS"]
    bare = tmp_path / "no-practice"
    assert cpsdiag(tmpdir_mark, "emulator", "new-profile", str(bare), "--no-situation").returncode == 0
    assert tomllib.loads((bare / "card.toml").read_text())["data"]["situations"] == []
    # Without a --situation, one practice made from the holder.
    plain = tmp_path / "plain"
    assert cpsdiag(tmpdir_mark, "emulator", "new-profile", str(plain), "--surname", "TESTEUR").returncode == 0
    (only,) = tomllib.loads((plain / "card.toml").read_text())["data"]["situations"]
    assert (only["structure_name"], only["sector"]) == ("CABINET TESTEUR", "SA07")


def test_new_profile_does_not_write_over_a_folder(tmpdir_mark, tmp_path):
    (tmp_path / "card").mkdir()
    (tmp_path / "card" / "notes.txt").write_text("mine")
    proc = cpsdiag(tmpdir_mark, "emulator", "new-profile", str(tmp_path / "card"))
    assert proc.returncode == 2 and "not empty" in proc.stderr
    assert [p.name for p in (tmp_path / "card").iterdir()] == ["notes.txt"]


def test_check_sees_the_private_pcscd_as_the_running_service(tmpdir_mark):
    """The workstation part of check follows PCSCLITE_CSOCK_NAME as the client library does."""
    proc = cpsdiag(tmpdir_mark, "emulator", "run", "--", sys.executable, "-m", "cpsdiag", "check", "--json")
    service = json.loads(proc.stdout)["environment"]["pcsc"]["service"]
    assert service["running"] is True and len(service["pids"]) == 1, service
    assert service["socket"].startswith(str(tmpdir_mark)) and service["socket"].endswith("/run/pcscd.comm")
    assert "pcscd started in" in proc.stderr and f"pid {service['pids'][0]};" in proc.stderr
