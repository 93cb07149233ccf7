"""Signers: what the TLS probe asks of a card's private key.

``CardSigner`` is the interface (DigestInfo prefixes and ``CannotSign`` are in
``cpsdiag.card.signing``, below); ``RoleSigner`` adapts the key operations of
``cpsdiag.card.keyops`` (APDUs) or ``cpsdiag.pkcs11`` (a PKCS#11 module).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from cpsdiag.card.keyops import KeyOps


class CardSigner(Protocol):
    schemes: tuple[str, ...]       # "pkcs1", "pss"

    def sign_pkcs1(self, digest_info: bytes) -> bytes: ...

    def sign_pss(self, hash_name: str, digest: bytes) -> bytes: ...


class RoleSigner:
    """The TLS signer of one key role, on top of any ``KeyOps``."""

    def __init__(self, ops: KeyOps, role: str = "authentication"):
        self.ops = ops
        self.role = role
        self.schemes = tuple(ops.schemes)

    def sign_pkcs1(self, digest_info: bytes) -> bytes:
        return self.ops.sign_pkcs1(self.role, digest_info)

    def sign_pss(self, hash_name: str, digest: bytes) -> bytes:
        return self.ops.sign_pss(self.role, hash_name, digest)
