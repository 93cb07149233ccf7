"""docs/report-schema.md (its field tables) and docs/report-schema.json are generated from the records: never stale."""

from __future__ import annotations

import json

from cpsdiag.report import schemadoc
from tests.support.paths import ROOT

# The checkout's docs, wherever cpsdiag is imported from (the wheel under scripts/test-pythons has no docs/).
DOCS = ROOT / "docs"
MARKDOWN, JSON_SCHEMA = DOCS / "report-schema.md", DOCS / "report-schema.json"


def test_the_field_tables_and_the_json_schema_are_those_of_the_code():
    hint = "stale: run `python -m cpsdiag.report.schemadoc --write` and commit docs/"
    assert MARKDOWN.read_text() == schemadoc.markdown(MARKDOWN.read_text()), hint
    assert JSON_SCHEMA.read_text() == schemadoc.json_schema(), hint


def test_the_json_schema_describes_every_section_and_marks_identifying_fields():
    doc = json.loads(JSON_SCHEMA.read_text())
    report = doc["$defs"]["Report"]
    assert set(report["required"]) >= {"schema", "findings", "pcsc", "readers", "card", "certificates", "apdu"}
    assert doc["$defs"]["Holder"]["properties"]["given_name"]["x-identifying"] == "name"
    assert doc["$defs"]["EnvironmentSection"]["properties"]["card_serial"]["x-identifying"] == "card_number"
