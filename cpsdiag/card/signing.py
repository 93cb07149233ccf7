"""What signing with a card's key needs below the TLS probe: DigestInfo prefixes and ``CannotSign``.

The card computes a raw RSA operation on what the client sends; the client
builds the PKCS#1 v1.5 DigestInfo (these prefixes) or the EMSA-PSS block
(``cpsdiag.card.pss``). Both the APDU key operations (``card/keyops.py``) and
the PKCS#11 path use them, so they live in ``card/``, not in ``tls/``.
"""

from __future__ import annotations

DIGEST_INFO_PREFIX = {
    "sha1": bytes.fromhex("3021300906052b0e03021a05000414"),
    "sha256": bytes.fromhex("3031300d060960864801650304020105000420"),
    "sha384": bytes.fromhex("3041300d060960864801650304020205000430"),
    "sha512": bytes.fromhex("3051300d060960864801650304020305000440"),
}


class CannotSign(Exception):
    """The card cannot produce this kind of signature at all (not a refusal: a capability)."""

    def __init__(self, scheme: str):
        self.scheme = scheme
        super().__init__(f"the card cannot sign with {scheme}")
