"""The seam between cpsdiag and whatever carries APDUs to a card.

Everything above this layer sees a ``CardLink``: an ATR and a ``transmit``
that takes command bytes and returns (data, status word). Every exchange is
recorded in an ``ApduTrace`` (with timings), where the data of PIN commands is
masked before it is stored.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Protocol

# VERIFY, CHANGE REFERENCE DATA, RESET RETRY COUNTER: their data is a PIN or an unblock code.
SECRET_INS = frozenset({0x20, 0x24, 0x2C})


def masked_hex(apdu: bytes) -> str:
    """The command as it may be stored or shown: the data of PIN commands replaced by '**'."""
    if len(apdu) > 5 and apdu[1] in SECRET_INS:
        return apdu[:5].hex(" ") + " " + " ".join(["**"] * (len(apdu) - 5))
    return apdu.hex(" ")


@dataclass(frozen=True)
class ApduRecord:
    command: str           # hex, PIN data masked
    response: str          # hex of the response data
    sw: int
    seconds: float


@dataclass
class ApduTrace:
    records: list[ApduRecord] = field(default_factory=list)
    bytes_sent: int = 0
    bytes_received: int = 0

    @property
    def count(self) -> int:
        return len(self.records)

    def add(self, command: bytes, data: bytes, sw: int, seconds: float) -> None:
        self.records.append(ApduRecord(masked_hex(command), data.hex(" "), sw, seconds))
        self.bytes_sent += len(command)
        self.bytes_received += len(data) + 2


class CardLink(Protocol):
    reader: str
    atr: bytes
    protocol: str           # "T=0" | "T=1" | "RAW"
    trace: ApduTrace

    def transmit(self, apdu: bytes) -> tuple[bytes, int]: ...

    def close(self) -> None: ...


class TracedLink:
    """Base for links: times and records every exchange."""

    reader: str
    atr: bytes
    protocol: str

    def __init__(self) -> None:
        self.trace = ApduTrace()

    def _transmit(self, apdu: bytes) -> tuple[bytes, int]:
        raise NotImplementedError

    def transmit(self, apdu: bytes) -> tuple[bytes, int]:
        start = time.perf_counter()
        data, sw = self._transmit(apdu)
        self.trace.add(apdu, data, sw, time.perf_counter() - start)
        return data, sw
