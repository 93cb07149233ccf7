"""What distinguishes the card generations, as one record per generation.

The command sets (``cps3.py``, ``cps4.py``) take their channel, their way of
selecting files, their signature schemes and the PIN-counter fallback from
here; ``identify.MIN_CRYPTOLIB`` (read by ``env/``) is derived from it. Facts:
../shared/research/card.md. The emulator keeps its own copy of these facts
(``emulator/generations.py``), so that a mistake here cannot pass through both.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import Mapping


@dataclass(frozen=True)
class Generation:
    name: str                        # "CPS3", "CPS4": the report's card.generation
    logical_channel: int             # where the PKCS#15 application is worked: 0 (basic) or 1 (ChipDoc)
    select_path_p1: int              # SELECT by path: 0x09 (from the MF, 3F00 included) or 0x08 (3F00 left out)
    pin_counter: str                 # "get_data": the IAS-ECC PIN object; "verify": VERIFY without data (63Cx)
    short_ef_ids: bool               # EF.SN.ICC and EF.DIR read by short EF identifier
    schemes: tuple[str, ...]         # what the authentication key can sign for TLS: "pkcs1", "pss"
    min_cryptolib: str               # the oldest Cryptolib CPS that drives it
    assumed_max_tries: int | None    # the PIN's try limit when the card does not tell


CPS3 = Generation("CPS3", logical_channel=0, select_path_p1=0x09, pin_counter="get_data", short_ef_ids=True,
                  schemes=("pkcs1",), min_cryptolib="5.0", assumed_max_tries=None)
CPS4 = Generation("CPS4", logical_channel=1, select_path_p1=0x08, pin_counter="verify", short_ef_ids=False,
                  schemes=("pkcs1", "pss"), min_cryptolib="5.2", assumed_max_tries=3)   # card.md §3.3

GENERATIONS: Mapping[str, Generation] = MappingProxyType({g.name: g for g in (CPS3, CPS4)})
