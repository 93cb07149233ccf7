"""Answer-To-Reset decoding per ISO/IEC 7816-3 §8, historical bytes per ISO/IEC 7816-4 §8.1.1.

Pure and stdlib-only on purpose: the emulator, the benchmark and the report all
import it, so it must stay cheap to import and impossible to crash. Whatever the
input, :func:`parse_atr` returns an :class:`Atr` or raises
:class:`~cpsdiag.errors.MalformedDataError`.

Structural faults (bad TS, truncation, missing TCK, trailing bytes, more than 33
bytes) are errors. Faults a reader tolerates (wrong TCK, RFU values, historical
bytes that do not follow ISO/IEC 7816-4) are kept in the result and listed in
:attr:`Atr.problems`: a diagnosis tool has to show a real card's odd ATR, not
refuse it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from cpsdiag.errors import MalformedDataError

__all__ = [
    "MAX_ATR_LENGTH", "DEFAULT_FI", "DEFAULT_DI", "DEFAULT_WI", "DEFAULT_IFSC", "DEFAULT_BWI", "DEFAULT_CWI",
    "FI", "F_MAX_MHZ", "DI", "COMPACT_TLV_TAGS",
    "CompactTlv", "StatusIndicator", "HistoricalBytes", "InterfaceGroup", "SpecificMode", "T1Parameters",
    "GlobalT15", "Atr", "parse_atr", "decode_compact_tlv",
]

_WHAT = "ATR"

MAX_ATR_LENGTH = 33
"""TS plus at most 32 further characters."""

DEFAULT_FI = 372
DEFAULT_DI = 1
DEFAULT_F_MAX_MHZ = 5.0
DEFAULT_WI = 10
DEFAULT_IFSC = 32
DEFAULT_BWI = 4
DEFAULT_CWI = 13

# ISO/IEC 7816-3 Table 7, indexed by the high nibble of TA1; None = RFU.
FI: tuple[int | None, ...] = (372, 372, 558, 744, 1116, 1488, 1860, None, None, 512, 768, 1024, 1536, 2048, None, None)
F_MAX_MHZ: tuple[float | None, ...] = (4, 5, 6, 8, 12, 16, 20, None, None, 5, 7.5, 10, 15, 20, None, None)
# Table 8, indexed by the low nibble of TA1. Code 0 is RFU in the 2006 edition; tables
# that print it as 1 agree in practice, since an RFU code falls back to the default D=1.
DI: tuple[int | None, ...] = (None, 1, 2, 4, 8, 16, 32, 64, 12, 20, None, None, None, None, None, None)

COMPACT_TLV_TAGS: dict[int, str] = {
    0x1: "country code",
    0x2: "issuer identification number",
    0x3: "card service data",
    0x4: "initial access data",
    0x5: "card issuer's data",
    0x6: "pre-issuing data",
    0x7: "card capabilities",
    0x8: "status indicator",
    0xF: "application identifier",
}

_TS_DIRECT = 0x3B
_TS_INVERSE = 0x3F
# An inverse-convention TS decoded with the direct convention comes out as 03: the usual
# symptom of a reader or a log that skipped the conversion, so it earns a hint.
_TS_INVERSE_MISREAD = 0x03

_CLOCK_STOP = ("not supported", "state L", "state H", "no preference")
_CLASSES = ((0x01, "A"), (0x02, "B"), (0x04, "C"))


def _hex(data: bytes) -> str:
    return data.hex(" ").upper()


def _hex1(value: int | None) -> str | None:
    return None if value is None else f"{value:02X}"


# --------------------------------------------------------------------------- historical bytes


@dataclass(frozen=True)
class CompactTlv:
    """One compact-TLV data object of the historical bytes (tag and length share one byte)."""

    tag: int
    value: bytes
    offset: int | None = None
    """Offset of the tag/length byte within the ATR."""

    @property
    def name(self) -> str:
        return COMPACT_TLV_TAGS.get(self.tag, "RFU")

    def to_dict(self) -> dict[str, Any]:
        return {"tag": self.tag, "name": self.name, "value": _hex(self.value), "offset": self.offset}


@dataclass(frozen=True)
class StatusIndicator:
    """Life cycle status byte and/or SW1-SW2 carried by the historical bytes."""

    lcs: int | None
    sw: int | None

    def to_dict(self) -> dict[str, Any]:
        return {"lcs": _hex1(self.lcs), "sw": None if self.sw is None else f"{self.sw:04X}"}


def decode_compact_tlv(data: bytes, *, base_offset: int = 0) -> tuple[tuple[CompactTlv, ...], str | None]:
    """Walk compact-TLV objects: the complete ones, and why the walk stopped early if it did.

    Never raises, so that callers can make the most of half-broken historical bytes
    (``base_offset`` is added to the offsets reported, to make them ATR offsets).
    """
    objects: list[CompactTlv] = []
    pos = 0
    while pos < len(data):
        tag, length = data[pos] >> 4, data[pos] & 0x0F
        end = pos + 1 + length
        if end > len(data):
            return tuple(objects), (
                f"compact-TLV object {data[pos]:02X} (tag {tag:X}) at offset {base_offset + pos} announces "
                f"{length} byte(s) but only {len(data) - pos - 1} remain"
            )
        objects.append(CompactTlv(tag, bytes(data[pos + 1:end]), base_offset + pos))
        pos = end
    return tuple(objects), None


@dataclass(frozen=True)
class HistoricalBytes:
    """The K historical bytes and what ISO/IEC 7816-4 lets us read in them."""

    raw: bytes
    offset: int
    """Offset of the first historical byte within the ATR."""
    category: int | None
    objects: tuple[CompactTlv, ...]
    status: StatusIndicator | None
    status_bytes: bytes | None
    """The status indicator as carried: 3 positional bytes (category 00) or the tag-8 value (category 80)."""
    dir_reference: bytes | None
    problem: str | None
    """Why the bytes do not follow the layout their category indicator announces."""

    @property
    def category_name(self) -> str | None:
        c = self.category
        if c is None:
            return None
        if c == 0x00:
            return "compact-TLV followed by a status indicator"
        if c == 0x80:
            return "compact-TLV"
        if c == 0x10:
            return "DIR data reference"
        if 0x81 <= c <= 0x8F:
            return "RFU"
        return "proprietary"

    def find(self, tag: int) -> CompactTlv | None:
        """The first compact-TLV object with this tag."""
        for obj in self.objects:
            if obj.tag == tag:
                return obj
        return None

    @property
    def country_code(self) -> str | None:
        """ISO 3166-1 numeric country code: the first three BCD digits of the tag-1 object."""
        obj = self.find(0x1)
        if obj is None or len(obj.value) < 2:
            return None
        digits = obj.value.hex()[:3]
        return digits if digits.isdigit() else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "raw": _hex(self.raw),
            "offset": self.offset,
            "category": _hex1(self.category),
            "category_name": self.category_name,
            "objects": [o.to_dict() for o in self.objects],
            "country_code": self.country_code,
            "status": None if self.status is None else self.status.to_dict(),
            "dir_reference": None if self.dir_reference is None else _hex(self.dir_reference),
            "problem": self.problem,
        }


def _status_from_tlv(value: bytes) -> tuple[StatusIndicator | None, str | None]:
    if len(value) == 1:
        return StatusIndicator(value[0], None), None
    if len(value) == 2:
        return StatusIndicator(None, (value[0] << 8) | value[1]), None
    if len(value) == 3:
        return StatusIndicator(value[0], (value[1] << 8) | value[2]), None
    return None, f"status indicator object has {len(value)} byte(s), expected 1, 2 or 3"


def _decode_historical(raw: bytes, offset: int) -> HistoricalBytes:
    if not raw:
        return HistoricalBytes(raw, offset, None, (), None, None, None, None)
    category = raw[0]
    objects: tuple[CompactTlv, ...] = ()
    status: StatusIndicator | None = None
    status_bytes: bytes | None = None
    dir_reference: bytes | None = None
    problem: str | None = None
    if category == 0x00:
        # The status indicator is positional here: the last three bytes, outside any TLV.
        if len(raw) < 4:
            problem = f"category 00 needs a 3-byte status indicator at the end, only {len(raw) - 1} byte(s) follow"
        else:
            objects, problem = decode_compact_tlv(raw[1:-3], base_offset=offset + 1)
            if problem is not None:
                problem += " (category 00 keeps the last 3 historical bytes for the status indicator)"
            status_bytes = bytes(raw[-3:])
            status = StatusIndicator(raw[-3], (raw[-2] << 8) | raw[-1])
    elif category == 0x80:
        objects, problem = decode_compact_tlv(raw[1:], base_offset=offset + 1)
        for obj in objects:
            if obj.tag == 0x8:
                status_bytes = obj.value
                status, status_problem = _status_from_tlv(obj.value)
                problem = problem or status_problem
                break
    elif category == 0x10:
        dir_reference = bytes(raw[1:])
        if not dir_reference:
            problem = "category 10 announces a DIR data reference but none follows"
    return HistoricalBytes(bytes(raw), offset, category, objects, status, status_bytes, dir_reference, problem)


# --------------------------------------------------------------------------- interface bytes


@dataclass(frozen=True)
class InterfaceGroup:
    """TAi, TBi, TCi, TDi for one i (1-based)."""

    index: int
    ta: int | None
    tb: int | None
    tc: int | None
    td: int | None
    qualifier: int | None = None
    """T announced by TD(i-1), which these bytes follow; None for the first, global group."""

    @property
    def protocol(self) -> int | None:
        """T announced by this group's TDi (it qualifies the next group)."""
        return None if self.td is None else self.td & 0x0F

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            name: f"{value:02X}" for name, value in (("TA", self.ta), ("TB", self.tb), ("TC", self.tc), ("TD", self.td))
            if value is not None
        }
        out["i"] = self.index
        out["qualifier"] = self.qualifier
        out["announces"] = self.protocol
        return out


