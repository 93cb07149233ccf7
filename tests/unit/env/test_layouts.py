"""Workstation findings on fake Linux, macOS and Windows layouts (tests/data/env), one change at a time.

Each test copies a healthy layout, breaks one thing the way it breaks on a
real desk, and checks the exact findings that come out.
"""

from __future__ import annotations

import json
import os
import plistlib
import shutil
from collections import Counter
from pathlib import Path

import pytest

from cpsdiag.findings.model import Severity
from cpsdiag.env import collect_environment, judge_environment, load_layout
from tests.support.paths import DATA

DATA = DATA / "env"
HEALTHY = ["PCSC_SERVICE_OK", "MIDDLEWARE_OK", "FIREFOX_MODULE_OK"]
PLATFORMS = ["linux", "darwin", "win32"]
PROBE = "python -m cpsdiag.env.probe_pcsc"
CPS3 = "3BAC00402A001225006480000310009000"
CPS4_T1 = "3B9B1880010012250064800401000090 44".replace(" ", "")
MODULE = {"linux": "/opt/santesocial/CPS/lib/libcps3_pkcs11_lux.so",
          "darwin": "/usr/local/lib/libcps3_pkcs11_osx.dylib",
          "win32": r"C:\Windows\System32\cps3_pkcs11_w64.dll"}
READER = {"linux": "Gemalto PC Twin Reader (A1B2C3D4) 00 00", "darwin": "Identiv uTrust 2700 R Smart Card Reader",
          "win32": "Gemalto USB Smart Card Reader 0"}
CACHE_SERIAL = {"linux": "80250000090000001", "darwin": "80250000090000002", "win32": "80250000090000003"}
FF_PKCS11 = {"linux": "home/alice/.mozilla/firefox/abcd1234.default-esr/pkcs11.txt",
             "darwin": "Users/alice/Library/Application Support/Firefox/Profiles/x1y2z3.default-release/pkcs11.txt",
             "win32": "Users/alice/AppData/Roaming/Mozilla/Firefox/Profiles/k9k9k9k9.default-release/pkcs11.txt"}


class Layout:
    """A private copy of a layout, to break."""

    def __init__(self, tmp_path: Path, platform: str):
        self.platform = platform
        self.folder = tmp_path / platform
        shutil.copytree(DATA / platform, self.folder, symlinks=True)
        self.spec = json.loads((self.folder / "layout.json").read_text())

    @property
    def root(self) -> Path:
        return self.folder / "root"

    def file(self, system_path: str) -> Path:
        parts = system_path.replace("\\", "/").split("/")
        parts = parts[1:] if parts[0] in ("", "C:") else parts
        return self.root.joinpath(*parts)

    def remove(self, *system_paths: str) -> None:
        for p in system_paths:
            target = self.file(p)
            if target.is_dir() and not target.is_symlink():
                shutil.rmtree(target)
            else:
                target.unlink()

    def command(self, line: str, answer) -> None:
        self.spec["commands"][line] = answer

    def probe_json(self) -> dict:
        return self.spec["commands"][PROBE]["stdout_json"]

    def module_json(self, path: str | None = None) -> dict:
        return self.spec["commands"][f"python -m cpsdiag.env.probe_pkcs11 {path or MODULE[self.platform]}"]["stdout_json"]

    def reg(self, text: str) -> None:
        (self.folder / "registry" / "90-test.reg").write_text("Windows Registry Editor Version 5.00\n\n" + text)

    def run(self, environ: dict | None = None, **kwargs):
        (self.folder / "layout.json").write_text(json.dumps(self.spec))
        system = load_layout(self.folder, environ=environ)
        facts = collect_environment(system, **kwargs)
        findings = judge_environment(facts)
        return facts, findings, system


def codes(findings) -> Counter:
    return Counter(f.code for f in findings)


def only(findings, code):
    found = [f for f in findings if f.code == code]
    assert len(found) == 1, [(f.code, f.params) for f in findings]
    return found[0]


@pytest.fixture(params=PLATFORMS)
def layout(request, tmp_path) -> Layout:
    return Layout(tmp_path, request.param)


