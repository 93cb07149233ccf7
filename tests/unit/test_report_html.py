"""report.html: self-contained, verdict first, every section, both languages, hostile text escaped."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path

import pytest

from cpsdiag.i18n import set_language
from cpsdiag.report.html import render_html, timeline_svg
from cpsdiag.report.redact import Salt, redact_report
from test_report_fixtures import run_emulated

ROOT = Path(__file__).resolve().parents[2]
PROFILES = sorted(p.name for p in (ROOT / "fixtures" / "cards").iterdir() if (p / "card.toml").exists())


class Page(HTMLParser):
    """Body text in order, the tags seen, and every attribute value."""

    def __init__(self) -> None:
        super().__init__()
        self.in_body = False
        self.texts: list[str] = []
        self.tags: list[str] = []
        self.attrs: list[tuple[str, str]] = []
        self.ids: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attrs += [(k, v or "") for k, v in attrs]
        self.ids += [v for k, v in attrs if k == "id" and v]
        if tag == "body":
            self.in_body = True

    def handle_data(self, data):
        if self.in_body and data.strip():
            self.texts.append(data.strip())


def parse(html: str) -> Page:
    page = Page()
    page.feed(html)
    return page


def assert_self_contained(html: str) -> None:
    page = parse(html)
    assert "script" not in page.tags and "link" not in page.tags and "img" not in page.tags
    for name, value in page.attrs:
        assert not name.startswith("on"), name
        if name in ("src", "href"):
            raise AssertionError(f"external reference {name}={value}")
    style = html[html.index("<style>"):html.index("</style>")]
    assert "url(" not in style and "@import" not in style and "@font-face" not in style


@pytest.mark.parametrize("profile", PROFILES)
def test_every_profile_gives_a_self_contained_page_with_the_verdict_first(monkeypatch, pki, profile):
    checked = run_emulated(monkeypatch, pki.cards / profile, pki.anchors)
    report = redact_report(checked.report, Salt(b"\x01" * 32, "installation")).report
    html = render_html(report)
    assert_self_contained(html)
    page = parse(html)
    label = {"ok": "OK: the card and the workstation are ready", "warning": "Works, with warnings",
             "error": "Problem found"}[report["verdict"]]
    assert page.texts[:2] == [{"ok": "✔", "warning": "!", "error": "✖"}[report["verdict"]], label]
    order = [html.index(f'id="{s}"') for s in ("verdict", "steps", "card", "certificates", "environment", "remedies")]
    assert order == sorted(order)
    for f in report["findings"]:
        assert f["title"].replace("'", "&#x27;") in html
    assert html.count("<rect") == len([c for c in report["certificates"] if "serial" in c])


def test_french_page(monkeypatch, pki):
    checked = run_emulated(monkeypatch, pki.cards / "cps3-expiring-soon", pki.anchors, lang="fr")
    html = render_html(checked.report)
    assert '<html lang="fr">' in html
    assert "Fonctionne, avec des avertissements" in html and "Carte et porteur" in html and "Que faire ?" in html
    assert "expire dans" in html           # the findings' own French texts
    set_language("en")


def test_text_from_the_card_cannot_inject_markup():
    set_language("en")
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
    set_language("en")
    svg = timeline_svg(report)
    assert svg.startswith("<svg") and svg.count("<rect") == 3
    assert "expired" in svg and "17 days left" in svg and "770 days left" in svg
    assert "judged on 2026-11-23" in svg and ">2025<" in svg and ">2028<" in svg
    assert timeline_svg({"certificates": []}) == ""


def test_environment_section_is_rendered_whatever_its_shape():
    set_language("en")
    base = {"schema": "cpsdiag.report/1", "verdict": "ok", "findings": [], "certificates": []}
    assert "was not collected" in render_html(base)
    html = render_html({**base, "environment": {"system": {"os": "Debian 12", "remote": False},
                                                 "middleware": [{"name": "Cryptolib CPS", "version": "5.2.2"}]}})
    assert "Debian 12" in html and "Cryptolib CPS" in html and "<td>no</td>" in html
