"""report.html from reports written by hand: hostile text escaped, the timeline, any environment shape.

The pages of real checks, for every profile, are in tests/stack/test_report_contents.py."""

from __future__ import annotations

from cpsdiag.report.html import render_html, timeline_svg
from reportsupport import assert_self_contained


def test_text_from_the_card_cannot_inject_markup():
    evil = '<script>alert(1)</script><img src=x onerror=alert(2)>'
    report = {"schema": "cpsdiag.report/1", "verdict": "error", "language": "en",
              "findings": [{"code": "CARD_READ_ERROR", "severity": "error", "step": "read", "title": evil,
                            "detail": evil, "remedy": evil}],
              "readers": [{"name": evil, "card_present": True, "atr": "3B", "selected": True}],
              "card": {"reader": evil, "model": evil, "pkcs15": {}, "protocol": "T=0"},
              "certificates": [{"role": "authentication", "label": evil, "serial": "01", "subject": evil,
                                "issuer": f"CN={evil}", "holder": {"given_name": evil},
                                "not_before": "2025-01-01T00:00:00Z", "not_after": "2028-01-01T00:00:00Z",
                                "days_left": 300, "chain": {"trusted": False, "detail": evil}}],
              "environment": {evil: [evil, {"k": evil}]},
              "validity_date": "2026-01-01T00:00:00Z"}
    html = render_html(report)
    assert "<script" not in html and "<img" not in html and "&lt;script&gt;" in html
    assert_self_contained(html)


def test_timeline_marks_expired_soon_and_valid_and_the_judging_date():
    report = {"validity_date": "2026-11-23T00:00:00Z", "certificates": [
        {"role": "authentication", "serial": "01", "not_before": "2023-11-23T00:00:00Z",
         "not_after": "2026-11-01T00:00:00Z", "days_left": -22},
        {"role": "signature", "serial": "02", "not_before": "2023-12-01T00:00:00Z",
         "not_after": "2026-12-10T00:00:00Z", "days_left": 17},
        {"role": "unknown", "serial": "03", "not_before": "2026-01-01T00:00:00Z",
         "not_after": "2029-01-01T00:00:00Z", "days_left": 770}]}
    svg = timeline_svg(report)
    assert svg.startswith("<svg") and svg.count("<rect") == 3
    assert "expired" in svg and "17 days left" in svg and "770 days left" in svg
    assert "judged on 2026-11-23" in svg and ">2025<" in svg and ">2028<" in svg
    assert timeline_svg({"certificates": []}) == ""


def test_environment_section_is_rendered_whatever_its_shape():
    base = {"schema": "cpsdiag.report/1", "verdict": "ok", "findings": [], "certificates": []}
    assert "was not collected" in render_html(base)
    html = render_html({**base, "environment": {"system": {"os": "Debian 12", "remote": False},
                                                 "middleware": [{"name": "Cryptolib CPS", "version": "5.2.2"}]}})
    assert "Debian 12" in html and "Cryptolib CPS" in html and "<td>no</td>" in html
