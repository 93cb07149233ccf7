"""The revocation check against a real ``openssl ocsp`` responder and a plain HTTP server for the CRLs.

The test PKI is made with ``revocation_url`` on loopback (make-pki
--revocation-url), so its certificates name these servers, laid out like real
cards' (AIA OCSP + caIssuers, CDP HTTP + LDAP). Everything runs in the test
run's private network namespace; each cpsdiag run gets its own cache folder
unless a test shares one on purpose.
"""

from __future__ import annotations

import subprocess
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.support.cli import codes, cpsdiag_json
from tests.support.net import free_port
from tests.support.paths import DATA
from tests.support.prerequisites import require

pytestmark = pytest.mark.stack

PKI_DATA = DATA / "pki"
REVOCATION_CODES = {"CERT_REVOKED", "CERT_NOT_REVOKED", "CERT_REVOCATION_UNKNOWN", "CERT_REVOCATION_NOT_CHECKED"}


class RevocationPki:
    def __init__(self, folder: Path):
        from cpsdiag.emulator.pkigen import make_pki

        self.crl_port, self.ocsp_port = free_port(), free_port()
        while self.ocsp_port == self.crl_port:
            self.ocsp_port = free_port()
        self.base = f"http://127.0.0.1:{self.crl_port}"
        self.ocsp_url = f"http://127.0.0.1:{self.ocsp_port}"
        self.out = make_pki(folder, revocation_url=self.base, ocsp_url=self.ocsp_url)
        self.pki = folder / "pki"
        self.anchors = self.out.anchors
        self.cards = self.out.cards


@pytest.fixture(scope="module")
def rpki(stack, tmp_path_factory):
    """The test PKI with loopback revocation URLs (made after the stack moved the tests into their namespace)."""
    return RevocationPki(tmp_path_factory.mktemp("revocation-pki"))


class CrlServer:
    """Serves <pki>/CRL and <pki>/AC; ``requests`` lists the paths asked; ``status`` forces an error answer."""

    def __init__(self, root: Path, port: int):
        self.root = root
        self.status: int | None = None
        self.requests: list[str] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):  # noqa: N802
                server.requests.append(self.path)
                file = server.root / self.path.lstrip("/")
                if server.status is not None or not file.is_file():
                    self.send_response(server.status or 404)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                body = file.read_bytes()
                self.send_response(200)
                self.send_header("Content-Type", "application/pkix-crl")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def crl_requests(self) -> list[str]:
        return [p for p in self.requests if p.startswith("/CRL/")]


@pytest.fixture
def crl_server(rpki):
    server = CrlServer(rpki.pki, rpki.crl_port)
    server.thread.start()
    yield server
    server.httpd.shutdown()
    server.httpd.server_close()


class Responder:
    def __init__(self, process: subprocess.Popen, log: Path):
        self.process, self.log = process, log

    def requests(self) -> int:
        return self.log.read_text(errors="replace").count("Received request")


@pytest.fixture
def ocsp_responder(rpki, tmp_path):
    """start(signer="aci-fo-pp") runs `openssl ocsp` for the FORT CA, its answers signed by that CA's delegated
    responder, or by another CA's responder (signer="aci-st-pp": a key the FORT CA never delegated)."""
    openssl = require("openssl")
    started: list[Responder] = []

    def start(signer: str = "aci-fo-pp") -> Responder:
        ocsp = rpki.pki / "ocsp"
        log = tmp_path / f"ocsp-{len(started)}.log"
        with log.open("w") as out:
            process = subprocess.Popen(
                [openssl, "ocsp", "-index", str(ocsp / "aci-fo-pp.index.txt"), "-CA", str(rpki.pki / "aci-fo-pp.pem"),
                 "-rsigner", str(ocsp / f"{signer}-responder.pem"), "-rkey", str(ocsp / f"{signer}-responder.key"),
                 "-port", str(rpki.ocsp_port), "-nmin", "60", "-ignore_err"],
                stdout=out, stderr=subprocess.STDOUT)
        responder = Responder(process, log)
        started.append(responder)
        # Not wait_port: `openssl ocsp` serves one connection at a time and would wait on an empty one.
        deadline = time.monotonic() + 20
        while "waiting for OCSP client connections" not in log.read_text(errors="replace"):
            assert process.poll() is None and time.monotonic() < deadline, log.read_text(errors="replace")
            time.sleep(0.05)
        return responder

    yield start
    for responder in started:
        responder.process.terminate()
        responder.process.wait(10)


