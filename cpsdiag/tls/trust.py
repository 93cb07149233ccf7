"""Is the server the probe talked to trusted? (tlslite does not check: cryptography's verifier does.)

The verifier gives a yes or no, and a message meant for developers
("candidates exhausted..."). When it says no, cpsdiag's own checks say why
in words a user can act on: the certificate is self-signed, its issuer is
not among the trusted authorities, it expired, it names another server.
"""

from __future__ import annotations

import ipaddress
import os
import re
import ssl
import warnings
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cryptography import x509

from cpsdiag.errors import UsageError

SYSTEM_BUNDLES = ("/etc/ssl/certs/ca-certificates.crt", "/etc/pki/tls/certs/ca-bundle.crt", "/etc/ssl/cert.pem")
_PEM_BLOCK = re.compile(rb"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----", re.DOTALL)

# Why a server is not trusted (ServerTrust.reason).
REASONS = ("no_certificate", "store_unreadable", "no_store", "self_signed", "unknown_issuer", "expired",
           "not_yet_valid", "name_mismatch", "rejected")


@dataclass(frozen=True)
class ServerTrust:
    trusted: bool
    detail: str                 # the explanation in English (the finding renders it in the user's language)
    subject: str | None
    store: str                  # "system" or the --tls-ca file
    reason: str | None = None   # one of REASONS when not trusted
    issuer: str | None = None
    names: tuple[str, ...] = field(default_factory=tuple)     # the names the certificate is valid for
    not_before: str | None = None
    not_after: str | None = None
    verifier: str | None = None                               # the verifier's own message, for developers


def load_pem_certificates(data: bytes) -> list[Any]:
    """Every certificate of a PEM bundle that can be read, each on its own: one odd certificate in a system
    bundle must not make the whole store unreadable (cryptography warns about, and will refuse, some)."""
    from cryptography import x509
    from cryptography.utils import CryptographyDeprecationWarning

    out = []
    for block in _PEM_BLOCK.findall(data):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", CryptographyDeprecationWarning)
            try:
                out.append(x509.load_pem_x509_certificate(block))
            except ValueError:
                continue
    return out


def read_trust_store(ca_file: Path) -> list[Any]:
    """The certificates of a ``--tls-ca`` file; a UsageError naming the file when it holds none."""
    from cpsdiag.printable import shown

    try:
        data = Path(ca_file).read_bytes()
    except OSError as exc:
        raise UsageError(f"--tls-ca {shown(ca_file)}: cannot read ({exc.strerror or exc})") from None
    certificates = load_pem_certificates(data)
    if not certificates:
        raise UsageError(f"--tls-ca {shown(ca_file)}: no PEM certificate in it (-----BEGIN CERTIFICATE-----)")
    return certificates


def _store_certificates(ca_file: Path | None) -> tuple[list[x509.Certificate], str]:
    if ca_file is not None:
        return read_trust_store(ca_file), str(ca_file)
    paths = ssl.get_default_verify_paths()
    for candidate in (paths.cafile, paths.openssl_cafile, *SYSTEM_BUNDLES):
        if candidate and os.path.exists(candidate):
            return load_pem_certificates(Path(candidate).read_bytes()), "system"
    return [], "system"


def _names(cert: Any) -> tuple[str, ...]:
    from cryptography import x509

    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return ()
    return tuple([*san.get_values_for_type(x509.DNSName), *(str(a) for a in san.get_values_for_type(x509.IPAddress))])


def _name_matches(host: str, names: tuple[str, ...]) -> bool:
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        address = None
    host = host.lower().rstrip(".")
    for name in names:
        if address is not None:
            try:
                if ipaddress.ip_address(name) == address:
                    return True
            except ValueError:
                continue
            continue
        name = name.lower().rstrip(".")
        if name == host:
            return True
        # A wildcard stands for exactly one leftmost label (RFC 6125 §6.4.3).
        if name.startswith("*.") and "." in host and host.split(".", 1)[1] == name[2:]:
            return True
    return False


