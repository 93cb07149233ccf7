"""docs/report-schema.md's field tables and docs/report-schema.json, generated from the records (``schema.py``).

``python -m cpsdiag.report.schemadoc --write`` rewrites both;
tests/unit/test_report_schema_docs.py fails when they are stale.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import cast

import msgspec
from msgspec import inspect as mi

from cpsdiag.report.schema import SCHEMA, Report

ROOT = Path(__file__).resolve().parents[2]
MARKDOWN = ROOT / "docs" / "report-schema.md"
JSON_SCHEMA = ROOT / "docs" / "report-schema.json"
BEGIN = "<!-- generated from cpsdiag/report/schema.py by `python -m cpsdiag.report.schemadoc --write`: do not edit -->"
END = "<!-- end of the generated part -->"


def json_schema() -> str:
    schema = msgspec.json.schema(Report)
    doc = {"$schema": "https://json-schema.org/draft/2020-12/schema", "title": SCHEMA, **schema}
    return json.dumps(doc, ensure_ascii=False, indent=2) + "\n"


def _unwrap(t: mi.Type) -> tuple[mi.Type, dict[str, object], str]:
    extra: dict[str, object] = {}
    description = ""
    while isinstance(t, mi.Metadata):
        extra.update(t.extra or {})
        description = description or str((t.extra_json_schema or {}).get("description") or "")
        t = t.type
    return t, extra, description


def _type_name(t: mi.Type, names: dict[type, str]) -> str:
    """How a type reads in the table."""
    t, _extra, _description = _unwrap(t)
    if isinstance(t, mi.UnionType):
        return " or ".join(_type_name(one, names) for one in t.types)
    if isinstance(t, mi.StructType):
        return f"[{names[t.cls]}](#{_anchor(names[t.cls])})"
    if isinstance(t, mi.ListType):
        return f"array of {_type_name(t.item_type, names)}"
    if isinstance(t, mi.DictType):
        return f"object of {_type_name(t.value_type, names)}"
    if isinstance(t, mi.LiteralType):
        return " or ".join(f"`{json.dumps(v)}`" for v in t.values)
    simple = {mi.StrType: "string", mi.IntType: "integer", mi.FloatType: "number", mi.BoolType: "boolean",
              mi.NoneType: "null", mi.AnyType: "any"}
    return simple.get(type(t), type(t).__name__)


def _anchor(path: str) -> str:
    return "".join(c for c in path.lower().replace(".", "").replace(" ", "-") if c.isalnum() or c in "-_")


def _structs() -> list[tuple[str, mi.StructType]]:
    """Every record reachable from the report, with the JSON path of its first appearance, in document order."""
    out: list[tuple[str, mi.StructType]] = []
    seen: set[type] = set()

    def visit(t: mi.Type, path: str) -> None:
        t, _extra, _description = _unwrap(t)
        if isinstance(t, mi.UnionType):
            for one in t.types:
                visit(one, path)
        elif isinstance(t, mi.ListType):
            visit(t.item_type, path + "[]")
        elif isinstance(t, mi.DictType):
            visit(t.value_type, path + "{}")
        elif isinstance(t, mi.StructType) and t.cls not in seen:
            seen.add(t.cls)
            out.append((path, t))
            for f in t.fields:
                visit(f.type, f"{path}.{f.name}" if path else f.name)

    visit(mi.type_info(Report), "")
    return out


def markdown_tables() -> str:
    structs = _structs()
    names = {t.cls: path or "report" for path, t in structs}
    lines: list[str] = []
    for path, t in structs:
        title = path or "report"
        lines += [f"### {title}", ""]
        doc = (t.cls.__doc__ or "").strip()
        if doc and not doc.startswith(("Base of", t.cls.__name__ + "(")):
            lines += [" ".join(doc.split()).replace("``", "`"), ""]
        lines += ["| field | type | meaning |", "|---|---|---|"]
        for f in t.fields:
            _inner, extra, description = _unwrap(f.type)
            # msgspec leaves UNSET out of the type: a field not required and without a default defaults to it.
            type_name = _type_name(f.type, names)
            unset = not f.required and f.default is msgspec.NODEFAULT and f.default_factory is msgspec.NODEFAULT
            notes = [description] if description else []
            if "identifying" in extra:
                notes.append(f"**identifying** ({extra['identifying']}): masked in redacted reports")
            if "identifying_params" in extra:
                notes.append("identifying parameters, masked in redacted reports: "
                             + ", ".join(f"`{k}`" for k in cast("dict[str, str]", extra["identifying_params"])))
            if unset:
                notes.append("absent when not applicable")
            lines.append(f"| `{f.name}` | {type_name} | {'; '.join(notes)} |")
        lines.append("")
    return "\n".join(lines)


def markdown(current: str) -> str:
    """``current`` with its generated part replaced by the tables of today's records."""
    head, found, rest = current.partition(BEGIN)
    if not found:
        raise ValueError(f"{MARKDOWN}: the marker {BEGIN!r} is missing")
    _old, found, tail = rest.partition(END)
    if not found:
        raise ValueError(f"{MARKDOWN}: the marker {END!r} is missing")
    return f"{head}{BEGIN}\n\n{markdown_tables()}\n{END}{tail}"


def main(argv: list[str]) -> int:
    stale = []
    for path, text in ((MARKDOWN, markdown(MARKDOWN.read_text())), (JSON_SCHEMA, json_schema())):
        if not path.exists() or path.read_text() != text:
            stale.append(path)
            if "--write" in argv:
                path.write_text(text)
    for path in stale:
        print(f"{'written' if '--write' in argv else 'stale'}: {path}")
    return 1 if stale and "--write" not in argv else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