# -- the healthy layouts ------------------------------------------------------------------

def test_healthy_layout_gives_only_ok_findings(layout):
    facts, findings, system = layout.run()
    assert codes(findings) == Counter(HEALTHY), [(f.code, f.params) for f in findings]
    assert all(f.step == "environment" and f.severity is Severity.OK for f in findings)
    assert facts.pcsc.answers and len(facts.pcsc.readers) == 1
    reader = facts.pcsc.readers[0]
    assert reader.name == READER[layout.platform] and reader.answering and reader.card_present
    assert facts.card_source == "atr" and facts.card_generation == ("CPS4" if layout.platform == "darwin" else "CPS3")
    assert facts.cryptolib.module == MODULE[layout.platform]
    assert facts.cryptolib.probe.loaded and facts.cryptolib.probe.tokens[0].token_label == "CPS de ALICE"
    assert facts.cryptolib.cache_serials == (CACHE_SERIAL[layout.platform],)
    assert facts.firefox and facts.firefox[0].default and facts.firefox[0].loads_cps
    # Nothing but canned answers: every command the probes ran is one the layout knows.
    known = tuple(layout.spec["commands"])
    assert all(any(c == k or c.startswith(k + " ") for k in known) or c.startswith("uname -r") for c in system.run.calls)


def test_system_facts_per_platform(layout):
    facts, _, _ = layout.run()
    s = facts.system
    expected = {"linux": ("Debian GNU/Linux", "12 (bookworm)", "x86_64", "6.1.0-18-amd64"),
                "darwin": ("macOS", "14.5", "arm64", "23.5.0"),
                "win32": ("Windows 11 Pro", "23H2 (build 22631)", "x86_64", "22631")}[layout.platform]
    assert (s.os_name, s.os_version, s.architecture, s.kernel) == expected
    assert s.platform == layout.platform and s.language == "fr" and s.remote is None


def test_versions_and_sources(layout):
    facts, _, _ = layout.run()
    lib = facts.cryptolib
    assert (lib.version, lib.version_source) == {"linux": ("5.2.2-2", "dpkg"), "darwin": ("5.2.1", "receipt"),
                                                 "win32": ("5.2.6", "registry")}[layout.platform]
    svc = facts.pcsc.service
    assert svc.running is True
    if layout.platform == "linux":
        assert (svc.version, svc.pids, svc.socket, svc.start_mode) == ("1.9.9", (812,), "/run/pcscd/pcscd.comm", "socket")
        assert facts.pcsc.library == "/usr/lib/x86_64-linux-gnu/libpcsclite.so.1.0.0"
        assert facts.pcsc.library_version == "1.9.9-2"
        usb = facts.pcsc.readers[0].usb
        assert (usb.vendor_id, usb.product_id, usb.driver, usb.ccid) == ("08E6", "3437", "ifd-ccid.bundle", True)
        assert [d.product for d in facts.pcsc.usb_devices] == ["USB SmartCard Reader"]    # not the Logitech receiver
    if layout.platform == "win32":
        assert svc.start_mode == "auto" and facts.windows.user_certificates == 2
        assert facts.windows.ccm_running and facts.windows.ccm_autostart
        assert [r.name for r in facts.windows.registrations if r.matches] == ["Carte de Professionnel de Sante CPS3"]


# -- the session --------------------------------------------------------------------------------

