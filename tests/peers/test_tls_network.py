"""The TLS probe in real networks: IP addresses and IDNs against nginx, proxies against Debian's squid.

Every server runs on loopback inside the test run's private namespaces; the
service and the proxy are named through /etc/hosts there (never "localhost").
The virtual card signs for real through pcscd + vpcd.
"""

from __future__ import annotations

import base64
import re
import subprocess
import zipfile
from collections import Counter

import pytest

from tests.support.cli import VERIFY_WITH_PIN, codes, cpsdiag, cpsdiag_json, run_on_terminal, spawn_cpsdiag
from tests.support.net import free_port, http_server
from tests.support.report import leaks

pytestmark = [pytest.mark.stack, pytest.mark.peer]

PIN = "4321"                 # cps4-infirmier
CARD_CODES = {"CARD_IDENTIFIED", "CARD_READ_OK", "PIN_OK", "CERT_OK", "CARD_CONSISTENT", "PIN_VERIFIED"}


def probe(pki, url: str, *extra: str, env: dict | None = None) -> tuple[dict, subprocess.CompletedProcess]:
    return cpsdiag_json("check", "--json", "--no-env", "--anchors", str(pki.anchors), "--tls", url, "--pin-stdin",
                        *extra, stdin=PIN + "\n", env=env)


def tls_codes(report: dict) -> Counter:
    return codes(report, "tls")


def assert_card_findings_kept(report: dict) -> None:
    """Whatever the TLS step did, the card, PIN and certificate findings are in the report."""
    assert CARD_CODES <= set(codes(report)), codes(report)
    assert report["card"]["card_number"] and len(report["certificates"]) == 2


# -- every URL form ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("host", ["127.0.0.1", "[::1]"])
def test_ip_address_urls(insert_card, pki, server_cert, nginx, host):
    """No SNI for an address; the server certificate is checked against its iPAddress SAN."""
    insert_card("cps4-infirmier")
    port = nginx("TLSv1.2 TLSv1.3", ipv6=True)
    report, proc = probe(pki, f"https://{host}:{port}/ip", "--tls-ca", str(server_cert[2]))
    assert tls_codes(report) == Counter(["TLS_OK"]) and proc.returncode == 0, report["findings"]
    assert report["tls"]["host"] == host.strip("[]") and report["tls"]["server"]["trusted"] is True
    assert report["tls"]["proxy"] is None and report["tls"]["route"]["direct"] == "no_proxy_configured"


def test_idn_host_name(insert_card, pki, server_cert, nginx, test_hosts):
    insert_card("cps4-infirmier")
    port = nginx("TLSv1.2 TLSv1.3")
    report, proc = probe(pki, f"https://{test_hosts['idn']}:{port}/", "--tls-ca", str(server_cert[2]))
    assert tls_codes(report) == Counter(["TLS_OK"]) and proc.returncode == 0, report["findings"]
    assert report["tls"]["host"] == test_hosts["idn_ascii"]


def test_ip_certificate_must_name_the_address(insert_card, pki, tmp_path, nginx):
    """A certificate for a host name only does not pass for its address."""
    from cpsdiag.tls.server import make_server_certificate

    insert_card("cps4-infirmier")
    cert = make_server_certificate(["only-a-name.cpsdiag.test"], tmp_path / "name-only")
    port = nginx("TLSv1.2 TLSv1.3", certificate=cert)
    report, proc = probe(pki, f"https://127.0.0.1:{port}/", "--tls-ca", str(cert[2]))
    assert tls_codes(report)["TLS_SERVER_UNTRUSTED"] == 1 and proc.returncode == 1
    assert_card_findings_kept(report)


def test_testssl_server_on_ipv6_prints_a_url_check_accepts(insert_card, pki, tmp_path):
    insert_card("cps4-infirmier")
    port, ca = free_port(), tmp_path / "ca.pem"
    server = spawn_cpsdiag("testssl-server", "--host", "::1", "--port", str(port), "--anchors", str(pki.anchors),
                           "--ca-out", str(ca))
    try:
        banner = server.stderr.readline()
        url = re.search(r"https://\S+", banner).group(0)
        assert url == f"https://[::1]:{port}/"
        report, proc = probe(pki, url, "--tls-ca", str(ca))
        assert tls_codes(report) == Counter(["TLS_OK"]) and proc.returncode == 0, report["findings"]
    finally:
        server.terminate()
        server.communicate(timeout=10)


@pytest.mark.parametrize("url,message", [
    ("http://cps-service.cpsdiag.test/", "https:// URL is needed"),
    ("cps-service.cpsdiag.test:443", "https:// URL is needed"),
    ("https:///path", "no host"),
    ("https://cps-service.cpsdiag.test:99999/", "bad port"),
    ("https://::1:8443/", "brackets"),
])
def test_bad_urls_are_usage_errors_before_the_pin(insert_card, pki, url, message):
    card = insert_card("cps4-infirmier")
    proc = cpsdiag("check", "--tls", url, "--pin-stdin", stdin=PIN + "\n")
    assert proc.returncode == 2 and message in proc.stderr, proc.stderr
    assert not VERIFY_WITH_PIN.findall(card.log())


