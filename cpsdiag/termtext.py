"""Text for terminals that may be narrow, colourless, dumb or not UTF-8: wrapping that never cuts a value.

Pure string functions (no Rich), shared by every console view:

* ``wrap`` breaks prose at spaces only. An identifier, a serial or a date is
  never cut with an ellipsis: a word wider than the line is folded (at the
  colons of a fingerprint when it has some), except a URL or a path, which
  stays whole on a line of its own even if wider than the line (a terminal
  shows it soft-wrapped; copied, it still works). A run of hex bytes (an ATR)
  is split so that no byte is left alone on a line.
* ``ascii_text`` is what a terminal that cannot show UTF-8 gets instead of a
  ``UnicodeEncodeError``.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Callable

_HEX_BYTE = re.compile(r"[0-9A-Fa-f]{2}[.,;:)]?")
_UNBREAKABLE = re.compile(r"://|^[~/\\]|^[A-Za-z]:\\|^\(?https?:|^www\.")


def _width(text: str) -> int:
    from rich.cells import cell_len

    return cell_len(text)


def _fold(word: str, width: int, measure: Callable[[str], int]) -> list[str]:
    """A word wider than the line, in pieces: after its colons when it has some (AB:CD:...), else anywhere."""
    pieces: list[str] = []
    parts = re.findall(r"[^:]*:|[^:]+$", word) if ":" in word and "://" not in word else list(word)
    line = ""
    for part in parts:
        if line and measure(line + part) > width:
            pieces.append(line)
            line = ""
        while measure(part) > width:                    # one part wider than the line: characters
            cut = max(1, _fit(part, width, measure))
            pieces.append(part[:cut])
            part = part[cut:]
        line += part
    if line:
        pieces.append(line)
    return pieces


def _fit(text: str, width: int, measure: Callable[[str], int]) -> int:
    n = 0
    while n < len(text) and measure(text[:n + 1]) <= width:
        n += 1
    return n


def _is_byte(word: str) -> bool:
    return bool(_HEX_BYTE.fullmatch(word))


def wrap(text: str, width: int, *, overflow_long: bool = True, measure: Callable[[str], int] | None = None
         ) -> list[str]:
    """Lines of at most ``width`` cells (but unbreakable URLs and paths when ``overflow_long``), for each paragraph."""
    measure = measure or _width
    width = max(1, width)
    out: list[str] = []
    for paragraph in text.split("\n"):
        lines: list[list[str]] = [[]]
        for word in _words(paragraph):
            line = lines[-1]
            if measure(" ".join([*line, word])) <= width:
                line.append(word)
            elif measure(word) <= width or (overflow_long and _UNBREAKABLE.search(word)):
                lines.append([word])         # a URL or a path wider than the line: whole, on its own line
            else:
                pieces = _fold(word, width, measure)
                if line and measure(" ".join([*line, pieces[0]])) > width:
                    lines.append([])
                lines[-1].append(pieces[0])
                lines += [[p] for p in pieces[1:]]
        _keep_bytes_together(lines, width, measure)
        out += [" ".join(line) for line in lines]
    return out


def _words(paragraph: str) -> list[str]:
    """Words, French punctuation kept with its word (the space in "répond ;" or "« x »" never breaks)."""
    out: list[str] = []
    glue_next = False
    for word in paragraph.split():
        if out and (glue_next or word in (";", ":", "?", "!", "»")):
            out[-1] += " " + word
        else:
            out.append(word)
        glue_next = word == "«"
    return out


def _keep_bytes_together(lines: list[list[str]], width: int, measure: Callable[[str], int]) -> None:
    """The last byte of a hex run (an ATR) never starts a line alone: the byte before it goes down too."""
    for n in range(1, len(lines)):
        prev, line = lines[n - 1], lines[n]
        if not line or not _is_byte(line[0]) or (len(line) > 1 and _is_byte(line[1])):
            continue
        if len(prev) >= 3 and _is_byte(prev[-1]) and _is_byte(prev[-2]) and _is_byte(prev[-3]):
            moved = [prev[-1], *line]
            if measure(" ".join(moved)) <= width:
                prev.pop()
                lines[n] = moved


# -- terminals that cannot show UTF-8 -------------------------------------------------------------------

ASCII_FOR = {"—": "-", "–": "-", "…": "...", "«": '"', "»": '"', "’": "'", "‘": "'", "“": '"', "”": '"',
             "✔": "+", "✖": "x", "ℹ": "i", "◀": "<", "←": "<-", "→": "->", "·": "-", "°": "o", "\u00a0": " ",
             "\u202f": " "}


def ascii_text(text: str) -> str:
    """Text that any terminal can show: accents dropped, marks and dashes spelt in ASCII, anything else as ?."""
    out = []
    for char in text:
        if char < "\x80":
            out.append(char)
        elif char in ASCII_FOR:
            out.append(ASCII_FOR[char])
        else:
            plain = unicodedata.normalize("NFKD", char).encode("ascii", "ignore").decode()
            out.append(plain or "?")
    return "".join(out)


# -- data that must not act on a terminal ---------------------------------------------------------------

# Whole escape sequences first (so that no "[31m" is left behind), then any control character left:
# CSI (ESC [ or C1 9B) ... final byte; OSC (ESC ] or 9D, hyperlinks included) ... BEL or ST; DCS, SOS, PM, APC
# ... ST; any other two-character ESC sequence.
_SEQUENCES = re.compile(
    r"(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]?"
    r"|(?:\x1b[\]PX^_]|[\x9d\x90\x98\x9e\x9f])[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?"
    r"|\x1b[ -~]?")
# C0 but newline, DEL, C1; bidirectional overrides, embeddings, isolates and marks (they reorder what is shown).
_CONTROLS = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]")


def clean(text: str) -> str:
    """``text`` without escape sequences, control characters nor bidirectional controls (a tab becomes a space)."""
    if text.isprintable():
        return text
    return _CONTROLS.sub(lambda m: " " if m.group(0) in "\t\u2028\u2029" else "",
                         _SEQUENCES.sub("", text))
