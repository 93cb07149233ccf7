"""Answer-to-reset decoding (ISO/IEC 7816-3 §8, historical bytes per ISO/IEC 7816-4 §8).

``parse_atr`` accepts bytes or hex text and returns a frozen ``Atr``; anything
that is not a well-formed ATR raises MalformedDataError naming the offset.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from cpsdiag.errors import MalformedDataError

# ISO 7816-3 Table 7: clock rate conversion factor Fi and maximum frequency (MHz), by TA1 high nibble.
FI = (372, 372, 558, 744, 1116, 1488, 1860, None, None, 512, 768, 1024, 1536, 2048, None, None)
F_MAX_MHZ = (4, 5, 6, 8, 12, 16, 20, None, None, 5, 7.5, 10, 15, 20, None, None)
# Table 8: baud rate adjustment factor Di, by TA1 low nibble.
DI = (None, 1, 2, 4, 8, 16, 32, 64, 12, 20, None, None, None, None, None, None)

COMPACT_TLV_TAGS = {
    0x1: "country code", 0x2: "issuer identification number", 0x3: "card service data",
    0x4: "initial access data", 0x5: "card issuer's data", 0x6: "pre-issuing data",
    0x7: "card capabilities", 0x8: "status indicator", 0xF: "application identifier",
}


@dataclass(frozen=True)
class InterfaceGroup:
    index: int                  # i of TAi, TBi, TCi, TDi
    ta: int | None
    tb: int | None
    tc: int | None
    td: int | None

    @property
    def protocol(self) -> int | None:
        """The protocol T announced by TDi for the next group."""
        return None if self.td is None else self.td & 0x0F


@dataclass(frozen=True)
class CompactTlv:
    tag: int
    value: bytes

    @property
    def name(self) -> str:
        return COMPACT_TLV_TAGS.get(self.tag, "proprietary")


@dataclass(frozen=True)
class Atr:
    raw: bytes
    convention: str                     # "direct" (3B) or "inverse" (3F)
    t0: int
    groups: tuple[InterfaceGroup, ...]
    historical: bytes
    tck: int | None
    protocols: tuple[int, ...]          # offered protocols, in order (T=0 when no TD1)
    fi: int | None
    di: int | None
    f_max_mhz: float | None
    extra_guard_time: int               # TC1 (N); 255 = minimum guard time
    work_waiting_integer: int           # TC2 for T=0 (WI), default 10
    specific_mode: bool                 # TA2 present: no PPS, the card imposes its parameters
    category: int | None
    objects: tuple[CompactTlv, ...]
    status: bytes | None                # LCS + SW1 SW2 when the historical bytes carry them
    problems: tuple[str, ...] = field(default=())

    @property
    def hex(self) -> str:
        return self.raw.hex(" ").upper()

    @property
    def tck_ok(self) -> bool | None:
        if self.tck is None:
            return None
        check = 0
        for b in self.raw[1:]:
            check ^= b
        return check == 0

    @property
    def t0_only(self) -> bool:
        return self.protocols == (0,)

    def global_parameter(self, name: str) -> int | None:
        group = self.groups[0] if self.groups else None
        return getattr(group, name) if group else None

    def etu_seconds(self, clock_hz: float) -> float:
        """One elementary time unit at the given reader clock (F/D clock cycles)."""
        return (self.fi or 372) / (self.di or 1) / clock_hz

    def byte_seconds(self, clock_hz: float) -> float:
        """Time to move one byte: 10 etu of character plus the guard time (12 etu at least).

        12 etu per character is the T=0 minimum (ISO 7816-3 §7.2); TC1 adds N
        etu, except 255 which means the minimum.
        """
        extra = 0 if self.extra_guard_time == 255 else self.extra_guard_time
        return (12 + extra) * self.etu_seconds(clock_hz)

    def baud_rate(self, clock_hz: float) -> float:
        return 1.0 / self.etu_seconds(clock_hz)

    def to_dict(self) -> dict[str, Any]:
        return {
            "hex": self.hex,
            "convention": self.convention,
            "protocols": [f"T={p}" for p in self.protocols],
            "interface_bytes": [
                {k: f"{v:02X}" for k, v in (("TA", g.ta), ("TB", g.tb), ("TC", g.tc), ("TD", g.td)) if v is not None}
                | {"i": g.index} for g in self.groups
            ],
            "fi": self.fi, "di": self.di, "f_max_mhz": self.f_max_mhz,
            "extra_guard_time": self.extra_guard_time,
            "work_waiting_integer": self.work_waiting_integer,
            "specific_mode": self.specific_mode,
            "historical_bytes": self.historical.hex(" ").upper(),
            "category": None if self.category is None else f"{self.category:02X}",
            "objects": [{"tag": o.tag, "name": o.name, "value": o.value.hex(" ").upper()} for o in self.objects],
            "status": self.status.hex(" ").upper() if self.status else None,
            "tck": None if self.tck is None else f"{self.tck:02X}",
            "tck_ok": self.tck_ok,
            "problems": list(self.problems),
        }


_HEX_SEPARATORS = re.compile(r"[\s:.,-]+")


def _to_bytes(data: bytes | str, where: str | None) -> bytes:
    if isinstance(data, (bytes, bytearray)):
        return bytes(data)
    if not isinstance(data, str):
        raise MalformedDataError("ATR", f"expected bytes or hex text, got {type(data).__name__}", where=where)
    text = data.strip()
    if text.lower().startswith("0x"):
        text = text[2:]
    compact = _HEX_SEPARATORS.sub("", text)
    for pos, ch in enumerate(compact):
        if ch not in "0123456789abcdefABCDEF":
            raise MalformedDataError("ATR", f"{ch!r} is not a hexadecimal digit (hex digit {pos + 1})", where=where)
    if len(compact) % 2:
        raise MalformedDataError("ATR", f"odd number of hex digits ({len(compact)})", where=where)
    return bytes.fromhex(compact)


def _historical(hist: bytes) -> tuple[int | None, tuple[CompactTlv, ...], bytes | None, list[str]]:
    problems: list[str] = []
    if not hist:
        return None, (), None, problems
    category = hist[0]
    if category not in (0x00, 0x80):
        return category, (), None, problems   # 10 (DIR reference) and proprietary categories are kept raw
    body = hist[1:]
    status = None
    if category == 0x00:
        if len(body) < 3:
            problems.append("category 00 needs a 3-byte status indicator at the end")
            return category, (), None, problems
        body, status = body[:-3], body[-3:]
    objects: list[CompactTlv] = []
    i = 0
    while i < len(body):
        tag, length = body[i] >> 4, body[i] & 0x0F
        if i + 1 + length > len(body):
            problems.append(f"compact-TLV object {body[i]:02X} runs past the historical bytes")
            break
        objects.append(CompactTlv(tag, body[i + 1:i + 1 + length]))
        i += 1 + length
    if category == 0x80 and objects and objects[-1].tag == 0x8:
        status = objects[-1].value
    return category, tuple(objects), status, problems


def parse_atr(data: bytes | str, *, where: str | None = None) -> Atr:
    raw = _to_bytes(data, where)
    if len(raw) < 2:
        raise MalformedDataError("ATR", f"{len(raw)} byte(s): an ATR has at least TS and T0", where=where)
    if len(raw) > 33:
        raise MalformedDataError("ATR", f"{len(raw)} bytes: an ATR has at most 33", where=where)
    ts = raw[0]
    if ts not in (0x3B, 0x3F):
        raise MalformedDataError("ATR", f"TS is {ts:02X}: expected 3B (direct) or 3F (inverse convention)",
                                 where=where, offset=0)
    t0 = raw[1]
    k = t0 & 0x0F
    groups: list[InterfaceGroup] = []
    protocols: list[int] = []
    y = t0 >> 4
    pos = 2
    index = 1
    while True:
        values: dict[str, int | None] = {}
        for bit, name in ((0x1, "ta"), (0x2, "tb"), (0x4, "tc"), (0x8, "td")):
            if y & bit:
                if pos >= len(raw):
                    raise MalformedDataError("ATR", f"T{name[1].upper()}{index} announced but the ATR ends",
                                             where=where, offset=pos)
                values[name] = raw[pos]
                pos += 1
            else:
                values[name] = None
        group = InterfaceGroup(index, values["ta"], values["tb"], values["tc"], values["td"])
        groups.append(group)
        if group.td is None:
            break
        protocols.append(group.td & 0x0F)
        y = group.td >> 4
        index += 1
    offered = tuple(dict.fromkeys(p for p in protocols if p != 15)) or (0,)
    needs_tck = any(p != 0 for p in protocols)
    if pos + k > len(raw):
        raise MalformedDataError("ATR", f"T0 announces {k} historical bytes, {len(raw) - pos} left",
                                 where=where, offset=pos)
    historical = raw[pos:pos + k]
    pos += k
    tck = None
    if needs_tck:
        if pos >= len(raw):
            raise MalformedDataError("ATR", "TCK missing (required when a protocol other than T=0 is offered)",
                                     where=where, offset=pos)
        tck = raw[pos]
        pos += 1
    if pos != len(raw):
        raise MalformedDataError("ATR", f"{len(raw) - pos} unexpected byte(s) after the ATR", where=where,
                                 offset=pos)
    first = groups[0]
    fi = di = None
    f_max = None
    if first.ta is not None:
        fi, f_max, di = FI[first.ta >> 4], F_MAX_MHZ[first.ta >> 4], DI[first.ta & 0x0F]
    else:
        fi, f_max, di = 372, 5, 1
    wi = 10
    if len(groups) > 1 and groups[1].tc is not None and 0 in offered:
        wi = groups[1].tc
    category, objects, status, problems = _historical(historical)
    if fi is None or di is None:
        problems.append(f"TA1 {first.ta:02X} uses a reserved Fi or Di value")
    if tck is not None:
        check = 0
        for b in raw[1:]:
            check ^= b
        if check:
            problems.append(f"TCK {tck:02X} is wrong (XOR of T0..TCK is {check:02X}, not 00)")
    return Atr(
        raw=raw, convention="direct" if ts == 0x3B else "inverse", t0=t0, groups=tuple(groups),
        historical=historical, tck=tck, protocols=offered, fi=fi, di=di, f_max_mhz=f_max,
        extra_guard_time=first.tc if first.tc is not None else 0, work_waiting_integer=wi,
        specific_mode=len(groups) > 1 and groups[1].ta is not None,
        category=category, objects=objects, status=status, problems=tuple(problems),
    )
