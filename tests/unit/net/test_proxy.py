"""Proxy settings: NO_PROXY matching (curl/requests conventions), WinINET and macOS rules, the fake layouts.

The expectations are the documented behaviour of curl, requests, WinINET and
macOS for each rule, written out case by case, not derived from the code.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from cpsdiag.env import load_layout
from cpsdiag.net.proxy import (ProxySettings, macos_exception_match, mask_url, no_proxy_match, parse_proxy,
                               wininet_bypass_match)
from cpsdiag.net.settings import load_proxy_settings, parse_scutil, parse_wininet_servers, workstation_proxies
from cpsdiag.net.url import BadUrl, parse_url
from tests.support.paths import DATA

DATA = DATA / "env"


def route(settings: ProxySettings, url: str):
    return settings.route(parse_url(url, ("https", "http")))


@pytest.mark.parametrize("entries,url,matches", [
    ("example.fr", "https://example.fr/", True),
    ("example.fr", "https://www.example.fr/", True),             # subdomains too
    ("example.fr", "https://notexample.fr/", False),             # a suffix, not a substring
    (".example.fr", "https://example.fr/", True),                # the leading dot is ignored
    ("*.example.fr", "https://a.b.example.fr/", True),
    ("EXAMPLE.FR", "https://www.example.fr/", True),             # case does not matter
    ("*", "https://anything.test/", True),
    ("a.test, b.test", "https://b.test/", True),                 # comma and space separated
    ("a.test b.test", "https://b.test/", True),
    ("example.fr:8443", "https://example.fr:8443/", True),       # a port limits the entry
    ("example.fr:8443", "https://example.fr/", False),
    ("127.0.0.1", "https://127.0.0.1:8443/", True),
    ("10.0.0.0/8", "https://10.1.2.3/", True),                   # CIDR
    ("10.0.0.0/8", "https://11.1.2.3/", False),
    ("::1", "https://[::1]:8443/", True),
    ("[::1]:8443", "https://[::1]:8443/", True),
    ("fd00::/8", "https://[fd12::1]/", True),
    ("localhost", "https://127.0.0.1/", False),                  # no implicit equivalence
    ("", "https://localhost/", False),                           # nothing is bypassed implicitly
    ("bücher.example", "https://xn--bcher-kva.example/", True),  # IDN entries match the A-label host
    ("example.fr", "https://127.0.0.1/", False),
])
def test_no_proxy_matching(entries, url, matches):
    e = parse_url(url)
    assert (no_proxy_match(entries, e.host, e.port, e.ip) is not None) is matches


@pytest.mark.parametrize("override,url,matches", [
    ("*.chu-exemple.fr", "https://dpi.chu-exemple.fr/", True),
    ("*.chu-exemple.fr", "https://chu-exemple.fr/", False),      # a wildcard, not a domain rule
    ("10.*", "https://10.2.3.4/", True),
    ("<local>", "https://intranet/", True),                      # names without a dot
    ("<local>", "https://intranet.chu/", False),
    ("", "https://127.0.0.1/", True),                            # Windows bypasses loopback itself...
    ("<-loopback>", "https://127.0.0.1/", False),                # ...unless told not to
    ("", "https://[::1]/", True),
    ("www.example.fr", "https://WWW.example.fr/", True),
    ("https://www.example.fr", "https://www.example.fr/", True),
])
def test_wininet_override(override, url, matches):
    e = parse_url(url)
    assert (wininet_bypass_match(override, e.host, e.port, e.ip) is not None) is matches


@pytest.mark.parametrize("exceptions,simple,url,matches", [
    (("*.local",), False, "https://printer.local/", True),
    (("169.254/16",), False, "https://169.254.3.4/", True),      # macOS abbreviates networks
    (("169.254/16",), False, "https://169.253.3.4/", False),
    ((), True, "https://intranet/", True),
    ((), False, "https://intranet/", False),
    (("*.cabinet.fr",), True, "https://ameli.fr/", False),
])
def test_macos_exceptions(exceptions, simple, url, matches):
    e = parse_url(url)
    assert (macos_exception_match(exceptions, simple, e.host, e.ip) is not None) is matches


def test_proxy_url_forms_and_credentials_masked():
    p = parse_proxy("http://alice:s%40cret@proxy.test:3128/", "environment", "HTTPS_PROXY")
    assert (p.host, p.port, p.url) == ("proxy.test", 3128, "http://proxy.test:3128")
    assert p.authorization() == "Basic YWxpY2U6c0BjcmV0"          # base64 of "alice:s@cret"
    assert "s@cret" not in repr(p) and "s@cret" not in str(p.describe()) and "s@cret" not in str(p.credentials)
    assert parse_proxy("proxy.test:8080", "windows", "x").url == "http://proxy.test:8080"
    assert parse_proxy("http://proxy.test", "windows", "x").port == 80
    assert parse_proxy("http://[::1]:3128", "windows", "x").url == "http://[::1]:3128"
    assert "not supported" in parse_proxy("socks5://proxy.test:1080", "environment", "ALL_PROXY").problem
    assert "not supported" in parse_proxy("https://proxy.test:443", "environment", "ALL_PROXY").problem
    with pytest.raises(BadUrl) as bad:
        parse_proxy("http://bob:hunter2@:3128", "option", "--proxy")
    assert "hunter2" not in str(bad.value)
    assert mask_url("http://bob:hunter2@proxy:1/") == "http://***@proxy:1/"


def test_environment_order_and_no_proxy():
    class Sys:
        platform = "linux"
        environ = {"HTTPS_PROXY": "http://upper.test:1", "https_proxy": "http://lower.test:2",
                   "ALL_PROXY": "http://all.test:3", "NO_PROXY": "intranet.test,.chu.test"}

    (env,) = workstation_proxies(Sys())
    settings = ProxySettings(sources=(env,))
    assert route(settings, "https://service.test/").proxy.url == "http://lower.test:2"   # lower case first
    assert route(settings, "http://ocsp.test/").proxy.url == "http://all.test:3"         # ALL_PROXY for http
    r = route(settings, "https://x.chu.test/")
    assert r.proxy is None and r.direct == "bypassed" and r.bypassed_by == "environment: .chu.test"


def test_environment_without_proxy_variables_leaves_the_system_in_charge(tmp_path):
    system = load_layout(DATA / "win32", environ={"NO_PROXY": "service.test"})
    settings = load_proxy_settings(system)
    assert route(settings, "https://service.test/").proxy.source == "windows"


def test_windows_layout():
    settings = load_proxy_settings(load_layout(DATA / "win32"))
    r = route(settings, "https://auth.esante.gouv.fr/")
    assert (r.proxy.url, r.proxy.source) == ("http://proxy.chu-exemple.fr:8080", "windows")
    assert "ProxyServer" in r.proxy.origin
    assert route(settings, "https://dpi.chu-exemple.fr/").bypassed_by == "windows: *.chu-exemple.fr"
    assert route(settings, "https://10.1.1.1/").direct == "bypassed"
    assert route(settings, "https://intranet/").bypassed_by == "windows: <local>"
    assert route(settings, "http://ocsp.esante.gouv.fr/").proxy.host == "proxy.chu-exemple.fr"


def _win_layout(tmp_path: Path, reg: str) -> object:
    folder = tmp_path / "win32"
    shutil.copytree(DATA / "win32", folder, symlinks=True)
    (folder / "registry" / "90-test.reg").write_text("Windows Registry Editor Version 5.00\n\n" + reg)
    return load_layout(folder)


def test_windows_per_protocol_and_pac(tmp_path):
    system = _win_layout(tmp_path, r"""[HKEY_CURRENT_USER\Software\Microsoft\Windows\CurrentVersion\Internet Settings]
