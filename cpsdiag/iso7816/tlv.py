"""BER-TLV decoding (ISO/IEC 8825-1 as used by ISO 7816-4 and PKCS#15).

``parse`` returns the sequence of top-level objects; constructed objects are
parsed lazily with ``Tlv.children``. Any inconsistency (truncated tag, length
past the end, indefinite length) raises MalformedDataError with the offset.
"""

from __future__ import annotations

from dataclasses import dataclass

from cpsdiag.errors import MalformedDataError


@dataclass(frozen=True)
class Tlv:
    tag: int
    value: bytes
    offset: int              # offset of the tag in the parsed buffer
    what: str = "BER-TLV"
    where: str | None = None
    value_offset: int | None = None  # offset of the value in the parsed buffer (children count from there)

    @property
    def constructed(self) -> bool:
        first = self.tag
        while first > 0xFF:
            first >>= 8
        return bool(first & 0x20)

    @property
    def tag_class(self) -> int:
        first = self.tag
        while first > 0xFF:
            first >>= 8
        return first >> 6

    def children(self) -> list[Tlv]:
        base = self.value_offset if self.value_offset is not None else self.offset
        return parse(self.value, what=self.what, where=self.where, base=base)

    def find(self, tag: int) -> Tlv | None:
        for child in self.children():
            if child.tag == tag:
                return child
        return None


def parse(data: bytes, *, what: str = "BER-TLV", where: str | None = None, base: int = 0,
          skip_padding: bool = False) -> list[Tlv]:
    """Top-level TLVs of ``data``. ``skip_padding`` ignores 00/FF filler between and after objects."""
    out: list[Tlv] = []
    i, n = 0, len(data)
    while i < n:
        if skip_padding and data[i] in (0x00, 0xFF):
            i += 1
            continue
        start = i
        tag = data[i]
        i += 1
        if tag & 0x1F == 0x1F:
            while True:
                if i >= n:
                    raise MalformedDataError(what, "truncated tag", where=where, offset=base + start)
                if i - start > 3:
                    raise MalformedDataError(what, "tag longer than 4 bytes", where=where, offset=base + start)
                tag = (tag << 8) | data[i]
                i += 1
                if not data[i - 1] & 0x80:
                    break
        if i >= n:
            raise MalformedDataError(what, "missing length", where=where, offset=base + i)
        first = data[i]
        i += 1
        if first < 0x80:
            length = first
        elif first == 0x80:
            raise MalformedDataError(what, "indefinite length is not allowed here", where=where, offset=base + i - 1)
        else:
            count = first & 0x7F
            if count > 3 or i + count > n:
                raise MalformedDataError(what, "bad length field", where=where, offset=base + i - 1)
            length = int.from_bytes(data[i:i + count], "big")
            i += count
        if i + length > n:
            raise MalformedDataError(what, f"value of {length} bytes runs past the end ({n - i} left)",
                                     where=where, offset=base + start)
        out.append(Tlv(tag, bytes(data[i:i + length]), base + start, what, where, base + i))
        i += length
    return out


def der_total_length(head: bytes) -> int | None:
    """Total size of the DER object starting ``head`` (tag + length + value), or None if head is too short."""
    if len(head) < 2:
        return None
    i = 1
    if head[0] & 0x1F == 0x1F:
        while i < len(head) and head[i] & 0x80:
            i += 1
        i += 1
    if i >= len(head):
        return None
    first = head[i]
    if first < 0x80:
        return i + 1 + first
    count = first & 0x7F
    if count == 0 or count > 4 or i + 1 + count > len(head):
        return None
    return i + 1 + count + int.from_bytes(head[i + 1:i + 1 + count], "big")
