"""The private-key operations a CPS card performs, on a key loaded from a profile."""

from __future__ import annotations

from dataclasses import dataclass

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa, utils

# DER prefixes of the DigestInfo for each hash (RFC 8017 §9.2, note 1).
DIGEST_INFO_PREFIX = {
    "sha1": bytes.fromhex("3021300906052b0e03021a05000414"),
    "sha256": bytes.fromhex("3031300d060960864801650304020105000420"),
}


@dataclass
class CardKey:
    reference: int
    key: rsa.RSAPrivateKey
    can_internal_auth: bool
    can_decipher: bool
    can_sign: bool          # PSO COMPUTE DIGITAL SIGNATURE

    @property
    def size(self) -> int:
        return (self.key.key_size + 7) // 8

    def raw(self, block: bytes) -> bytes:
        """RSA private operation on a block the host already padded (CPS4 'decipher' signing)."""
        numbers = self.key.private_numbers()
        m = int.from_bytes(block, "big")
        if len(block) != self.size or m >= numbers.public_numbers.n:
            raise ValueError("block out of range")
        # CRT keeps the pure-Python exponentiation fast enough for an interactive card.
        p, q = numbers.p, numbers.q
        m1 = pow(m, numbers.dmp1, p)
        m2 = pow(m, numbers.dmq1, q)
        h = (numbers.iqmp * (m1 - m2)) % p
        return (m2 + h * q).to_bytes(self.size, "big")

    def pkcs1_pad_and_sign(self, data: bytes) -> bytes:
        """EMSA-PKCS1-v1_5 type-1 padding of whatever the host sent, then the private operation.

        The card does not look inside: a DigestInfo or a bare hash are padded alike.
        """
        if len(data) > self.size - 11:
            raise ValueError("data too long")
        return self.raw(b"\x00\x01" + b"\xff" * (self.size - 3 - len(data)) + b"\x00" + data)

    def sign_digest(self, alg: str, digest: bytes, pss: bool) -> bytes:
        if pss:
            h = hashes.SHA1() if alg == "sha1" else hashes.SHA256()
            # Salt length = hash length: what TLS 1.3 requires (RFC 8446 §4.2.3);
            # the real CPS4's choice is not documented.
            return self.key.sign(digest, padding.PSS(padding.MGF1(h), h.digest_size), utils.Prehashed(h))
        return self.pkcs1_pad_and_sign(DIGEST_INFO_PREFIX[alg] + digest)