def _why(leaf: Any, intermediates: list[Any], roots: list[Any], host: str, at: datetime) -> tuple[str, Any]:
    """The user's reason for a refusal, from cpsdiag's own checks (never from the verifier's message),
    and the authority it concerns."""
    if leaf.issuer == leaf.subject and leaf not in roots:
        return "self_signed", leaf.subject
    top, steps = leaf, 0
    while top.issuer != top.subject and steps < 10:          # walk up what the server sent
        parent = next((c for c in intermediates if c.subject == top.issuer), None)
        if parent is None:
            break
        top, steps = parent, steps + 1
    if top not in roots and top.issuer not in {c.subject for c in roots}:
        return "unknown_issuer", top.issuer
    if at > leaf.not_valid_after_utc:
        return "expired", leaf.issuer
    if at < leaf.not_valid_before_utc:
        return "not_yet_valid", leaf.issuer
    if not _name_matches(host, _names(leaf)):
        return "name_mismatch", leaf.issuer
    return "rejected", leaf.issuer


def _explain(reason: str, authority: str, store: str, host: str, names: tuple[str, ...], leaf: Any,
             verifier: str) -> str:
    where = "this computer's trust store" if store == "system" else store
    return {
        "self_signed": f"the certificate is self-signed, and is not in {where}",
        "unknown_issuer": f"it was issued by {authority}, an authority not in {where}",
        "expired": f"the certificate expired on {leaf.not_valid_after_utc:%Y-%m-%d}",
        "not_yet_valid": f"the certificate is valid only from {leaf.not_valid_before_utc:%Y-%m-%d}",
        "name_mismatch": f"the certificate is for {', '.join(names) or 'no host name'}, not for {host}",
    }.get(reason, f"its chain to {where} does not verify ({verifier})")


def verify_server(chain_der: list[bytes], host: str, ca_file: Path | None = None,
                  at: datetime | None = None) -> ServerTrust:
    from cryptography import x509
    from cryptography.utils import CryptographyDeprecationWarning
    from cryptography.x509 import DNSName, IPAddress
    from cryptography.x509.verification import PolicyBuilder, Store, VerificationError

    if not chain_der:
        return ServerTrust(False, "the server sent no certificate", None, "system", "no_certificate")
    at = at or datetime.now(timezone.utc)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CryptographyDeprecationWarning)
        leaf = x509.load_der_x509_certificate(chain_der[0])
        intermediates = [x509.load_der_x509_certificate(d) for d in chain_der[1:]]
    subject = leaf.subject.rfc4514_string()
    issuer = leaf.issuer.rfc4514_string()
    names = _names(leaf)
    dates = {"not_before": leaf.not_valid_before_utc.isoformat(), "not_after": leaf.not_valid_after_utc.isoformat()}
    try:
        roots, store_name = _store_certificates(ca_file)
    except (OSError, UsageError) as exc:
        return ServerTrust(False, f"cannot read the trust store: {exc}", subject, str(ca_file), "store_unreadable",
                           issuer, names, **dates)
    if not roots:
        return ServerTrust(False, "no trust store found on this system", subject, store_name, "no_store", issuer,
                           names, **dates)
    name: DNSName | IPAddress
    try:
        name = IPAddress(ipaddress.ip_address(host))
    except ValueError:
        host = host.encode("idna").decode("ascii")          # certificates name IDNs in their DNS form
        name = DNSName(host)
    verifier = PolicyBuilder().store(Store(roots)).time(at).build_server_verifier(name)
    try:
        verifier.verify(leaf, intermediates)
    except VerificationError as exc:
        reason, authority = _why(leaf, intermediates, roots, host, at)
        authority = authority.rfc4514_string()
        detail = _explain(reason, authority, store_name, host, names, leaf, str(exc))
        return ServerTrust(False, detail, subject, store_name, reason, authority, names, verifier=str(exc), **dates)
    return ServerTrust(True, "", subject, store_name, None, issuer, names, **dates)