"ProxyServer"="http=web.chu.test:80;https=secure.chu.test:8443;ftp=ftp.chu.test:21"
"AutoConfigURL"="http://wpad.chu.test/proxy.pac"
""")
    settings = load_proxy_settings(system)
    r = route(settings, "https://service.test/")
    assert r.proxy.url == "http://secure.chu.test:8443" and r.pac_url == "http://wpad.chu.test/proxy.pac"
    assert route(settings, "http://ocsp.test/").proxy.url == "http://web.chu.test:80"


def test_windows_pac_only_and_proxy_disabled(tmp_path):
    system = _win_layout(tmp_path, r"""[HKEY_CURRENT_USER\Software\Microsoft\Windows\CurrentVersion\Internet Settings]
"ProxyEnable"=dword:00000000
"AutoConfigURL"="http://wpad.chu.test/proxy.pac"
""")
    r = route(load_proxy_settings(system), "https://service.test/")
    assert r.proxy is None and r.direct == "pac_not_evaluated" and r.pac_url == "http://wpad.chu.test/proxy.pac"


def test_windows_machine_wide_policy(tmp_path):
    system = _win_layout(tmp_path, r"""[HKEY_LOCAL_MACHINE\Software\Policies\Microsoft\Windows\CurrentVersion\Internet Settings]
