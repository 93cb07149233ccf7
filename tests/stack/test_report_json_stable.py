"""The JSON of every shipped profile stays what it was: ``check --json`` and the bundle's report.json.

tests/data/report-json/<profile>.json were captured with the dict-based
report code, before the report became typed records (issue 13): the
comparison below is against what that code wrote, not against anything the
current code produces. Values that differ from one run to the next (the
test PKI's random serials and keys, dates, durations) are replaced by their
JSON type before comparing; every key, its order, its type and every other
value must be the same. Keys may be added (the schema allows additive
changes), never removed, renamed or retyped.

Set CPSDIAG_CAPTURE_REPORT_JSON=1 to write the files again (only when a
change of the JSON is intended, and said in docs/report-schema.md).
"""

from __future__ import annotations

import json
import os
from typing import Any

import pytest

from tests.support.cli import cpsdiag
from tests.support.jsonshape import flattened, removed_or_changed
from cpsdiag.report.redact import Salt
from tests.support.paths import ROOT

pytestmark = pytest.mark.stack

GOLDEN = ROOT / "tests" / "data" / "report-json"
PROFILES = sorted(p.name for p in (ROOT / "cpsdiag" / "emulator" / "profiles").iterdir() if (p / "card.toml").exists())
CAPTURE = os.environ.get("CPSDIAG_CAPTURE_REPORT_JSON") == "1"
SALT = Salt(b"\x01" * 32, "installation", "/nowhere/redaction-salt")

def compare(name: str, document: dict[str, Any]) -> None:
    document = {**document, "environment": None}       # the workstation's inventory depends on the machine
    path = GOLDEN / f"{name}.txt"
    lines = flattened(document)
    if CAPTURE:
        GOLDEN.mkdir(parents=True, exist_ok=True)
        path.write_text("\n".join(lines) + "\n")
        return
    assert removed_or_changed(path.read_text().splitlines(), lines) == []


@pytest.mark.parametrize("profile", PROFILES)
def test_check_json_of_every_profile_is_unchanged(insert_card, pki, profile):
    insert_card(profile)
    proc = cpsdiag("check", "--json", "--no-env", "--anchors", str(pki.anchors))
    compare(f"check-{profile}", json.loads(proc.stdout))


@pytest.mark.parametrize("profile", PROFILES)
def test_the_bundles_report_json_of_every_profile_is_unchanged(insert_card, pki, profile):
    from tests.support.report import bundle_report_json

    insert_card(profile)
    compare(f"bundle-{profile}", bundle_report_json(pki.anchors, SALT))