def check(rpki, tmp_path, *extra: str, cache: Path | None = None) -> tuple[dict, subprocess.CompletedProcess]:
    env = {"XDG_CACHE_HOME": str(cache or tmp_path / "cache")}
    return cpsdiag_json("check", "--json", "--no-env", "--anchors", str(rpki.anchors), *extra, env=env)


def cert(rpki, tmp_path, *files: Path | str, cache: Path | None = None, extra: tuple[str, ...] = ()) \
        -> tuple[dict, subprocess.CompletedProcess]:
    env = {"XDG_CACHE_HOME": str(cache or tmp_path / "cache")}
    return cpsdiag_json("cert", "--json", "--anchors", str(rpki.anchors), *map(str, files), *extra, env=env)


def revocation_codes(findings: list[dict]) -> Counter:
    return Counter(f["code"] for f in findings if f["code"] in REVOCATION_CODES)


def insert(insert_card, rpki, name: str):
    return insert_card(name, rpki.cards / name)


# -- OCSP ------------------------------------------------------------------------------------------------------


def test_a_revoked_card_is_diagnosed_through_ocsp(insert_card, rpki, ocsp_responder, crl_server, tmp_path):
    responder = ocsp_responder()
    insert(insert_card, rpki, "cps3-revoked")
    report, proc = check(rpki, tmp_path, "--lang", "fr")
    assert revocation_codes(report["findings"]) == Counter(CERT_REVOKED=2), report["findings"]
    assert "CERT_OK" not in codes(report)             # revoked is not "valid and trusted"
    assert (report["verdict"], proc.returncode) == ("error", 1)
    for c in report["certificates"]:
        r = c["revocation"]
        assert (r["status"], r["source"], r["url"], r["reason"]) == ("revoked", "ocsp", rpki.ocsp_url, "keyCompromise")
        assert r["revoked_at"] < r["produced_at"]
        assert [a["source"] for a in r["attempts"]] == ["ldap", "ocsp"]      # LDAP listed, not fetched
    revoked = next(f for f in report["findings"] if f["code"] == "CERT_REVOKED")
    assert "révoqué" in revoked["title"] and "0 825 852 000" in revoked["remedy"].replace("\u00a0", " ")
    assert "899900000100" in revoked["remedy"]        # e-CPS meanwhile, with the identifier to type
    assert responder.requests() == 2 and crl_server.crl_requests() == []


def test_a_good_card_says_where_its_status_came_from(insert_card, rpki, ocsp_responder, crl_server, tmp_path):
    responder = ocsp_responder()
    insert(insert_card, rpki, "cps3-medecin")
    report, proc = check(rpki, tmp_path)
    assert revocation_codes(report["findings"]) == Counter(CERT_NOT_REVOKED=2), report["findings"]
    assert (report["verdict"], proc.returncode) == ("ok", 0)
    finding = next(f for f in report["findings"] if f["code"] == "CERT_NOT_REVOKED")
    assert "OCSP responder " + rpki.ocsp_url in finding["detail"]
    assert all(c["revocation"]["status"] == "good" and c["revocation"]["produced_at"] for c in report["certificates"])
    assert responder.requests() == 2 and crl_server.crl_requests() == []


def test_an_ocsp_answer_signed_by_a_key_the_ca_never_delegated_proves_nothing(rpki, ocsp_responder, tmp_path):
    responder = ocsp_responder(signer="aci-st-pp")      # the STANDARD CA's responder answers for the FORT CA
    doc, proc = cert(rpki, tmp_path, rpki.cards / "cps3-revoked" / "auth.pem")   # no CRL server either
    [result] = doc["files"]
    assert revocation_codes(result["findings"]) == Counter(CERT_REVOCATION_UNKNOWN=1), result["findings"]
    revocation = result["certificates"][0]["revocation"]
    ocsp = next(a for a in revocation["attempts"] if a["source"] == "ocsp")
    assert (ocsp["outcome"], ocsp["reason"]) == ("failed", "wrong_signer") and responder.requests() == 1
    assert revocation["status"] == "unknown" and proc.returncode == 0


# -- CRL -------------------------------------------------------------------------------------------------------


def test_revoked_through_the_crl_when_the_responder_is_down(rpki, crl_server, tmp_path):
    doc, proc = cert(rpki, tmp_path, rpki.cards / "cps3-revoked" / "signature.pem")
    [result] = doc["files"]
    assert revocation_codes(result["findings"]) == Counter(CERT_REVOKED=1) and proc.returncode == 1
    revocation = result["certificates"][0]["revocation"]
    assert (revocation["source"], revocation["reason"]) == ("crl", "keyCompromise")
    assert revocation["url"] == f"{rpki.base}/CRL/aci-fo-pp.crl"
    assert [(a["source"], a["outcome"], a["reason"]) for a in revocation["attempts"] if a["source"] != "ldap"] == \
        [("ocsp", "failed", "refused"), ("crl", "revoked", None)]
    assert crl_server.crl_requests() == ["/CRL/aci-fo-pp.crl"]


