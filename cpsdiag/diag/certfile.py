"""Judge certificate files a helpdesk received (``cpsdiag cert``), with the same rules as the card check."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

from cpsdiag import errors
from cpsdiag.diag.facts import CertFacts
from cpsdiag.findings.model import Finding, Judged, Severity

if TYPE_CHECKING:
    from cpsdiag.diag.revocation import RevocationOptions, RevocationSession
    from cpsdiag.pki.certinfo import CertInfo


@dataclass
class CertFileResult(Judged):
    path: str
    at: datetime
    certificates: list[CertFacts] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)


_PEM_PRIVATE_KEY = re.compile(rb"-----BEGIN ((?:RSA |EC |DSA |ENCRYPTED |OPENSSH )?PRIVATE KEY)-----")


def private_keys_in(data: bytes) -> list[str]:
    """The kinds of private key ``data`` holds (PEM blocks, a DER key, a PKCS#12 file); never their content."""
    found = ["PEM " + m.decode() for m in _PEM_PRIVATE_KEY.findall(data)]
    if found or data[:1] != b"\x30":
        return found
    from cryptography.hazmat.primitives.serialization import load_der_private_key

    try:
        load_der_private_key(data, password=None)
        return ["DER private key"]
    except TypeError:              # a password is needed: an encrypted private key
        return ["encrypted DER private key"]
    except Exception:  # noqa: S110 (any other answer means: not a private key)
        pass
    from asn1crypto import pkcs12

    try:
        pfx = pkcs12.Pfx.load(data, strict=True)
        if pfx["version"].native == "v3" and pfx["auth_safe"]["content_type"].native in ("data", "signed_data"):
            return ["PKCS#12 (.p12, .pfx)"]
    except Exception:  # noqa: S110 (hostile bytes: whatever asn1crypto raises means "not PKCS#12")
        pass
    return []


def check_certificate_file(path: Path, anchors: list[CertInfo] | None, at: datetime | None,
                           revocation: RevocationOptions | RevocationSession | None = None) -> CertFileResult:
    """Judge every certificate of one file a helpdesk received. The file itself may be the problem: not a
    certificate at all, or a private key that should never have been sent."""
    from cpsdiag.pki.certinfo import load_certificates

    moment = at or datetime.now(timezone.utc)
    result = CertFileResult(str(path), moment)
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise errors.UsageError(f"{path}: cannot read ({exc.strerror or exc})") from None
    keys = private_keys_in(data)
    if keys:
        result.findings.append(Finding("CERT_FILE_PRIVATE_KEY", Severity.ERROR, "certificates",
                                       {"path": str(path), "kind": ", ".join(dict.fromkeys(keys))}))
    try:
        infos = load_certificates(data, where=str(path))
    except errors.MalformedDataError as exc:
        if not keys:          # a key file is already reported for what it is; its parse error says nothing more
            result.findings.append(Finding("CERT_FILE_NOT_CERTIFICATE", Severity.ERROR, "certificates",
                                           {"path": str(path), "error": str(exc)}))
        return result
    _judge_file(result, infos, anchors, moment, revocation)
    return result


def _judge_file(result: CertFileResult, infos: list[CertInfo], anchors: list[CertInfo] | None, moment: datetime,
                revocation: RevocationOptions | RevocationSession | None = None) -> None:
    from cpsdiag.diag.judge import judge_certificate, personal_params
    from cpsdiag.pki.chain import validate_chain

    path = result.path
    # Certificates of the same file may complete each other's chain (a leaf with its CAs).
    personal = personal_params([i for i in infos if i.is_card])
    test_card = False
    for index, info in enumerate(infos, 1):
        where = f"{path}#{index}" if len(infos) > 1 else str(path)
        chain = validate_chain(info, anchors=anchors, intermediates=[o for o in infos if o is not info], at=moment)
        role = "authority" if info.is_ca else info.role
        cf = CertFacts(role=role, label=info.subject_display, path=where, der=info.der, info=info, chain=chain)
        if revocation is not None and info.is_card:
            from cpsdiag.diag.revocation import collect_revocation

            collect_revocation([cf], revocation)
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
