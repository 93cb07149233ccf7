"""The report's "environment" section stays what it was, for the fake Linux, macOS and Windows workstations.

tests/data/report-json/environment-<platform>.txt were captured with the
dict-based code, before the section became typed records (issue 13); see
tests/stack/test_report_json_stable.py for the rest of the report. Keys may
be added, never removed, renamed or retyped.
"""

from __future__ import annotations

import json
import os

import pytest

from tests.support.jsonshape import flattened, removed_or_changed
from tests.support.paths import DATA

DATA = DATA
CAPTURE = os.environ.get("CPSDIAG_CAPTURE_REPORT_JSON") == "1"
# What depends on the Python running the tests, not on the workstation described.
RUNTIME = {"python", "cpsdiag", "timings_ms"}


@pytest.mark.parametrize("platform", ["linux", "darwin", "win32"])
def test_the_environment_section_of_every_fake_workstation_is_unchanged(platform):
    from cpsdiag.env import collect_environment, load_layout
    from cpsdiag.env import environment_dict

    facts = collect_environment(load_layout(DATA / "env" / platform), card_serial="90000001")
    section = json.loads(json.dumps(environment_dict(facts), ensure_ascii=False))
    section["system"] = {k: ("<runtime>" if k in RUNTIME else v) for k, v in section["system"].items()}
    section["timings_ms"] = {}
    lines = flattened(section)
    golden = DATA / "report-json" / f"environment-{platform}.txt"
    if CAPTURE:
        golden.write_text("\n".join(lines) + "\n")
        return
    assert removed_or_changed(golden.read_text().splitlines(), lines) == []
