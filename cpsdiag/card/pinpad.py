"""PIN-pad readers (PC/SC part 10): find FEATURE_VERIFY_PIN_DIRECT and verify the PIN on the pad.

With a PIN pad the PIN never reaches the computer: the reader sends VERIFY
itself once the user typed the digits on its keypad.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Any

from cpsdiag.card.cps3 import pin_result
from cpsdiag.errors import MalformedDataError, PcscError
from cpsdiag.transport.features import GET_FEATURE_REQUEST, parse_features

@dataclass(frozen=True)
class ReaderFeatures:
    controls: dict[str, int]          # feature name -> control code

    @property
    def pin_pad(self) -> bool:
        return "FEATURE_VERIFY_PIN_DIRECT" in self.controls


def reader_features(link: Any) -> ReaderFeatures:
    """What the reader offers; a reader that does not support SCardControl offers nothing."""
    try:
        features = parse_features(link.control(link.control_code(GET_FEATURE_REQUEST)))
    except (PcscError, MalformedDataError, AttributeError):
        return ReaderFeatures({})
    return ReaderFeatures({f.name: f.control_code for f in features})


def verify_structure(cla: int, reference: int, min_len: int, max_len: int, timeout_s: int = 30) -> bytes:
    """PIN_VERIFY_STRUCTURE for an ASCII PIN of min..max digits, sent unpadded (as the Cryptolib does)."""
    apdu = bytes([cla, 0x20, 0x00, reference, 0x00])          # Lc filled in by the reader
    return struct.pack(
        "<BBBBBHBBHB3sI",
        timeout_s, timeout_s,
        0x82,            # bmFormatString: system units = bytes, ASCII, left-justified
        0x00,            # bmPINBlockString: no PIN length inside the block
        0x00,            # bmPINLengthFormat
        (min_len << 8) | max_len,   # wPINMaxExtraDigit: min in the high byte, max in the low byte
        0x02,            # bEntryValidationCondition: validation key pressed
        0x01,            # bNumberMessage
        0x0409,          # wLangId
        0x00,            # bMsgIndex
        b"\x00\x00\x00",  # bTeoPrologue (T=1 only)
        len(apdu),       # ulDataLength
    ) + apdu


def verify_on_pad(link: Any, features: ReaderFeatures, cla: int, reference: int, min_len: int, max_len: int) -> None:
    """Let the reader ask for the PIN on its keypad; raises the typed PIN errors like a VERIFY."""
    response = link.control(features.controls["FEATURE_VERIFY_PIN_DIRECT"],
                            verify_structure(cla, reference, min_len, max_len))
    if len(response) != 2:
        raise MalformedDataError("PIN pad answer", f"{len(response)} bytes, expected a status word")
    pin_result((response[0] << 8) | response[1])