@pytest.mark.parametrize("content", [None, b"not a certificate\n"])
def test_tls_ca_checked_before_the_pin(insert_card, pki, tmp_path, content):
    card = insert_card("cps4-infirmier")
    bundle = tmp_path / "bundle.pem"
    if content is None:
        bundle.write_text("-----BEGIN CERTIFICATE-----\n")
        bundle.chmod(0)          # unreadable, for a user other than root; for root: truncated PEM
    else:
        bundle.write_bytes(content)
    proc = cpsdiag("check", "--tls", "https://127.0.0.1:1/", "--tls-ca", str(bundle), "--pin-stdin",
                   stdin=PIN + "\n")
    assert proc.returncode == 2 and "--tls-ca" in proc.stderr, proc.stderr
    assert not VERIFY_WITH_PIN.findall(card.log())


# -- proxies ----------------------------------------------------------------------------------------------------


def test_plain_proxy_from_the_environment(insert_card, pki, server_cert, nginx, squid, test_hosts):
    insert_card("cps4-infirmier")
    port = nginx("TLSv1.2 TLSv1.3")
    proxy = squid("plain")
    url = f"https://{test_hosts['service']}:{port}/through-proxy"
    report, proc = probe(pki, url, "--tls-ca", str(server_cert[2]), env={"HTTPS_PROXY": proxy.url})
    assert tls_codes(report) == Counter(["TLS_OK"]) and proc.returncode == 0, report["findings"]
    assert report["tls"]["proxy"] == {"url": proxy.url, "source": "environment", "origin": "HTTPS_PROXY",
                                      "credentials": False, "problem": None}
    log = proxy.wait_access(f"CONNECT {test_hosts['service']}:{port}")
    assert re.search(rf"TCP_TUNNEL/200 \d+ CONNECT {re.escape(test_hosts['service'])}:{port}", log), log

    # NO_PROXY sends it direct: the proxy sees nothing more.
    before = proxy.access().count("CONNECT")
    report, proc = probe(pki, url, "--tls-ca", str(server_cert[2]),
                         env={"https_proxy": proxy.url, "no_proxy": ".cpsdiag.test"})
    assert tls_codes(report) == Counter(["TLS_OK"]), report["findings"]
    assert report["tls"]["proxy"] is None and report["tls"]["route"]["bypassed_by"] == "environment: .cpsdiag.test"
    assert proxy.access().count("CONNECT") == before


def test_proxy_option_overrides_and_no_proxy_disables(insert_card, pki, server_cert, nginx, squid, test_hosts):
    insert_card("cps4-infirmier")
    port = nginx("TLSv1.2 TLSv1.3")
    proxy = squid("plain")
    url = f"https://{test_hosts['service']}:{port}/"
    dead = f"http://{test_hosts['proxy']}:{free_port()}"
    report, _ = probe(pki, url, "--tls-ca", str(server_cert[2]), "--proxy", proxy.url, env={"HTTPS_PROXY": dead})
    assert tls_codes(report) == Counter(["TLS_OK"]) and report["tls"]["proxy"]["source"] == "option"
    report, _ = probe(pki, url, "--tls-ca", str(server_cert[2]), "--no-proxy", env={"HTTPS_PROXY": dead})
    assert tls_codes(report) == Counter(["TLS_OK"]) and report["tls"]["route"]["direct"] == "disabled"


def test_the_live_progress_names_the_proxy(insert_card, pki, server_cert, nginx, squid, test_hosts):
    """On a terminal, the TLS step says which proxy the handshake goes through (never its credentials)."""
    insert_card("cps3-medecin")             # PKCS#1 only: TLS 1.3 is tried, then TLS 1.2
    port = nginx("TLSv1.2")
    proxy = squid("plain")
    target = f"{test_hosts['service']}:{port}"
    status, out, err = run_on_terminal("check", "--no-env", "--anchors", str(pki.anchors), "--pin-stdin",
                                       "--tls", f"https://{target}/", "--tls-ca", str(server_cert[2]),
                                       "--proxy", proxy.url.replace("://", "://someone:Pw-9xQ7@"), stdin="1234\n")
    progress = err.decode()
    for attempt in ("TLS 1.3", "TLS 1.2"):
        assert f"TLS handshake with {target} ({attempt}, proxy {proxy.url})" in progress, progress
    assert "Pw-9xQ7" not in progress + out.decode() and "someone" not in progress + out.decode()
    assert status == 0, out.decode()
    proxy.wait_access(f"CONNECT {target}")


