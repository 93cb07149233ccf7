"""Faults the virtual card can be told to have, from the profile's ``[faults]`` table.

They reproduce what real cards and readers do when things go wrong (lab.md
§8, Cryptolib release notes): a card pulled out in the middle of a read, a
card that stops answering, a card at its real T=0 speed, a command answered
with an error status, a corrupt or truncated file, the CPS4's 69 85.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import ProfileError

FAULT_KEYS = {"remove_after_apdus", "reinsert_after_seconds", "mute_after_apdus", "slow", "clock_mhz",
              "status_words", "corrupt_files", "truncate_files", "cps4_6985_once"}
_PATH = re.compile(r"^(3F00/)?([0-9A-Fa-f]{4}/)*[0-9A-Fa-f]{4}$")


@dataclass(frozen=True)
class Faults:
    remove_after_apdus: int | None = None       # after the Nth APDU the card leaves the reader
    reinsert_after_seconds: float | None = None  # and comes back after this long (None: stays out)
    mute_after_apdus: int | None = None         # after the Nth APDU the card never answers again
    slow: bool = False                          # answer at the speed the ATR's Fi/Di give at clock_mhz
    clock_mhz: float = 4.0
    status_words: dict[int, int] = field(default_factory=dict)   # INS -> status word returned instead
    corrupt_files: tuple[str, ...] = ()          # paths from the MF ("0001/A001"): content garbled
    truncate_files: dict[str, int] = field(default_factory=dict)  # path -> size kept
    cps4_6985_once: bool = False                # first command on channel 1 after a reset answers 69 85

    @property
    def any(self) -> bool:
        return self != Faults()


def _int(table: dict[str, Any], key: str, error: Any, minimum: int = 0) -> int | None:
    if key not in table:
        return None
    value = table[key]
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        raise error(f"faults.{key}", f"must be an integer >= {minimum}")
    return value


def _hex_byte(text: Any, size: int, key: str, error: Any) -> int:
    if not isinstance(text, str) or not re.fullmatch(rf"[0-9A-Fa-f]{{{2 * size}}}", text.replace(" ", "")):
        raise error(key, f"{text!r} is not {size} byte(s) of hex")
    return int(text.replace(" ", ""), 16)


def _path(text: Any, key: str, error: Any) -> str:
    if not isinstance(text, str) or not _PATH.match(text):
        raise error(key, f"{text!r} is not a file path such as 0001/A001")
    parts = text.upper().split("/")
    return "/".join(parts[1:] if parts[0] == "3F00" else parts)


def parse_faults(table: Any, file: Path) -> Faults:
    def error(field_name: str, message: str) -> ProfileError:
        return ProfileError(file, field_name, message)

    if not isinstance(table, dict):
        raise error("faults", "must be a table")
    for key in table:
        if key not in FAULT_KEYS:
            raise error(f"faults.{key}", "unknown fault (known: " + ", ".join(sorted(FAULT_KEYS)) + ")")
    reinsert = table.get("reinsert_after_seconds")
    if reinsert is not None and (not isinstance(reinsert, (int, float)) or isinstance(reinsert, bool) or reinsert < 0):
        raise error("faults.reinsert_after_seconds", "must be a number of seconds >= 0")
    clock = table.get("clock_mhz", 4.0)
    if not isinstance(clock, (int, float)) or isinstance(clock, bool) or not 1 <= clock <= 20:
        raise error("faults.clock_mhz", "must be a reader clock between 1 and 20 MHz")
    slow = table.get("slow", False)
    if not isinstance(slow, bool):
        raise error("faults.slow", "must be true or false")
    status = table.get("status_words", {})
    if not isinstance(status, dict):
        raise error("faults.status_words", 'must be a table such as { "88" = "6F00" }')
    status_words = {_hex_byte(ins, 1, "faults.status_words", error): _hex_byte(sw, 2, f"faults.status_words.{ins}",
                                                                               error)
                    for ins, sw in status.items()}
    corrupt = table.get("corrupt_files", [])
    if not isinstance(corrupt, list):
        raise error("faults.corrupt_files", 'must be a list such as ["0001/A001"]')
    truncate = table.get("truncate_files", {})
    if not isinstance(truncate, dict):
        raise error("faults.truncate_files", 'must be a table such as { "0001/A001" = 100 }')
    truncated: dict[str, int] = {}
    for path, size in truncate.items():
        if not isinstance(size, int) or isinstance(size, bool) or size < 0:
            raise error(f"faults.truncate_files.{path}", "must be the number of bytes to keep")
        truncated[_path(path, "faults.truncate_files", error)] = size
    once = table.get("cps4_6985_once", False)
    if not isinstance(once, bool):
        raise error("faults.cps4_6985_once", "must be true or false")
    return Faults(
        remove_after_apdus=_int(table, "remove_after_apdus", error, 1),
        reinsert_after_seconds=float(reinsert) if reinsert is not None else None,
        mute_after_apdus=_int(table, "mute_after_apdus", error, 1),
        slow=slow, clock_mhz=float(clock), status_words=status_words,
        corrupt_files=tuple(_path(p, "faults.corrupt_files", error) for p in corrupt),
        truncate_files=truncated, cps4_6985_once=once,
    )


def garble(data: bytes) -> bytes:
    """A file whose first bytes look right but whose content is garbage (bad lengths, bad tags)."""
    keep = min(4, len(data))
    return data[:keep] + bytes((0xA5 ^ (i * 37)) & 0xFF for i in range(len(data) - keep))
