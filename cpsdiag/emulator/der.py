"""A minimal BER/DER encoder for the structures the virtual card stores.

Only what the card files need: definite lengths, one- to three-byte tags.
"""

from __future__ import annotations


def length(n: int) -> bytes:
    if n < 0x80:
        return bytes([n])
    body = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(body)]) + body


def tlv(tag: int, *parts: bytes) -> bytes:
    value = b"".join(parts)
    tag_bytes = tag.to_bytes((tag.bit_length() + 7) // 8 or 1, "big")
    return tag_bytes + length(len(value)) + value


def seq(*parts: bytes) -> bytes:
    return tlv(0x30, *parts)


def integer(value: int) -> bytes:
    # Positive INTEGER: a leading 00 keeps the sign bit clear (keyReference 0x82 -> 02 02 00 82).
    body = value.to_bytes(max(1, (value.bit_length() + 8) // 8), "big")
    return tlv(0x02, body)


def octets(value: bytes) -> bytes:
    return tlv(0x04, value)


def utf8(text: str) -> bytes:
    return tlv(0x0C, text.encode("utf-8"))


def boolean(value: bool) -> bytes:
    return tlv(0x01, b"\xff" if value else b"\x00")


def bits(*set_bits: int) -> bytes:
    """BIT STRING with the named bits set (bit 0 = most significant bit of the first byte).

    DER drops trailing zero bits, so the length follows the highest bit set.
    """
    if not set_bits:
        return tlv(0x03, b"\x00")
    used = max(set_bits) + 1
    nbytes = (used + 7) // 8
    value = 0
    for b in set_bits:
        value |= 1 << (nbytes * 8 - 1 - b)
    return tlv(0x03, bytes([nbytes * 8 - used]), value.to_bytes(nbytes, "big"))


def oid(dotted: str) -> bytes:
    arcs = [int(a) for a in dotted.split(".")]
    body = bytearray([40 * arcs[0] + arcs[1]])
    for arc in arcs[2:]:
        chunk = [arc & 0x7F]
        arc >>= 7
        while arc:
            chunk.append(0x80 | (arc & 0x7F))
            arc >>= 7
        body.extend(reversed(chunk))
    return tlv(0x06, bytes(body))


def null() -> bytes:
    return b"\x05\x00"