def test_proxy_down(insert_card, pki, test_hosts):
    insert_card("cps4-infirmier")
    dead = f"http://{test_hosts['proxy']}:{free_port()}"
    report, proc = probe(pki, f"https://{test_hosts['service']}:443/", env={"HTTPS_PROXY": dead})
    assert tls_codes(report) == Counter(["PROXY_CONNECT_FAILED"]) and proc.returncode == 1, report["findings"]
    finding = next(f for f in report["findings"] if f["code"] == "PROXY_CONNECT_FAILED")
    assert finding["params"]["cause"] == "refused" and "HTTPS_PROXY" in finding["remedy"]
    assert_card_findings_kept(report)


def test_proxy_cannot_reach_the_service(insert_card, pki, squid, test_hosts):
    insert_card("cps4-infirmier")
    proxy = squid("plain")
    closed = free_port()
    report, proc = probe(pki, f"https://{test_hosts['service']}:{closed}/", env={"HTTPS_PROXY": proxy.url})
    assert tls_codes(report) == Counter(["PROXY_REFUSED"]) and proc.returncode == 1, report["findings"]
    finding = next(f for f in report["findings"] if f["code"] == "PROXY_REFUSED")
    assert finding["params"]["status"] == 503 and "503" in finding["detail"]
    assert f"{test_hosts['service']}:{closed}" in finding["remedy"]
    assert_card_findings_kept(report)


def test_authenticating_proxy(insert_card, pki, server_cert, nginx, squid, test_hosts, tmp_path):
    """407 without credentials and with wrong ones; success with the right ones; the password nowhere."""
    insert_card("cps4-infirmier")
    port = nginx("TLSv1.2 TLSv1.3")
    proxy = squid("auth")
    url = f"https://{test_hosts['service']}:{port}/authenticated"
    ca = ("--tls-ca", str(server_cert[2]))
    host_port = proxy.url.split("//", 1)[1]
    user, password = proxy.user, proxy.password
    with_password = f"http://{user}:{password.replace('#', '%23')}@{host_port}"
    outputs: dict[str, bytes] = {}

    report, proc = probe(pki, url, *ca, env={"HTTPS_PROXY": proxy.url})
    assert tls_codes(report) == Counter(["PROXY_AUTH_REQUIRED"]) and proc.returncode == 1, report["findings"]
    finding = next(f for f in report["findings"] if f["code"] == "PROXY_AUTH_REQUIRED")
    assert finding["params"]["schemes"] == "Basic" and finding["params"]["credentials_sent"] is False
    assert "USER:PASSWORD@" in finding["remedy"]
    assert_card_findings_kept(report)

    wrong = f"http://{user}:not-the-password@{host_port}"
    report, proc = probe(pki, url, *ca, env={"HTTPS_PROXY": wrong})
    finding = next(f for f in report["findings"] if f["code"] == "PROXY_AUTH_REQUIRED")
    assert finding["params"]["credentials_sent"] is True and "refused" in finding["remedy"]
    assert "not-the-password" not in proc.stdout + proc.stderr

    runs = {"env": (["check", "--json"], {"HTTPS_PROXY": with_password}),
            "option": (["check", "--debug", "--proxy", with_password], {}),
            "bundle": (["report", "--no-redact", "-o", str(tmp_path / "bundle.zip"), "--proxy", with_password],
                       {"HTTPS_PROXY": with_password})}
    for name, (args, env) in runs.items():
        proc = cpsdiag(*args, "--anchors", str(pki.anchors), "--tls", url, *ca, "--pin-stdin", stdin=PIN + "\n",
                       env=env)
        # Each run went through the proxy to the server, the card signing: exit 0 needs TLS_OK.
        assert proc.returncode == 0, (name, proc.stdout, proc.stderr)
        outputs[f"{name} stdout"], outputs[f"{name} stderr"] = proc.stdout.encode(), proc.stderr.encode()
    assert "TLS client authentication succeeded" in outputs["option stdout"].decode()
    report = __import__("json").loads(outputs["env stdout"])
    assert tls_codes(report) == Counter(["TLS_OK"])
    assert report["tls"]["proxy"] == {"url": proxy.url, "source": "environment", "origin": "HTTPS_PROXY",
                                      "credentials": True, "problem": None}
    with zipfile.ZipFile(tmp_path / "bundle.zip") as bundle:
        assert "TLS_OK" in bundle.read("report.json").decode()
        assert "(with user name and password)" in bundle.read("environment.txt").decode()
        outputs.update({f"bundle {n}": bundle.read(n) for n in bundle.namelist()})
    # Squid saw the user (Basic worked); the proxy's own logs are not cpsdiag's output.
    assert re.search(rf"TCP_TUNNEL/200 \d+ CONNECT {re.escape(test_hosts['service'])}:{port} {user} ",
                     proxy.wait_access(f"CONNECT {test_hosts['service']}:{port} {user} "))
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    assert leaks(outputs, {password, password.replace("#", "%23"), token}) == []


