"""Is the presented certificate from a public or IGC-Santé authority? (what tells an inspecting proxy apart)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import certifi
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding

from cpsdiag.tls.intercept import issued_by_known_authority, issuer_name
from cpsdiag.tls.trust import load_pem_certificates
from tests.support.paths import ROOT

PUBLIC = load_pem_certificates(Path(certifi.where()).read_bytes())
IGC_SANTE = ROOT / "cpsdiag" / "pki" / "anchors" / "aci-fo-org.pem"


def _leaf(issuer: x509.Name, key=None) -> bytes:
    key = key or ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(x509.Name.from_rfc4514_string("CN=service.example"))
            .issuer_name(issuer).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now).not_valid_after(now + dt.timedelta(days=1)).sign(key, hashes.SHA256()))
    return cert.public_bytes(Encoding.DER)


def test_public_and_igc_sante_authorities_are_known():
    assert len(PUBLIC) > 100                  # Mozilla's list, as certifi ships it
    assert issued_by_known_authority([PUBLIC[0].public_bytes(Encoding.DER)]) is True
    igc = x509.load_pem_x509_certificate(IGC_SANTE.read_bytes())
    assert issued_by_known_authority([igc.public_bytes(Encoding.DER)]) is True


def test_a_company_authority_is_not():
    company = x509.Name.from_rfc4514_string("CN=CHU EXEMPLE Inspection TLS,O=CHU EXEMPLE")
    leaf = _leaf(company)
    assert issued_by_known_authority([leaf]) is False
    assert issuer_name([leaf]) == "CHU EXEMPLE Inspection TLS, CHU EXEMPLE"
    assert issued_by_known_authority([]) is None


def test_a_public_authority_s_name_alone_is_not_enough():
    """A certificate naming a public root as its issuer but signed by another key is not from that root."""
    assert issued_by_known_authority([_leaf(PUBLIC[0].subject)]) is False
