"""``report show`` on reports written by hand: no card, codes from a newer version, hostile texts, broken files.

That the view of a real check's JSON equals what check printed is in tests/stack/test_report_contents.py."""

from __future__ import annotations

import io
import json

import pytest

from cpsdiag.i18n import set_language
from cpsdiag.report.console import make_console, render_report
from cpsdiag.report.schema import SchemaError, decode_report
from tests.support.report import as_report, finding_doc, report_doc


def printed(render, obj) -> str:
    out = io.StringIO()
    render(obj, make_console(file=out, width=100, no_color=True))
    return out.getvalue()


def test_reports_without_a_card_or_from_a_newer_version_still_render():
    service = finding_doc("PCSC_NO_SERVICE", "error", "pcsc")
    service.update(title="The smart-card service is not running", detail="SCardEstablishContext: x",
                   remedy="Start it.")
    future = finding_doc("FUTURE_CODE", "warning", "x")
    future.update(title="From the future")
    doc = report_doc(verdict="error", exit_status=1, tool={"name": "cpsdiag", "version": "9.9"},
                     findings=[service, future])
    doc["a_section_of_version_9"] = {"anything": [1, 2]}          # newer versions may add fields
    report = as_report(doc)
    text = printed(render_report, report)
    assert text.startswith("cpsdiag 9.9 — CPS card diagnosis\n✖ Problem found\n")
    assert "From the future" in text and "Card and holder" not in text and "commands exchanged" not in text
    set_language("fr")
    text = printed(render_report, report)        # re-rendered in French; the unknown code keeps its words
    assert "Le service carte à puce n'est pas démarré" in text and "From the future" in text


ESCAPES = ["\x1b[2J\x1b[H", "\x1b]8;;https://evil.example/\x1b\\", "\x1b]0;title\x07", "\x9b31m", "\u202e", "\r",
           "\x07", "\x00", "\x7f", "\x85", "\u2066"]


def test_control_characters_in_a_report_never_reach_the_terminal():
    hostile = "".join(f"part{n}{e}" for n, e in enumerate(ESCAPES))
    finding = finding_doc("CARD_READ_ERROR", "error", "read", reader=hostile)
    finding.update(title=hostile, detail=hostile, remedy=hostile)
    doc = report_doc(verdict="error", exit_status=1, findings=[finding], tool={"name": "cpsdiag", "version": hostile},
                     readers=[{"name": hostile, "card_present": False, "atr": None, "exclusive": False,
                               "selected": True}])
    text = printed(render_report, as_report(doc))
    assert not any(c in text for c in "\x1b\x9b\x07\x00\x7f\x85\r\u202e\u2066"), repr(text)
    # What was around the sequences is still there, for what it is.
    assert "part0part1part2part3part4" in text.replace("\n", "").replace(" ", "")


@pytest.mark.parametrize("change,where", [
    ({"findings": "none"}, "$.findings: Expected array, got str"),
    ({"card": 7}, "$.card: Expected object | null, got int"),
    ({"apdu": {"count": "3", "bytes_sent": 0, "bytes_received": 0}}, "$.apdu.count: Expected int, got str"),
    ({"verdict": "fine"}, "$.verdict"),
    ({"findings": [{"code": "X"}]}, "$.findings[0]: Object missing required field"),
])
def test_the_decoder_names_what_is_wrong_and_where(change, where):
    with pytest.raises(SchemaError, match=None) as caught:
        decode_report(json.dumps(report_doc(**change)))
    assert str(caught.value).startswith(where), str(caught.value)


def test_missing_sections_and_deep_nesting_are_refused():
    doc = report_doc()
    del doc["pcsc"]
    with pytest.raises(SchemaError, match="missing required field pcsc"):
        decode_report(json.dumps(doc))
    deep = json.dumps(report_doc()).replace('"card": null', '"card": ' + "[" * 100_000 + "]" * 100_000)
    with pytest.raises(SchemaError):
        decode_report(deep)
    unknown = json.dumps(report_doc()).replace('"card": null', '"card": null, "x": ' + "[" * 100_000 + "]" * 100_000)
    with pytest.raises(SchemaError, match="nested too deeply"):
        decode_report(unknown)