"ProxySettingsPerUser"=dword:00000000

[HKEY_LOCAL_MACHINE\Software\Microsoft\Windows\CurrentVersion\Internet Settings]
"ProxyEnable"=dword:00000001
"ProxyServer"="machine-proxy.test:3128"
""")
    assert route(load_proxy_settings(system), "https://service.test/").proxy.url == "http://machine-proxy.test:3128"


def test_windows_socks_only_is_reported_not_used():
    servers, errors = parse_wininet_servers("socks=socks.test:1080", "key")
    assert not errors and "not supported" in servers["https"].problem


def test_macos_layout():
    settings = load_proxy_settings(load_layout(DATA / "darwin"))
    r = route(settings, "https://auth.esante.gouv.fr/")
    assert (r.proxy.url, r.proxy.source, r.proxy.origin) == ("http://proxy.cabinet-exemple.fr:3128", "macos",
                                                            "scutil --proxy (HTTPSProxy)")
    assert route(settings, "https://nas.local/").bypassed_by == "macos: *.local"
    assert route(settings, "https://169.254.10.1/").direct == "bypassed"
    assert route(settings, "https://imprimante/").bypassed_by == "macos: ExcludeSimpleHostnames"


def test_macos_pac_and_scutil_failure():
    text = """<dictionary> {
  ProxyAutoConfigEnable : 1
  ProxyAutoConfigURLString : http://pac.cabinet.test/wpad.dat
}
"""
    assert parse_scutil(text)["ProxyAutoConfigURLString"] == "http://pac.cabinet.test/wpad.dat"
    system = load_layout(DATA / "darwin", commands={"scutil --proxy": {"stdout": text}})
    r = route(load_proxy_settings(system), "https://service.test/")
    assert r.proxy is None and r.pac_url == "http://pac.cabinet.test/wpad.dat"
    broken = load_layout(DATA / "darwin", commands={"scutil --proxy": {"rc": 1, "stderr": "scutil: failed"}})
    (source,) = workstation_proxies(broken)
    assert source.errors and route(load_proxy_settings(broken), "https://s.test/").direct == "no_proxy_configured"


def test_linux_layout_has_no_system_proxy():
    assert workstation_proxies(load_layout(DATA / "linux")) == ()


def test_option_and_no_proxy_override_everything():
    system = load_layout(DATA / "win32")
    assert route(load_proxy_settings(system, no_proxy=True), "https://x.test/").direct == "disabled"
    r = route(load_proxy_settings(system, proxy="http://u:p@opt.test:3128"), "https://dpi.chu-exemple.fr/")
    assert (r.proxy.url, r.proxy.source, r.proxy.has_credentials) == ("http://opt.test:3128", "option", True)


# -- what `env` and the helpdesk bundle show ---------------------------------------------------------------------


def test_env_shows_the_proxy_without_the_password():
    from cpsdiag.env import collect_environment, environment_dict, environment_text, judge_environment

    system = load_layout(DATA / "linux", environ={"HTTPS_PROXY": "http://bob:Tr0ub4dor@proxy.test:3128",
                                                  "NO_PROXY": ".chu.test"})
    facts = collect_environment(system, live=False)
    text = environment_text(facts)
    section = text[text.index("[Proxy]"):]
    assert "https: http://proxy.test:3128 (with user name and password)" in section
    assert "Exclusions: .chu.test" in section and "read from HTTPS_PROXY, NO_PROXY" in section
    doc = environment_dict(facts)
    assert doc["proxy"] == [{"source": "environment", "where": "HTTPS_PROXY, NO_PROXY",
                             "servers": {"https": {"url": "http://proxy.test:3128", "source": "environment",
                                                   "origin": "HTTPS_PROXY", "credentials": True, "problem": None}},
                             "bypass": [".chu.test"], "exclude_simple_hostnames": False, "pac": None,
                             "auto_detect": False, "errors": []}]
    assert "Tr0ub4dor" not in text + repr(doc) + repr(facts)
    assert "PROXY_PAC" not in {f.code for f in judge_environment(facts)}


def test_env_reports_a_pac_script(tmp_path):
    from cpsdiag.env import collect_environment, environment_text, judge_environment
    from cpsdiag.findings.catalog import render

    system = _win_layout(tmp_path, r"""[HKEY_CURRENT_USER\Software\Microsoft\Windows\CurrentVersion\Internet Settings]
