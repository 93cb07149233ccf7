"""ISO 7816-4 status words: the values cpsdiag and its emulator use, and their meaning."""

from __future__ import annotations

from enum import IntEnum


class SW(IntEnum):
    OK = 0x9000
    END_OF_FILE = 0x6282          # fewer bytes than Le before the end of the file
    VERIFY_FAILED = 0x63C0        # low nibble = tries left
    MEMORY_FAILURE = 0x6581
    WRONG_LENGTH = 0x6700
    LOGICAL_CHANNEL_NOT_SUPPORTED = 0x6881
    CHAINING_NOT_SUPPORTED = 0x6884
    SECURITY_STATUS_NOT_SATISFIED = 0x6982
    AUTH_METHOD_BLOCKED = 0x6983
    CONDITIONS_NOT_SATISFIED = 0x6985
    COMMAND_NOT_ALLOWED_NO_EF = 0x6986
    WRONG_DATA = 0x6A80
    FUNCTION_NOT_SUPPORTED = 0x6A81
    FILE_NOT_FOUND = 0x6A82
    INCORRECT_P1P2 = 0x6A86
    REFERENCED_DATA_NOT_FOUND = 0x6A88
    WRONG_P1P2 = 0x6B00
    INS_NOT_SUPPORTED = 0x6D00
    CLA_NOT_SUPPORTED = 0x6E00
    NO_PRECISE_DIAGNOSIS = 0x6F00


_SW1_MEANING = {
    0x61: "more response bytes available (GET RESPONSE)",
    0x6C: "wrong Le, the exact length is in SW2",
    0x62: "warning, state of non-volatile memory unchanged",
    0x63: "warning, state of non-volatile memory changed",
    0x64: "execution error, memory unchanged",
    0x65: "execution error, memory changed",
    0x67: "wrong length",
    0x68: "function in CLA not supported",
    0x69: "command not allowed",
    0x6A: "wrong parameters P1-P2",
    0x6B: "wrong parameters P1-P2",
    0x6D: "instruction not supported",
    0x6E: "class not supported",
    0x6F: "no precise diagnosis",
}


def describe(sw: int) -> str:
    """A short English description of a status word, for traces and finding details."""
    try:
        name = SW(sw).name.replace("_", " ").lower()
    except ValueError:
        name = None
    sw1, sw2 = sw >> 8, sw & 0xFF
    if sw1 == 0x63 and sw2 & 0xF0 == 0xC0:
        return f"verification failed, {sw2 & 0x0F} tries left"
    if name:
        return name
    return _SW1_MEANING.get(sw1, "unknown status")
