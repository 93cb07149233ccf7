"""Text files as the three systems write them: below ``system.py`` and ``registry.py``, which both read them."""

from __future__ import annotations


def decode_text(data: bytes) -> str:
    """Text of a file written by any of the three systems (UTF-16 with a BOM, as regedit writes; else UTF-8)."""
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return data.decode("utf-16", errors="replace")
    if data[:3] == b"\xef\xbb\xbf":
        data = data[3:]
    return data.decode("utf-8", errors="replace")
