"""The leak detector of the report tests finds what identifies a holder (tests/support/report.py)."""

from __future__ import annotations

from tests.support.report import identity_strings, leaks


def test_identity_strings_read_from_certificates(pki):
    identity = identity_strings(pki.cards / "cpe-etablissement")
    assert {"ALEX", "EMULATEUR-ADMINISTRATIF", "3999999990/CPET0001", "CENTRE HOSPITALIER EMULATEUR", "1999999990",
            "2990000003", "90000003", "3999999990/CPET0001@carte-cps.fr"} <= identity
    assert "8025000001900000032" in identity        # the PAN, as EF.SN.ICC holds it (the last 8 digits)


def test_leaks_finds_a_value_in_text_hex_and_bcd_across_lines():
    identity = {"DUPONT", "8025000001900000032"}
    assert leaks({"a.json": b'{"name": "Dupont"}'}, identity) == [("a.json", "DUPONT")]
    assert leaks({"b.txt": b"  < 44 55 50 4f 4e 54 90 00\n"}, identity) == [("b.txt", "DUPONT")]
    # BCD starting on a half byte, cut by a line break: found in the nibble runs of the trace.
    trace = b"      < 5a 0a 80 25 00 00 01 90\n      < 00 00 03 2f 90 00\n"
    assert leaks({"t.txt": trace}, identity) == [("t.txt (hex across lines or BCD)", "8025000001900000032")]
    assert leaks({"c.txt": b"nothing here"}, identity) == []