def test_good_through_the_crl(rpki, crl_server, tmp_path):
    doc, proc = cert(rpki, tmp_path, rpki.cards / "cpe-etablissement" / "auth.pem")     # the STANDARD CA's CRL
    [result] = doc["files"]
    assert revocation_codes(result["findings"]) == Counter(CERT_NOT_REVOKED=1) and proc.returncode == 0
    assert result["certificates"][0]["revocation"]["source"] == "crl"
    assert crl_server.crl_requests() == ["/CRL/aci-st-pp.crl"]


def test_a_stale_crl_is_no_answer(rpki, crl_server, tmp_path):
    import datetime as dt

    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    from cpsdiag.emulator.pkigen import Authority, write_crl

    ca = Authority("FORT", x509.load_pem_x509_certificate((rpki.pki / "aci-fo-pp.pem").read_bytes()),
                   load_pem_private_key((rpki.pki / "aci-fo-pp.key").read_bytes(), None))
    now = dt.datetime.now(dt.timezone.utc)
    write_crl(tmp_path / "served" / "CRL" / "aci-fo-pp.crl", ca, [], now - dt.timedelta(days=9),
              now - dt.timedelta(days=2))                     # its next update was due two days ago
    crl_server.root = tmp_path / "served"
    doc, proc = cert(rpki, tmp_path, rpki.cards / "cps3-medecin" / "auth.pem")
    [result] = doc["files"]
    assert revocation_codes(result["findings"]) == Counter(CERT_REVOCATION_UNKNOWN=1) and proc.returncode == 0
    crl = next(a for a in result["certificates"][0]["revocation"]["attempts"] if a["source"] == "crl")
    assert (crl["outcome"], crl["reason"]) == ("failed", "stale") and "out of date" in crl["error"]


# -- nobody answers, or nobody is asked -------------------------------------------------------------------------


def test_both_down_is_a_warning_naming_every_url(insert_card, rpki, tmp_path):
    insert(insert_card, rpki, "cps3-medecin")
    report, proc = check(rpki, tmp_path, "--revocation-timeout", "2")
    assert revocation_codes(report["findings"]) == Counter(CERT_REVOCATION_UNKNOWN=2), report["findings"]
    assert (report["verdict"], proc.returncode) == ("warning", 0)
    unknown = next(f for f in report["findings"] if f["code"] == "CERT_REVOCATION_UNKNOWN")
    assert rpki.ocsp_url in unknown["detail"] and f"{rpki.base}/CRL/aci-fo-pp.crl" in unknown["detail"]
    assert "refused" in unknown["detail"] and "--proxy" in unknown["remedy"]


def test_a_responder_that_never_answers_is_a_timeout_not_a_hang(rpki, crl_server, tmp_path):
    import socket

    with socket.socket() as silent:                   # accepts connections (the kernel does), never answers
        silent.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        silent.bind(("127.0.0.1", rpki.ocsp_port))
        silent.listen(8)
        doc, proc = cert(rpki, tmp_path, rpki.cards / "cps3-medecin" / "auth.pem",
                         extra=("--revocation-timeout", "1"))
    revocation = doc["files"][0]["certificates"][0]["revocation"]
    ocsp = next(a for a in revocation["attempts"] if a["source"] == "ocsp")
    assert (ocsp["outcome"], ocsp["reason"]) == ("failed", "timeout")
    assert (revocation["status"], revocation["source"]) == ("good", "crl")     # the CRL answered instead
    assert proc.returncode == 0


def test_offline_makes_no_request(insert_card, rpki, ocsp_responder, crl_server, tmp_path):
    responder = ocsp_responder()
    insert(insert_card, rpki, "cps3-revoked")
    report, proc = check(rpki, tmp_path, "--offline")
    assert revocation_codes(report["findings"]) == Counter(CERT_REVOCATION_NOT_CHECKED=2), report["findings"]
    assert all(c["revocation"]["status"] == "not_checked" for c in report["certificates"])
    assert responder.requests() == 0 and crl_server.requests == []
    assert proc.returncode == 0


# -- the cache ---------------------------------------------------------------------------------------------------


