"""Judge certificate files a helpdesk received (``cpsdiag cert``), with the same rules as the card check."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from cpsdiag import errors
from cpsdiag.diag.collect import CertFacts
from cpsdiag.diag.findings import Finding, Judged, Severity


@dataclass
class CertFileResult(Judged):
    path: str
    at: datetime
    certificates: list[CertFacts] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)


def check_certificate_file(path: Path, anchors: list[Any] | None, at: datetime | None) -> CertFileResult:
    from cpsdiag.diag.judge import judge_certificate, personal_params
    from cpsdiag.pki.certinfo import read_certificate_file
    from cpsdiag.pki.chain import validate_chain

    moment = at or datetime.now(timezone.utc)
    result = CertFileResult(str(path), moment)
    try:
        infos = read_certificate_file(path)
    except errors.MalformedDataError as exc:
        result.findings.append(Finding("CERT_MALFORMED", Severity.ERROR, "certificates",
                                       {"role": "unknown", "error": str(exc), "path": str(path)}))
        return result
    # Certificates of the same file may complete each other's chain (a leaf with its CAs).
    personal = personal_params([i for i in infos if i.is_card])
    test_card = False
    for index, info in enumerate(infos, 1):
        where = f"{path}#{index}" if len(infos) > 1 else str(path)
        chain = validate_chain(info, anchors=anchors, intermediates=[o for o in infos if o is not info], at=moment)
        role = "authority" if info.is_ca else info.role
        cf = CertFacts(role=role, label=info.subject_display, path=where, der=info.der, info=info, chain=chain)
        result.certificates.append(cf)
        base = {"role": cf.role, "label": cf.label, "path": where}
        for finding in judge_certificate(cf, moment, base, personal if info.is_card else {}):
            # A CA certificate is not a card certificate: its "role" warning means nothing.
            if finding.code == "CERT_PURPOSE_UNEXPECTED" and info.is_ca:
                continue
            result.findings.append(finding)
        test_card = test_card or info.test_card
    if test_card:
        result.findings.append(Finding("CERT_TEST_CARD", Severity.INFO, "certificates"))
    return result
