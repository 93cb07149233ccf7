"""The revocation step: ask the certificate's OCSP responder, else download its CRL, and keep what was tried.

OCSP first (the AIA's URL), then the HTTP CRL distribution points; LDAP URLs
are listed, never fetched. Requests go through the proxy settings of the TLS
probe (cpsdiag.net), one timeout each, the whole step within a budget.
Answers are verified by cpsdiag.pki.revocation; anything unproven is
"unknown" with the reason. CRLs are cached on disk until their nextUpdate,
downloaded at most once per URL per run, and refusals (403, 429) and network
failures are remembered for a while (cpsdiag.net.cache). ``--offline``: no
request at all. Hosts under ``.invalid`` (RFC 6761: they never exist, the
emulator's default test PKI uses them) are skipped without a DNS query.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Callable, TypeVar

from cpsdiag.diag.facts import Attempt, AttemptSource, CertFacts, RevocationResult

if TYPE_CHECKING:
    # Types only: cryptography, the network and the certificate parser stay imported by the step that runs.
    from cryptography import x509

    from cpsdiag.diag.progress import Observer
    from cpsdiag.net.proxy import ProxySettings
    from cpsdiag.pki.certinfo import CertInfo
    from cpsdiag.pki.revocation import Answer

T = TypeVar("T")

DEFAULT_TIMEOUT = 5.0
BUDGET_REQUESTS = 4          # the whole step lasts at most this many request timeouts


@dataclass(frozen=True)
class RevocationOptions:
    offline: bool = False
    timeout: float = DEFAULT_TIMEOUT           # per request
    proxies: ProxySettings | None = None       # None: direct
    cache_dir: Path | None = None              # None: no disk cache

    @property
    def budget(self) -> float:
        return self.timeout * BUDGET_REQUESTS


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _host(url: str) -> str:
    rest = url.split("://", 1)[-1]
    host = rest.split("/", 1)[0].rsplit("@", 1)[-1]
    if host.startswith("["):
        return host.split("]", 1)[0].lower()
    return host.split(":", 1)[0].lower().rstrip(".")


def _reserved(url: str) -> bool:
    host = _host(url)
    return host == "invalid" or host.endswith(".invalid")


def _bounded(request: Callable[[], T], timeout: float) -> T:
    """``request()`` within ``timeout`` (plus a second), name resolution included: the system resolver has no
    timeout of ours, and a slow DNS must not hold the check. A request that overruns is left to finish in a
    daemon thread (it ends with the process) and reported as a timeout."""
    from cpsdiag.net import Timeout

    answers: list[T] = []
    failures: list[BaseException] = []

    def run() -> None:
        try:
            answers.append(request())
        except BaseException as exc:  # noqa: BLE001 (handed back to the caller's thread as is)
            failures.append(exc)

    worker = threading.Thread(target=run, name="cpsdiag-revocation", daemon=True)
    worker.start()
    worker.join(timeout + 1.0)
    if worker.is_alive():
        raise Timeout(f"no answer within {timeout:g} s (name resolution included)")
    if failures:
        raise failures[0]
    return answers[0]


class RevocationSession:
    """One run's revocation checks: what was downloaded (once per URL), the cache, the time budget."""

    def __init__(self, options: RevocationOptions):
        from cpsdiag.net.cache import DocumentCache

        self.options = options
        self.cache = DocumentCache(options.cache_dir)
        self.downloads: dict[str, tuple[bytes | None, Attempt | None]] = {}   # URL -> (body, failure)
        self.from_cache: set[str] = set()          # CRLs this run read from the disk cache
        self.started = time.monotonic()

    def left(self) -> float:
        return self.options.budget - (time.monotonic() - self.started)

    # -- requests ------------------------------------------------------------------------------------------
    def request(self, method: str, url: str, source: AttemptSource, body: bytes | None = None,
                 content_type: str | None = None) -> tuple[bytes | None, Attempt | None]:
        """The body of a 200 answer, or the failed Attempt. Failures worth remembering are remembered."""
        from cpsdiag.net import NetError, http_request
        from cpsdiag.net.cache import REFUSED_FOR, RETRY_AFTER_MAX, UNREACHABLE_FOR
        from cpsdiag.net.url import BadUrl

        now = _now()
        key = self._failure_key(url)
        remembered = self.cache.remembered(key, now)
        if remembered is not None:
            until = remembered.until.strftime("%H:%M UTC")
            return None, Attempt(source, url, "skipped", f"{remembered.message} (remembered from an earlier run; "
                                                         f"not asked again before {until})", remembered.reason)
        left = self.left()
        if left <= 0.05:
            return None, Attempt(source, url, "skipped", "the revocation step's time budget was used up", "budget")
        headers = {"Content-Type": content_type} if content_type else None
        timeout = min(self.options.timeout, left)
        try:
            answer = _bounded(lambda: http_request(method, url, body=body, headers=headers,
                                                   proxies=self.options.proxies, timeout=timeout), timeout)
        except BadUrl as exc:
            return None, Attempt(source, url, "failed", str(exc), "bad_url")
        except NetError as exc:
            attempt = Attempt(source, url, "failed", str(exc), exc.reason)
            if exc.reason in ("dns", "timeout", "refused", "unreachable"):
                self.cache.remember(key, exc.reason, str(exc), now, UNREACHABLE_FOR)
            return None, attempt
        if answer.status == 200:
            self.cache.forget(key)
            return answer.body, None
        message = f"HTTP {answer.status} {answer.reason}".strip()
        attempt = Attempt(source, url, "failed", message, f"http_{answer.status}")
        if answer.status in (403, 429):
            duration = REFUSED_FOR
            retry = (answer.header("Retry-After") or "").strip()
            if answer.status == 429 and retry.isdigit():
                duration = min(max(timedelta(seconds=int(retry)), timedelta(minutes=1)), RETRY_AFTER_MAX)
            self.cache.remember(key, f"http_{answer.status}", message, now, duration)
        return None, attempt

    def _failure_key(self, url: str) -> str:
        """What a failure is remembered under: the URL, and the proxy when one is used. A failure seen on one
        way out says nothing of another: after the user sets (or removes) a proxy, the URL is asked again."""
        from cpsdiag.net.proxy import route_to
        from cpsdiag.net.url import BadUrl, parse_url

        try:
            route = route_to(parse_url(url, ("http",)), self.options.proxies)
        except BadUrl:
            return url
        return url if route.proxy is None else f"{url} via {route.proxy.url}"

    def crl(self, url: str) -> tuple[bytes | None, Attempt | None, bool]:
        """The CRL at url: from this run, the disk cache, or one download. (body, failure, from_cache)."""
        from cpsdiag.pki.revocation import crl_next_update

        if url in self.downloads:
            body, failure = self.downloads[url]
            return body, failure, url in self.from_cache
        cached = self.cache.get(url, _now())
        if cached is not None:
            self.downloads[url] = (cached.body, None)
            self.from_cache.add(url)
            return cached.body, None, True
        body, failure = self.request("GET", url, "crl")
        self.downloads[url] = (body, failure)
        if body is not None:
            next_update = crl_next_update(body)
            if next_update is not None:
                self.cache.put(url, body, _now(), next_update)
        return body, failure, False

    def issuer_from_aia(self, url: str) -> tuple[list[bytes] | None, Attempt | None]:
        """The issuing CA certificate from the caIssuers URL (DER, PEM or a PKCS#7 bundle), once per run."""
        if url in self.downloads:
            body, failure = self.downloads[url]
        else:
            body, failure = self.request("GET", url, "ca_issuers")
            self.downloads[url] = (body, failure)
        if body is None:
            return None, failure
        from cpsdiag.errors import MalformedDataError
        from cpsdiag.pki.certinfo import load_certificates

        try:
            return [i.der for i in load_certificates(body, where=url)], None
        except MalformedDataError as exc:
            return None, Attempt("ca_issuers", url, "failed", f"not a certificate ({exc})", "malformed")