@pytest.mark.parametrize("trusted", [False, True], ids=["inspection-ca-unknown", "inspection-ca-trusted"])
def test_inspecting_proxy(insert_card, pki, server_cert, nginx, squid, test_hosts, tmp_path, trusted):
    """ssl_bump: the proxy answers with its own certificate and never asks for the card."""
    insert_card("cps4-infirmier")
    port = nginx("TLSv1.2 TLSv1.3")
    proxy = squid("bump")
    bundle = tmp_path / "trusted.pem"
    # As companies deploy it: the inspection authority in the workstation's trusted bundle.
    bundle.write_bytes(server_cert[2].read_bytes() + (proxy.inspection_ca.read_bytes() if trusted else b""))
    url = f"https://{test_hosts['service']}:{port}/inspected"
    report, proc = probe(pki, url, "--tls-ca", str(bundle), env={"HTTPS_PROXY": proxy.url})
    assert tls_codes(report) == Counter(["TLS_INTERCEPTED"]) and proc.returncode == 1, report["findings"]
    finding = next(f for f in report["findings"] if f["code"] == "TLS_INTERCEPTED")
    assert "CHU EXEMPLE Inspection TLS" in finding["detail"]
    assert f"exclude {test_hosts['service']} from TLS inspection" in finding["remedy"]
    assert ("trusts the proxy's authority" in finding["remedy"]) is trusted
    assert report["tls"]["server"]["trusted"] is trusted and report["tls"]["server"]["issuer_known"] is False
    assert_card_findings_kept(report)
    proxy.wait_access(f"CONNECT {test_hosts['service']}:{port}")

    # The same in French.
    report, _ = probe(pki, url, "--tls-ca", str(bundle), "--lang", "fr", env={"HTTPS_PROXY": proxy.url})
    finding = next(f for f in report["findings"] if f["code"] == "TLS_INTERCEPTED")
    assert f"exclure {test_hosts['service']} de l'inspection TLS" in finding["remedy"]


# -- plain http:// through the proxy (what the revocation check's OCSP and CRL requests use) -------------------


@pytest.fixture
def http_origin(test_hosts):
    """A plain HTTP server on loopback echoing what it received; its URL uses the test host name."""
    from http.server import BaseHTTPRequestHandler

    class Echo(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _answer(self, body: bytes) -> None:
            payload = f"{self.command} {self.path} {self.headers['Host']} ".encode() + body
            self.send_response(200)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def do_GET(self):  # noqa: N802
            self._answer(b"")

        def do_POST(self):  # noqa: N802
            self._answer(self.rfile.read(int(self.headers["Content-Length"])))

        def log_message(self, *args):
            pass

    with http_server(Echo) as port:
        yield f"http://{test_hosts['service']}:{port}"


def test_http_requests_through_the_proxy(squid, http_origin):
    from cpsdiag.net import ProxyAuthRequired, ProxySettings, http_request
    from cpsdiag.net.proxy import parse_proxy

    plain = squid("plain")
    via = ProxySettings(override=parse_proxy(plain.url, "option", "--proxy"))
    answer = http_request("GET", http_origin + "/crl/ca.crl", proxies=via)
    host_port = http_origin.split("//", 1)[1]
    assert answer.status == 200 and answer.body == f"GET /crl/ca.crl {host_port} ".encode()
    # Absolute-form to the proxy, not a CONNECT tunnel.
    assert f"GET {http_origin}/crl/ca.crl" in plain.wait_access(f"GET {http_origin}/crl/ca.crl")
    assert "CONNECT" not in plain.access()

    auth = squid("auth")
    without = ProxySettings(override=parse_proxy(auth.url, "option", "--proxy"))
    with pytest.raises(ProxyAuthRequired) as refused:
        http_request("POST", http_origin + "/ocsp", body=b"\x30\x00", proxies=without)
    assert refused.value.schemes == ("Basic",) and not refused.value.credentials_sent
    host = auth.url.split("//", 1)[1]
    credentials = f"http://{auth.user}:{auth.password.replace('#', '%23')}@{host}"
    answer = http_request("POST", http_origin + "/ocsp", body=b"\x30\x00",
                          headers={"Content-Type": "application/ocsp-request"},
                          proxies=ProxySettings(override=parse_proxy(credentials, "option", "--proxy")))
    assert answer.status == 200 and answer.body.endswith(b"\x30\x00") and answer.route.proxy.has_credentials
    needle = f"POST {http_origin}/ocsp {auth.user} "
    line = next(x for x in auth.wait_access(needle).splitlines() if needle in x)
    assert "TCP_MISS/200 " in line, line
