"""Typed exceptions raised inside cpsdiag.

Library code raises these; only the diagnosis pipeline (``cpsdiag.diag``) turns
them into findings with codes, so that the mapping lives in one place.
"""

from __future__ import annotations


class CpsdiagError(Exception):
    """Base class of every error cpsdiag raises on purpose."""


class MalformedDataError(CpsdiagError):
    """Bytes from a card, a file or the network do not have the expected shape.

    ``what`` names the structure being parsed (``"ATR"``, ``"EF.DIR"``...),
    ``where`` the place it came from (a file path, ``"card 3F00/2F00"``...),
    ``offset`` the byte offset of the problem when known.
    """

    def __init__(self, what: str, reason: str, *, where: str | None = None, offset: int | None = None):
        self.what = what
        self.reason = reason
        self.where = where
        self.offset = offset
        parts = [what]
        if where:
            parts.append(f"({where})")
        msg = " ".join(parts) + f": {reason}"
        if offset is not None:
            msg += f" at offset {offset}"
        super().__init__(msg)


class UsageError(CpsdiagError):
    """The user asked for something that cannot be done as asked (bad option value, bad file)."""
