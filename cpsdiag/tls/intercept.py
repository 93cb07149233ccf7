"""Who issued the certificate a TLS "server" presented, and is that a public or IGC-Santé authority?

A TLS-inspecting proxy answers in the server's place with a certificate its
own authority made on the fly. That authority is the company's: it is in no
public list (Mozilla's, as the certifi package ships it) and is not one of
IGC-Santé's. Companies do install it in their workstations' trust stores, so
"trusted" alone does not tell an inspecting proxy from the real service.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any


def issuer_name(chain_der: list[bytes]) -> str | None:
    """The issuer of the presented certificate, as people read it (CN, O)."""
    from cryptography import x509
    from cryptography.x509.oid import NameOID

    if not chain_der:
        return None
    try:
        issuer = x509.load_der_x509_certificate(chain_der[0]).issuer
    except ValueError:
        return None
    parts = [a.value for oid in (NameOID.COMMON_NAME, NameOID.ORGANIZATION_NAME)
             for a in issuer.get_attributes_for_oid(oid)]
    return ", ".join(str(p) for p in dict.fromkeys(parts)) or issuer.rfc4514_string()


@lru_cache(maxsize=1)
def known_authorities() -> tuple[Any, ...]:
    """Mozilla's public roots (certifi) and IGC-Santé's authorities (bundled)."""
    from pathlib import Path

    from cpsdiag.pki.anchors import bundled_anchors
    from cpsdiag.tls.trust import load_pem_certificates

    found = [a.info.certificate for a in bundled_anchors()]
    try:
        import certifi
    except ImportError:         # a packager that strips it: IGC-Santé only
        return tuple(found)
    found += load_pem_certificates(Path(certifi.where()).read_bytes())
    return tuple(found)


def issued_by_known_authority(chain_der: list[bytes]) -> bool | None:
    """True when a certificate of the chain is, or is signed by, a known authority; None without a chain."""
    from cryptography import x509

    if not chain_der:
        return None
    try:
        chain = [x509.load_der_x509_certificate(d) for d in chain_der]
    except ValueError:
        return False
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.serialization import Encoding

    authorities = known_authorities()
    by_subject: dict[Any, list[Any]] = {}
    for ca in authorities:
        by_subject.setdefault(ca.subject, []).append(ca)
    known_der = {ca.public_bytes(Encoding.DER) for ca in authorities}
    for der, cert in zip(chain_der, chain):
        if der in known_der:
            return True
        for ca in by_subject.get(cert.issuer, ()):
            try:
                cert.verify_directly_issued_by(ca)
            except (InvalidSignature, ValueError, TypeError):   # same name, other key: not this authority
                continue
            return True
    return False
