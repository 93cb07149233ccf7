"""report.html from reports written by hand: hostile text escaped, control characters gone, the timeline, the
environment's rows.

The pages of real checks, for every profile, are in tests/stack/test_report_contents.py."""

from __future__ import annotations

from html import escape

from cpsdiag.report.html import render_html, timeline_svg
from tests.support.report import (as_report, assert_self_contained, card_doc, certificate_doc, finding_doc, holder_doc,
                           inventory, report_doc)


def test_text_from_the_card_cannot_inject_markup():
    evil = '<script>alert(1)</script><img src=x onerror=alert(2)>'
    finding = finding_doc("CARD_READ_ERROR", "error", "read")
    finding.update(title=evil, detail=evil, remedy=evil)
    environment = inventory()
    environment["pcsc"]["readers"][0]["name"] = evil
    environment["cryptolib"]["module"] = evil
    report = report_doc(
        verdict="error", exit_status=1, findings=[finding],
        readers=[{"name": evil, "card_present": True, "atr": "3B", "exclusive": False, "selected": True}],
        card=card_doc(reader=evil, model=evil, protocol="T=0",
                      pkcs15={"application": None, "pins": [], "keys": [], "certificates": [], "problems": []}),
        certificates=[certificate_doc(label=evil, subject=evil, issuer=f"CN={evil}",
                                      holder=holder_doc(given_name=evil),
                                      chain={"trusted": False, "anchor": None, "path": [], "error": "other",
                                             "detail": evil})],
        environment=environment, validity_date="2026-01-01T00:00:00Z")
    html = render_html(as_report(report))
    assert "<script" not in html and "<img" not in html and "&lt;script&gt;" in html
    assert_self_contained(html)


def test_control_characters_from_the_data_never_reach_the_page():
    finding = finding_doc("CARD_READ_ERROR", "error", "read")
    finding.update(title="a\x1b[31mred\x1b]8;;https://evil.example/\x07link\x1b]8;;\x07 \u202eevil\x00")
    html = render_html(as_report(report_doc(findings=[finding])))
    for char in ("\x1b", "\x07", "\u202e", "\x00"):
        assert char not in html
    assert "aredlink evil" in html


def cert(role: str, not_before: str, not_after: str, days: int) -> dict:
    return certificate_doc(role=role, not_before=not_before, not_after=not_after, days_left=days)


def test_timeline_marks_expired_soon_and_valid_and_the_judging_date():
    report = report_doc(validity_date="2026-11-23T00:00:00Z", certificates=[
        cert("authentication", "2023-11-23T00:00:00Z", "2026-11-01T00:00:00Z", -22),
        cert("signature", "2023-12-01T00:00:00Z", "2026-12-10T00:00:00Z", 17),
        cert("unknown", "2026-01-01T00:00:00Z", "2029-01-01T00:00:00Z", 770)])
    svg = timeline_svg(as_report(report))
    assert svg.startswith("<svg") and svg.count("<rect") == 3
    assert "expired" in svg and "17 days left" in svg and "770 days left" in svg
    assert "judged on 2026-11-23" in svg and ">2025<" in svg and ">2028<" in svg
    assert timeline_svg(as_report(report_doc())) == ""


def test_the_environment_shows_the_rows_every_view_shows():
    from cpsdiag.env.render import sections

    assert "was not collected" in render_html(as_report(report_doc()))
    environment = inventory()
    html = render_html(as_report(report_doc(environment=environment)))
    for section in sections(as_report(report_doc(environment=environment)).environment):
        assert f"<h3>{section.title}</h3>" in html
        for row in section.rows:
            assert escape(row.value) in html
