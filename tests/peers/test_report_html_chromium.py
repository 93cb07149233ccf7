"""report.html in Debian's real headless Chromium: it renders, the picture is not blank, the verdict comes first.

The page comes from a real bundle (``cpsdiag report`` through pcscd and the
emulator). Chromium loads it from a file:// URL with networking features off;
a failed render or a blank screenshot fails the test.
"""

from __future__ import annotations

import json
import struct
import subprocess
import zipfile
import zlib
from pathlib import Path

import pytest

from tests.support.cli import cpsdiag
from tests.support.prerequisites import require
from tests.support.report import VERDICTS, parse_page

pytestmark = [pytest.mark.stack, pytest.mark.peer]

CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"]
def chromium() -> str:
    return require("chromium")


def bundle_html(pki, tmp_path: Path, *extra: str) -> tuple[Path, dict]:
    cpsdiag("report", "--anchors", str(pki.anchors), "-o", str(tmp_path / "b.zip"), *extra,
            env={"CPSDIAG_CONFIG_DIR": str(tmp_path / "config")}, timeout=90)
    with zipfile.ZipFile(tmp_path / "b.zip") as zf:
        page = tmp_path / "report.html"
        page.write_bytes(zf.read("report.html"))
        return page, json.loads(zf.read("report.json"))


def run_chromium(*args: str, tmp_path: Path) -> subprocess.CompletedProcess:
    profile = tmp_path / f"chromium-profile-{len(list(tmp_path.glob('chromium-profile-*')))}"
    return subprocess.run([chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args],
                          capture_output=True, text=True, timeout=120)


def png_pixels(path: Path) -> tuple[int, int, list[bytes]]:
    """Width, height and rows of RGB(A) pixels of an 8-bit PNG (what Chromium writes), without Pillow."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, header = 8, b"", None
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    assert header is not None
    width, height, depth, colour, _c, _f, interlace = header
    assert depth == 8 and colour in (2, 6) and interlace == 0, header
    bpp = 3 if colour == 2 else 4
    raw = zlib.decompress(idat)
    stride = width * bpp
    rows, prev = [], bytearray(stride)
    for y in range(height):
        kind, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b, c = prev[i], prev[i - bpp] if i >= bpp else 0
            if kind == 1:
                line[i] = (line[i] + a) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + b) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + (a + b) // 2) & 0xFF
            elif kind == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 0xFF
        rows.append(bytes(line))
        prev = line
    return width, height, rows


def ink(path: Path) -> tuple[float, int]:
    """Share of pixels that are not white, and how many colours there are (sampled)."""
    width, height, rows = png_pixels(path)
    bpp = len(rows[0]) // width
    dark, colours, total = 0, set(), 0
    for y in range(0, height, 4):
        row = rows[y]
        for x in range(0, width, 2):
            px = row[x * bpp:x * bpp + 3]
            total += 1
            colours.add(px)
            if sum(px) < 3 * 235:
                dark += 1
    return dark / total, len(colours)


@pytest.mark.parametrize("profile,lang", [("cps3-medecin", "en"), ("cps3-expiring-soon", "fr"),
                                          ("cps3-expired", "en"), ("cpe-etablissement", "fr"),
                                          ("cps3-sans-contact", "en")])
def test_chromium_renders_the_page_with_the_verdict_first(insert_card, pki, tmp_path, profile, lang):
    chromium()
    insert_card(profile)
    page, report = bundle_html(pki, tmp_path, "--lang", lang)
    shot = tmp_path / "page.png"
    proc = run_chromium(f"--screenshot={shot}", "--window-size=1200,2000", page.as_uri(), tmp_path=tmp_path)
    assert proc.returncode == 0 and shot.exists(), proc.stderr[-2000:]
    width, height, _rows = png_pixels(shot)
    assert (width, height) == (1200, 2000)
    share, colours = ink(shot)
    assert share > 0.03 and colours > 8, (share, colours)       # text, tables, coloured marks: not a blank page
    # The DOM Chromium built: its body starts with the verdict.
    dom = run_chromium("--dump-dom", page.as_uri(), tmp_path=tmp_path)
    assert dom.returncode == 0 and "<body>" in dom.stdout, dom.stderr[-2000:]
    assert parse_page(dom.stdout).texts[:2] == list(VERDICTS[lang][report["verdict"]])
    assert "<script" not in dom.stdout


def test_the_page_prints_to_pdf(insert_card, pki, tmp_path):
    chromium()
    insert_card("cps3-pin-blocked")
    page, _report = bundle_html(pki, tmp_path)
    pdf = tmp_path / "page.pdf"
    proc = run_chromium(f"--print-to-pdf={pdf}", "--no-pdf-header-footer", page.as_uri(), tmp_path=tmp_path)
    assert proc.returncode == 0 and pdf.exists(), proc.stderr[-2000:]
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF") and data.count(b"/Type /Page") - data.count(b"/Type /Pages") >= 1
