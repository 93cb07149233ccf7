"""The Windows registry, read live (winreg) or from ``.reg`` exports (fake layouts, helpdesk captures).

The export format is regedit's ("Windows Registry Editor Version 5.00"):
``[HKEY_LOCAL_MACHINE\\Key\\Sub]`` headers, then ``"Name"="text"``,
``"Name"=dword:0000000a``, ``"Name"=hex:3b,ac,...`` (binary), ``hex(2):``
(expandable string), ``hex(7):`` (multi-string), ``hex(b):`` (qword), ``@=``
for the default value; long hex values continue on the next line after a
backslash. Files may be UTF-16 with a BOM (as regedit writes them) or UTF-8.
Key and value names are case-insensitive, as on Windows. ``HKLM``/``HKCU``
are accepted for ``HKEY_LOCAL_MACHINE``/``HKEY_CURRENT_USER``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any, Protocol

from cpsdiag.host.text import decode_text

_HIVES = {"HKLM": "HKEY_LOCAL_MACHINE", "HKCU": "HKEY_CURRENT_USER", "HKCR": "HKEY_CLASSES_ROOT",
          "HKU": "HKEY_USERS", "HKCC": "HKEY_CURRENT_CONFIG"}


def normalise_key(path: str) -> str:
    parts = [p for p in path.replace("/", "\\").split("\\") if p]
    if parts:
        parts[0] = _HIVES.get(parts[0].upper(), parts[0].upper())
    return "\\".join(parts)


class Registry(Protocol):
    def values(self, key: str) -> dict[str, Any] | None:
        """The values of a key by name ("" for the default value), or None when the key does not exist."""

    def subkeys(self, key: str) -> list[str]:
        """The names of a key's direct subkeys (empty when none or absent)."""


def value(registry: Registry | None, key: str, name: str) -> Any:
    """One value, looked up case-insensitively; None when the key or the value is absent."""
    if registry is None:
        return None
    values = registry.values(key)
    if not values:
        return None
    wanted = name.lower()
    return next((v for n, v in values.items() if n.lower() == wanted), None)


class RegFileRegistry:
    """A registry made of ``.reg`` exports; later files override earlier ones, value by value."""

    def __init__(self, texts: Iterable[str]):
        self._keys: dict[str, dict[str, Any]] = {}
        self._names: dict[str, str] = {}          # lower-case path -> path as spelt
        for text in texts:
            self._load(text)

    @classmethod
    def from_files(cls, paths: Iterable[Any]) -> "RegFileRegistry":
        texts = []
        for path in paths:
            with open(path, "rb") as f:
                texts.append(decode_text(f.read()))
        return cls(texts)

    def values(self, key: str) -> dict[str, Any] | None:
        found = self._keys.get(normalise_key(key).lower())
        return dict(found) if found is not None else None

    def subkeys(self, key: str) -> list[str]:
        prefix = normalise_key(key).lower() + "\\"
        names = set()
        for lower, spelt in self._names.items():
            if lower.startswith(prefix):
                names.add(spelt[len(prefix):].split("\\")[0])
        return sorted(names, key=str.lower)

    # -- parsing ----------------------------------------------------------------

    def _add_key(self, key: str) -> dict[str, Any]:
        key = normalise_key(key)
        parts = key.split("\\")
        for i in range(1, len(parts) + 1):       # parents exist too, as in a real hive
            partial = "\\".join(parts[:i])
            self._names.setdefault(partial.lower(), partial)
            self._keys.setdefault(partial.lower(), {})
        return self._keys[key.lower()]

    def _delete_key(self, key: str) -> None:
        """``[-HKEY_...]`` removes a key and everything under it, as regedit does on import."""
        lower = normalise_key(key).lower()
        for known in [k for k in self._keys if k == lower or k.startswith(lower + "\\")]:
            self._keys.pop(known, None)
            self._names.pop(known, None)

    def _load(self, text: str) -> None:
        current: dict[str, Any] | None = None
        for line in _logical_lines(text):
            if line.startswith("[") and line.endswith("]"):
                name = line[1:-1]
                if name.startswith("-"):
                    self._delete_key(name[1:])
                    current = None
                else:
                    current = self._add_key(name)
                continue
            if current is None or "=" not in line:
                continue   # header line, comment, or a value of a deleted key
            value_name, raw = _split_value(line)
            if value_name is None:
                continue
            parsed = parse_value(raw)
            if parsed is _DELETE:
                current.pop(value_name, None)
            else:
                current[value_name] = parsed