@pytest.mark.parametrize("platform,environ,code,kind", [
    ("linux", {"SSH_CONNECTION": "192.0.2.7 50022 192.0.2.1 22"}, "REMOTE_SESSION_SSH", None),
    ("darwin", {"SSH_CLIENT": "192.0.2.8 50022 22"}, "REMOTE_SESSION_SSH", None),
    ("win32", {"SSH_CONNECTION": "192.0.2.9 50022 192.0.2.1 22"}, "REMOTE_SESSION_SSH", None),
    ("win32", {"SESSIONNAME": "RDP-Tcp#3", "CLIENTNAME": "CABINET-PC"}, "REMOTE_SESSION_DESKTOP", "RDP"),
    ("win32", {"SESSIONNAME": "ICA-CGP#12", "CLIENTNAME": "THIN-01"}, "REMOTE_SESSION_DESKTOP", "Citrix ICA"),
    ("linux", {"XRDP_SESSION": "1"}, "REMOTE_SESSION_DESKTOP", "XRDP"),
    ("linux", {"X2GO_SESSION": "alice-50-1700000000_stDXFCE_dp24"}, "REMOTE_SESSION_DESKTOP", "X2Go"),
    ("darwin", {"NXSESSIONID": "ABCDEF"}, "REMOTE_SESSION_DESKTOP", "NoMachine NX"),
])
def test_remote_sessions(tmp_path, platform, environ, code, kind):
    facts, findings, _ = Layout(tmp_path, platform).run(environ=environ)
    assert codes(findings) == Counter(HEALTHY + [code])
    f = only(findings, code)
    assert f.severity is Severity.WARNING and f.params.get("kind") == kind
    if code == "REMOTE_SESSION_SSH":
        assert f.params["client"].startswith("192.0.2.")


# -- PC/SC ----------------------------------------------------------------------------------------

def test_client_library_missing(layout):
    layout.command(PROBE, {"stdout_json": {"library": None, "library_error": "libpcsclite.so.1: cannot open shared "
                                           "object file: No such file or directory", "service_error": None,
                                           "readers": []}})
    if layout.platform == "linux":
        layout.remove("/usr/lib/x86_64-linux-gnu/libpcsclite.so.1", "/usr/lib/x86_64-linux-gnu/libpcsclite.so.1.0.0")
    facts, findings, _ = layout.run()
    f = only(findings, "PCSC_CLIENT_MISSING")
    assert f.severity is Severity.ERROR and "cannot open" in f.params["reason"]
    assert "PCSC_SERVICE_OK" not in codes(findings)


def test_linux_library_missing_without_live_probe(tmp_path):
    lay = Layout(tmp_path, "linux")
    lay.command(PROBE, {"rc": 127})
    lay.remove("/usr/lib/x86_64-linux-gnu/libpcsclite.so.1")
    facts, findings, _ = lay.run()
    assert only(findings, "PCSC_CLIENT_MISSING").params["reason"] == "libpcsclite.so.1 not found"


NO_SERVICE = {"library": "x", "library_error": None, "readers": [],
              "service_error": {"operation": "SCardEstablishContext", "hresult": "0x8010001D",
                                "message": "Service not available."}}


def test_service_stopped(layout):
    layout.command(PROBE, {"stdout_json": NO_SERVICE})
    if layout.platform == "win32":
        layout.command("sc query SCardSvr", "SERVICE_NAME: SCardSvr\n        ÉTAT              : 1  STOPPED\n")
    if layout.platform == "linux":
        layout.remove("/proc/812", "/run/pcscd/pcscd.comm")
    facts, findings, _ = layout.run()
    f = only(findings, "PCSC_SERVICE_STOPPED")
    assert f.severity is Severity.ERROR and f.params["hresult"] == "0x8010001D"
    assert f.params["service"] == {"linux": "pcscd", "darwin": "com.apple.ctkpcscd", "win32": "SCardSvr"}[layout.platform]
    assert facts.pcsc.service.running is False or layout.platform == "darwin"
    assert "READER_NOT_ANSWERING" not in codes(findings)


def test_linux_service_stopped_seen_from_the_files_alone(tmp_path):
    lay = Layout(tmp_path, "linux")
    lay.command(PROBE, {"rc": 127})
    lay.remove("/proc/812", "/run/pcscd/pcscd.comm", "/etc/systemd/system/sockets.target.wants/pcscd.socket")
    facts, findings, _ = lay.run()
    assert only(findings, "PCSC_SERVICE_STOPPED").params["message"] == "no process, no socket"
    assert facts.pcsc.service.start_mode == "manual"


def test_not_probed_is_only_information(layout):
    layout.command(PROBE, {"rc": 127})
    facts, findings, _ = layout.run()
    assert only(findings, "PCSC_NOT_PROBED").severity is Severity.INFO
    assert not facts.pcsc.probed and facts.pcsc.probe_error == "not run"


