"""The pieces of the workstation diagnosis: parsers, the system seam, the views, the texts, the helpers."""

from __future__ import annotations

import gettext
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from cpsdiag.transport import features as feat
from cpsdiag.env import packages
from cpsdiag.host import registry
from cpsdiag.host.layout import FakeRunner
from cpsdiag.env.areas.browsers import parse_pkcs11_txt
from cpsdiag.env.areas.modules import parse_p11kit
from cpsdiag.env.pkcs11 import classify, known_claims, probe_module
from cpsdiag.host.system import RC_NOT_FOUND, RC_TIMEOUT, Completed, System, run_command
from cpsdiag.errors import MalformedDataError
from tests.support.paths import DATA, ROOT

DATA = DATA / "env"
PACKAGE = ROOT / "cpsdiag"


# -- registry exports ---------------------------------------------------------------------------------

REG = r"""Windows Registry Editor Version 5.00

; a comment
[HKEY_LOCAL_MACHINE\SOFTWARE\ASIP\Cryptolib CPS]
"Version"="5.2.2"
"Dir"="C:\\Program Files\\santesocial\\CPS"
"Quote"="say \"hi\""
@="default value"

[HKEY_LOCAL_MACHINE\SYSTEM\CurrentControlSet\Services\SCardSvr]
"Start"=dword:00000004
"Path"=hex(2):25,00,53,00,79,00,73,00,74,00,65,00,6d,00,52,00,6f,00,6f,00,74,00,\
  25,00,00,00
"Multi"=hex(7):61,00,00,00,62,00,00,00,00,00
"Q"=hex(b):01,00,00,00,00,00,00,00
"ATR"=hex:3b,ac,\
  00,40

[HKEY_CURRENT_USER\Software\Microsoft\SystemCertificates\My\Certificates\AA]
[HKEY_CURRENT_USER\Software\Microsoft\SystemCertificates\My\Certificates\BB]
"""


def test_reg_export_values_of_every_type():
    r = registry.RegFileRegistry([REG])
    key = r"HKLM\SOFTWARE\ASIP\Cryptolib CPS"
    assert registry.value(r, key, "version") == "5.2.2"
    assert registry.value(r, key, "Dir") == r"C:\Program Files\santesocial\CPS"
    assert registry.value(r, key, "Quote") == 'say "hi"'
    assert registry.value(r, key, "") == "default value"
    svc = r"HKEY_LOCAL_MACHINE\system\currentcontrolset\services\scardsvr"
    assert registry.value(r, svc, "Start") == 4
    assert registry.value(r, svc, "Path") == "%SystemRoot%"
    assert registry.value(r, svc, "Multi") == ["a", "b"]
    assert registry.value(r, svc, "Q") == 1
    assert registry.value(r, svc, "ATR") == bytes.fromhex("3bac0040")
    assert r.subkeys(r"HKCU\Software\Microsoft\SystemCertificates\My\Certificates") == ["AA", "BB"]
    assert r.subkeys(r"HKLM\SOFTWARE") == ["ASIP"]
    assert r.values(r"HKLM\SOFTWARE\Nothing") is None and registry.value(None, key, "Version") is None


def test_reg_export_utf16_later_files_override_and_delete():
    utf16 = b"\xff\xfe" + REG.replace("\n", "\r\n").encode("utf-16-le")
    later = ('Windows Registry Editor Version 5.00\n\n[HKEY_LOCAL_MACHINE\\SOFTWARE\\ASIP\\Cryptolib CPS]\n'
             '"Version"="5.2.6"\n"Dir"=-\n\n[-HKEY_CURRENT_USER\\Software\\Microsoft\\SystemCertificates\\My]\n')
    r = registry.RegFileRegistry([registry.decode_text(utf16), later])
    key = r"HKLM\SOFTWARE\ASIP\Cryptolib CPS"
    assert registry.value(r, key, "Version") == "5.2.6" and registry.value(r, key, "Dir") is None
    assert r.subkeys(r"HKCU\Software\Microsoft\SystemCertificates\My\Certificates") == []


