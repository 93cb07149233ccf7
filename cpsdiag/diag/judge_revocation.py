"""Judge a certificate's revocation result: revoked (error), unknown (warning), not revoked (ok), not checked.

Pure: the RevocationResult the revocation step stored in the CertFacts in,
findings out. A certificate whose revocation was not asked for, or that names
no reachable OCSP responder or CRL, gets no finding (nothing was to be said).
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import TYPE_CHECKING, Mapping

from cpsdiag.findings.model import Finding, Severity

if TYPE_CHECKING:
    from cpsdiag.diag.facts import CertFacts, RevocationResult


def _when(moment: datetime | None) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M UTC") if moment else "?"


def tried(result: RevocationResult) -> str:
    """Each URL tried and why it gave no answer, in one line."""
    lines = [f"{a.url} ({a.error})" for a in result.attempts
             if a.outcome in ("failed", "skipped") and a.reason not in ("reserved", "ldap")]
    if result.error and not any(a.source in ("ocsp", "crl") for a in result.attempts if a.reason != "ldap"):
        lines.insert(0, result.error)       # nothing was asked: say why first (the issuer is unknown)
    return "; ".join(lines) or (result.error or "?")


def judge_revocation(cf: CertFacts, base: Mapping[str, object], personal: Mapping[str, object] | None = None) -> list[Finding]:
    result = cf.revocation
    if result is None:
        return []
    step = "revocation"
    if result.status == "revoked":
        return [Finding("CERT_REVOKED", Severity.ERROR, step, {
            **base, "revoked_at": _when(result.revoked_at), "revocation_reason": result.reason or "none",
            "answer_source": result.source, "url": result.url, "produced_at": _when(result.produced_at),
            **(personal or {})})]
    if result.status == "good":
        source = "crl_cached" if result.source == "crl" and result.cached else result.source
        return [Finding("CERT_NOT_REVOKED", Severity.OK, step, {
            **base, "answer_source": source, "url": result.url, "produced_at": _when(result.produced_at)})]
    if result.status == "unknown":
        return [Finding("CERT_REVOCATION_UNKNOWN", Severity.WARNING, step, {**base, "tried": tried(result)})]
    if result.why == "offline":
        return [Finding("CERT_REVOCATION_NOT_CHECKED", Severity.INFO, step, dict(base))]
    return []
