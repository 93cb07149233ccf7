"""The business data a virtual card holds, from the profile's ``[data]`` table.

Real cards carry PKCS#15 data objects (CPS_DATA, CPS_NAME_PS, the holder's
practice situations CPS_ACTIVITY_nn_PS...) whose formats ANS describes in a
document that is not public ("ASIP_CPS3_Données-métier"). What is known and
what is assumed is in docs/emulator.md; in short:

* a practice situation is written as the one public hint has it (research
  cryptolib-data-objects.md §2.1): a BER-TLV ``EE`` holding ``84`` the
  structure's name, ``85`` its national identifier (Struct_IdNat: the G07
  type digit then the identifier), ``86`` its sector of activity (R02 code);
* CPS_DATA is a free area applications write (zero-filled by default);
* every other object gets a placeholder described in docs/emulator.md, or
  the bytes the profile gives (``[data.objects]``, hex, by label).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import ProfileError

MAX_SITUATIONS = 16           # CPS_ACTIVITY_01_PS ... _16_PS
DEFAULT_CPS_DATA_SIZE = 2048  # UNCERTAIN: a real CPS3's CPS_DATA takes seconds to read, so a few KB
MAX_CPS_DATA_SIZE = 0x7FFF
SECTOR = re.compile(r"SA[0-9]{2}")
DATA_KEYS = {"cps_data_size", "cps_data", "situations", "objects"}
SITUATION_KEYS = {"structure_name", "structure_id", "sector"}
MAX_TEXT = 60                 # keeps every situation TLV under 128 bytes: one-byte lengths, as the hint reads them


@dataclass(frozen=True)
class Situation:
    """One practice situation (situation d'exercice): where and how the holder practises."""

    structure_name: str
    structure_id: str          # Struct_IdNat: G07 type digit + identifier (1 FINESS, 3 SIRET, 4 cabinet RPPS...)
    sector: str                # R02 sector of activity, e.g. SA07 Cabinet individuel

    def encode(self) -> bytes:
        from .der import tlv

        return tlv(0xEE, tlv(0x84, self.structure_name.encode()), tlv(0x85, self.structure_id.encode()),
                   tlv(0x86, self.sector.encode()))


@dataclass(frozen=True)
class CardData:
    situations: tuple[Situation, ...]
    cps_data: bytes
    objects: dict[str, bytes] = field(default_factory=dict)    # label -> raw contents given by the profile


def situation_label(n: int) -> str:
    return f"CPS_ACTIVITY_{n:02d}_PS"


def cps2ter_situation_label(n: int) -> str:
    return f"CPS2TER_ACTIVITY_{n:02d}_PS"


def default_situations(holder: dict[str, Any]) -> tuple[Situation, ...]:
    """One situation matching the [holder] table: the hospital of a CPE/CPA, else a practice of one's own."""
    if holder.get("card_type") in (2, 3):
        unit = str(holder.get("organizational_unit", "1999999990"))
        return (Situation(str(holder.get("organization", "STRUCTURE EMULATEUR"))[:MAX_TEXT], unit, "SA01"),)
    surname = str(holder.get("surname", "EMULATEUR"))
    sector = "SA33" if holder.get("profession_code") == 21 else "SA07"      # pharmacie d'officine, cabinet
    name = ("PHARMACIE " if sector == "SA33" else "CABINET ") + surname
    return (Situation(name[:MAX_TEXT], "399999999900019", sector),)           # 3 + a test SIRET


def _error(file: Path, field_name: str, message: str) -> Exception:
    return ProfileError(file, field_name, message)


def _hex(value: Any, file: Path, field_name: str) -> bytes:
    if not isinstance(value, str):
        raise _error(file, field_name, "must be a hex string")
    try:
        data = bytes.fromhex(value.replace(" ", "").replace(":", ""))
    except ValueError:
        raise _error(file, field_name, "not hexadecimal") from None
    if not 1 <= len(data) <= MAX_CPS_DATA_SIZE:
        raise _error(file, field_name, f"must hold 1 to {MAX_CPS_DATA_SIZE} bytes")
    return data


def _text(table: dict[str, Any], key: str, file: Path, where: str, pattern: re.Pattern[str] | None = None) -> str:
    value = table.get(key)
    if not isinstance(value, str) or not value.strip():
        raise _error(file, f"{where}.{key}", "missing or empty text")
    if len(value) > MAX_TEXT or not value.isprintable():
        raise _error(file, f"{where}.{key}", f"at most {MAX_TEXT} printable characters")
    if pattern is not None and not pattern.fullmatch(value):
        raise _error(file, f"{where}.{key}", "must be an R02 sector code such as SA07")
    return value


def _situations(value: Any, file: Path) -> tuple[Situation, ...]:
    if not isinstance(value, list):
        raise _error(file, "data.situations", "must be an array of tables ([[data.situations]])")
    if len(value) > MAX_SITUATIONS:
        raise _error(file, "data.situations", f"a card holds at most {MAX_SITUATIONS} practice situations")
    out = []
    for i, table in enumerate(value, 1):
        where = f"data.situations[{i}]"
        if not isinstance(table, dict):
            raise _error(file, where, "must be a table with structure_name, structure_id and sector")
        for key in table:
            if key not in SITUATION_KEYS:
                raise _error(file, f"{where}.{key}", "unknown key (expected structure_name, structure_id, sector)")
        out.append(Situation(_text(table, "structure_name", file, where), _text(table, "structure_id", file, where),
                             _text(table, "sector", file, where, SECTOR)))
    return tuple(out)


def parse_data(doc: dict[str, Any], file: Path, labels: Callable[[int], list[str]],
               with_situations: bool = True) -> CardData:
    """The [data] table of a profile (everything optional; defaults from [holder]).

    ``labels(n)`` lists the data objects of the profile's card when it holds n situations;
    ``with_situations`` is false for a face of the card that holds none (contactless)."""
    table = doc.get("data", {})
    if not isinstance(table, dict):
        raise _error(file, "data", "must be a table")
    for key in table:
        if key not in DATA_KEYS:
            raise _error(file, f"data.{key}", "unknown key (expected " + ", ".join(sorted(DATA_KEYS)) + ")")
    found = doc.get("holder")
    holder: dict[str, Any] = found if isinstance(found, dict) else {}
    if not with_situations:
        if table.get("situations"):
            raise _error(file, "data.situations", "the contactless face holds no practice situation")
        situations: tuple[Situation, ...] = ()
    elif "situations" in table:
        situations = _situations(table["situations"], file)
    else:
        situations = default_situations(holder)
    if "cps_data" in table and "cps_data_size" in table:
        raise _error(file, "data.cps_data_size", "give cps_data (the contents) or cps_data_size, not both")
    if "cps_data" in table:
        cps_data = _hex(table["cps_data"], file, "data.cps_data")
    else:
        size = table.get("cps_data_size", DEFAULT_CPS_DATA_SIZE)
        if not isinstance(size, int) or isinstance(size, bool) or not 1 <= size <= MAX_CPS_DATA_SIZE:
            raise _error(file, "data.cps_data_size", f"must be an integer from 1 to {MAX_CPS_DATA_SIZE}")
        cps_data = bytes(size)
    objects_table = table.get("objects", {})
    if not isinstance(objects_table, dict):
        raise _error(file, "data.objects", "must be a table: object label = \"hex\"")
    objects = {}
    known_labels = set(labels(len(situations)))
    for label, value in objects_table.items():
        if label not in known_labels:
            raise _error(file, f"data.objects.{label}", "not a data object of this card (known: "
                         + ", ".join(sorted(known_labels)) + ")")
        objects[label] = _hex(value, file, f"data.objects.{label}")
    return CardData(situations, cps_data, objects)
