"""Certificate path validation for card certificates.

cpsdiag builds the path itself first (issuer name, then AKI/SKI, then the
signature) and checks the dates, so that a failure carries a stable code and
the certificate it concerns. Only when those checks pass does the
``cryptography`` verifier give the final answer, with an explicit trust store
and validation time. Its message is never parsed: a verifier-only failure is
reported as ``"other"``.

No network access: neither revocation nor the AIA caIssuers URL is fetched.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Final, Iterable, Literal, Union

from cpsdiag.errors import MalformedDataError
from cpsdiag.pki.anchors import Anchor, igc_sante_test_anchors, production_anchors
from cpsdiag.pki.certinfo import CertInfo, as_utc, parse_certificate

if TYPE_CHECKING:
    from cryptography import x509

ChainError = Literal[
    "expired",
    "not_yet_valid",
    "issuer_not_found",
    "test_chain_missing",
    "legacy_gip_cps",
    "bad_signature",
    "ca_expired",
    "wrong_intermediate",
    "other",
]
CertificateInput = Union[CertInfo, bytes, Anchor, "x509.Certificate"]

# IGC-Santé paths are leaf -> intermediate -> root; the margin only serves look-alike test PKIs.
MAX_PATH_LENGTH: Final = 6


@dataclass(frozen=True)
class ChainResult:
    """Outcome of :func:`validate_chain`.

    ``path`` names the certificates (CN, or last OU for CAs without one) from
    the leaf up to the root reached, or as far as the path could be built.
    ``anchor`` is set whenever the path reached a trust anchor, even when a
    later check (dates, verifier) failed; ``trusted`` alone is the verdict.
    ``error`` is a stable code (None when trusted) and ``detail`` one English
    sentence. ``missing_issuer``, ``concerns`` (the certificate the error is
    about) and ``date`` (the notBefore/notAfter involved) repeat the facts the
    detail mentions, for callers that format their own messages.
    """

    trusted: bool
    anchor: str | None
    path: list[str]
    error: ChainError | None
    detail: str
    at: datetime
    missing_issuer: str | None = None
    concerns: str | None = None
    date: datetime | None = field(default=None)
    # The issuing CA's certificate (DER) when the path found one: the revocation check verifies answers with it.
    issuer_der: bytes | None = field(default=None, repr=False)


def _fmt(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC")


def _coerce(obj: CertificateInput, where: str) -> CertInfo:
    if isinstance(obj, CertInfo):
        return obj
    if isinstance(obj, Anchor):
        return obj.info
    if isinstance(obj, (bytes, bytearray, memoryview)):
        return parse_certificate(bytes(obj), where=where)
    public_bytes = getattr(obj, "public_bytes", None)
    if public_bytes is None:
        raise MalformedDataError("certificate", f"unsupported input type {type(obj).__name__}", where=where)
    from cryptography.hazmat.primitives.serialization import Encoding

    return parse_certificate(public_bytes(Encoding.DER), where=where)


class _Pools:
    """Trust anchors (path ends) and untrusted intermediates, deduplicated by fingerprint."""

    def __init__(self) -> None:
        self.trusted: dict[str, CertInfo] = {}
        self.intermediates: dict[str, CertInfo] = {}

    def all(self) -> list[CertInfo]:
        return [*self.trusted.values(), *self.intermediates.values()]


def _build_pools(
    anchors: Iterable[CertificateInput] | None,
    intermediates: Iterable[CertificateInput],
    include_test_anchors: bool,
) -> _Pools:
    pools = _Pools()
    bundled = list(production_anchors())
    if include_test_anchors:
        bundled += igc_sante_test_anchors()
    # Bundled intermediates stay untrusted links so that the reported anchor is always a root.
    for anchor in bundled:
        target = pools.trusted if anchor.role == "root" else pools.intermediates
        target.setdefault(anchor.info.sha256_fingerprint, anchor.info)
    for i, cert in enumerate(intermediates):
        info = _coerce(cert, f"intermediate #{i + 1}")
        if info.sha256_fingerprint not in pools.trusted:
            pools.intermediates.setdefault(info.sha256_fingerprint, info)
    extra = [_coerce(cert, f"anchor #{i + 1}") for i, cert in enumerate(anchors or ())]
    for info in extra:
        if info.self_issued:
            pools.intermediates.pop(info.sha256_fingerprint, None)
            pools.trusted.setdefault(info.sha256_fingerprint, info)
        elif info.sha256_fingerprint not in pools.trusted:
            pools.intermediates.setdefault(info.sha256_fingerprint, info)
    # A caller-trusted CA whose own issuer is nowhere to be found is trusted as given (a partial chain):
    # the caller said so, and there is nothing above it to check.
    known = pools.all()
    for info in extra:
        if info.self_issued or info.sha256_fingerprint in pools.trusted:
            continue
        cert = info.certificate
        if not any(other.certificate.subject == cert.issuer for other in known if other is not info):
            pools.intermediates.pop(info.sha256_fingerprint, None)
            pools.trusted[info.sha256_fingerprint] = info
    return pools


def _signature_ok(child: CertInfo, issuer: CertInfo) -> bool | str:
    """True if ``issuer`` signed ``child``, False on a bad signature, else a reason it could not be checked."""
    from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm

    try:
        child.certificate.verify_directly_issued_by(issuer.certificate)
    except InvalidSignature:
        return False
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        return str(exc) or type(exc).__name__
    return True


@dataclass
class _Walk:
    path: list[CertInfo]
    reached_anchor: bool = False
    error: ChainError | None = None
    detail: str = ""
    missing_issuer: str | None = None
    concerns: str | None = None


def _walk(leaf: CertInfo, pools: _Pools) -> _Walk:
    walk = _Walk(path=[leaf])
    seen = {leaf.sha256_fingerprint}
    current = leaf
    candidates_pool = pools.all()
    for _ in range(MAX_PATH_LENGTH):
        if current.sha256_fingerprint in pools.trusted:
            walk.reached_anchor = True
            return walk
        by_name = [
            c
            for c in candidates_pool
            if c.sha256_fingerprint != current.sha256_fingerprint and c.certificate.subject == current.certificate.issuer
        ]
        # A CA re-keyed under the same name is another CA: AKI/SKI tells them apart before any signature check.
        by_key = [
            c
            for c in by_name
            if current.authority_key_id is None or c.subject_key_id is None or c.subject_key_id == current.authority_key_id
        ]
        if not by_key:
            walk.missing_issuer = current.issuer_display
            walk.concerns = current.subject_display
            if current.self_issued:
                walk.error = "issuer_not_found"
                walk.detail = f"The self-signed certificate '{current.subject_display}' is not among the trust anchors."
            elif current.issuer_family == "igc-sante-test" or leaf.issuer_family == "igc-sante-test":
                walk.error = "test_chain_missing"
                walk.detail = (
                    f"The certificate belongs to the IGC-Santé TEST hierarchy and its issuer "
                    f"'{current.issuer_display}' was not supplied; the TEST CA certificates must be given as extra anchors."
                )
            elif by_name:
                walk.error = "issuer_not_found"
                walk.detail = (
                    f"A certificate named '{current.issuer_display}' is available but its key identifier does not match "
                    f"the one '{current.subject_display}' was signed with."
                )
            else:
                walk.error = "issuer_not_found"
                walk.detail = (
                    f"The issuer '{current.issuer_display}' of '{current.subject_display}' is neither a trust anchor "
                    f"nor a supplied intermediate."
                )
            return walk
        chosen: CertInfo | None = None
        unverifiable: str | None = None
        for candidate in by_key:
            outcome = _signature_ok(current, candidate)
            if outcome is True:
                chosen = candidate
                break
            if isinstance(outcome, str):
                unverifiable = outcome
        if chosen is None:
            walk.concerns = current.subject_display
            if unverifiable is not None:
                walk.error = "other"
                walk.detail = (
                    f"The signature of '{current.subject_display}' could not be checked with the key of "
                    f"'{by_key[0].subject_display}': {unverifiable}."
                )
            else:
                walk.error = "bad_signature"
                walk.detail = (
                    f"The signature of '{current.subject_display}' does not verify with the public key of "
                    f"'{by_key[0].subject_display}'."
                )
            return walk
        if chosen.sha256_fingerprint in seen:
            walk.error = "other"
            walk.concerns = chosen.subject_display
            walk.detail = f"The certificates loop back to '{chosen.subject_display}' without reaching a trust anchor."
            return walk
        seen.add(chosen.sha256_fingerprint)
        walk.path.append(chosen)
        current = chosen
    if current.sha256_fingerprint in pools.trusted:
        walk.reached_anchor = True
        return walk
    walk.error = "other"
    walk.concerns = current.subject_display
    walk.detail = f"No trust anchor was reached within {MAX_PATH_LENGTH} certificates."
    return walk


def _final_verify(leaf: CertInfo, pools: _Pools, moment: datetime) -> tuple[list[CertInfo] | None, str]:
    from cryptography.x509.verification import ExtensionPolicy, PolicyBuilder, Store, VerificationError

    builder = (
        PolicyBuilder()
        .store(Store([c.certificate for c in pools.trusted.values()]))
        .time(moment)
        # Card signature certificates carry nonRepudiation + emailProtection and no SAN, which the
        # web-PKI leaf profile rejects; leaf usage is judged by cpsdiag itself (CertInfo.role).
        .extension_policies(ca_policy=ExtensionPolicy.webpki_defaults_ca(), ee_policy=ExtensionPolicy.permit_all())
    )
    verifier = builder.build_client_verifier()
    try:
        verified = verifier.verify(leaf.certificate, [c.certificate for c in pools.intermediates.values()])
    except VerificationError as exc:
        text = str(exc).strip()
        return None, (text.splitlines()[0].rstrip(".") if text else "rejected")
    from cryptography.hazmat.primitives.serialization import Encoding

    known = {c.der: c for c in [leaf, *pools.all()]}
    chain = []
    for cert in verified.chain:
        der = cert.public_bytes(Encoding.DER)
        chain.append(known.get(der) or parse_certificate(der))
    return chain, ""


def validate_chain(
    leaf: CertificateInput,
    *,
    anchors: Iterable[CertificateInput] | None = None,
    intermediates: Iterable[CertificateInput] = (),
    at: datetime | None = None,
    include_test_anchors: bool = False,
) -> ChainResult:
    """Validate ``leaf`` at ``at`` (default now; naive datetimes are UTC).

    Trust store: the bundled IGC-Santé production roots (their intermediates
    as known links), plus ``anchors`` given by the caller: self-signed ones
    become roots, others links, or path ends when nothing above them is known.
    ``include_test_anchors`` adds the two public IGC-Santé TEST CAs.

    Raises :class:`MalformedDataError` only for unparseable inputs; every
    validation outcome is a :class:`ChainResult`.
    """
    moment = as_utc(at)
    leaf_info = _coerce(leaf, "leaf certificate")
    pools = _build_pools(anchors, intermediates, include_test_anchors)

    def result(
        walk: _Walk | None,
        error: ChainError | None,
        detail: str,
        *,
        missing_issuer: str | None = None,
        concerns: str | None = None,
        date: datetime | None = None,
    ) -> ChainResult:
        path = walk.path if walk is not None else [leaf_info]
        reached = walk is not None and walk.reached_anchor
        return ChainResult(
            trusted=error is None,
            anchor=path[-1].subject_display if reached else None,
            path=[c.subject_display for c in path],
            error=error,
            detail=detail,
            at=moment,
            missing_issuer=missing_issuer,
            concerns=concerns,
            date=date,
            issuer_der=path[1].der if len(path) > 1 else None,
        )

    if leaf_info.issuer_family == "gip-cps":
        return result(
            None,
            "legacy_gip_cps",
            f"The certificate was issued by '{leaf_info.issuer_display}' of the GIP-CPS hierarchy, "
            f"which stopped operating in January 2021.",
            concerns=leaf_info.subject_display,
        )

    walk = _walk(leaf_info, pools)
    if walk.error is not None:
        return result(walk, walk.error, walk.detail, missing_issuer=walk.missing_issuer, concerns=walk.concerns)

    if leaf_info.is_card and leaf_info.issuer_range == "ORGANISATIONS":
        return result(
            walk,
            "wrong_intermediate",
            f"This card certificate was issued by '{leaf_info.issuer_display}', an ORGANISATIONS CA, "
            f"whereas card certificates come from a PERSONNES CA.",
            concerns=leaf_info.subject_display,
        )

    if moment < leaf_info.not_before:
        return result(
            walk,
            "not_yet_valid",
            f"The certificate is not valid before {_fmt(leaf_info.not_before)} (validation date {_fmt(moment)}).",
            concerns=leaf_info.subject_display,
            date=leaf_info.not_before,
        )
    if moment > leaf_info.not_after:
        return result(
            walk,
            "expired",
            f"The certificate expired on {_fmt(leaf_info.not_after)} (validation date {_fmt(moment)}).",
            concerns=leaf_info.subject_display,
            date=leaf_info.not_after,
        )
    for ca in walk.path[1:]:
        if moment > ca.not_after:
            return result(
                walk,
                "ca_expired",
                f"The CA certificate '{ca.subject_display}' expired on {_fmt(ca.not_after)}.",
                concerns=ca.subject_display,
                date=ca.not_after,
            )
        if moment < ca.not_before:
            return result(
                walk,
                "ca_expired",
                f"The CA certificate '{ca.subject_display}' is not valid before {_fmt(ca.not_before)}.",
                concerns=ca.subject_display,
                date=ca.not_before,
            )

    chain, reason = _final_verify(leaf_info, pools, moment)
    if chain is None:
        return result(walk, "other", f"The X.509 path validation rejected the chain: {reason}.")
    verified_walk = _Walk(path=chain, reached_anchor=True)
    names = " -> ".join(c.subject_display for c in chain)
    return result(verified_walk, None, f"The chain {names} is trusted on {_fmt(moment)}.")
