"""The virtual CPS card of a profile: a CPS3 or a CPS4 (cps3.py, cps4.py over cardbase.py).

``virtual_card(profile).process(apdu)`` returns the response APDU (data +
SW1 SW2); it never raises.
"""

from __future__ import annotations

from .cardbase import CardBase
from .profile import Profile

# Command data that must never reach a log: PINs and unblock codes.
SECRET_INS = {0x20, 0x24, 0x2C}


def virtual_card(profile: Profile) -> CardBase:
    from .cps3 import Cps3Card
    from .cps4 import Cps4Card

    classes: dict[str, type[CardBase]] = {"CPS3": Cps3Card, "CPS4": Cps4Card}
    return classes[profile.generation](profile)


def mask_secrets(raw: bytes) -> str:
    """Hex of an APDU for logs, with the data of PIN commands replaced by '**'."""
    if len(raw) > 5 and raw[1] in SECRET_INS:
        return raw[:5].hex(" ") + " " + " ".join(["**"] * (len(raw) - 5))
    return raw.hex(" ")