"AutoConfigURL"="http://wpad.chu.test/proxy.pac"
""")
    facts = collect_environment(system, live=False)
    assert "Configuration script: http://wpad.chu.test/proxy.pac (not run by cpsdiag)" in environment_text(facts)
    pac = [f for f in judge_environment(facts) if f.code == "PROXY_PAC"]
    assert len(pac) == 1 and pac[0].severity == "info"
    assert "Windows Internet settings" in render(pac[0]).detail and "--proxy" in render(pac[0]).remedy


def test_check_summary_names_the_proxy():
    """check's short workstation panel shows the ``brief`` rows of the environment's one set of rows."""
    from cpsdiag.env import collect_environment
    from cpsdiag.env.render import sections

    facts = collect_environment(load_layout(DATA / "win32"), live=False)
    proxy = next(s for s in sections(facts) if s.title == "Proxy")
    assert [(r.label, r.value) for r in proxy.rows if r.brief] == [
        ("Windows Internet settings", "http: http://proxy.chu-exemple.fr:8080; https: http://proxy.chu-exemple.fr:8080")]


def test_a_pac_url_never_carries_its_credentials_into_a_record(tmp_path):
    """A PAC URL is copied from the settings: its user name and password are masked before any record has it."""
    from cpsdiag.env import collect_environment, environment_dict, environment_text

    system = _win_layout(tmp_path, r"""[HKEY_CURRENT_USER\Software\Microsoft\Windows\CurrentVersion\Internet Settings]
"AutoConfigURL"="http://jdupont:S3cr3tPac@wpad.chu.test/proxy.pac"
""")
    facts = collect_environment(system, live=False)
    shown = environment_text(facts) + repr(environment_dict(facts))
    assert "http://***@wpad.chu.test/proxy.pac" in shown
    assert "S3cr3tPac" not in shown and "jdupont" not in shown
    assert route(load_proxy_settings(system), "https://service.test/").pac_url == "http://***@wpad.chu.test/proxy.pac"


def test_every_view_shows_the_proxy_section():
    """env's text (environment.txt), the page and the console of `report show` read the same rows."""
    import io

    from cpsdiag.env import collect_environment, environment_text
    from cpsdiag.report.console import make_console, render_report
    from cpsdiag.report.html import render_html
    from cpsdiag.env import environment_dict
    from tests.support.report import as_report, report_doc

    facts = collect_environment(load_layout(DATA / "win32"), live=False)
    report = as_report(report_doc(environment=environment_dict(facts)))
    out = io.StringIO()
    render_report(report, make_console(file=out, width=120, no_color=True))
    page, text, console = render_html(report), environment_text(facts), out.getvalue()
    # From 40-internet-settings.reg, as written there.
    for shown in (page, text, console):
        assert "http://proxy.chu-exemple.fr:8080" in shown and "Windows Internet settings" in shown
    for shown in (page, text):
        assert "*.chu-exemple.fr, 10.*, &lt;local&gt;" in shown or "*.chu-exemple.fr, 10.*, <local>" in shown
