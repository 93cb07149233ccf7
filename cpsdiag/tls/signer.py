"""Signers: what the TLS probe asks of a card's private key.

``CardSigner`` is the interface; ``RoleSigner`` adapts the key operations of
``cpsdiag.card.keyops`` (APDUs) or ``cpsdiag.pkcs11`` (a PKCS#11 module).
"""

from __future__ import annotations

from typing import Any, Protocol


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


class CardSigner(Protocol):
    schemes: tuple[str, ...]       # "pkcs1", "pss"

    def sign_pkcs1(self, digest_info: bytes) -> bytes: ...

    def sign_pss(self, hash_name: str, digest: bytes) -> bytes: ...


class RoleSigner:
    """The TLS signer of one key role, on top of any ``KeyOps``."""

    def __init__(self, ops: Any, role: str = "authentication"):
        self.ops = ops
        self.role = role
        self.schemes = tuple(ops.schemes)

    def sign_pkcs1(self, digest_info: bytes) -> bytes:
        return self.ops.sign_pkcs1(self.role, digest_info)

    def sign_pss(self, hash_name: str, digest: bytes) -> bytes:
        return self.ops.sign_pss(self.role, hash_name, digest)