@dataclass(frozen=True)
class SpecificMode:
    """TA2: the card starts in specific mode and accepts no PPS."""

    protocol: int
    can_change: bool
    """False when b8 says the card cannot switch to negotiable mode (e.g. on a warm reset)."""
    implicit_parameters: bool
    """True when b5 says F and D are defined elsewhere, not by TA1."""

    def to_dict(self) -> dict[str, Any]:
        return {"protocol": self.protocol, "can_change": self.can_change, "implicit_parameters": self.implicit_parameters}


@dataclass(frozen=True)
class T1Parameters:
    """T=1 parameters: the first TA/TB/TC after a TD(i-1) announcing T=1 (i > 2), defaults otherwise."""

    ifsc: int
    bwi: int
    cwi: int
    crc: bool
    """True for a CRC epilogue, False for the default LRC."""

    def to_dict(self) -> dict[str, Any]:
        return {"ifsc": self.ifsc, "bwi": self.bwi, "cwi": self.cwi, "edc": "CRC" if self.crc else "LRC"}


@dataclass(frozen=True)
class GlobalT15:
    """Global interface bytes qualified by T=15."""

    clock_stop: str | None
    classes: tuple[str, ...]
    """Operating classes: A (5 V), B (3 V), C (1.8 V); empty when the ATR does not say."""
    spu: int | None

    def to_dict(self) -> dict[str, Any]:
        return {"clock_stop": self.clock_stop, "classes": list(self.classes), "spu": _hex1(self.spu)}