@pytest.mark.parametrize("answer,why", [({"rc": 124, "stderr": "python: no answer within 5 s"}, "no answer within"),
                                        ({"rc": 1, "stdout": "garbage", "stderr": "Segmentation fault"}, "Segmentation"),
                                        ({"stdout_json": {"crashed": "RuntimeError: boom"}}, "boom")])
def test_probe_failures_are_facts(tmp_path, answer, why):
    lay = Layout(tmp_path, "linux")
    lay.command(PROBE, answer)
    facts, findings, _ = lay.run()
    assert why in facts.pcsc.probe_error and why in only(findings, "PCSC_NOT_PROBED").params["reason"]


def test_linux_pcscd_not_installed(tmp_path):
    lay = Layout(tmp_path, "linux")
    lay.command(PROBE, {"stdout_json": NO_SERVICE})
    lay.remove("/usr/sbin/pcscd", "/proc/812", "/run/pcscd/pcscd.comm")
    facts, findings, _ = lay.run()
    assert codes(findings)["PCSC_SERVICE_NOT_INSTALLED"] == 1 and "PCSC_SERVICE_STOPPED" not in codes(findings)


def test_service_disabled(tmp_path):
    lin = Layout(tmp_path / "l", "linux")
    lin.command(PROBE, {"stdout_json": NO_SERVICE})
    lin.remove("/proc/812", "/run/pcscd/pcscd.comm")
    os.symlink("/dev/null", lin.file("/etc/systemd/system/pcscd.socket"))
    _, findings, _ = lin.run()
    assert only(findings, "PCSC_SERVICE_DISABLED").params["start_mode"] == "masked"

    win = Layout(tmp_path / "w", "win32")
    win.command(PROBE, {"stdout_json": NO_SERVICE})
    win.command("sc query SCardSvr", "SERVICE_NAME: SCardSvr\n        STATE              : 1  STOPPED\n")
    win.reg("[HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Services\\SCardSvr]\n\"Start\"=dword:00000004\n")
    _, findings, _ = win.run()
    f = only(findings, "PCSC_SERVICE_DISABLED")
    assert (f.params["service"], f.params["start_mode"]) == ("SCardSvr", "disabled")


# -- readers ---------------------------------------------------------------------------------------

def test_reader_listed_but_not_answering(layout):
    row = layout.probe_json()["readers"][0]
    row.update(answering=False, error={"operation": "SCardConnect", "hresult": None, "message": "no answer within 8 s"})
    facts, findings, _ = layout.run()
    f = only(findings, "READER_NOT_ANSWERING")
    assert f.severity is Severity.ERROR and f.params["reader"] == READER[layout.platform]
    assert f.params["message"] == "no answer within 8 s"


def test_reader_in_unavailable_state(tmp_path):
    lay = Layout(tmp_path, "win32")
    lay.probe_json()["readers"][0].update(answering=False, state=["UNAVAILABLE"], error={
        "operation": "SCardGetStatusChange", "hresult": None, "message": "reader state UNAVAILABLE"})
    _, findings, _ = lay.run()
    assert only(findings, "READER_NOT_ANSWERING").params["operation"] == "SCardGetStatusChange"


def test_pinpad_reader(layout):
    layout.probe_json()["readers"][0]["features"] = "060442330006070442330007" "0A044233000A120442330012"
    facts, findings, _ = layout.run()
    f = only(findings, "READER_PINPAD")
    assert f.severity is Severity.INFO
    assert f.params["features"] == "FEATURE_VERIFY_PIN_DIRECT, FEATURE_MODIFY_PIN_DIRECT"
    assert facts.pcsc.readers[0].pinpad


def test_linux_reader_plugged_but_not_listed(tmp_path):
    lay = Layout(tmp_path, "linux")
    lay.probe_json()["readers"] = []
    facts, findings, _ = lay.run()
    f = only(findings, "READER_NOT_LISTED")
    assert (f.params["ids"], f.params["device"], f.params["driver"]) == ("08E6:3437", "Gemalto USB SmartCard Reader",
                                                                        "ifd-ccid.bundle")


