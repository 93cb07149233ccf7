"""A tlslite-ng private key whose signatures are made by the card.

tlslite asks ``sign(data, padding, hashAlg, saltLen)``: in TLS 1.2 PKCS#1 it
passes the DigestInfo already built (hashAlg None); for PSS (TLS 1.2 or 1.3)
it passes the hash. Each call is recorded so the probe can say which scheme
was used.
"""

from __future__ import annotations

from typing import cast

from tlslite.utils.python_rsakey import Python_RSAKey

from cpsdiag.card.signing import DIGEST_INFO_PREFIX, CannotSign
from cpsdiag.tls.signer import CardSigner


class CardRSAKey(Python_RSAKey):  # type: ignore[misc]  # tlslite ships no type information
    def __init__(self, n: int, e: int, signer: CardSigner):
        super().__init__(n, e)
        self.signer = signer
        self.used: list[str] = []        # signature schemes the handshake asked for

    def hasPrivateKey(self) -> bool:    # noqa: N802 (tlslite's name)
        return True

    def sign(self, data: bytes | bytearray, padding: str | None = "pkcs1", hashAlg: str | None = None,  # noqa: N803
             saltLen: int | None = None) -> bytearray:  # noqa: N803
        padding = (padding or "pkcs1").lower()
        if padding == "pkcs1":
            payload = bytes(data)
            if hashAlg is not None:
                payload = DIGEST_INFO_PREFIX[hashAlg] + payload
            self.used.append(f"rsa_pkcs1_{hashAlg or _hash_of(payload)}")
            return bytearray(self.signer.sign_pkcs1(payload))
        if padding == "pss":
            self.used.append(f"rsa_pss_rsae_{hashAlg}")
            if saltLen not in (None, len(data)):
                raise CannotSign(f"rsa_pss with a {saltLen}-byte salt")
            # tlslite always names the hash for PSS (RSASSA-PSS has no DigestInfo to carry it).
            return bytearray(self.signer.sign_pss(cast(str, hashAlg), bytes(data)))
        raise CannotSign(padding)

    def _rawPrivateKeyOp(self, message: int) -> int:  # noqa: N802
        # Every signature goes through sign(); tlslite must never fall back to a raw operation here.
        raise CannotSign("raw RSA through tlslite")


def _hash_of(digest_info: bytes) -> str:
    for name, prefix in DIGEST_INFO_PREFIX.items():
        if digest_info.startswith(prefix):
            return name
    return "md5sha1"
