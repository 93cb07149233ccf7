"""What differs between a CPS3 and a CPS4 in the files the virtual card holds.

The emulator keeps its own copy of these facts (it shares no code with
cpsdiag's card layer, so that a misreading cannot hide by being made on both
sides). How each generation *answers commands* is in cps3.py and cps4.py.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class GenerationFacts:
    name: str
    token_label: str                   # TokenInfo label prefix: "CPS3v3-2900995266", "CPS4v1-3100603746"
    key_references: tuple[int, int]    # keyReference of the authentication key, of the signature key
    cps_data_modifiable: bool          # CPS_DATA's DODF entry has the modifiable flag (and the file takes UPDATE)
    cps2ter_objects_in_dodf: bool      # CPS2TER_* and CPS_SIT_FACT are DODF objects (a CPS3 serves them on
                                       # its CPS2ter side instead, where the Cryptolib builds them itself)
    contactless: bool = False          # has a contactless (ISO 14443) face to emulate: the CPS3 only


# Labels: ANS's campaign results (CPS3v3-2900995266, CPS4v1-3100603746; the contactless face "CPS3v3_CL").
# Key references: a real CPS3 (OpenSC #2267); CPS4 authentication 20 from the Cryptolib's driver, signature
# 21 UNCERTAIN. CPS_DATA: writable on the real CPS3 of the campaign, not found as modifiable on the CPS4.
CPS3 = GenerationFacts("CPS3", "CPS3v3", (0x82, 0x81), cps_data_modifiable=True, cps2ter_objects_in_dodf=False,
                       contactless=True)
CPS4 = GenerationFacts("CPS4", "CPS4v1", (0x20, 0x21), cps_data_modifiable=False, cps2ter_objects_in_dodf=True)

GENERATIONS = {facts.name: facts for facts in (CPS3, CPS4)}
