"""SHA-1 and SHA-256 that can resume from a raw chaining state.

A CPS3 middleware hashes all but the last block of a long message on the host
and sends the card the intermediate chaining value plus the number of bits
already hashed (PSO HASH); the card finishes the hash. ``hashlib`` cannot be
seeded with a state, so the two compression functions are written out here.
Speed is irrelevant: the card only ever hashes the last block or two.
"""

from __future__ import annotations

import struct

_M32 = 0xFFFFFFFF


def _rotl(x: int, n: int) -> int:
    return ((x << n) | (x >> (32 - n))) & _M32


def _rotr(x: int, n: int) -> int:
    return ((x >> n) | (x << (32 - n))) & _M32


def _sha1_block(h: list[int], block: bytes) -> list[int]:
    w = list(struct.unpack(">16I", block))
    for i in range(16, 80):
        w.append(_rotl(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1))
    a, b, c, d, e = h
    for i in range(80):
        if i < 20:
            f, k = (b & c) | (~b & d), 0x5A827999
        elif i < 40:
            f, k = b ^ c ^ d, 0x6ED9EBA1
        elif i < 60:
            f, k = (b & c) | (b & d) | (c & d), 0x8F1BBCDC
        else:
            f, k = b ^ c ^ d, 0xCA62C1D6
        a, b, c, d, e = (_rotl(a, 5) + (f & _M32) + e + k + w[i]) & _M32, a, _rotl(b, 30), c, d
    return [(x + y) & _M32 for x, y in zip(h, (a, b, c, d, e))]


_K256 = (
    0x428A2F98, 0x71374491, 0xB5C0FBCF, 0xE9B5DBA5, 0x3956C25B, 0x59F111F1, 0x923F82A4, 0xAB1C5ED5,
    0xD807AA98, 0x12835B01, 0x243185BE, 0x550C7DC3, 0x72BE5D74, 0x80DEB1FE, 0x9BDC06A7, 0xC19BF174,
    0xE49B69C1, 0xEFBE4786, 0x0FC19DC6, 0x240CA1CC, 0x2DE92C6F, 0x4A7484AA, 0x5CB0A9DC, 0x76F988DA,
    0x983E5152, 0xA831C66D, 0xB00327C8, 0xBF597FC7, 0xC6E00BF3, 0xD5A79147, 0x06CA6351, 0x14292967,
    0x27B70A85, 0x2E1B2138, 0x4D2C6DFC, 0x53380D13, 0x650A7354, 0x766A0ABB, 0x81C2C92E, 0x92722C85,
    0xA2BFE8A1, 0xA81A664B, 0xC24B8B70, 0xC76C51A3, 0xD192E819, 0xD6990624, 0xF40E3585, 0x106AA070,
    0x19A4C116, 0x1E376C08, 0x2748774C, 0x34B0BCB5, 0x391C0CB3, 0x4ED8AA4A, 0x5B9CCA4F, 0x682E6FF3,
    0x748F82EE, 0x78A5636F, 0x84C87814, 0x8CC70208, 0x90BEFFFA, 0xA4506CEB, 0xBEF9A3F7, 0xC67178F2,
)


def _sha256_block(h: list[int], block: bytes) -> list[int]:
    w = list(struct.unpack(">16I", block))
    for i in range(16, 64):
        s0 = _rotr(w[i - 15], 7) ^ _rotr(w[i - 15], 18) ^ (w[i - 15] >> 3)
        s1 = _rotr(w[i - 2], 17) ^ _rotr(w[i - 2], 19) ^ (w[i - 2] >> 10)
        w.append((w[i - 16] + s0 + w[i - 7] + s1) & _M32)
    a, b, c, d, e, f, g, hh = h
    for i in range(64):
        t1 = (hh + (_rotr(e, 6) ^ _rotr(e, 11) ^ _rotr(e, 25)) + ((e & f) ^ (~e & g)) + _K256[i] + w[i]) & _M32
        t2 = ((_rotr(a, 2) ^ _rotr(a, 13) ^ _rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c))) & _M32
        a, b, c, d, e, f, g, hh = (t1 + t2) & _M32, a, b, c, (d + t1) & _M32, e, f, g
    return [(x + y) & _M32 for x, y in zip(h, (a, b, c, d, e, f, g, hh))]


_ALGS = {
    "sha1": (_sha1_block, (0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0)),
    "sha256": (_sha256_block, (0x6A09E667, 0xBB67AE85, 0x3C6EF372, 0xA54FF53A,
                               0x510E527F, 0x9B05688C, 0x1F83D9AB, 0x5BE0CD19)),
}


def digest_size(alg: str) -> int:
    return 20 if alg == "sha1" else 32


def finish(alg: str, tail: bytes, state: bytes | None = None, bits_done: int = 0) -> bytes:
    """Hash ``tail`` starting from ``state`` (None = the initial value).

    ``bits_done`` counts the bits already absorbed into ``state``; it must be a
    multiple of 512 because the host only ever hands over whole blocks.
    """
    block_fn, iv = _ALGS[alg]
    h = list(iv) if state is None else list(struct.unpack(f">{len(iv)}I", state))
    if len(h) != len(iv) or bits_done % 512:
        raise ValueError("bad intermediate hash state")
    total_bits = bits_done + 8 * len(tail)
    padded = tail + b"\x80" + b"\x00" * ((55 - len(tail)) % 64) + struct.pack(">Q", total_bits & (2**64 - 1))
    for off in range(0, len(padded), 64):
        h = block_fn(h, padded[off:off + 64])
    return struct.pack(f">{len(h)}I", *h)
