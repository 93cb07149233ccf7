"""The revocation judge: each status of a certificate's revocation result becomes its finding, with its parameters.

The results are built by hand (the step's dataclasses); the expected parameters are written out here, dates in
the "YYYY-MM-DD HH:MM UTC" form the catalogue's texts show.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from cpsdiag.diag.judge_revocation import judge_revocation, tried
from cpsdiag.diag.facts import Attempt, RevocationResult
from cpsdiag.findings.model import Severity

BASE = {"role": "authentication"}
PARIS = timezone(timedelta(hours=1))
OCSP = "http://ocsp.esante.gouv.fr"
CRL = "http://igc-sante.esante.gouv.fr/CRL/ACI-EL-PP.crl"
LDAP = "ldap://annuaire-igc.esante.gouv.fr/cn=AC%20IGC-SANTE%20ELEMENTAIRE%20PERSONNES"


@dataclass
class Facts:
    """What the judge reads of a certificate's facts: its revocation result only."""
    revocation: RevocationResult | None


def judge(result: RevocationResult | None, personal=None):
    return judge_revocation(Facts(result), dict(BASE), personal)


def test_no_result_no_finding():
    assert judge(None) == []


def test_revoked_gives_the_date_in_utc_the_reason_and_where_the_answer_came_from():
    result = RevocationResult("revoked", source="ocsp", url=OCSP,
                              produced_at=datetime(2026, 12, 6, 9, 5, 59, tzinfo=PARIS),
                              revoked_at=datetime(2026, 3, 1, 0, 30, tzinfo=PARIS), reason="key_compromise")
    [finding] = judge(result, personal={"holder": "DUPONT"})
    assert (finding.code, finding.severity, finding.step) == ("CERT_REVOKED", Severity.ERROR, "revocation")
    assert finding.params == {"role": "authentication", "revoked_at": "2026-02-28 23:30 UTC",
                              "revocation_reason": "key_compromise", "answer_source": "ocsp", "url": OCSP,
                              "produced_at": "2026-12-06 08:05 UTC", "holder": "DUPONT"}


def test_dates_are_shown_in_utc_whatever_the_machine_s_time_zone(monkeypatch):
    monkeypatch.setenv("TZ", "America/Cayenne")
    time.tzset()
    try:
        [finding] = judge(RevocationResult("good", source="ocsp", url=OCSP,
                                           produced_at=datetime(2026, 12, 6, 7, 0, tzinfo=timezone.utc)))
    finally:
        monkeypatch.undo()
        time.tzset()
    assert finding.params["produced_at"] == "2026-12-06 07:00 UTC"


def test_revoked_without_reason_nor_dates():
    [finding] = judge(RevocationResult("revoked", source="crl", url=CRL))
    assert finding.params == {"role": "authentication", "revoked_at": "?", "revocation_reason": "none",
                              "answer_source": "crl", "url": CRL, "produced_at": "?"}


def test_good_says_its_source_and_when_the_answer_was_made():
    [finding] = judge(RevocationResult("good", source="ocsp", url=OCSP,
                                       produced_at=datetime(2026, 12, 6, 7, 0, tzinfo=timezone.utc)))
    assert (finding.code, finding.severity, finding.step) == ("CERT_NOT_REVOKED", Severity.OK, "revocation")
    assert finding.params == {"role": "authentication", "answer_source": "ocsp", "url": OCSP,
                              "produced_at": "2026-12-06 07:00 UTC"}


def test_good_from_a_cached_crl_says_so_and_only_a_crl_can_be_cached():
    made = datetime(2026, 12, 5, 7, 0, tzinfo=timezone.utc)
    [cached] = judge(RevocationResult("good", source="crl", url=CRL, produced_at=made, cached=True))
    [fresh] = judge(RevocationResult("good", source="crl", url=CRL, produced_at=made))
    [ocsp] = judge(RevocationResult("good", source="ocsp", url=OCSP, produced_at=made, cached=True))
    assert (cached.params["answer_source"], fresh.params["answer_source"], ocsp.params["answer_source"]) == \
        ("crl_cached", "crl", "ocsp")


def test_unknown_lists_each_url_tried_and_why():
    result = RevocationResult("unknown", error="no verified answer", attempts=[
        Attempt("ocsp", OCSP, "failed", "connection refused", "refused"),
        Attempt("crl", CRL, "failed", "HTTP 403", "http_403"),
        Attempt("ldap", LDAP, "skipped", "LDAP is not fetched", "ldap"),
    ])
    [finding] = judge(result)
    assert (finding.code, finding.severity, finding.step) == \
        ("CERT_REVOCATION_UNKNOWN", Severity.WARNING, "revocation")
    assert finding.params == {"role": "authentication",
                              "tried": f"{OCSP} (connection refused); {CRL} (HTTP 403)"}


def test_tried_leaves_out_answers_reserved_hosts_and_ldap():
    result = RevocationResult("unknown", attempts=[
        Attempt("ocsp", "http://ocsp.cpsdiag.invalid", "skipped", "reserved name", "reserved"),
        Attempt("ocsp", OCSP, "good"),
        Attempt("crl", CRL, "skipped", "remembered: HTTP 429", "http_429"),
        Attempt("ldap", LDAP, "skipped", "LDAP is not fetched", "ldap"),
    ])
    assert tried(result) == f"{CRL} (remembered: HTTP 429)"


def test_tried_when_nothing_was_asked_says_why_first():
    # The issuer is unknown: only the caIssuers download was tried; the result's error comes first.
    result = RevocationResult("unknown", error="the issuing authority's certificate is not available", attempts=[
        Attempt("ca_issuers", "http://igc-sante.esante.gouv.fr/AC/ACI-EL-PP.cer", "failed", "name not found",
                "dns"),
        Attempt("ldap", LDAP, "skipped", "LDAP is not fetched", "ldap"),
    ])
    assert tried(result) == ("the issuing authority's certificate is not available; "
                             "http://igc-sante.esante.gouv.fr/AC/ACI-EL-PP.cer (name not found)")


def test_tried_puts_the_error_first_only_when_no_ocsp_or_crl_was_asked():
    asked = RevocationResult("unknown", error="no verified answer", attempts=[
        Attempt("crl", CRL, "failed", "stale", "stale")])
    assert tried(asked) == f"{CRL} (stale)"
    ocsp_asked = RevocationResult("unknown", error="no verified answer", attempts=[
        Attempt("ocsp", OCSP, "failed", "timed out", "timeout")])
    assert tried(ocsp_asked) == f"{OCSP} (timed out)"
    # An LDAP attempt is not an OCSP or CRL request, whatever source it names.
    ldap_listed = RevocationResult("unknown", error="no issuer", attempts=[
        Attempt("crl", LDAP, "skipped", "LDAP is not fetched", "ldap"),
        Attempt("ca_issuers", "http://ac.example/ac.cer", "failed", "HTTP 404", "http_404")])
    assert tried(ldap_listed) == "no issuer; http://ac.example/ac.cer (HTTP 404)"


def test_tried_with_nothing_to_say():
    assert tried(RevocationResult("unknown", error="budget spent")) == "budget spent"
    assert tried(RevocationResult("unknown")) == "?"


def test_offline_is_said_other_reasons_for_not_checking_are_not():
    [finding] = judge(RevocationResult("not_checked", why="offline"))
    assert (finding.code, finding.severity, finding.step, finding.params) == \
        ("CERT_REVOCATION_NOT_CHECKED", Severity.INFO, "revocation", {"role": "authentication"})
    assert judge(RevocationResult("not_checked", why="no_url")) == []
