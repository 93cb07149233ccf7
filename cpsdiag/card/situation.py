"""A practice situation (situation d'exercice) as a CPS card stores it in CPS_ACTIVITY_nn_PS.

ANS describes the format in a document that is not public ("ASIP_CPS3_Données
métier"). The only public reading (research cryptolib-data-objects.md §2.1,
unverified on a real card) is a BER-TLV under tag EE holding 84 the
structure's name, 85 its national identifier (Struct_IdNat) and 86 its sector
of activity (R02 code). ``parse_situation`` decodes exactly that and refuses
anything else: bytes in another form are reported raw, never guessed at.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from cpsdiag.errors import MalformedDataError
from cpsdiag.iso7816 import tlv

LABEL = re.compile(r"CPS_ACTIVITY_(0[1-9]|1[0-6])_PS")


@dataclass(frozen=True)
class PracticeSituation:
    structure_name: str
    structure_id: str           # Struct_IdNat: G07 type digit + identifier
    sector: str                 # R02 code, e.g. SA07 Cabinet individuel


def is_situation(label: str) -> bool:
    """CPS_ACTIVITY_01_PS ... _16_PS: the holder's practice situations (not the CPS2ter copies)."""
    return LABEL.fullmatch(label) is not None


def parse_situation(data: bytes, where: str = "CPS_ACTIVITY") -> PracticeSituation:
    objects = tlv.parse(data, what="practice situation", where=where, skip_padding=True)
    if len(objects) != 1 or objects[0].tag != 0xEE:
        raise MalformedDataError("practice situation", "not one EE template", where=where, offset=0)
    fields: dict[int, str] = {}
    for child in objects[0].children():
        if child.tag in (0x84, 0x85, 0x86) and child.tag not in fields:
            try:
                fields[child.tag] = child.value.decode("utf-8")
            except UnicodeDecodeError:
                raise MalformedDataError("practice situation", f"tag {child.tag:02X} is not UTF-8 text",
                                         where=where, offset=child.offset) from None
    missing = [f"{t:02X}" for t in (0x84, 0x85, 0x86) if t not in fields]
    if missing:
        raise MalformedDataError("practice situation", "missing " + ", ".join(missing), where=where, offset=0)
    return PracticeSituation(fields[0x84], fields[0x85], fields[0x86])