def test_a_crl_is_downloaded_once_then_kept_until_its_next_update(insert_card, rpki, crl_server, tmp_path):
    insert(insert_card, rpki, "cps3-medecin")
    cache = tmp_path / "shared-cache"
    first, _ = check(rpki, tmp_path, cache=cache)
    # Both certificates share the CA's CRL: one download for the run.
    assert crl_server.crl_requests() == ["/CRL/aci-fo-pp.crl"]
    assert [c["revocation"]["cached"] for c in first["certificates"]] == [False, False]
    second, _ = check(rpki, tmp_path, cache=cache)
    assert revocation_codes(second["findings"]) == Counter(CERT_NOT_REVOKED=2)
    assert crl_server.crl_requests() == ["/CRL/aci-fo-pp.crl"]        # no second download
    assert all(c["revocation"]["cached"] for c in second["certificates"])
    assert "kept from an earlier download" in next(f for f in second["findings"]
                                                   if f["code"] == "CERT_NOT_REVOKED")["detail"]
    assert list((cache / "cpsdiag" / "revocation").glob("*.bin"))


def test_a_refusal_is_remembered(rpki, crl_server, tmp_path):
    crl_server.status = 403
    cache = tmp_path / "shared-cache"
    leaf = rpki.cards / "cps3-medecin" / "auth.pem"
    doc, _ = cert(rpki, tmp_path, leaf, cache=cache)
    unknown = next(f for f in doc["files"][0]["findings"] if f["code"] == "CERT_REVOCATION_UNKNOWN")
    assert "HTTP 403" in unknown["detail"] and crl_server.crl_requests() == ["/CRL/aci-fo-pp.crl"]
    again, _ = cert(rpki, tmp_path, leaf, cache=cache)
    unknown = next(f for f in again["files"][0]["findings"] if f["code"] == "CERT_REVOCATION_UNKNOWN")
    assert "remembered from an earlier run" in unknown["detail"] and "HTTP 403" in unknown["detail"]
    assert crl_server.crl_requests() == ["/CRL/aci-fo-pp.crl"]        # not asked again


# -- real ANS TEST certificates, no network -----------------------------------------------------------------------


@pytest.mark.parametrize("name", ["cps-infirmier-signature-TEST.pem", "cpe-etablissement-auth-TEST.pem"])
def test_real_test_certificates_without_network_are_unknown_not_a_hang(stack, tmp_path, name):
    """The test namespace has loopback only: ANS's hosts cannot be resolved, and that is a warning."""
    stack.require_managed()            # the private namespace, with no route out
    doc, proc = cpsdiag_json("cert", "--json", str(PKI_DATA / name),
                             env={"XDG_CACHE_HOME": str(tmp_path / "cache")})
    [result] = doc["files"]
    assert revocation_codes(result["findings"]) == Counter(CERT_REVOCATION_UNKNOWN=1), result["findings"]
    unknown = next(f for f in result["findings"] if f["code"] == "CERT_REVOCATION_UNKNOWN")
    # The issuing TEST CA is not bundled: cpsdiag asked its caIssuers URL, which could not be reached.
    assert "igc-sante.esante.gouv.fr/AC%20TEST/" in unknown["detail"]
    revocation = result["certificates"][0]["revocation"]
    assert revocation["status"] == "unknown" and any(a["source"] == "ldap" for a in revocation["attempts"])


# -- the helpdesk bundle and its views -----------------------------------------------------------------------------


def test_the_bundle_carries_the_revocation_and_its_views_show_it(insert_card, rpki, ocsp_responder, tmp_path):
    import json
    import zipfile

    from tests.support.cli import cpsdiag

    ocsp_responder()
    insert(insert_card, rpki, "cps3-revoked")
    bundle = tmp_path / "b.zip"
    proc = cpsdiag("report", "--no-env", "--anchors", str(rpki.anchors), "-o", str(bundle),
                   env={"XDG_CACHE_HOME": str(tmp_path / "cache")})
    assert proc.returncode == 1, proc.stderr
    with zipfile.ZipFile(bundle) as zf:
        report = json.loads(zf.read("report.json"))
        html = zf.read("report.html").decode()
    assert [c["revocation"]["status"] for c in report["certificates"]] == ["revoked", "revoked"]
    assert codes(report)["CERT_REVOKED"] == 2
    assert "Revocation" in html and "REVOKED on" in html
    shown = cpsdiag("report", "show", str(bundle), env={"COLUMNS": "120"})
    assert "REVOKED on" in shown.stdout and "The authentication certificate has been revoked" in shown.stdout
    summary = cpsdiag("report", "summarize", "--json", str(bundle))
    assert json.loads(summary.stdout)["revocation"]["revoked"] == 2
