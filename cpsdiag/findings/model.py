"""Findings: what a diagnosis concluded, with a stable code and a severity.

A ``Finding`` carries only data (code, severity, step, parameters). Its title,
detail and remedy are produced from the catalogue in the user's language when
it is rendered (``cpsdiag.findings.catalog``), so that the same finding reads the
same in the console, in JSON and in the HTML report.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Severity(StrEnum):
    OK = "ok"
    INFO = "info"
    WARNING = "warning"
    ERROR = "error"

    @property
    def rank(self) -> int:
        return ("ok", "info", "warning", "error").index(self.value)


@dataclass(frozen=True)
class Finding:
    code: str
    severity: Severity
    step: str
    params: dict[str, object] = field(default_factory=dict)

    def __post_init__(self) -> None:
        from cpsdiag.findings.catalog import CATALOG

        if self.code not in CATALOG:
            raise ValueError(f"finding code {self.code} is not in the catalogue")


def verdict(findings: list[Finding]) -> Severity:
    """ok / warning / error: the worst severity, info counting as ok."""
    worst = max((f.severity.rank for f in findings), default=0)
    if worst >= Severity.ERROR.rank:
        return Severity.ERROR
    if worst >= Severity.WARNING.rank:
        return Severity.WARNING
    return Severity.OK


def exit_status(findings: list[Finding]) -> int:
    return 1 if any(f.severity is Severity.ERROR for f in findings) else 0


class Judged:
    """Mixin for results that carry findings: verdict and exit status derive from them."""

    findings: list[Finding]

    @property
    def verdict(self) -> Severity:
        return verdict(self.findings)

    @property
    def exit_status(self) -> int:
        return exit_status(self.findings)
