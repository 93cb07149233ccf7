"""Key operations on a card, by role, whatever carries them (APDUs here, PKCS#11 in cpsdiag.pkcs11).

The self-test and the TLS probe only see this interface, so the same tests run
on the card directly and through the middleware browsers use.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any, Protocol

from cpsdiag.card.pkcs15 import PrivateKeyObject

if TYPE_CHECKING:
    from cpsdiag.card.reader import DataObjectFile


class KeyOps(Protocol):
    schemes: tuple[str, ...]           # what the authentication key can sign for TLS: "pkcs1", "pss"

    def sign_pkcs1(self, role: str, digest_info: bytes) -> bytes: ...
    def sign_pss(self, role: str, hash_name: str, digest: bytes) -> bytes: ...
    def sign_message(self, role: str, message: bytes) -> bytes: ...
    def read_data(self, file: DataObjectFile) -> bytes: ...


class ApduKeyOps:
    """The card's own commands (CPS3: INTERNAL AUTHENTICATE, PSO HASH; CPS4: raw RSA, MSE SET DST)."""

    def __init__(self, commands: Any, keys: dict[str, PrivateKeyObject]):
        self.commands = commands
        self.keys = keys
        self.schemes = tuple(commands.schemes)

    def sign_pkcs1(self, role: str, digest_info: bytes) -> bytes:
        return self.commands.sign_pkcs1(self.keys[role], digest_info)

    def sign_pss(self, role: str, hash_name: str, digest: bytes) -> bytes:
        from cpsdiag.card.signing import CannotSign

        if "pss" not in self.schemes:
            raise CannotSign(f"rsa_pss_{hash_name}")
        key = self.keys[role]
        if hash_name in ("sha1", "sha256"):
            return self.commands.sign_digest(key, hash_name, digest, pss=True)
        # Other hashes: the host pads (EMSA-PSS) and the card does the raw RSA operation.
        from cpsdiag.card.pss import emsa_pss_encode

        return self.commands.raw_rsa(key, emsa_pss_encode(digest, hash_name, key.modulus_bits or 2048))

    def sign_message(self, role: str, message: bytes) -> bytes:
        key = self.keys[role]
        if self.commands.generation == "CPS3":
            # The qualified key signs what the card hashed itself (PSO HASH), as the Cryptolib does it.
            return self.commands.sign_message(key, message)
        return self.commands.sign_digest(key, "sha256", hashlib.sha256(message).digest(), pss=False)

    def read_data(self, file: DataObjectFile) -> bytes:
        """A data object's contents (a private one once the PIN was verified)."""
        self.commands.select_path(file.path)
        return self.commands.s.read_all(size=file.size)