def test_linux_reader_without_any_driver(tmp_path):
    lay = Layout(tmp_path, "linux")
    lay.probe_json()["readers"] = []
    lay.remove("/usr/lib/pcsc/drivers/ifd-ccid.bundle")
    facts, findings, _ = lay.run()
    assert only(findings, "READER_DRIVER_MISSING").params["ids"] == "08E6:3437"
    assert "READER_NOT_LISTED" not in codes(findings) and facts.pcsc.drivers == ()


def test_linux_unlisted_class_device_uses_the_class_driver(tmp_path):
    lay = Layout(tmp_path, "linux")
    (lay.root / "sys/bus/usb/devices/1-4").mkdir()
    (lay.root / "sys/bus/usb/devices/1-4:1.0").mkdir()
    for name, value in (("1-4/idVendor", "1a44"), ("1-4/idProduct", "0001"), ("1-4/product", "Secure Reader"),
                        ("1-4:1.0/bInterfaceClass", "0b")):
        (lay.root / "sys/bus/usb/devices" / name).write_text(value + "\n")
    facts, findings, _ = lay.run()
    dev = next(d for d in facts.pcsc.usb_devices if d.vendor_id == "1A44")
    assert (dev.driver, dev.class_driver) == (None, "ifd-ccid.bundle")
    assert only(findings, "READER_NOT_LISTED").params["ids"] == "1A44:0001"


# -- the Cryptolib CPS ----------------------------------------------------------------------------------

def _uninstall(lay: Layout) -> None:
    if lay.platform == "linux":
        lay.remove("/opt/santesocial", "/usr/lib64/libcps3_pkcs11_lux.so", "/etc/opt/santesocial",
                   "/usr/lib64/mozilla/pkcs11-modules/cps3.json")
        status = lay.file("/var/lib/dpkg/status")
        status.write_text(status.read_text().replace("Package: cryptolibcps", "Package: something-else"))
    elif lay.platform == "darwin":
        lay.remove("/var/db/receipts/fr.asipsante.cryptolibcps.pkg.plist", "/usr/local/lib/libcps3_pkcs11_osx.dylib",
                   "/Library/Preferences/santesocial", "/Applications/cpgesosx.app", "/Library/Caches/santesocial")
    else:
        lay.remove(r"C:\Windows\System32\cps3_pkcs11_w64.dll", r"C:\Windows\SysWOW64\cps3_pkcs11_w32.dll",
                   r"C:\Windows\System32\cps3_csp_w64.dll", r"C:\Program Files\santesocial", r"C:\ProgramData\santesocial")
        lay.reg("[-HKEY_LOCAL_MACHINE\\SOFTWARE\\ASIP]\n")


def test_cryptolib_missing_agrees_in_french(tmp_path):
    """"Cryptolib" is feminine: the row saying it is missing must agree (« Installée : non »)."""
    from cpsdiag import i18n
    from cpsdiag.env.render import sections

    lay = Layout(tmp_path, "linux")
    _uninstall(lay)
    facts, _, _ = lay.run()
    i18n.set_language("fr")
    section = next(s for s in sections(facts) if s.title == "Cryptolib CPS")
    assert (section.rows[0].label, section.rows[0].value) == ("Installée", "non")


def test_middleware_missing(layout):
    _uninstall(layout)
    facts, findings, _ = layout.run()
    assert not facts.cryptolib.installed and facts.cryptolib.files == ()
    f = only(findings, "MIDDLEWARE_MISSING")
    assert f.severity is Severity.WARNING and f.params["url"].startswith("https://")
    # The Firefox profile still points at the removed module: that is said, not "module missing" on top.
    assert "FIREFOX_MODULE_MISSING" not in codes(findings) and "MIDDLEWARE_OK" not in codes(findings)
    assert codes(findings)["FIREFOX_MODULE_BROKEN"] == 1