# -- PC/SC part 10 features ---------------------------------------------------------------------------------

def test_feature_tlv_of_a_pinpad_reader():
    # What libccid answers for a reader with a PIN pad (control codes SCARD_CTL_CODE(0x330000 + tag)).
    found = feat.parse_features(bytes.fromhex("06044233000607044233000712044233001213044233001300"[:-2]))
    assert [(f.name, f.control_code) for f in found] == [
        ("FEATURE_VERIFY_PIN_DIRECT", 0x42330006), ("FEATURE_MODIFY_PIN_DIRECT", 0x42330007),
        ("FEATURE_GET_TLV_PROPERTIES", 0x42330012), ("FEATURE_CCID_ESC_COMMAND", 0x42330013)]
    assert feat.parse_features(b"") == ()
    assert feat.parse_features(bytes.fromhex("7F0400000001"))[0].name == "FEATURE_7F"


@pytest.mark.parametrize("data", ["06", "0603423300", "060442330006 07".replace(" ", "")])
def test_feature_tlv_malformed(data):
    with pytest.raises(MalformedDataError):
        feat.parse_features(bytes.fromhex(data))


def test_scard_ctl_code_per_platform():
    assert feat.scard_ctl_code(3400, "linux") == 0x42000D48
    assert feat.scard_ctl_code(3400, "win32") == 0x00313520


# -- packages and versions ------------------------------------------------------------------------------------

@pytest.mark.parametrize("version,minimum,older", [("5.1.8-1", "5.2", True), ("5.2.0", "5.2", False),
                                                   ("5.2", "5.2.2", True), ("1:5.10.0", "5.2", False),
                                                   ("v4.1", "5.0", True), (None, "5.2", None), ("abc", "5.2", None)])
def test_version_comparison(version, minimum, older):
    assert packages.older_than(version, minimum) is older


def test_dpkg_status_only_installed_packages():
    system = System(root=DATA / "linux" / "root", run=FakeRunner({}))
    pkgs = packages.dpkg_packages(system)
    assert pkgs["cryptolibcps"] == "5.2.2-2" and "removed-thing" not in pkgs
    assert packages.package_version(system, ("CryptolibCPS", "cryptolibcps")) == ("cryptolibcps", "5.2.2-2", "dpkg")


def test_rpm_is_asked_only_where_there_is_an_rpm_database(tmp_path):
    (tmp_path / "var/lib/rpm").mkdir(parents=True)
    runner = FakeRunner({"rpm -q --qf %{VERSION}-%{RELEASE} CryptolibCPS": Completed(0, "5.2.4-1", "")})
    system = System(root=tmp_path, run=runner)
    assert packages.package_version(system, ("CryptolibCPS",)) == ("CryptolibCPS", "5.2.4-1", "rpm")
    assert packages.package_version(System(root=tmp_path / "none", run=runner), ("CryptolibCPS",)) is None


# -- configuration files ---------------------------------------------------------------------------------------

def test_p11kit_and_nss_files():
    assert parse_p11kit("# c\nmodule: opensc-pkcs11.so\ncritical: no # why\n") == {"module": "opensc-pkcs11.so",
                                                                                   "critical": "no"}
    stanzas = parse_pkcs11_txt("library=\nname=NSS Internal\n\nlibrary=/x/libcps3_pkcs11_lux.so\nname=CPS\n")
    assert [s["library"] for s in stanzas] == ["", "/x/libcps3_pkcs11_lux.so"]


@pytest.mark.parametrize("path,kind,claims", [
    ("/opt/santesocial/CPS/lib/libcps3_pkcs11_lux.so", "cryptolib", ("CPS3", "CPS4")),
    (r"C:\Windows\System32\cps3_pkcs11_w64.dll", "cryptolib", ("CPS3", "CPS4")),
    ("/usr/local/galss/libcps_pkcs11_lux.so", "cryptolib-legacy", ()),
    ("/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so", "opensc", ("CPS3",)),
    ("p11-kit-proxy.so", "p11-kit-proxy", ()), ("libnssckbi.so", "nss", ()), ("libykcs11.so", "other", ())])
