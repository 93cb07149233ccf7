"""Command APDUs as the virtual card receives them from vpcd.

vpcd forwards the bytes the PC/SC client sent, unchanged, so the card sees
ISO 7816-4 APDUs (not T=0 TPDUs): a case-4 command may still carry its Le.
"""

from __future__ import annotations

from dataclasses import dataclass


class CardStatus(Exception):
    """Raised by a command handler to answer with a bare status word."""

    def __init__(self, sw: int):
        super().__init__(f"{sw:04X}")
        self.sw = sw


@dataclass(frozen=True)
class Command:
    cla: int
    ins: int
    p1: int
    p2: int
    data: bytes
    le: int | None          # None: no Le field; 0 in the APDU means 256
    extended: bool = False

    @property
    def channel(self) -> int:
        return self.cla & 0x03

    @property
    def chained(self) -> bool:
        # Command chaining: every block but the last has b5 of CLA set.
        return bool(self.cla & 0x10)

    @property
    def ne(self) -> int:
        """Number of response bytes expected (Le=00 means 256)."""
        if self.le is None:
            return 0
        return self.le or 256


def parse_command(raw: bytes) -> Command:
    """Split a command APDU; raise CardStatus(6700) for a length the card cannot accept."""
    if len(raw) < 4:
        raise CardStatus(0x6700)
    cla, ins, p1, p2 = raw[0], raw[1], raw[2], raw[3]
    body = raw[4:]
    if not body:
        return Command(cla, ins, p1, p2, b"", None)
    if len(body) == 1:
        return Command(cla, ins, p1, p2, b"", body[0])
    if body[0] == 0 and len(body) >= 3:
        # Extended length: CPS cards have no extended APDUs (EF.ATR says 256/260).
        return Command(cla, ins, p1, p2, b"", None, extended=True)
    lc = body[0]
    if lc == 0:
        raise CardStatus(0x6700)
    if len(body) == 1 + lc:
        return Command(cla, ins, p1, p2, bytes(body[1:]), None)
    if len(body) == 2 + lc:
        return Command(cla, ins, p1, p2, bytes(body[1:1 + lc]), body[1 + lc])
    raise CardStatus(0x6700)