_DELETE = object()


def _logical_lines(text: str) -> Iterable[str]:
    pending = ""
    for raw in text.splitlines():
        line = raw.strip()
        if pending:
            line = pending + line
            pending = ""
        if line.endswith("\\") and re.search(r"=\s*hex(\([0-9a-fA-F]+\))?:", line):
            pending = line[:-1]
            continue
        if line and not line.startswith(";"):
            yield line
    if pending:
        yield pending


def _split_value(line: str) -> tuple[str | None, str]:
    if line.startswith("@="):
        return "", line[2:]
    if not line.startswith('"'):
        return None, ""
    i, name = 1, []
    while i < len(line):
        ch = line[i]
        if ch == "\\" and i + 1 < len(line):
            name.append(line[i + 1])
            i += 2
            continue
        if ch == '"':
            break
        name.append(ch)
        i += 1
    rest = line[i + 1:].lstrip()
    if not rest.startswith("="):
        return None, ""
    return "".join(name), rest[1:].strip()


def _hex_bytes(text: str) -> bytes:
    return bytes(int(b, 16) for b in text.replace(" ", "").split(",") if b)


def parse_value(raw: str) -> Any:
    """A value as written after ``=`` in a .reg file: str, int, bytes or list[str]."""
    if raw == "-":
        return _DELETE
    if raw.startswith('"'):
        body = raw[1:raw.rfind('"')] if raw.rfind('"') > 0 else raw[1:]
        return re.sub(r"\\(.)", r"\1", body)
    low = raw.lower()
    if low.startswith("dword:"):
        return int(raw[6:], 16)
    match = re.match(r"hex(?:\(([0-9a-f]+)\))?:(.*)$", raw, re.IGNORECASE)
    if match:
        kind = (match.group(1) or "3").lower()
        data = _hex_bytes(match.group(2))
        if kind in ("2", "1"):
            return data.decode("utf-16-le", errors="replace").rstrip("\x00")
        if kind == "7":
            return [s for s in data.decode("utf-16-le", errors="replace").split("\x00") if s]
        if kind == "b":
            return int.from_bytes(data[:8], "little")
        if kind == "4":
            return int.from_bytes(data[:4], "little")
        return data
    return raw


def _winreg() -> Any:
    # Only on Windows; imported by name so that type checkers on other systems do not read its stubs.
    import importlib

    return importlib.import_module("winreg")


class WinRegistry:
    """The live registry of the Windows machine cpsdiag runs on."""

    def values(self, key: str) -> dict[str, Any] | None:
        winreg = _winreg()

        hive_name, _, sub = normalise_key(key).partition("\\")
        hive = getattr(winreg, hive_name, None)
        if hive is None:
            return None
        try:
            handle = winreg.OpenKey(hive, sub)
        except OSError:
            return None
        out: dict[str, Any] = {}
        with handle:
            i = 0
            while True:
                try:
                    name, data, _kind = winreg.EnumValue(handle, i)
                except OSError:
                    break
                out[name] = data
                i += 1
        return out

    def subkeys(self, key: str) -> list[str]:
        winreg = _winreg()

        hive_name, _, sub = normalise_key(key).partition("\\")
        hive = getattr(winreg, hive_name, None)
        if hive is None:
            return []
        try:
            handle = winreg.OpenKey(hive, sub)
        except OSError:
            return []
        names = []
        with handle:
            i = 0
            while True:
                try:
                    names.append(winreg.EnumKey(handle, i))
                except OSError:
                    break
                i += 1
        return names
