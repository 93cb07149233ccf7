"""Per-module mutation scores from mutmut's results in mutants/ (scripts/mutation runs it).

Score = (killed + timed out) / (mutants - equivalent ones). Equivalent mutants (a change no test can see,
because the program behaves the same) are listed with why in scripts/mutation-equivalent.txt; a mutant no unit
test runs counts as a survivor.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET = 85.0


def results(meta: Path) -> dict[str, int | None]:
    text = meta.read_text()
    return json.loads(text).get("exit_code_by_key", {}) if text.strip() else {}


def equivalent() -> set[str]:
    path = ROOT / "scripts" / "mutation-equivalent.txt"
    names = set()
    for line in path.read_text().splitlines() if path.exists() else []:
        line = line.split("#", 1)[0].strip()
        if line:
            names.add(line.split()[0])
    return names


def survivors(pattern: str) -> int:
    """Print the names of the surviving mutants matching PATTERN (a glob on mutmut's names)."""
    import fnmatch

    skip = equivalent()
    for meta in sorted((ROOT / "mutants").rglob("*.py.meta")):
        for name, code in results(meta).items():
            if code in (0, 5, 33) and name not in skip and fnmatch.fnmatch(name, pattern):
                print(name)
    return 0


def main() -> int:
    from mutmut.stats import status_by_exit_code

    if sys.argv[1:2] == ["--survivors"]:
        return survivors(sys.argv[2] if len(sys.argv) > 2 else "*")
    skip = equivalent()
    rows = []
    for meta in sorted((ROOT / "mutants").rglob("*.py.meta")):
        found = results(meta)
        module = str(meta.relative_to(ROOT / "mutants"))[: -len(".meta")]
        count: Counter[str] = Counter()
        for name, code in found.items():
            count["equivalent" if name in skip else status_by_exit_code[code]] += 1
        if found:
            rows.append((module, count))
    if not rows:
        print("no results: run scripts/mutation first", file=sys.stderr)
        return 1
    print("| module | mutants | killed | survived | no test | equivalent | not checked | score |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    total = Counter()
    below = []
    for module, c in rows:
        total += c
        counted = sum(c.values()) - c["equivalent"]
        caught = c["killed"] + c["timeout"]
        score = 100.0 * caught / counted if counted else 100.0
        if score < TARGET:
            below.append(module)
        print(f"| {module} | {sum(c.values())} | {caught} | {c['survived']} | {c['no tests']} | {c['equivalent']} "
              f"| {c['not checked']} | {score:.1f} % |")
    counted = sum(total.values()) - total["equivalent"]
    caught = total["killed"] + total["timeout"]
    print(f"| **all** | {sum(total.values())} | {caught} | {total['survived']} | {total['no tests']} "
          f"| {total['equivalent']} | {total['not checked']} | {100.0 * caught / counted:.1f} % |")
    if below:
        print(f"\nbelow {TARGET:.0f} %: {', '.join(below)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
