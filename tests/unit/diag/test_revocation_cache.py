"""The revocation step's disk cache and its decisions that need no server (cpsdiag.net.cache, diag.revocation)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from cpsdiag.net.cache import DocumentCache, user_cache_dir

NOW = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.timezone.utc)
URL = "http://crl.example.test/CRL/ca.crl"


def test_a_document_is_kept_until_the_date_given(tmp_path):
    cache = DocumentCache(tmp_path)
    cache.put(URL, b"crl bytes", NOW, NOW + dt.timedelta(hours=5))
    got = cache.get(URL, NOW + dt.timedelta(hours=4))
    assert got is not None and got.body == b"crl bytes" and got.fetched_at == NOW
    assert cache.get(URL, NOW + dt.timedelta(hours=5)) is None       # its next update is due: download again
    assert cache.get("http://crl.example.test/other.crl", NOW) is None


def test_a_document_already_out_of_date_is_not_kept(tmp_path):
    cache = DocumentCache(tmp_path)
    cache.put(URL, b"stale", NOW, NOW - dt.timedelta(minutes=1))
    assert cache.get(URL, NOW) is None and not list(tmp_path.iterdir())


def test_a_changed_file_is_not_trusted(tmp_path):
    cache = DocumentCache(tmp_path)
    cache.put(URL, b"crl bytes", NOW, NOW + dt.timedelta(days=1))
    [body] = tmp_path.glob("*.bin")
    body.write_bytes(b"something else")
    assert cache.get(URL, NOW) is None


def test_failures_are_remembered_for_a_while_then_forgotten(tmp_path):
    cache = DocumentCache(tmp_path)
    cache.remember(URL, "http_403", "HTTP 403 Forbidden", NOW, dt.timedelta(hours=1))
    seen = cache.remembered(URL, NOW + dt.timedelta(minutes=59))
    assert seen is not None and (seen.reason, seen.message) == ("http_403", "HTTP 403 Forbidden")
    assert cache.remembered(URL, NOW + dt.timedelta(hours=1)) is None
    cache.forget(URL)
    assert cache.remembered(URL, NOW) is None


def test_a_folder_that_cannot_be_written_only_means_no_cache(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    cache = DocumentCache(blocker / "cache")
    cache.put(URL, b"x", NOW, NOW + dt.timedelta(days=1))
    cache.remember(URL, "timeout", "timeout", NOW, dt.timedelta(minutes=5))
    assert cache.get(URL, NOW) is None and cache.remembered(URL, NOW) is None
    assert DocumentCache(None).get(URL, NOW) is None


def test_where_each_platform_keeps_the_cache():
    assert user_cache_dir({"XDG_CACHE_HOME": "/x/cache"}, "linux") == Path("/x/cache/cpsdiag")
    assert user_cache_dir({"LOCALAPPDATA": r"C:\Users\a\AppData\Local"}, "win32") == \
        Path(r"C:\Users\a\AppData\Local") / "cpsdiag" / "Cache"
    assert user_cache_dir({}, "darwin") == Path.home() / "Library" / "Caches" / "cpsdiag"


# -- decisions made before any request ---------------------------------------------------------------------


def _info(pki, profile: str = "cps3-medecin"):
    from cpsdiag.pki.certinfo import load_certificates

    return load_certificates((pki.cards / profile / "auth.pem").read_bytes())[0]


def test_invalid_hosts_are_never_asked(pki, tmp_path):
    """The default test PKI names hosts under .invalid (RFC 6761): not checked, no DNS query, no finding."""
    from cpsdiag.diag.judge_revocation import judge_revocation
    from cpsdiag.diag.revocation import RevocationOptions, RevocationSession, check_certificate

    session = RevocationSession(RevocationOptions(cache_dir=tmp_path))
    result = check_certificate(_info(pki), None, session)
    assert (result.status, result.why) == ("not_checked", "no_url")
    assert {a.reason for a in result.attempts} == {"reserved"} and session.downloads == {}

    class Facts:
        revocation = result

    assert judge_revocation(Facts(), {"role": "authentication"}) == []


def test_offline_asks_nobody_and_says_so(pki, tmp_path):
    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import Encoding

    from cpsdiag.diag.judge_revocation import judge_revocation
    from cpsdiag.diag.revocation import RevocationOptions, RevocationSession, check_certificate
    from cpsdiag.emulator.pkigen import make_pki
    from cpsdiag.pki.certinfo import load_certificates

    out = make_pki(tmp_path / "pki", revocation_url="http://127.0.0.1:9")
    info = load_certificates((out.cards / "cps3-revoked" / "auth.pem").read_bytes())[0]
    assert info.ocsp_urls == ("http://127.0.0.1:9/ocsp",)
    assert info.crl_urls[0] == "http://127.0.0.1:9/CRL/aci-fo-pp.crl" and info.crl_urls[1].startswith("ldap://")
    session = RevocationSession(RevocationOptions(offline=True, cache_dir=tmp_path / "cache"))
    issuer = x509.load_pem_x509_certificate((out.folder / "pki" / "aci-fo-pp.pem").read_bytes())
    result = check_certificate(info, issuer.public_bytes(Encoding.DER), session)
    assert (result.status, result.why) == ("not_checked", "offline") and session.downloads == {}
    assert not (tmp_path / "cache").exists()

    class Facts:
        revocation = result

    [finding] = judge_revocation(Facts(), {"role": "authentication"})
    assert (finding.code, finding.severity) == ("CERT_REVOCATION_NOT_CHECKED", "info")


def test_the_test_pki_lists_revoked_certificates_in_its_crl_and_index(tmp_path):
    from cryptography import x509

    from cpsdiag.emulator.pkigen import make_pki

    out = make_pki(tmp_path, revocation_url="http://127.0.0.1:9")
    crl = x509.load_der_x509_crl((tmp_path / "pki" / "CRL" / "aci-fo-pp.crl").read_bytes())
    revoked = {x509.load_pem_x509_certificate((out.cards / "cps3-revoked" / f"{r}.pem").read_bytes()).serial_number
               for r in ("auth", "signature")}
    assert {entry.serial_number for entry in crl} == revoked
    index = (tmp_path / "pki" / "ocsp" / "aci-fo-pp.index.txt").read_text().splitlines()
    flagged = [line for line in index if line.startswith("R\t")]
    assert len(flagged) == 2 and all(",keyCompromise\t" in line for line in flagged)
    assert {int(line.split("\t")[3], 16) for line in flagged} == revoked
    assert (tmp_path / "pki" / "ocsp" / "aci-fo-pp-responder.pem").is_file()


def test_a_network_failure_is_remembered_for_the_way_out_it_took(tmp_path):
    """Refused directly: not asked again directly for a while; through a proxy set since, asked at once."""
    from cpsdiag.diag.revocation import RevocationOptions, RevocationSession
    from cpsdiag.net.proxy import ProxyServer, ProxySettings
    from tests.support.net import free_port

    url = f"http://127.0.0.1:{free_port()}/CRL/ca.crl"        # nobody listens there: connection refused
    direct = RevocationOptions(cache_dir=tmp_path, proxies=ProxySettings(disabled=True))
    _, first = RevocationSession(direct).request("GET", url, "crl")
    assert first is not None and (first.outcome, first.reason) == ("failed", "refused")
    _, again = RevocationSession(direct).request("GET", url, "crl")
    assert again is not None and again.outcome == "skipped" and "remembered from an earlier run" in again.error

    proxy = ProxyServer("127.0.0.1", free_port(), "option", "--proxy")     # refused too, but asked
    via_proxy = RevocationOptions(cache_dir=tmp_path, proxies=ProxySettings(override=proxy))
    _, through = RevocationSession(via_proxy).request("GET", url, "crl")
    assert through is not None and through.outcome == "failed" and through.reason.startswith("proxy")
    _, direct_still = RevocationSession(direct).request("GET", url, "crl")
    assert direct_still is not None and direct_still.outcome == "skipped"


def test_a_write_that_fails_leaves_no_half_written_file(tmp_path):
    from cpsdiag.net.cache import _key

    cache = DocumentCache(tmp_path)
    (tmp_path / f"{_key(URL)}.bin").mkdir()          # the rename onto it fails
    cache.put(URL, b"crl bytes", NOW, NOW + dt.timedelta(days=1))
    assert cache.get(URL, NOW) is None
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".tmp-")] == []
