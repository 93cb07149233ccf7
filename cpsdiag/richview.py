"""Rich pieces shared by every console view: the console, the marks, label/value panels and prose.

They hold for any terminal: 40 columns wide (values wrap under their label
instead of vanishing, never cut with an ellipsis), no colour (every line
carries a word or a mark), ``TERM=dumb`` or a locale that is not UTF-8 (ASCII
marks and boxes, text spelt in ASCII instead of a ``UnicodeEncodeError``).
Wrapping itself is ``termtext.wrap``.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from typing import IO, Any, Iterable, cast

from rich import box
from rich.console import Console, ConsoleOptions, RenderResult
from rich.measure import Measurement
from rich.panel import Panel
from rich.text import Text

from cpsdiag.termtext import ascii_text, wrap

MARKS = {"ok": ("✔", "green"), "info": ("ℹ", "cyan"), "warning": ("!", "yellow"), "error": ("✖", "red")}
ASCII_MARKS = {"ok": ("+", "green"), "info": ("i", "cyan"), "warning": ("!", "yellow"), "error": ("x", "red")}
GAP = 2                 # between a label and its value
STACK_BELOW = 32        # a value column narrower than this (or than the widest value): values go under labels
INDENT = 2              # of a value under its label


class _AsciiStream:
    """A text stream that cannot encode UTF-8, made to take any text (spelt in ASCII)."""

    def __init__(self, stream: IO[str]):
        self._stream = stream
        self.encoding = "ascii"

    def write(self, text: str) -> int:
        return self._stream.write(ascii_text(text))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def _utf8(stream: Any) -> bool:
    return str(getattr(stream, "encoding", None) or "utf-8").lower().replace("_", "-").startswith("utf")


def make_console(file: IO[str] | None = None, **kwargs: Any) -> Console:
    """The console of the views: no highlighting, our own wrapping; ASCII when the output cannot take UTF-8."""
    stream = file if file is not None else sys.stdout
    if not _utf8(stream):
        stream = cast(IO[str], _AsciiStream(stream))     # duck-typed: Rich only writes and flushes
    return Console(file=stream, highlight=False, soft_wrap=False, **kwargs)


def plain(console: Console) -> bool:
    """ASCII marks and boxes: the output cannot take UTF-8, or the terminal says it is dumb."""
    return not console.encoding.startswith("utf") or os.environ.get("TERM") == "dumb"


def marks(console: Console) -> dict[str, tuple[str, str]]:
    return ASCII_MARKS if plain(console) else MARKS


def dash(console: Console) -> str:
    return "-" if plain(console) else "—"


def panel(content: Any, title: str, console: Console) -> Panel:
    return Panel(content, title=title, title_align="left", expand=False,
                 box=box.ASCII if plain(console) else box.ROUNDED)


@dataclass(frozen=True)
class Row:
    """A label and its value; a section heading has no value; ``style`` colours the value (never alone)."""

    label: str
    value: str = ""
    section: bool = False
    style: str = ""


class KeyValues:
    """Labels and values side by side when there is room, else each value under its label.

    Nothing is ever cut: a value wraps at its spaces, and a word wider than
    its column (a serial, a fingerprint, a path) is folded whole.
    """

    def __init__(self, rows: Iterable[Row]):
        self.rows = list(rows)

    def _widths(self, console: Console) -> tuple[int, int, int]:
        labels = [console.measure(Text(r.label)).maximum for r in self.rows if not r.section]
        values = [Text(r.value).cell_len for r in self.rows if not r.section]
        sections = [Text(r.label).cell_len for r in self.rows if r.section]
        return max(labels, default=0), max(values, default=0), max(sections, default=0)

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        label, value, section = self._widths(console)
        widest = max(label + GAP + value, section)
        return Measurement(min(widest, 20), widest).clamp(max_width=options.max_width)

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        width = options.max_width
        label_w, value_w, _section = self._widths(console)
        room = width - label_w - GAP
        side = room >= min(value_w, STACK_BELOW)
        for row in self.rows:
            if row.section:
                for line in wrap(row.label, width, overflow_long=False):
                    yield Text(line, style="bold underline")
                continue
            if side:
                lines = wrap(row.value, room, overflow_long=False) if row.value else [""]
                yield Text.assemble((row.label.ljust(label_w), "bold"), " " * GAP, (lines[0], row.style))
                for line in lines[1:]:
                    yield Text.assemble(" " * (label_w + GAP), (line, row.style))
            else:
                for line in wrap(row.label, width, overflow_long=False) if row.label else []:
                    yield Text(line, style="bold")
                if row.value:
                    for line in wrap(row.value, width - INDENT, overflow_long=False):
                        yield Text.assemble(" " * INDENT, (line, row.style))


def print_prose(console: Console, text: str, *, first: str = "", indent: int = 0, style: str = "",
                first_style: str = "") -> None:
    """Paragraphs wrapped to the console at spaces only; a URL or a path wider than the line is kept whole.

    ``first`` is printed before the first line (a mark, a number); every
    line is indented by ``indent`` cells.
    """
    width = max(10, console.width - indent)
    for n, line in enumerate(wrap(text, width)):
        prefix = first.ljust(indent) if n == 0 and first else " " * indent
        head = Text(prefix, style=first_style if n == 0 and first else "")
        console.print(Text.assemble(head, (line, style)), crop=False, overflow="ignore", no_wrap=True)
