"""``cpsdiag env`` on this machine for real: pcscd + vpcd + the emulated card, OpenSC's PKCS#11 module.

As root the session's pcscd runs in private namespaces (tests/conftest.py);
the tests that stop it, hide libpcsclite or fake a Cryptolib install do so in
that namespace or in a nested one, never on the machine itself.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from collections import Counter
from pathlib import Path

import pytest

from tests.support.cli import codes, cpsdiag, cpsdiag_json
from cpsdiag.emulator import stack as stk

pytestmark = pytest.mark.stack

def env_json(*args: str, env: dict | None = None, home: Path | None = None) -> tuple[dict, subprocess.CompletedProcess]:
    return cpsdiag_json("env", "--json", *args, env={**({"HOME": str(home)} if home else {}), **(env or {})})


def test_env_sees_the_service_the_reader_and_the_card(insert_card, stack, tmp_path, opensc_module, pykcs11):
    insert_card("cps3-medecin")
    doc, proc = env_json(home=tmp_path)
    assert doc["schema"] == "cpsdiag.environment/1"
    found = codes(doc)
    assert found["PCSC_SERVICE_OK"] == 1 and "READER_NOT_ANSWERING" not in found
    assert found["MIDDLEWARE_MISSING"] == 1 and proc.returncode == 0 and doc["verdict"] == "warning"
    e = doc["environment"]
    assert Path(e["pcsc"]["library"]).name.startswith("libpcsclite.so.1") and Path(e["pcsc"]["library"]).exists()
    svc = e["pcsc"]["service"]
    assert svc["running"] is True and svc["socket"] == "/run/pcscd/pcscd.comm" and svc["installed"] is True
    version = subprocess.run([stk.pcscd_binary(), "--version"], capture_output=True, text=True).stdout.split()[2].rstrip(".")
    assert svc["version"] == version
    if stack.managed:
        assert svc["pids"] == [stack.pcscd.process.pid]
    reader = next(r for r in e["pcsc"]["readers"] if r["name"] == stack.reader)
    assert reader["answering"] is True and reader["card_present"] is True and reader["generation"] == "CPS3"
    assert reader["atr"] == "3BAC00402A001225006480000310009000"
    assert reader["features"] is None and reader["features_error"]          # vpcd has no part 10 features
    assert e["card_generation"] == "CPS3" and e["card_source"] == "atr"
    assert e["system"]["os_name"] and e["system"]["python"] == ".".join(map(str, sys.version_info[:3]))
    opensc = next(m for m in e["modules"] if m["kind"] == "opensc")
    assert opensc["exists"] is True and opensc["source"] == "p11-kit"
    probe = opensc["probe"]
    assert probe["loaded"] and probe["manufacturer"] == "OpenSC Project"
    slot = next(s for s in probe["slots"] if s["description"].startswith(stack.reader[:20]))
    assert slot["token_present"] is True and opensc["claims"] == ["CPS3"] and opensc["claims_source"] == "probe"
    assert e["pykcs11"] is True


def test_env_console_in_french(insert_card, tmp_path):
    insert_card("cps4-infirmier")
    proc = cpsdiag("env", "--lang", "fr", env={"HOME": str(tmp_path)})
    assert proc.returncode == 0
    assert "\x1b[" not in proc.stdout and "CPS4" in proc.stdout
    assert "Carte" in proc.stdout           # labels already in the French catalogue ("Card")


def test_env_pcscd_stopped_then_started(stack, tmp_path):
    pcscd = stack.require_managed()
    pcscd.stop()
    try:
        doc, proc = env_json(home=tmp_path)
        stopped = [f for f in doc["findings"] if f["code"] == "PCSC_SERVICE_STOPPED"]
        assert len(stopped) == 1 and proc.returncode == 1
        assert stopped[0]["params"]["hresult"] == "0x8010001D"
        assert doc["environment"]["pcsc"]["service"]["running"] is False
        assert doc["environment"]["pcsc"]["service"]["socket"] is None
    finally:
        pcscd.start()
    doc, proc = env_json(home=tmp_path)
    assert codes(doc)["PCSC_SERVICE_OK"] == 1 and "PCSC_SERVICE_STOPPED" not in codes(doc)
    assert doc["environment"]["pcsc"]["service"]["running"] is True


def test_env_pcsc_library_missing(stack):
    proc = stack.run_without_pcsc_library("env", "--json")
    doc = json.loads(proc.stdout)
    assert codes(doc)["PCSC_CLIENT_MISSING"] == 1 and proc.returncode == 1 and "Traceback" not in proc.stderr
    assert "PCSC_SERVICE_OK" not in codes(doc)


def test_env_reader_that_stops_answering(insert_card, stack, tmp_path):
    card = insert_card("cps3-medecin")
    # Power the card down first, so that the next connection must reach the reader (pcscd answers a connection to
    # a card that is still powered by itself); then the reader's far end freezes.
    subprocess.run([sys.executable, "-c", f"""
