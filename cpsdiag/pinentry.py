"""Getting the PIN from the user, and keeping it out of every output.

A ``Pin`` never shows its value in ``repr``/``str`` (so it cannot end up in a
log line, a traceback's locals or a report by accident) and is wiped once used.
The PIN is asked for only when a command needs it and the card's counter
allows a try: the library calls a ``PinSource`` at that moment, never before.
"""

from __future__ import annotations

import sys
from typing import Callable, NoReturn

from cpsdiag.errors import UsageError


class Pin:
    __slots__ = ("_value",)

    def __init__(self, value: bytes):
        self._value = bytearray(value)

    def __repr__(self) -> str:
        return "Pin(<hidden>)"

    __str__ = __repr__

    def __reduce__(self) -> NoReturn:  # never pickled, never copied into a report
        raise TypeError("a PIN cannot be serialised")

    def reveal(self) -> bytes:
        return bytes(self._value)

    def wipe(self) -> None:
        for i in range(len(self._value)):
            self._value[i] = 0
        self._value = bytearray()


# Called with (min_length, max_length); returns None when the user gave nothing.
PinSource = Callable[[int, int], "Pin | None"]


def _validated(text: str, min_length: int, max_length: int) -> Pin | None:
    text = text.strip()
    if not text:
        return None
    # The message never repeats what was typed.
    if not text.isdigit() or not min_length <= len(text) <= max_length:
        raise UsageError(f"the PIN must be {min_length} to {max_length} digits")
    return Pin(text.encode("ascii"))


def prompt_source(prompt: str) -> PinSource:
    """Ask on the terminal without echo."""

    def source(min_length: int, max_length: int) -> Pin | None:
        import getpass

        try:
            return _validated(getpass.getpass(prompt), min_length, max_length)
        except (EOFError, KeyboardInterrupt):
            return None

    return source


def stdin_source() -> PinSource:
    """Read the first line of standard input (scripted use: --pin-stdin)."""

    def source(min_length: int, max_length: int) -> Pin | None:
        line = sys.stdin.readline()
        return _validated(line, min_length, max_length)

    return source
