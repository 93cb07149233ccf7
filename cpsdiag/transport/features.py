"""PC/SC part 10 reader features: the answer to GET_FEATURE_REQUEST, parsed.

The reader answers SCardControl(SCARD_CTL_CODE(3400)) with a list of TLV:
tag (1 byte, the feature), length (always 4), and the control code to use for
that feature (4 bytes, big-endian). PC/SC part 10 v2.02.09 §2.3, as in
pcsc-lite's reader.h.
"""

from __future__ import annotations

from dataclasses import dataclass

from cpsdiag.errors import MalformedDataError

GET_FEATURE_REQUEST = 3400


@dataclass(frozen=True)
class Feature:
    tag: int
    name: str                           # "FEATURE_VERIFY_PIN_DIRECT"
    control_code: int

FEATURES = {
    0x01: "FEATURE_VERIFY_PIN_START",
    0x02: "FEATURE_VERIFY_PIN_FINISH",
    0x03: "FEATURE_MODIFY_PIN_START",
    0x04: "FEATURE_MODIFY_PIN_FINISH",
    0x05: "FEATURE_GET_KEY_PRESSED",
    0x06: "FEATURE_VERIFY_PIN_DIRECT",
    0x07: "FEATURE_MODIFY_PIN_DIRECT",
    0x08: "FEATURE_MCT_READER_DIRECT",
    0x09: "FEATURE_MCT_UNIVERSAL",
    0x0A: "FEATURE_IFD_PIN_PROPERTIES",
    0x0B: "FEATURE_ABORT",
    0x0C: "FEATURE_SET_SPE_MESSAGE",
    0x0D: "FEATURE_VERIFY_PIN_DIRECT_APP_ID",
    0x0E: "FEATURE_MODIFY_PIN_DIRECT_APP_ID",
    0x0F: "FEATURE_WRITE_DISPLAY",
    0x10: "FEATURE_GET_KEY",
    0x11: "FEATURE_IFD_DISPLAY_PROPERTIES",
    0x12: "FEATURE_GET_TLV_PROPERTIES",
    0x13: "FEATURE_CCID_ESC_COMMAND",
    0x20: "FEATURE_EXECUTE_PACE",
}


def scard_ctl_code(code: int, platform: str) -> int:
    """SCARD_CTL_CODE as the platform's PC/SC defines it (pcsc-lite vs. winscard)."""
    if platform == "win32":
        return (0x31 << 16) + (code << 2)       # CTL_CODE(FILE_DEVICE_SMARTCARD, code, METHOD_BUFFERED, FILE_ANY_ACCESS)
    return 0x42000000 + code


def parse_features(data: bytes) -> tuple[Feature, ...]:
    """The features a GET_FEATURE_REQUEST answer lists, in order."""
    out = []
    i = 0
    while i < len(data):
        if i + 2 > len(data):
            raise MalformedDataError("GET_FEATURE_REQUEST answer", "TLV cut after its tag", offset=i)
        tag, length = data[i], data[i + 1]
        if length != 4 or i + 2 + length > len(data):
            raise MalformedDataError("GET_FEATURE_REQUEST answer",
                                     f"feature {tag:02X} has length {length}, expected 4", offset=i + 1)
        code = int.from_bytes(data[i + 2:i + 6], "big")
        out.append(Feature(tag, FEATURES.get(tag, f"FEATURE_{tag:02X}"), code))
        i += 2 + length
    return tuple(out)