from smartcard import scard
rc, ctx = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
rc, card, proto = scard.SCardConnect(ctx, {stack.reader!r}, scard.SCARD_SHARE_SHARED, scard.SCARD_PROTOCOL_T0)
assert rc == 0, hex(rc)
assert scard.SCardDisconnect(card, scard.SCARD_UNPOWER_CARD) == 0
"""], check=True, timeout=30)
    os.kill(card.emulator.process.pid, signal.SIGSTOP)
    try:
        doc, proc = env_json(home=tmp_path, env={"CPSDIAG_ENV_TIMEOUT": "4"})
    finally:
        os.kill(card.emulator.process.pid, signal.SIGCONT)
    stuck = [f for f in doc["findings"] if f["code"] == "READER_NOT_ANSWERING"]
    assert [f["params"]["reader"] for f in stuck] == [stack.reader] and proc.returncode == 1
    other = [r for r in doc["environment"]["pcsc"]["readers"] if r["name"] != stack.reader]
    assert all(r["answering"] for r in other)


def test_env_with_a_cryptolib_module_and_firefox_profiles(insert_card, tmp_path, stack, opensc_module, pykcs11):
    """A Cryptolib install (OpenSC's module standing in for the Cryptolib, which CI cannot download) in a nested
    mount namespace, a Firefox profile loading it and OpenSC, and a stale cache."""
    stack.require_managed()          # root: mounts in a nested namespace
    insert_card("cps3-medecin")
    home = tmp_path / "home"
    profile = home / ".mozilla/firefox/p1.default"
    profile.mkdir(parents=True)
    (home / ".mozilla/firefox/profiles.ini").write_text("[Profile0]\nName=default\nIsRelative=1\nPath=p1.default\n"
                                                       "Default=1\n")
    module = "/opt/santesocial/CPS/lib/libcps3_pkcs11_lux.so"
    (profile / "pkcs11.txt").write_text(f"library=\nname=NSS Internal PKCS #11 Module\n\nlibrary={module}\n"
                                        f"name=CPS\n\nlibrary={opensc_module}\nname=OpenSC\n")
    probe = textwrap.dedent("""
        import json
        from cpsdiag.env import collect_environment, judge_environment, environment_dict
        facts = collect_environment(card_serial="90000001")
        print(json.dumps({"codes": [f.code for f in judge_environment(facts)],
                          "findings": [[f.code, f.params] for f in judge_environment(facts)],
                          "env": environment_dict(facts)}))
    """)
    script = (f"mount -t tmpfs none /opt && mount -t tmpfs none /etc/opt && mkdir -p /opt/santesocial/CPS/lib "
              f"/etc/opt/santesocial/CPS/cache && cp {opensc_module} {module} && "
              f"touch /etc/opt/santesocial/CPS/cache/80250000099999999_3F00D003 && exec {sys.executable} -c '{probe}'")
    proc = subprocess.run(["unshare", "-m", "--propagation", "private", "sh", "-c", script], capture_output=True,
                          text=True, timeout=120, env={**os.environ, "HOME": str(home)})
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    found = Counter(out["codes"])
    lib = out["env"]["cryptolib"]
    assert lib["installed"] and lib["module"] == module and lib["version"] is None
    assert lib["cache_serials"] == ["80250000099999999"]
    assert found["MIDDLEWARE_VERSION_UNKNOWN"] == 1 and found["MIDDLEWARE_CACHE_STALE"] == 1
    assert found["FIREFOX_MODULE_OK"] == 1 and found["MIDDLEWARE_CONFLICT"] == 1
    conflict = next(p for c, p in out["findings"] if c == "MIDDLEWARE_CONFLICT")
    assert conflict["scope"] == "Firefox (default)" and module in conflict["modules"] and opensc_module in conflict["modules"]
    assert lib["probe"]["loaded"] and lib["probe"]["slots"][0]["token_present"]
    assert "MIDDLEWARE_CARD_NOT_SEEN" not in found