def _set_version(lay: Layout, version: str) -> None:
    if lay.platform == "linux":
        status = lay.file("/var/lib/dpkg/status")
        status.write_text(status.read_text().replace("Version: 5.2.2-2", f"Version: {version}-1"))
    elif lay.platform == "darwin":
        lay.file("/var/db/receipts/fr.asipsante.cryptolibcps.pkg.plist").write_bytes(plistlib.dumps(
            {"PackageIdentifier": "fr.asipsante.cryptolibcps.pkg", "PackageVersion": version}))
    else:
        lay.reg(f'[HKEY_LOCAL_MACHINE\\SOFTWARE\\ASIP\\Cryptolib CPS]\n"Version"="{version}"\n')


def test_cps4_card_with_a_cryptolib_older_than_5_2(layout):
    _set_version(layout, "5.1.8")
    facts, findings, _ = layout.run(card_generation="CPS4")
    f = only(findings, "MIDDLEWARE_TOO_OLD")
    assert f.severity is Severity.ERROR
    assert (f.params["minimum"], f.params["generation"]) == ("5.2", "CPS4") and f.params["version"].startswith("5.1.8")
    assert facts.card_source == "check" and "MIDDLEWARE_OK" not in codes(findings)


def test_cps3_card_with_an_old_cryptolib_is_warned_about_cps4(tmp_path):
    lay = Layout(tmp_path, "win32")
    _set_version(lay, "5.0.42")
    _, findings, _ = lay.run()
    f = only(findings, "MIDDLEWARE_NOT_CPS4_READY")
    assert f.severity is Severity.WARNING and f.params["version"] == "5.0.42"
    assert "MIDDLEWARE_TOO_OLD" not in codes(findings)


def test_legacy_cryptolib_only(tmp_path):
    lay = Layout(tmp_path, "linux")
    _uninstall(lay)
    legacy = lay.file("/usr/local/galss/libcps_pkcs11_lux.so")
    legacy.parent.mkdir(parents=True)
    legacy.write_text("")
    facts, findings, _ = lay.run()
    assert facts.cryptolib.legacy and facts.cryptolib.module == "/usr/local/galss/libcps_pkcs11_lux.so"
    f = only(findings, "MIDDLEWARE_TOO_OLD")
    assert (f.params["version"], f.params["minimum"]) == ("< 5", "5.0")


def test_version_unknown_and_incomplete(tmp_path):
    lay = Layout(tmp_path / "a", "linux")
    status = lay.file("/var/lib/dpkg/status")
    status.write_text(status.read_text().replace("Package: cryptolibcps", "Package: something-else"))
    facts, findings, _ = lay.run()
    assert only(findings, "MIDDLEWARE_VERSION_UNKNOWN").severity is Severity.INFO and facts.cryptolib.version is None

    lay = Layout(tmp_path / "b", "darwin")
    lay.remove("/usr/local/lib/libcps3_pkcs11_osx.dylib")
    facts, findings, _ = lay.run()
    f = only(findings, "MIDDLEWARE_INCOMPLETE")
    assert f.params == {"version": "5.2.1", "package": "fr.asipsante.cryptolibcps.pkg", "url": f.params["url"]}


def test_module_that_does_not_load(layout):
    layout.command(f"python -m cpsdiag.env.probe_pkcs11 {MODULE[layout.platform]}", {"stdout_json": {
        "pykcs11": True, "path": MODULE[layout.platform], "loaded": False, "error_kind": "load_failed",
        "error": "Load (...) -1: wrong ELF class: ELFCLASS32"}})
    _, findings, _ = layout.run()
    f = only(findings, "MIDDLEWARE_LOAD_FAILED")
    assert f.severity is Severity.ERROR and "ELFCLASS32" in f.params["error"]
    assert "MIDDLEWARE_OK" not in codes(findings)


def test_module_whose_process_dies(tmp_path):
    lay = Layout(tmp_path, "linux")
    lay.command(f"python -m cpsdiag.env.probe_pkcs11 {MODULE['linux']}", {"rc": -11, "stdout": "",
                                                                        "stderr": "Segmentation fault"})
    facts, findings, _ = lay.run()
    assert facts.cryptolib.probe.error_kind == "crashed"
    assert "Segmentation fault" in only(findings, "MIDDLEWARE_LOAD_FAILED").params["error"]


