"""Is the server the probe talked to trusted? (tlslite does not check: cryptography's verifier does.)"""

from __future__ import annotations

import ipaddress
import os
import ssl
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

SYSTEM_BUNDLES = ("/etc/ssl/certs/ca-certificates.crt", "/etc/pki/tls/certs/ca-bundle.crt", "/etc/ssl/cert.pem")


@dataclass(frozen=True)
class ServerTrust:
    trusted: bool
    detail: str
    subject: str | None
    store: str                  # "system" or the --tls-ca file


def _store_certificates(ca_file: Path | None) -> tuple[list, str]:
    from cryptography import x509

    if ca_file is not None:
        return x509.load_pem_x509_certificates(Path(ca_file).read_bytes()), str(ca_file)
    paths = ssl.get_default_verify_paths()
    for candidate in (paths.cafile, paths.openssl_cafile, *SYSTEM_BUNDLES):
        if candidate and os.path.exists(candidate):
            return x509.load_pem_x509_certificates(Path(candidate).read_bytes()), "system"
    return [], "system"


def verify_server(chain_der: list[bytes], host: str, ca_file: Path | None = None,
                  at: datetime | None = None) -> ServerTrust:
    from cryptography import x509
    from cryptography.x509.verification import DNSName, IPAddress, PolicyBuilder, Store, VerificationError

    if not chain_der:
        return ServerTrust(False, "the server sent no certificate", None, "system")
    leaf = x509.load_der_x509_certificate(chain_der[0])
    subject = leaf.subject.rfc4514_string()
    try:
        roots, store_name = _store_certificates(ca_file)
    except (OSError, ValueError) as exc:
        return ServerTrust(False, f"cannot read the trust store: {exc}", subject, str(ca_file))
    if not roots:
        return ServerTrust(False, "no trust store found on this system", subject, store_name)
    try:
        name = IPAddress(ipaddress.ip_address(host))
    except ValueError:
        name = DNSName(host)
    verifier = (PolicyBuilder().store(Store(roots)).time(at or datetime.now(timezone.utc))
                .build_server_verifier(name))
    intermediates = [x509.load_der_x509_certificate(d) for d in chain_der[1:]]
    try:
        verifier.verify(leaf, intermediates)
    except VerificationError as exc:
        return ServerTrust(False, str(exc), subject, store_name)
    return ServerTrust(True, "", subject, store_name)
