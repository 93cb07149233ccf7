"""File control parameters (FCP, tag 62) and information (FCI, tag 6F) returned by SELECT."""

from __future__ import annotations

from dataclasses import dataclass

from cpsdiag.errors import MalformedDataError
from cpsdiag.iso7816 import tlv


@dataclass(frozen=True)
class FileInfo:
    fid: int | None
    size: int | None            # tag 80 (or 81): bytes in a transparent EF
    is_df: bool
    sfi: int | None             # tag 88: short EF identifier
    aid: bytes | None           # tag 84: DF name
    life_cycle: int | None      # tag 8A
    security: bytes | None      # tag A1 (IAS-ECC access rules) or 8C


def parse_fcp(data: bytes, where: str | None = None) -> FileInfo:
    objects = tlv.parse(data, what="FCP", where=where)
    if len(objects) != 1 or objects[0].tag not in (0x62, 0x6F):
        raise MalformedDataError("FCP", "expected one 62 or 6F template", where=where, offset=0)
    fields = {c.tag: c.value for c in objects[0].children()}
    size_field = fields.get(0x80) or fields.get(0x81)
    descriptor = fields.get(0x82, b"")
    fid = fields.get(0x83)
    sfi_field = fields.get(0x88)
    return FileInfo(
        fid=int.from_bytes(fid, "big") if fid and len(fid) == 2 else None,
        size=int.from_bytes(size_field, "big") if size_field else None,
        is_df=bool(descriptor) and descriptor[0] & 0x38 == 0x38,
        sfi=(sfi_field[0] >> 3) if sfi_field and len(sfi_field) == 1 else None,
        aid=fields.get(0x84),
        life_cycle=fields[0x8A][0] if fields.get(0x8A) else None,
        security=fields.get(0xA1) or fields.get(0x8C),
    )
