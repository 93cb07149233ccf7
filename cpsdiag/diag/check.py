"""``run_check``: collect, judge, and keep both, for the renderers."""

from __future__ import annotations

from dataclasses import dataclass

from cpsdiag import errors
from cpsdiag.diag.collect import CheckOptions, collect
from cpsdiag.diag.facts import CheckFacts
from cpsdiag.findings.model import Finding, Judged, Severity
from cpsdiag.diag.judge import judge
from cpsdiag.diag.progress import NO_PROGRESS, Observer


@dataclass
class CheckResult(Judged):
    facts: CheckFacts
    findings: list[Finding]


def run_check(options: CheckOptions, progress: Observer = NO_PROGRESS) -> CheckResult:
    """The whole diagnosis, each step reported to ``progress`` as it starts.

    Raises UsageError for bad options (unreadable --anchors, unknown --reader)."""
    from cpsdiag.pki.anchors import load_extra_anchors

    anchors = load_extra_anchors(options.anchors) if options.anchors else None
    facts = collect(options, anchors, progress)
    if facts.reader_error is not None:
        raise facts.reader_error
    return CheckResult(facts, judge(facts))


def internal_error(facts: CheckFacts | None, exc: BaseException) -> CheckResult:
    """A result for a bug: one INTERNAL_ERROR finding, so that the report is still written."""
    from datetime import datetime, timezone

    facts = facts or CheckFacts(at=datetime.now(timezone.utc))
    return CheckResult(facts, [Finding("INTERNAL_ERROR", Severity.ERROR, "internal",
                                       {"error": f"{type(exc).__name__}: {exc}"})])


__all__ = ["CheckOptions", "CheckResult", "run_check", "internal_error", "errors"]
