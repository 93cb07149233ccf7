"""EMSA-PSS encoding (RFC 8017 §9.1.1) for a card that only does raw RSA."""

from __future__ import annotations

import hashlib
import os


def _mgf1(seed: bytes, length: int, hash_name: str) -> bytes:
    out = b""
    counter = 0
    while len(out) < length:
        out += hashlib.new(hash_name, seed + counter.to_bytes(4, "big")).digest()
        counter += 1
    return out[:length]


def emsa_pss_encode(m_hash: bytes, hash_name: str, modulus_bits: int, salt_len: int | None = None) -> bytes:
    """The encoded message, left-padded to the modulus size, with salt length = hash length by default."""
    h_len = len(m_hash)
    salt_len = h_len if salt_len is None else salt_len
    em_bits = modulus_bits - 1
    em_len = (em_bits + 7) // 8
    if em_len < h_len + salt_len + 2:
        raise ValueError("modulus too small for PSS")
    salt = os.urandom(salt_len)
    h = hashlib.new(hash_name, b"\x00" * 8 + m_hash + salt).digest()
    db = b"\x00" * (em_len - salt_len - h_len - 2) + b"\x01" + salt
    masked = bytes(a ^ b for a, b in zip(db, _mgf1(h, em_len - h_len - 1, hash_name)))
    masked = bytes([masked[0] & (0xFF >> (8 * em_len - em_bits))]) + masked[1:]
    em = masked + h + b"\xbc"
    return em.rjust((modulus_bits + 7) // 8, b"\x00")
