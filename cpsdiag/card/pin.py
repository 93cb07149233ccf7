"""The PIN counter, read without spending a try."""

from __future__ import annotations

from dataclasses import dataclass

from cpsdiag.errors import MalformedDataError
from cpsdiag.iso7816 import tlv
from cpsdiag.iso7816.sw import SW


@dataclass(frozen=True)
class PinStatus:
    tries_left: int
    max_tries: int | None      # None when the card does not say
    verified: bool = False     # already presented in this card session (by another program)
    source: str = ""           # how it was read: "GET DATA BF8101", "VERIFY"

    @property
    def blocked(self) -> bool:
        return self.tries_left == 0


def parse_pin_sdo(data: bytes, reference: int = 1, where: str = "GET DATA BF8101") -> PinStatus:
    """IAS-ECC answer to GET DATA of the PIN security data object (CPS3).

    ``70 L BF 81 <ref> L A0 L {9A max, 9B left, ...}``. Tag 9D (remaining
    usage counter, CPS3 only) at zero means the PIN can no longer be used.
    """
    objects = tlv.parse(data, what="PIN status", where=where)
    if len(objects) != 1:
        raise MalformedDataError("PIN status", "expected one object", where=where, offset=0)
    top = objects[0]
    if top.tag == 0x70:
        inner = top.children()
        if len(inner) != 1:
            raise MalformedDataError("PIN status", "expected one SDO in the 70 template", where=where, offset=top.offset)
        top = inner[0]
    if top.tag != (0xBF8100 | (reference & 0x3F)):
        raise MalformedDataError("PIN status", f"expected SDO BF81{reference:02X}, got {top.tag:X}",
                                 where=where, offset=top.offset)
    docp = top.find(0xA0)
    fields = {c.tag: c.value for c in (docp.children() if docp else top.children())}
    if 0x9B not in fields:
        raise MalformedDataError("PIN status", "no tries-left counter (tag 9B)", where=where, offset=top.offset)

    def number(tag: int) -> int:
        value = fields[tag]
        if not 1 <= len(value) <= 2:
            raise MalformedDataError("PIN status", f"tag {tag:02X} has {len(value)} bytes", where=where)
        return int.from_bytes(value, "big")

    left = number(0x9B)
    maximum = number(0x9A) if 0x9A in fields else None
    if 0x9D in fields and number(0x9D) == 0:
        left = 0
    return PinStatus(tries_left=left, max_tries=maximum, source="GET DATA")


def status_from_verify_sw(sw: int, max_tries: int | None) -> PinStatus | None:
    """Interpret the answer to VERIFY without data (a status query)."""
    if sw == SW.OK:
        return PinStatus(tries_left=max_tries or 0, max_tries=max_tries, verified=True, source="VERIFY")
    if sw >> 4 == SW.VERIFY_FAILED >> 4:
        return PinStatus(tries_left=sw & 0x0F, max_tries=max_tries, source="VERIFY")
    if sw == SW.AUTH_METHOD_BLOCKED:
        return PinStatus(tries_left=0, max_tries=max_tries, source="VERIFY")
    return None