def test_module_kinds(path, kind, claims):
    assert classify(path) == kind and known_claims(kind) == claims


def test_claims_depend_on_versions():
    assert known_claims("cryptolib", "5.1.8") == ("CPS3",)
    assert known_claims("opensc", "0.21") == () and known_claims("opensc", "0.23") == ("CPS3",)


# -- the system seam ----------------------------------------------------------------------------------------------

def test_paths_of_a_fake_windows_layout(tmp_path):
    system = System(root=tmp_path, platform="win32", environ={"SystemDrive": "C:"})
    mapped = system.path(r"C:\Windows\System32\winscard.dll")
    assert mapped == tmp_path / "Windows" / "System32" / "winscard.dll"
    assert system.display(mapped) == r"C:\Windows\System32\winscard.dll"
    linux = System(root=tmp_path)
    assert linux.path("/etc/os-release") == tmp_path / "etc" / "os-release"
    assert linux.display(tmp_path / "etc" / "x") == "/etc/x"
    assert System().path("/etc/os-release") == Path("/etc/os-release")


def test_real_runner_says_not_found_and_timeout():
    assert run_command(["cpsdiag-no-such-command"], 5).rc == RC_NOT_FOUND
    done = run_command(["python", "-c", "import time; time.sleep(30)"], 0.5)
    assert done.rc == RC_TIMEOUT and "no answer" in done.stderr
    assert run_command(["python", "-c", "print('hi')"], 20) == Completed(0, "hi\n", "")


def test_fake_runner_prefix_and_unknown():
    runner = FakeRunner({"a b": Completed(0, "ab", ""), "a": Completed(0, "a", "")})
    assert runner(["a", "b", "c"], 1).stdout == "ab" and runner(["a", "x"], 1).stdout == "a"
    assert runner(["z"], 1).rc == RC_NOT_FOUND and runner.calls == ["a b c", "a x", "z"]


@pytest.mark.parametrize("answer,kind", [(Completed(RC_TIMEOUT, "", "no answer within 5 s"), "timeout"),
                                         (Completed(RC_NOT_FOUND, "", ""), "not_run"),
                                         (Completed(1, "not json", "boom"), "crashed")])
def test_module_probe_failures(answer, kind):
    system = System(root=Path("/nonexistent"), run=lambda argv, timeout: answer)
    probe = probe_module(system, "/x.so")
    assert probe.error_kind == kind and not probe.loaded


# -- views --------------------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def facts_by_platform():
    from cpsdiag.env import collect_environment, load_layout

    return {p: collect_environment(load_layout(DATA / p), card_serial="90000001") for p in ("linux", "darwin", "win32")}


def test_json_section_is_json_safe(facts_by_platform):
    from cpsdiag.env import environment_dict

    for name, facts in facts_by_platform.items():
        doc = json.loads(json.dumps(environment_dict(facts)))
        assert doc["system"]["platform"] == name and doc["pcsc"]["answers"] is True
        assert doc["pcsc"]["readers"][0]["features"][0] == {"tag": "12", "name": "FEATURE_GET_TLV_PROPERTIES",
                                                             "control_code": "0x42330012"}
        assert doc["cryptolib"]["probe"]["slots"][0]["token_label"] == "CPS de ALICE"
        assert doc["firefox"][0]["loads_cps"] is True and doc["card_serial"] == "90000001"
        assert (doc["windows"] is None) == (name != "win32")


def test_text_and_console_views(facts_by_platform):
    from rich.console import Console

    from cpsdiag.env import environment_text, render_environment

    for facts in facts_by_platform.values():
        text = environment_text(facts)
        assert "[PC/SC]" in text and "[Cryptolib CPS]" in text and "CPS de ALICE" in text
        console = Console(record=True, width=100, no_color=True, force_terminal=False)
        render_environment(facts, console)
        out = console.export_text()
        assert "\x1b[" not in out and facts.pcsc.readers[0].name in out and "Cryptolib CPS" in out
    assert "Windows 11 Pro" in environment_text(facts_by_platform["win32"])