def _issuer_certificate(leaf: x509.Certificate, issuer_der: bytes | None, info: CertInfo, session: RevocationSession,
                        attempts: list[Attempt]) -> x509.Certificate | None:
    """The issuing CA: from the chain, else (for checking revocation only) from the caIssuers URL, accepted
    only when its key verifies the certificate's signature."""
    from cryptography import x509

    from cpsdiag.pki.revocation import issued_by

    if issuer_der is not None:
        issuer = x509.load_der_x509_certificate(issuer_der)
        if issued_by(leaf, issuer):
            return issuer
    for url in info.ca_issuers_urls:
        if not url.lower().startswith("http://") or _reserved(url):
            continue
        ders, failure = session.issuer_from_aia(url)
        if failure is not None:
            attempts.append(failure)
            continue
        for der in ders or ():
            candidate = x509.load_der_x509_certificate(der)
            if issued_by(leaf, candidate):
                return candidate
        attempts.append(Attempt("ca_issuers", url, "failed", "the certificate found there did not issue this one",
                                "wrong_issuer"))
    return None


def _source(url: str, ocsp_urls: list[str]) -> AttemptSource:
    return "ocsp" if url in ocsp_urls else "crl"


def check_certificate(info: CertInfo, issuer_der: bytes | None, session: RevocationSession) -> RevocationResult:
    """The revocation status of one certificate (a CertInfo) whose issuer is ``issuer_der`` when known."""
    from cryptography import x509

    from cpsdiag.pki.revocation import RevocationProblem, ocsp_request, verify_crl, verify_ocsp

    ocsp_urls = [u for u in info.ocsp_urls if u.lower().startswith("http://")]
    crl_urls = [u for u in info.crl_urls if u.lower().startswith("http://")]
    ldap_urls = [u for u in info.crl_urls if u.lower().startswith("ldap")]
    usable = [u for u in ocsp_urls + crl_urls if not _reserved(u)]
    attempts = [Attempt(_source(u, ocsp_urls), u, "skipped", "reserved .invalid host: never contacted",
                        "reserved") for u in ocsp_urls + crl_urls if _reserved(u)]
    attempts += [Attempt("ldap", u, "skipped", "LDAP URLs are listed, not fetched", "ldap") for u in ldap_urls]
    if not usable:
        return RevocationResult("not_checked", why="no_url", attempts=attempts,
                                error="the certificate names no OCSP responder or CRL that can be reached over HTTP")
    if session.options.offline:
        return RevocationResult("not_checked", why="offline", error="--offline: no network request made",
                                attempts=[Attempt(_source(u, ocsp_urls), u, "skipped", "--offline",
                                                  "offline") for u in usable])
    leaf = x509.load_der_x509_certificate(info.der)
    issuer = _issuer_certificate(leaf, issuer_der, info, session, attempts)
    if issuer is None:
        return RevocationResult("unknown", attempts=attempts,
                                error="the issuing authority's certificate is not available, so no answer can be "
                                      "verified")

    def found(answer: Answer, url: str, cached: bool = False) -> RevocationResult:
        attempts.append(Attempt(answer.source, url, answer.status))
        return RevocationResult(answer.status, answer.source, url, answer.produced_at, answer.revoked_at,
                                answer.reason, cached=cached, attempts=attempts)

    tried_ocsp: set[str] = set()
    for url in ocsp_urls:
        if _reserved(url) or url in tried_ocsp:
            continue
        tried_ocsp.add(url)
        # A responder that failed for the other certificate of this card is not asked again in this run.
        if url in session.downloads and (failure := session.downloads[url][1]) is not None:
            attempts.append(Attempt("ocsp", url, "skipped", f"{failure.error} (earlier in this run)", failure.reason))
            continue
        body, failure = session.request("POST", url, "ocsp", ocsp_request(leaf, issuer), "application/ocsp-request")
        if failure is not None:
            session.downloads[url] = (None, failure)
            attempts.append(failure)
            continue
        try:
            return found(verify_ocsp(body or b"", leaf, issuer), url)
        except RevocationProblem as problem:
            attempts.append(Attempt("ocsp", url, "failed", str(problem), problem.reason))
    for url in crl_urls:
        if _reserved(url):
            continue
        body, failure, cached = session.crl(url)
        if failure is not None:
            attempts.append(failure if failure.url == url else Attempt("crl", url, "failed", failure.error,
                                                                       failure.reason))
            continue
        try:
            return found(verify_crl(body or b"", leaf, issuer), url, cached)
        except RevocationProblem as problem:
            attempts.append(Attempt("crl", url, "failed", str(problem), problem.reason))
    return RevocationResult("unknown", attempts=attempts, error="; ".join(
        f"{a.url}: {a.error}" for a in attempts if a.outcome in ("failed", "skipped") and a.reason
        not in ("reserved", "ldap")) or "no answer")


def collect_revocation(certificates: list[CertFacts], options: RevocationOptions | RevocationSession,
                       progress: Observer | None = None) -> None:
    """Fill ``revocation`` of every card certificate (CertFacts with info) of a check or a certificate file.

    Given a session (``cpsdiag cert`` with several files), its downloads and time budget are shared."""
    from cpsdiag.diag.progress import Step

    session = options if isinstance(options, RevocationSession) else RevocationSession(options)
    for cf in certificates:
        info = cf.info
        if info is None or info.is_ca:
            continue
        if progress is not None:
            progress(Step("revocation", cf.label or cf.role))
        chain = cf.chain
        cf.revocation = check_certificate(info, getattr(chain, "issuer_der", None), session)


def default_options(*, offline: bool = False, timeout: float = DEFAULT_TIMEOUT,
                    proxies: ProxySettings | None = None) -> \
        RevocationOptions:
    from cpsdiag.net.cache import user_cache_dir

    return RevocationOptions(offline=offline, timeout=timeout, proxies=proxies,
                             cache_dir=user_cache_dir() / "revocation")
