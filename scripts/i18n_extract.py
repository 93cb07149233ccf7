"""Extract the messages marked _() and N_() from cpsdiag into a .pot file.

Python's own parser finds them everywhere, f-string expressions included
(xgettext 0.21 misses those). The emulator speaks English only.
"""

from __future__ import annotations

import ast
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def messages() -> dict[tuple[str | None, str], list[str]]:
    """(context, message) -> where: _() and N_() have no context, pgettext(context, message) has one."""
    found: dict[tuple[str | None, str], list[str]] = {}
    for path in sorted((ROOT / "cpsdiag").rglob("*.py")):
        if "emulator" in path.parts:
            continue
        rel = path.relative_to(ROOT)
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)):
                continue
            texts = [a.value for a in node.args if isinstance(a, ast.Constant) and isinstance(a.value, str)]
            if node.func.id in ("_", "N_") and texts:
                key: tuple[str | None, str] = (None, texts[0])
            elif node.func.id == "pgettext" and len(texts) == 2:
                key = (texts[0], texts[1])
            else:
                continue
            found.setdefault(key, []).append(f"{rel}:{node.lineno}")
    return found


def quote(text: str) -> str:
    # json's escapes (\\, \", \n, \t) are also gettext's; keep non-ASCII as it is.
    return json.dumps(text, ensure_ascii=False)


def main(out: str) -> None:
    lines = ['msgid ""', 'msgstr ""', '"Project-Id-Version: cpsdiag\\n"', '"MIME-Version: 1.0\\n"',
             '"Content-Type: text/plain; charset=UTF-8\\n"', '"Content-Transfer-Encoding: 8bit\\n"', ""]
    for (context, msgid), refs in sorted(messages().items(), key=lambda item: item[1][0]):
        lines.append("#: " + " ".join(refs))
        if "{" in msgid:
            lines.append("#, python-brace-format")
        if context is not None:
            lines.append(f"msgctxt {quote(context)}")
        lines += [f"msgid {quote(msgid)}", 'msgstr ""', ""]
    Path(out).write_text("\n".join(lines))


if __name__ == "__main__":
    main(sys.argv[1])
