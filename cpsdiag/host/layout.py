"""Fake system layouts: a folder that stands for a Linux, macOS or Windows workstation.

A layout folder holds:

* ``layout.json``: ``{"platform": "linux|darwin|win32", "environ": {...},
  "commands": {"<command line>": {"rc": 0, "stdout": "...", "stderr": "..."}}}``.
  A command line is the argv joined by spaces, cpsdiag's own helpers spelt
  ``python -m <module> ...``. A key also answers the longer command lines it
  begins (followed by a space), so ``python -m cpsdiag.env.probe_pcsc``
  answers whatever options the probe passes. ``"stdout_file": "name"`` reads
  the output from a file next to ``layout.json`` instead. A command not listed
  gives rc 127 (not found), as on a machine without it.
* ``root/``: the files, at their system paths (``root/etc/...``,
  ``root/Windows/System32/...`` for ``C:\\Windows\\System32``).
* ``registry/*.reg`` (Windows): regedit exports, read in name order
  (cpsdiag.host.registry documents the format).

docs/environment.md describes the layouts under tests/data/env/.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cpsdiag.host.system import PYTHON, RC_NOT_FOUND, Completed, System


@dataclass
class FakeRunner:
    """Canned command outputs; records what was asked (tests check that no real command ran)."""

    answers: Mapping[str, Completed]
    calls: list[str] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __call__(self, argv: Sequence[str], timeout: float) -> Completed:
        line = " ".join(argv)
        with self._lock:
            self.calls.append(line)
        if line in self.answers:
            return self.answers[line]
        prefixes = [k for k in self.answers if line.startswith(k + " ")]
        if prefixes:
            return self.answers[max(prefixes, key=len)]
        return Completed(RC_NOT_FOUND, "", f"{argv[0]}: command not found")


def _answer(spec: Any, folder: Path) -> Completed:
    if isinstance(spec, str):
        return Completed(0, spec, "")
    stdout = spec.get("stdout", "")
    if "stdout_file" in spec:
        stdout = (folder / spec["stdout_file"]).read_text(encoding="utf-8")
    if "stdout_json" in spec:
        stdout = json.dumps(spec["stdout_json"])
    return Completed(int(spec.get("rc", 0)), stdout, spec.get("stderr", ""))


def load_layout(folder: Path | str, *, environ: Mapping[str, str] | None = None,
                commands: Mapping[str, Any] | None = None, timeout: float = 5.0) -> System:
    """A System reading the layout in ``folder``; ``environ``/``commands`` override the layout's own."""
    folder = Path(folder)
    spec = json.loads((folder / "layout.json").read_text(encoding="utf-8"))
    platform = spec.get("platform", "linux")
    env = dict(spec.get("environ", {}))
    env.update(environ or {})
    raw = dict(spec.get("commands", {}))
    raw.update(commands or {})
    answers = {k: _answer(v, folder) for k, v in raw.items()}
    registry = None
    if platform == "win32":
        from cpsdiag.host.registry import RegFileRegistry

        registry = RegFileRegistry.from_files(sorted((folder / "registry").glob("*.reg")))
    return System(root=folder / "root", run=FakeRunner(answers), platform=platform, environ=env,
                  registry=registry, timeout=timeout)


__all__ = ["FakeRunner", "load_layout", "PYTHON"]
