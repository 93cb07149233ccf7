"""Narrow and plain terminals: ``check`` and ``cert`` at 40, 60 and 100 columns, piped, in ASCII-only locales.

What must show is read from the profile's own certificates (names,
identifier, card number, serials, fingerprints, dates) and from the JSON of
the same check (the URLs of its remedies, the ATR), never from the
renderer's output.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.support.cli import cpsdiag

pytestmark = pytest.mark.stack

WIDTHS = (40, 60, 100)
PROFILES = ("cps3-medecin", "cpe-etablissement", "cps3-expired")
BOX = "│╭╮╰╯─|+"


def certificate_facts(folder: Path) -> dict[str, list[str]]:
    """What the card panel must show of each certificate of a profile, as cryptography reads them."""
    from cryptography import x509
    from cryptography.x509.oid import NameOID

    out: dict[str, list[str]] = {"values": [], "fingerprints": []}
    for pem in ("auth.pem", "signature.pem"):
        if not (folder / pem).exists():
            continue
        cert = x509.load_pem_x509_certificate((folder / pem).read_bytes())
        for oid in (NameOID.GIVEN_NAME, NameOID.SURNAME, NameOID.COMMON_NAME):
            out["values"] += [str(a.value) for a in cert.subject.get_attributes_for_oid(oid)]
        out["values"].append(f"{cert.serial_number:X}")
        out["values"] += [cert.not_valid_before_utc.strftime("%Y-%m-%d %H:%M"),
                          cert.not_valid_after_utc.strftime("%Y-%m-%d %H:%M")]
        for ext in cert.extensions:
            if ext.oid.dotted_string == "1.2.250.1.71.1.2.3":
                out["values"].append(ext.value.value[2:].decode().split("/")[1])     # the card number
        out["fingerprints"].append(cert.fingerprint(__import__("cryptography.hazmat.primitives.hashes",
                                                               fromlist=["SHA256"]).SHA256()).hex().upper())
    return out


def fits(line: str, width: int) -> bool:
    """Only a URL or a path wider than the screen may overflow, alone on its line (a terminal folds it); French
    punctuation stays with it ("path ;")."""
    return len(line) <= width or len(re.sub(r" [;:?!]$", "", line).split()) == 1


def joined(text: str) -> str:
    """The output without box drawing nor any white space: a value folded over lines reads whole again."""
    return re.sub(rf"[\s{re.escape(BOX)}]", "", text)


@pytest.mark.parametrize("lang", ["C.UTF-8", "fr_FR.UTF-8"])
@pytest.mark.parametrize("profile", PROFILES)
def test_check_shows_every_value_whole_at_any_width(insert_card, pki, profile, lang):
    insert_card(profile)
    facts = certificate_facts(pki.cards / profile)
    doc = json.loads(cpsdiag("check", "--json", "--anchors", str(pki.anchors), env={"LANG": lang}).stdout)
    urls = {u.rstrip(".,;)") for f in doc["findings"] for u in re.findall(r"https?://\S+", f["remedy"] or "")}
    atr = doc["card"]["atr"]
    for width in WIDTHS:
        proc = cpsdiag("check", "--anchors", str(pki.anchors), env={"LANG": lang, "COLUMNS": str(width)})
        out = proc.stdout
        assert proc.returncode == doc["exit_status"], proc.stderr
        assert "…" not in out
        lines = out.splitlines()
        assert all(fits(line, width) for line in lines), out
        for value in facts["values"]:
            # Each value fits in the panel at 40 columns: it is on one line, whole.
            assert any(value in line for line in lines), (width, value, out)
        for url in urls:
            assert any(url in line for line in lines), (width, url)      # never broken
        # The ATR, in order and whole; its last byte never alone on a line.
        assert " ".join(atr.split()) in " ".join(out.split())
        assert not any(re.fullmatch(r"\s*[0-9A-F]{2}\.?\s*", line) for line in lines), out


@pytest.mark.parametrize("profile", ["cps3-medecin", "cpe-etablissement"])
def test_cert_piped_never_cuts_a_fingerprint_or_a_serial(pki, profile):
    facts = certificate_facts(pki.cards / profile)
    for width in WIDTHS:
        proc = cpsdiag("cert", str(pki.cards / profile / "auth.pem"), env={"COLUMNS": str(width)})
        assert "…" not in proc.stdout and all(fits(line, width) for line in proc.stdout.splitlines())
        whole = joined(proc.stdout)
        fingerprint = facts["fingerprints"][0]
        assert ":".join(fingerprint[i:i + 2] for i in range(0, 64, 2)) in whole, (width, proc.stdout)
        for value in facts["values"][:5]:           # the first certificate's names, identifier and serial
            assert joined(value) in whole, (width, value)


@pytest.mark.parametrize("env", [{"LC_ALL": "POSIX", "PYTHONUTF8": "0", "LANG": "POSIX"},
                                 {"LC_ALL": "C", "PYTHONUTF8": "0", "PYTHONIOENCODING": "ascii"},
                                 {"TERM": "dumb"}])
def test_plain_terminals_get_ascii_marks_instead_of_a_crash(insert_card, pki, env):
    insert_card("cps3-expired")
    facts = certificate_facts(pki.cards / "cps3-expired")
    for command in (["check", "--anchors", str(pki.anchors)], ["cert", str(pki.cards / "cps3-expired" / "auth.pem")]):
        proc = cpsdiag(*command, env=env)
        assert proc.returncode == 1, proc.stderr
        if "TERM" in env:      # a UTF-8 locale on a dumb terminal: the text stays, the marks and boxes are ASCII
            assert not any(c in proc.stdout for c in "✔✖ℹ│╭─"), proc.stdout
        else:
            assert proc.stdout.isascii() and proc.stderr.isascii(), proc.stdout
        assert "x Problem found" in proc.stdout
        for value in facts["values"][:4]:
            assert value in proc.stdout
