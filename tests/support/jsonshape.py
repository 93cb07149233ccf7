"""The shape of a JSON document as lines, to tell a change of the JSON from an addition to it.

Used by the tests that keep the report's JSON what it was (tests/data/report-json).
"""

from __future__ import annotations

import json
import re
from typing import Any

# Keys whose values change from run to run (random serials and keys of the test PKI, dates, durations).
VARYING = {"generated_at", "validity_date", "not_before", "not_after", "serial", "serial_hmac", "sha256",
           "sha256_hmac", "ms", "timings_ms", "total"}
_DATE = re.compile(r"\d{4}-\d\d-\d\d(?:[T ]\d\d:\d\d(?::\d\d(?:\.\d+)?)?(?:Z|[+-]\d\d:\d\d| UTC)?)?")
_HEX_RUN = re.compile(r"\b[0-9A-F]{24,}\b")


def _kind(value: Any) -> str:
    return {dict: "<object>", list: "<array>", str: "<string>", bool: "<bool>", int: "<number>",
            float: "<number>", type(None): "<null>"}[type(value)]


def flattened(node: Any, path: str = "$", key: str | None = None) -> list[str]:
    """One line per value, in document order: its path and its JSON (its type for run-dependent values).

    Objects and arrays get a line of their own (an array with its length), so
    that an item added to a list shows, as well as a key removed or moved.
    """
    if key in VARYING:
        node = {k: _kind(v) for k, v in node.items()} if isinstance(node, dict) else _kind(node)
    if isinstance(node, dict):
        return [f"{path} {{}}"] + [line for k, v in node.items() for line in flattened(v, f"{path}.{k}", k)]
    if isinstance(node, list):
        return [f"{path} [{len(node)}]"] + [line for i, v in enumerate(node)
                                            for line in flattened(v, f"{path}[{i}]", key)]
    if isinstance(node, str):
        node = _HEX_RUN.sub("<hex>", _DATE.sub("<date>", node))
    return [f"{path} {json.dumps(node, ensure_ascii=False)}"]


def removed_or_changed(before: list[str], after: list[str]) -> list[str]:
    """Lines of ``before`` missing from ``after`` in the same order (additions anywhere are allowed)."""
    missing, i = [], 0
    for line in before:
        j = i
        while j < len(after) and after[j] != line:
            j += 1
        if j == len(after):
            missing.append(line)
        else:
            i = j + 1
    return missing
