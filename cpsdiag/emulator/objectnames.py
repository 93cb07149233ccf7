"""Which data objects a card holds, by label, and where the public ones live.

Apart from ``dataobjects.py`` (which builds their contents from a profile)
because reading a profile needs the labels first: how many situations a
profile may fill depends on them.
"""

from __future__ import annotations

from .carddata import cps2ter_situation_label, situation_label
from .generations import GenerationFacts

PUBLIC_CPS = {"CPS_DATA": 0xD107, "CPS_ID_CARD": 0xD101, "CPS_NAME_PS": 0xD102, "CPS_LANG_PS": 0xD103,
              "CPS_INFO_PS": 0xD104}
PUBLIC_CPS2TER = {"CPS2TER_ATR": 0xD201, "CPS2TER_ID": 0xD202, "CPS2TER_ICC": 0xD203, "CPS2TER_NAME": 0xD204,
                  "CPS2TER_LANG": 0xD205, "CPS2TER_PSINFO": 0xD206, "CPS2TER_DIRAMO": 0xD207}


def labels(facts: GenerationFacts, contactless: bool, situations: int) -> list[str]:
    """Every data object a card holds (those of a CPS3's CPS2ter side included), in DODF order."""
    if contactless:
        return ["CPS_DATA"]
    out = list(PUBLIC_CPS)
    if facts.cps2ter_objects_in_dodf:
        out += list(PUBLIC_CPS2TER)
    out += [situation_label(n) for n in range(1, situations + 1)]
    out += ["CPS_SIT_FACT"] + [cps2ter_situation_label(n) for n in range(1, situations + 1)]
    return out