def test_without_pykcs11_it_is_said_not_crashed(layout):
    layout.command(f"python -m cpsdiag.env.probe_pkcs11 {MODULE[layout.platform]}", {"stdout_json": {
        "pykcs11": False, "path": MODULE[layout.platform], "loaded": False, "error_kind": "pykcs11_missing",
        "error": "PyKCS11 is not installed", "info": None, "slots": []}})
    facts, findings, _ = layout.run()
    assert facts.pykcs11 is False
    assert only(findings, "MIDDLEWARE_UNCHECKED").severity is Severity.INFO
    assert codes(findings)["MIDDLEWARE_OK"] == 1


def test_cryptolib_does_not_see_the_card(layout):
    for slot in layout.module_json()["slots"]:
        slot.update(token_present=False, token=None)
    _, findings, _ = layout.run()
    f = only(findings, "MIDDLEWARE_CARD_NOT_SEEN")
    assert f.severity is Severity.WARNING and f.params["reader"] == READER[layout.platform]


def test_stale_cache_after_renewal(layout):
    facts, findings, _ = layout.run(card_serial="90000077")
    f = only(findings, "MIDDLEWARE_CACHE_STALE")
    assert f.params["serials"] == CACHE_SERIAL[layout.platform] and f.params["card_serial"] == "90000077"
    assert f.severity is Severity.WARNING
    # The card the cache was made for: nothing to say (card number or full serial, leading zeros aside).
    number = CACHE_SERIAL[layout.platform][-9:-1]
    _, findings, _ = layout.run(card_serial=number)
    assert "MIDDLEWARE_CACHE_STALE" not in codes(findings)


# -- other middleware, conflicts ------------------------------------------------------------------------

OPENSC = {"linux": "/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so", "darwin": "/Library/OpenSC/lib/opensc-pkcs11.so",
          "win32": r"C:\Program Files\OpenSC Project\OpenSC\pkcs11\opensc-pkcs11.dll"}


def test_two_modules_claim_the_card_in_one_firefox_profile(layout):
    opensc = OPENSC[layout.platform]
    target = layout.file(opensc)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text("")
    txt = layout.root / FF_PKCS11[layout.platform]
    txt.write_text(txt.read_text() + f"library={opensc}\nname=OpenSC\n\n")
    reader = READER[layout.platform]
    layout.command(f"python -m cpsdiag.env.probe_pkcs11 {opensc}", {"stdout_json": {
        "pykcs11": True, "path": opensc, "loaded": True, "info": {"manufacturer": "OpenSC Project",
                                                                  "library_version": "0.25"},
        "slots": [{"slot_id": 0, "description": reader, "token_present": True, "token": {"label": "CPS3v3"}}]}})
    facts, findings, _ = layout.run()
    f = only(findings, "MIDDLEWARE_CONFLICT")
    assert f.severity is Severity.WARNING and f.params["scope"].startswith("Firefox (")
    assert "OpenSC" in f.params["modules"] and MODULE[layout.platform] in f.params["modules"]
    opensc_facts = next(m for m in facts.firefox[0].modules if m.kind == "opensc")
    assert opensc_facts.claims_source == "probe"


def test_opensc_that_does_not_see_the_card_is_no_conflict(tmp_path):
    lay = Layout(tmp_path, "linux")
    txt = lay.root / FF_PKCS11["linux"]
    txt.write_text(txt.read_text() + f"library={OPENSC['linux']}\nname=OpenSC\n\n")
    lay.command(f"python -m cpsdiag.env.probe_pkcs11 {OPENSC['linux']}", {"stdout_json": {
        "pykcs11": True, "path": OPENSC["linux"], "loaded": True, "info": {},
        "slots": [{"slot_id": 0, "description": READER["linux"], "token_present": False}]}})
    _, findings, _ = lay.run()
    assert "MIDDLEWARE_CONFLICT" not in codes(findings)


def test_p11kit_proxy_in_firefox_brings_the_p11kit_modules(tmp_path):
    lay = Layout(tmp_path, "linux")
    proxy = "/usr/lib/x86_64-linux-gnu/p11-kit-proxy.so"
    lay.file(proxy).write_text("")
    txt = lay.root / FF_PKCS11["linux"]
    txt.write_text(txt.read_text() + f"library={proxy}\nname=p11-kit-proxy\n\n")
    facts, findings, _ = lay.run()
    f = only(findings, "MIDDLEWARE_CONFLICT")
    assert "opensc-pkcs11" in f.params["modules"] and f.params["generation"] == "CPS3"


