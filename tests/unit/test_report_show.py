"""``report show`` on reports written by hand: no card, codes from a newer version.

That the view of a real check's JSON equals what check printed is in tests/stack/test_report_contents.py."""

from __future__ import annotations

import io


from cpsdiag.i18n import set_language
from cpsdiag.report.console import make_console, render_report



def printed(render, obj) -> str:
    out = io.StringIO()
    render(obj, make_console(file=out, width=100, no_color=True))
    return out.getvalue()


def test_reports_without_a_card_or_from_a_newer_version_still_render():
    report = {"schema": "cpsdiag.report/1", "language": "en", "verdict": "error", "tool": {"version": "9.9"},
              "findings": [{"code": "PCSC_NO_SERVICE", "severity": "error", "step": "pcsc",
                            "title": "The smart-card service is not running", "detail": "SCardEstablishContext: x",
                            "remedy": "Start it."},
                           {"code": "FUTURE_CODE", "severity": "fatal", "step": "x", "title": "From the future",
                            "detail": "", "remedy": None}],
              "card": None, "certificates": [], "readers": []}
    text = printed(render_report, report)
    assert text.startswith("cpsdiag 9.9 — CPS card diagnosis\n✖ Problem found\n")
    assert "From the future" in text and "Card and holder" not in text and "commands exchanged" not in text
    set_language("fr")
    text = printed(render_report, report)        # re-rendered in French; the unknown code keeps its words
    assert "Le service carte à puce n'est pas démarré" in text and "From the future" in text