# --------------------------------------------------------------------------- the ATR


def _check_clock(clock_hz: float) -> None:
    valid = isinstance(clock_hz, (int, float)) and not isinstance(clock_hz, bool)
    if not valid or not math.isfinite(clock_hz) or clock_hz <= 0:
        raise ValueError(f"clock frequency must be a positive number of hertz, got {clock_hz!r}")


@dataclass(frozen=True)
class Atr:
    """A decoded ATR; build it with :func:`parse_atr`."""

    raw: bytes
    groups: tuple[InterfaceGroup, ...]
    historical_info: HistoricalBytes
    tck: int | None
    tck_ok: bool | None
    """XOR of T0..TCK is zero; None when the ATR has no TCK (only T=0 indicated)."""

    # -- framing

    @property
    def ts(self) -> int:
        return self.raw[0]

    @property
    def t0(self) -> int:
        return self.raw[1]

    @property
    def convention(self) -> str:
        """``"direct"`` (TS=3B) or ``"inverse"`` (TS=3F).

        Like PC/SC readers, we take the bytes after an inverse TS as already converted
        to their logical values; only TS keeps its raw form.
        """
        return "inverse" if self.ts == _TS_INVERSE else "direct"

    @property
    def hex(self) -> str:
        return _hex(self.raw)

    @property
    def k(self) -> int:
        """Number of historical bytes, from T0."""
        return self.t0 & 0x0F

    @property
    def historical(self) -> bytes:
        return self.historical_info.raw

    # -- protocols

    @property
    def indicated_protocols(self) -> tuple[int, ...]:
        """T values in TD order, T=15 and repeats included."""
        return tuple(g.protocol for g in self.groups if g.protocol is not None)

    @property
    def protocols(self) -> tuple[int, ...]:
        """Offered transmission protocols, the default first; (0,) when there is no TD1."""
        offered = tuple(dict.fromkeys(t for t in self.indicated_protocols if t != 15))
        return offered or (0,)

    @property
    def t0_only(self) -> bool:
        return self.protocols == (0,)

    @property
    def has_t15(self) -> bool:
        """A TDi announces T=15, i.e. global interface bytes may follow."""
        return 15 in self.indicated_protocols

    # -- interface bytes by name

    def _group(self, i: int) -> InterfaceGroup | None:
        return self.groups[i - 1] if len(self.groups) >= i else None

    def global_parameter(self, name: str) -> int | None:
        """``"ta"``, ``"tb"``, ``"tc"`` or ``"td"`` of the first group."""
        if name not in ("ta", "tb", "tc", "td"):
            raise ValueError(f"no interface byte named {name!r}")
        value: int | None = getattr(self.groups[0], name)
        return value

    @property
    def ta1(self) -> int | None:
        return self.groups[0].ta

    @property
    def tb1(self) -> int | None:
        return self.groups[0].tb

    @property
    def tc1(self) -> int | None:
        return self.groups[0].tc

    @property
    def ta2(self) -> int | None:
        g = self._group(2)
        return None if g is None else g.ta

    @property
    def tc2(self) -> int | None:
        g = self._group(2)
        return None if g is None else g.tc

    def _specific(self, protocol: int, attr: str) -> int | None:
        # Protocol-specific bytes live in groups i >= 3 only; group 2 is global/T=0 whatever TD1 says.
        for g in self.groups[2:]:
            if g.qualifier == protocol:
                value: int | None = getattr(g, attr)
                if value is not None:
                    return value
        return None

    # -- TA1: clock rate conversion and baud rate adjustment

    @property
    def fi(self) -> int | None:
        """Fi from TA1 (372 when TA1 is absent), None for an RFU code."""
        return DEFAULT_FI if self.ta1 is None else FI[self.ta1 >> 4]

    @property
    def f_max_mhz(self) -> float | None:
        return DEFAULT_F_MAX_MHZ if self.ta1 is None else F_MAX_MHZ[self.ta1 >> 4]

    @property
    def di(self) -> int | None:
        """Di from TA1 (1 when TA1 is absent), None for an RFU code."""
        return DEFAULT_DI if self.ta1 is None else DI[self.ta1 & 0x0F]

    @property
    def operating_fd(self) -> tuple[int, int]:
        """(F, D) the card works with once the ATR is over.

        Assumes what a PC/SC reader normally achieves: in negotiable mode a successful
        PPS to TA1's values; in specific mode TA1's values, unless TA2 says they are
        implicit (unknown to us, so the defaults). RFU codes fall back to the defaults.
        """
        mode = self.specific_mode_parameters
        fi, di = self.fi, self.di
        if (mode is not None and mode.implicit_parameters) or fi is None or di is None:
            return DEFAULT_FI, DEFAULT_DI
        return fi, di

    # -- other global and T=0 parameters

    @property
    def extra_guard_time(self) -> int:
        """N from TC1 (0 when absent); 255 means the minimum guard time."""
        return 0 if self.tc1 is None else self.tc1

    @property
    def work_waiting_integer(self) -> int:
        """WI for T=0 from TC2; 10 when absent or RFU (00)."""
        return self.tc2 or DEFAULT_WI

    @property
    def specific_mode(self) -> bool:
        """TA2 is present: the card imposes its parameters, no PPS."""
        return self.ta2 is not None

    @property
    def specific_mode_parameters(self) -> SpecificMode | None:
        ta2 = self.ta2
        if ta2 is None:
            return None
        return SpecificMode(protocol=ta2 & 0x0F, can_change=not ta2 & 0x80, implicit_parameters=bool(ta2 & 0x10))

    @property
    def t1(self) -> T1Parameters | None:
        """T=1 parameters when T=1 is offered."""
        if 1 not in self.protocols:
            return None
        ifsc = self._specific(1, "ta")
        tb = self._specific(1, "tb")
        tc = self._specific(1, "tc")
        return T1Parameters(
            ifsc=DEFAULT_IFSC if ifsc is None else ifsc,
            bwi=DEFAULT_BWI if tb is None else tb >> 4,
            cwi=DEFAULT_CWI if tb is None else tb & 0x0F,
            crc=tc is not None and bool(tc & 0x01),
        )

    @property
    def global_t15(self) -> GlobalT15 | None:
        if not self.has_t15:
            return None
        ta = self._specific(15, "ta")
        tb = self._specific(15, "tb")
        if ta is None:
            return GlobalT15(None, (), tb)
        return GlobalT15(_CLOCK_STOP[ta >> 6], tuple(name for bit, name in _CLASSES if ta & bit), tb)

    # -- historical bytes, flattened

    @property
    def category(self) -> int | None:
        return self.historical_info.category

    @property
    def objects(self) -> tuple[CompactTlv, ...]:
        return self.historical_info.objects

    @property
    def status(self) -> bytes | None:
        """Status indicator bytes as carried (LCS SW1 SW2 for category 00, the tag-8 value for 80)."""
        return self.historical_info.status_bytes

    @property
    def status_indicator(self) -> StatusIndicator | None:
        return self.historical_info.status

    # -- timing (emulator speed, benchmark)

    def etu_seconds(self, clock_hz: float, *, initial: bool = False) -> float:
        """One elementary time unit, F / (D x f) seconds.

        ``initial=True`` gives the etu of the ATR itself (F=372, D=1); otherwise the
        :attr:`operating_fd` values.
        """
        _check_clock(clock_hz)
        f, d = (DEFAULT_FI, DEFAULT_DI) if initial else self.operating_fd
        return f / (d * clock_hz)

    def baud_rate(self, clock_hz: float, *, initial: bool = False) -> float:
        """Bits per second on the I/O line (one bit per etu)."""
        return 1.0 / self.etu_seconds(clock_hz, initial=initial)

    def character_etus(self, *, initial: bool = False, protocol: int | None = None) -> int:
        """Minimum etus from one character's start bit to the next one's.

        A character is 10 etu (start bit, 8 data bits, parity) plus a guard time of at
        least 2 etu, hence the classic 12 etu per byte. TC1's N adds N etu; N=255 means
        the minimum, which is 12 etu for T=0 but 11 for T=1. N does not apply during the
        ATR (``initial``). ``protocol`` defaults to the first offered one. This is the
        spec minimum, the fastest a conforming card goes, which is what an emulator or a
        benchmark should model.
        """
        if initial:
            return 12
        t = self.protocols[0] if protocol is None else protocol
        n = self.extra_guard_time
        if n == 255:
            return 11 if t == 1 else 12
        return 12 + n

    def byte_time_seconds(self, clock_hz: float, *, initial: bool = False, protocol: int | None = None) -> float:
        """Time to move one byte: :meth:`character_etus` x :meth:`etu_seconds`."""
        return self.character_etus(initial=initial, protocol=protocol) * self.etu_seconds(clock_hz, initial=initial)

    def work_waiting_time_seconds(self, clock_hz: float) -> float:
        """T=0 work waiting time WT = WI x 960 x Fi / f (Fi from TA1, not the negotiated F)."""
        _check_clock(clock_hz)
        return self.work_waiting_integer * 960 * (self.fi or DEFAULT_FI) / clock_hz

    # -- findings

    @property
    def problems(self) -> tuple[str, ...]:
        """Deviations from ISO/IEC 7816-3/-4 that did not prevent decoding."""
        out: list[str] = []
        if self.tck_ok is False and self.tck is not None:
            check = 0
            for b in self.raw[1:]:
                check ^= b
            out.append(f"TCK {self.tck:02X} is wrong (XOR of T0..TCK is {check:02X}, not 00)")
        if self.ta1 is not None and (self.fi is None or self.di is None):
            out.append(f"TA1 {self.ta1:02X} uses a reserved (RFU) Fi or Di code; F=372, D=1 assumed")
        if self.tb1 not in (None, 0):
            out.append(f"TB1 {self.tb1:02X} asks for a programming voltage Vpp (deprecated since ISO/IEC 7816-3:2006)")
        indicated = self.indicated_protocols
        if indicated and indicated[0] == 15:
            out.append("TD1 announces T=15, which may only qualify interface bytes from TD2 on")
        if list(indicated) != sorted(indicated):
            out.append("TDi announce protocols out of ascending order: " + ", ".join(f"T={t}" for t in indicated))
        if self.tc2 == 0:
            out.append("TC2 00 is RFU (WI is 1..255); WI=10 assumed")
        ifsc = self._specific(1, "ta")
        if ifsc in (0x00, 0xFF):
            out.append(f"T=1 IFSC byte {ifsc:02X} is RFU")
        if self.historical_info.problem:
            out.append(f"historical bytes: {self.historical_info.problem}")
        return tuple(out)

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly description for the report: hex strings, ints, lists, None.

        The first keys are the ones docs/report-schema.md documents; the rest add detail.
        """
        mode = self.specific_mode_parameters
        t1 = self.t1
        t15 = self.global_t15
        hist = self.historical_info
        f, d = self.operating_fd
        return {
            "hex": self.hex,
            "convention": self.convention,
            "protocols": [f"T={p}" for p in self.protocols],
            "interface_bytes": [g.to_dict() for g in self.groups],
            "fi": self.fi,
            "di": self.di,
            "f_max_mhz": self.f_max_mhz,
            "extra_guard_time": self.extra_guard_time,
            "work_waiting_integer": self.work_waiting_integer,
            "specific_mode": self.specific_mode,
            "historical_bytes": _hex(hist.raw),
            "category": _hex1(hist.category),
            "objects": [o.to_dict() for o in hist.objects],
            "status": None if hist.status_bytes is None else _hex(hist.status_bytes),
            "tck": _hex1(self.tck),
            "tck_ok": self.tck_ok,
            "problems": list(self.problems),
            "length": len(self.raw),
            "ts": f"{self.ts:02X}",
            "t0": f"{self.t0:02X}",
            "historical_length": self.k,
            "indicated_protocols": list(self.indicated_protocols),
            "t15_global": self.has_t15,
            "operating_f": f,
            "operating_d": d,
            "specific_mode_parameters": None if mode is None else mode.to_dict(),
            "t1": None if t1 is None else t1.to_dict(),
            "t15": None if t15 is None else t15.to_dict(),
            "historical": hist.to_dict(),
        }


# --------------------------------------------------------------------------- parsing

_HEX_DIGITS = frozenset("0123456789abcdefABCDEF")
_SEPARATORS = frozenset(" \t\r\n:.,-")


def _from_hex(text: str, where: str | None) -> bytes:
    # Digits pair up within a token only, so "3 BAC" is refused rather than read as "3B AC".
    out = bytearray()
    token: list[str] = []
    token_start = 0

    def flush() -> None:
        digits = "".join(token)
        token.clear()
        if len(digits) % 2:
            raise MalformedDataError(
                _WHAT, f"odd number of hex digits in {digits!r} at character position {token_start}", where=where)
        out.extend(bytes.fromhex(digits))

    def too_long() -> MalformedDataError:
        return MalformedDataError(_WHAT, f"more than {MAX_ATR_LENGTH} bytes: an ATR has at most {MAX_ATR_LENGTH}",
                                  where=where, offset=MAX_ATR_LENGTH)

    pos = 0
    while pos < len(text):
        ch = text[pos]
        if ch in _HEX_DIGITS:
            if not token:
                token_start = pos
                # A 0x prefix (as in C sources) starts a token, it is not a digit pair.
                if ch == "0" and text[pos + 1:pos + 2] in ("x", "X"):
                    pos += 2
                    token_start = pos
                    continue
            token.append(ch)
            # Refuse huge inputs as soon as they are too long, without converting them.
            if 2 * len(out) + len(token) > 2 * MAX_ATR_LENGTH + 1:
                raise too_long()
        elif ch in _SEPARATORS or ch.isspace():    # no-break spaces of an ATR copied from a web page
            flush()
        else:
            raise MalformedDataError(
                _WHAT, f"{ch!r} at character position {pos} is not a hexadecimal digit", where=where)
        pos += 1
    flush()
    return bytes(out)


def _to_bytes(data: object, where: str | None) -> bytes:
    if isinstance(data, (bytes, bytearray, memoryview)):
        return bytes(data)
    if isinstance(data, str):
        return _from_hex(data, where)
    raise MalformedDataError(
        _WHAT, f"expected bytes or hex text, got {type(data).__name__} (for pyscard's list of ints, pass bytes(atr))",
        where=where)


def parse_atr(data: bytes | bytearray | memoryview | str, *, where: str | None = None) -> Atr:
    """Decode an ATR given as bytes or hex text (spaces, colons and 0x prefixes allowed).

    Raises :class:`MalformedDataError`, and nothing else, when the input is not a
    structurally valid ATR; its ``offset`` is the ATR byte offset of the fault
    (faults in hex text name the character position in the reason instead).
    """
    raw = _to_bytes(data, where)
    n = len(raw)

    def fail(reason: str, offset: int | None) -> MalformedDataError:
        return MalformedDataError(_WHAT, reason, where=where, offset=offset)

    if n == 0:
        raise fail("empty: an ATR has at least TS and T0", 0)
    if n > MAX_ATR_LENGTH:
        raise fail(f"{n} bytes: an ATR has at most {MAX_ATR_LENGTH}", MAX_ATR_LENGTH)
    ts = raw[0]
    if ts not in (_TS_DIRECT, _TS_INVERSE):
        hint = " (03 is what an inverse-convention 3F looks like read as direct)" if ts == _TS_INVERSE_MISREAD else ""
        raise fail(f"TS is {ts:02X}: expected 3B (direct) or 3F (inverse convention){hint}", 0)
    if n < 2:
        raise fail("1 byte: an ATR has at least TS and T0", 1)

    t0 = raw[1]
    pos = 2
    presence = t0 >> 4
    index = 1
    qualifier: int | None = None
    announcer = "T0"
    groups: list[InterfaceGroup] = []
    tck_required = False
    # Every further pass consumes the TDi that asked for it, so this ends within n bytes.
    while True:
        values: dict[str, int | None] = {}
        for bit, name in ((0x1, "ta"), (0x2, "tb"), (0x4, "tc"), (0x8, "td")):
            if presence & bit:
                if pos >= n:
                    raise fail(f"T{name[1].upper()}{index} announced by {announcer} but the ATR ends", pos)
                values[name] = raw[pos]
                pos += 1
            else:
                values[name] = None
        group = InterfaceGroup(index, values["ta"], values["tb"], values["tc"], values["td"], qualifier)
        groups.append(group)
        if group.protocol is None:
            break
        qualifier = group.protocol
        # §8.2.5: TCK is absent only when T=0 alone is indicated; T=0 with T=15 needs one.
        tck_required = tck_required or qualifier != 0
        presence = group.td >> 4 if group.td is not None else 0
        announcer = f"TD{index}"
        index += 1

    k = t0 & 0x0F
    if pos + k > n:
        raise fail(f"T0 announces {k} historical bytes, only {n - pos} left", n)
    historical = _decode_historical(raw[pos:pos + k], pos)
    pos += k

    tck: int | None = None
    tck_ok: bool | None = None
    if tck_required:
        if pos >= n:
            raise fail("TCK missing (required when a protocol other than T=0 is indicated)", pos)
        tck = raw[pos]
        check = 0
        for b in raw[1:pos + 1]:
            check ^= b
        tck_ok = check == 0
        pos += 1

    if pos < n:
        extra = n - pos
        hint = ""
        if not tck_required and extra == 1:
            hint = "; if it is meant as a TCK, ISO/IEC 7816-3 forbids one when only T=0 is indicated"
        after = "TCK" if tck_required else "historical bytes"
        raise fail(f"{extra} unexpected byte(s) after the {after}{hint}", pos)

    return Atr(raw=raw, groups=tuple(groups), historical_info=historical, tck=tck, tck_ok=tck_ok)