def test_two_windows_registrations_for_the_card(tmp_path):
    lay = Layout(tmp_path, "win32")
    lay.reg("[HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Cryptography\\Calais\\SmartCards\\IAS-ECC OpenSC]\n"
            '"ATR"=hex:3b,ac,00,40,2a,00,12,25,00,64,80,00,03,10,00,90,00\n'
            '"ATRMask"=hex:ff,ff,ff,ff,ff,ff,ff,ff,ff,ff,ff,ff,ff,ff,ff,ff,ff\n'
            '"80000001"="opensc-minidriver.dll"\n')
    _, findings, _ = lay.run()
    f = only(findings, "MIDDLEWARE_CONFLICT")
    assert f.params["scope"].startswith("Windows") and "opensc-minidriver.dll" in f.params["modules"]


# -- browsers ---------------------------------------------------------------------------------------------

def test_firefox_profile_without_the_cps_module(layout):
    txt = layout.root / FF_PKCS11[layout.platform]
    txt.write_text(txt.read_text().split("library=" + MODULE[layout.platform])[0])
    facts, findings, _ = layout.run()
    f = only(findings, "FIREFOX_MODULE_MISSING")
    assert f.severity is Severity.WARNING and f.params["module"] == MODULE[layout.platform]
    assert "FIREFOX_MODULE_OK" not in codes(findings) and not facts.firefox[0].loads_cps


def test_firefox_profile_never_started(tmp_path):
    lay = Layout(tmp_path, "darwin")
    lay.remove("/" + FF_PKCS11["darwin"])
    facts, findings, _ = lay.run()
    assert not facts.firefox[0].pkcs11_txt and only(findings, "FIREFOX_MODULE_MISSING").params["profile"] == "default-release"


def test_chrome_nssdb_without_the_module(tmp_path):
    lay = Layout(tmp_path, "linux")
    lay.remove("/home/alice/.pki")
    facts, findings, _ = lay.run()
    assert facts.chrome is None and facts.chrome_installed
    assert only(findings, "CHROME_MODULE_MISSING").params["path"] == "~/.pki/nssdb"


# -- Windows ------------------------------------------------------------------------------------------------

def test_certificates_not_propagated(tmp_path):
    lay = Layout(tmp_path, "win32")
    lay.command("sc query CertPropSvc", "SERVICE_NAME: CertPropSvc\n        STATE              : 1  STOPPED\n")
    lay.command("tasklist /FI IMAGENAME eq ccm.exe /NH /FO CSV", "INFO: No tasks are running which match the criteria.\n")
    facts, findings, _ = lay.run()
    assert facts.windows.ccm_running is False and facts.windows.certprop.running is False
    assert only(findings, "CERT_PROPAGATION_OFF").severity is Severity.WARNING
    # Either one is enough.
    lay.command("sc query CertPropSvc", "SERVICE_NAME: CertPropSvc\n        STATE              : 4  RUNNING\n")
    _, findings, _ = lay.run()
    assert "CERT_PROPAGATION_OFF" not in codes(findings)


def test_card_windows_does_not_know(tmp_path):
    lay = Layout(tmp_path, "win32")
    lay.probe_json()["readers"][0]["atr"] = CPS4_T1          # the T=1 CPS4 ATR no registration covers
    facts, findings, _ = lay.run()
    assert facts.card_generation == "CPS4"
    assert only(findings, "WINDOWS_CARD_NOT_REGISTERED").params["atr"].startswith("3B 9B 18")


# -- every finding code is produced somewhere above, on the systems it applies to ------------------------------

def test_every_environment_code_is_covered_by_this_file():
    from cpsdiag.findings.workstation import ENTRIES

    text = Path(__file__).read_text()
    missing = [code for code in ENTRIES if f'"{code}"' not in text and code not in HEALTHY]
    assert not missing, missing