# -- texts ----------------------------------------------------------------------------------------------------------

def _env_messages() -> set[str]:
    import ast

    found = set()
    for path in [*(PACKAGE / "env").glob("*.py"), PACKAGE / "findings" / "workstation.py"]:
        for node in ast.walk(ast.parse(path.read_text())):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("_", "N_")
                    and node.args and isinstance(node.args[0], ast.Constant)):
                found.add(node.args[0].value)
    return found


def _catalogue() -> dict[str, str]:
    mo = PACKAGE / "locale" / "fr" / "LC_MESSAGES" / "cpsdiag.mo"
    catalog = dict(gettext.GNUTranslations(open(mo, "rb"))._catalog)  # type: ignore[attr-defined]
    fr_json = PACKAGE / "env" / "fr.json"
    if fr_json.exists():       # until it is merged into cpsdiag.po
        catalog.update(json.loads(fr_json.read_text(encoding="utf-8")))
    return catalog


def test_every_environment_message_has_a_french_translation_with_the_same_placeholders():
    catalog = _catalogue()
    missing = sorted(m for m in _env_messages() if not catalog.get(m))
    assert not missing, missing
    for msgid in _env_messages():
        assert set(re.findall(r"\{(\w+)\}", msgid)) == set(re.findall(r"\{(\w+)\}", catalog[msgid])), msgid


PARAMS = {"client": "192.0.2.7", "kind": "RDP", "service": "pcscd", "version": "5.2.2", "library": "lib", "count": 1,
          "reason": "r", "start_mode": "disabled", "message": "m", "reader": "R", "operation": "SCardConnect",
          "device": "Gemalto", "ids": "08E6:3437", "features": "FEATURE_VERIFY_PIN_DIRECT", "module": "/m.so",
          "url": "https://x", "generation": "CPS4", "minimum": "5.2", "package": "p", "error": "e", "cache": "/c",
          "serials": "1", "card_serial": "2", "scope": "Firefox (x)", "modules": "a, b", "profiles": "p",
          "profile": "p", "name": "n", "path": "/p", "atr": "3B"}


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_every_environment_finding_renders_completely(lang, monkeypatch):
    from cpsdiag import i18n
    from cpsdiag.findings.catalog import render
    from cpsdiag.findings.model import Finding, Severity
    from cpsdiag.findings.workstation import ENTRIES

    class Fr(gettext.NullTranslations):
        def gettext(self, message: str) -> str:
            return _catalogue().get(message, message)

    monkeypatch.setattr(i18n, "_current", Fr() if lang == "fr" else gettext.NullTranslations())
    for code in ENTRIES:
        r = render(Finding(code, Severity.WARNING, "environment", PARAMS))
        text = r.title + r.detail + (r.remedy or "")
        assert "?" not in r.title + r.detail and "{" not in text, (code, r)
        if lang == "fr":
            assert r.title != ENTRIES[code].title or code == "PCSC_SERVICE_OK", code


# -- the CLI stays lean -----------------------------------------------------------------------------------------------

def test_cli_start_does_not_load_the_environment_probes():
    code = ("import sys, cpsdiag.cli, cpsdiag.findings.catalog; "
            "print(sorted(m for m in sys.modules if m.startswith('cpsdiag.env')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_the_default_pkcs11_module_is_the_cryptolib_where_installed_else_opensc():
    from cpsdiag.env.areas.cryptolib import default_pkcs11_module

    cryptolib, opensc = "/usr/lib/x86_64-linux-gnu/libcps3_pkcs11_lux.so", "/usr/lib64/opensc-pkcs11.so"
    assert default_pkcs11_module({cryptolib, opensc}.__contains__) == cryptolib
    assert default_pkcs11_module({opensc}.__contains__) == opensc
    assert default_pkcs11_module(set().__contains__) is None
