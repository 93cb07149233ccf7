"""``report show``: the console view rendered from the JSON alone prints what ``check`` printed (in-process)."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest

from cpsdiag.i18n import set_language
from cpsdiag.report.console import make_console, render_check
from cpsdiag.report.console import render_report
from test_report_fixtures import run_emulated

ROOT = Path(__file__).resolve().parents[2]
PROFILES = sorted(p.name for p in (ROOT / "fixtures" / "cards").iterdir() if (p / "card.toml").exists())


def printed(render, obj) -> str:
    out = io.StringIO()
    render(obj, make_console(file=out, width=100, no_color=True))
    return out.getvalue()


@pytest.mark.parametrize("lang", ["en", "fr"])
@pytest.mark.parametrize("profile", PROFILES)
def test_a_report_read_back_from_json_prints_what_check_printed(monkeypatch, pki, profile, lang):
    checked = run_emulated(monkeypatch, pki.cards / profile, pki.anchors, lang=lang)
    # Through JSON text, as a bundle stores it.
    report = json.loads(json.dumps(checked.report, ensure_ascii=False))
    expected = printed(render_check, checked.result)
    assert printed(render_report, report) == expected
    assert "Card and holder" in expected or "Carte et porteur" in expected


def test_a_report_shown_in_another_language_is_rendered_again_from_its_codes(monkeypatch, pki):
    french = run_emulated(monkeypatch, pki.cards / "cps3-expired", pki.anchors, lang="fr")
    english = run_emulated(monkeypatch, pki.cards / "cps3-expired", pki.anchors, lang="en")
    set_language("en")
    # Two checks: only their durations may differ.
    normalise = lambda text: re.sub(r"\d\d:\d\d:\d\d", "HH:MM:SS", re.sub(r"\d+ ms", "N ms", text))  # noqa: E731
    assert normalise(printed(render_report, french.report)) == \
        normalise(printed(render_check, english.result))


def test_a_redacted_report_says_so(monkeypatch, pki):
    from cpsdiag.report.redact import Salt, redact_report

    checked = run_emulated(monkeypatch, pki.cards / "cps3-medecin", pki.anchors)
    redacted = redact_report(checked.report, Salt(b"\x01" * 32, "installation")).report
    text = printed(render_report, redacted)
    assert "CAMILLE" not in text and "C****" in text and "Redacted report" in text


def test_reports_without_a_card_or_from_a_newer_version_still_render():
    set_language("en")
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
    set_language("en")
