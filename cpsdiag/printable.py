"""Values quoted for messages with their control characters made visible.

A file name, an option value or a host name may hold escape sequences, a
carriage return that overwrites the line, bidirectional overrides or
undecodable bytes: quoted here, they are shown as ``\\x1b`` and can neither
drive the terminal nor break the output's encoding.
"""

from __future__ import annotations

from typing import Any

# C0 and C1 controls, the bidirectional marks and overrides, and lone surrogates (undecodable bytes of a
# file name, which cannot even be encoded for output).
_UNSAFE = frozenset(
    [*range(0x00, 0x20), *range(0x7F, 0xA0), 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A)])


def escape_controls(text: str, keep: str = "") -> str:
    r"""``text`` with every control character written as a visible escape (``\x1b``), except those in ``keep``."""
    out = []
    for ch in text:
        code = ord(ch)
        if ch in keep or not (code in _UNSAFE or 0xD800 <= code <= 0xDFFF):
            out.append(ch)
        else:
            out.append(f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")
    return "".join(out)


def shown(value: Any) -> str:
    """A value quoted for an error message, control characters escaped."""
    return "'" + escape_controls(str(value)) + "'"
