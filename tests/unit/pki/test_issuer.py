"""Issuer classification from CA names (research/pki.md §1, the brief's emulator names)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cpsdiag.pki.issuer import classify_issuer, display_name

C, O, OU, CN = "2.5.4.6", "2.5.4.10", "2.5.4.11", "2.5.4.3"


def igc(cn: str, unit: str = "IGC-SANTE") -> list[tuple[str, str]]:
    return [(C, "FR"), (O, "ASIP-SANTE"), (OU, "0002 187512751"), (OU, unit), (CN, cn)]


@pytest.mark.parametrize(
    ("name", "family", "level", "rng"),
    [
        (igc("AC IGC-SANTE FORT PERSONNES"), "igc-sante", "FORT", "PERSONNES"),
        (igc("AC IGC-SANTE STANDARD PERSONNES"), "igc-sante", "STANDARD", "PERSONNES"),
        (igc("AC IGC-SANTE ELEMENTAIRE ORGANISATIONS"), "igc-sante", "ELEMENTAIRE", "ORGANISATIONS"),
        (igc("AC RACINE IGC-SANTE FORT"), "igc-sante", "FORT", None),
        (igc("TEST AC IGC-SANTE FORT PERSONNES", "IGC-SANTE TEST"), "igc-sante-test", "FORT", "PERSONNES"),
        (igc("TEST AC RACINE IGC-SANTE ELEMENTAIRE", "IGC-SANTE TEST"), "igc-sante-test", "ELEMENTAIRE", None),
        # CN prefix alone is enough for an ASIP-SANTE name.
        (igc("TEST AC IGC-SANTE STANDARD PERSONNES"), "igc-sante-test", "STANDARD", "PERSONNES"),
        ([(C, "FR"), (O, "GIP-CPS"), (OU, "GIP-CPS ANONYME")], "gip-cps", None, None),
        ([(C, "FR"), (O, "GIP-CPS"), (OU, "GIP-CPS CLASSE-1")], "gip-cps", None, None),
        (
            [(C, "FR"), (O, "CPSDIAG EMULATEUR"), (OU, "IGC-SANTE EMULATION"), (CN, "CPSDIAG EMULATEUR AC FORT PERSONNES")],
            "other", "FORT", "PERSONNES",
        ),
        (
            [(C, "FR"), (O, "CPSDIAG EMULATEUR"), (OU, "IGC-SANTE EMULATION"), (CN, "CPSDIAG EMULATEUR AC STANDARD PERSONNES")],
            "other", "STANDARD", "PERSONNES",
        ),
        (
            [(C, "FR"), (O, "CPSDIAG EMULATEUR"), (OU, "IGC-SANTE EMULATION"), (CN, "CPSDIAG EMULATEUR AC RACINE")],
            "other", None, None,
        ),
        ([(CN, "Let's Encrypt R3")], "other", None, None),
        ([(CN, "FORTINET CA")], "other", None, None),
        ([], "other", None, None),
    ],
)
def test_classification(name: list[tuple[str, str]], family: str, level: str | None, rng: str | None) -> None:
    result = classify_issuer(name)
    assert (result.family, result.level, result.range) == (family, level, rng)


def test_accents_and_case_are_folded() -> None:
    assert classify_issuer([(CN, "AC Élémentaire Personnes")]).level == "ELEMENTAIRE"


def test_display_name() -> None:
    assert display_name(igc("AC RACINE IGC-SANTE FORT")) == "AC RACINE IGC-SANTE FORT"
    assert display_name([(C, "FR"), (O, "GIP-CPS"), (OU, "GIP-CPS ANONYME")]) == "GIP-CPS ANONYME"
    assert display_name([(C, "FR")], fallback="C=FR") == "C=FR"


@st.composite
def igc_sante_names(draw):
    """A CA name as research/pki.md §1 writes them: "AC [RACINE] IGC-SANTE <level> [range]" under O=ASIP-SANTE,
    OU=IGC-SANTE (OU=IGC-SANTE TEST and a "TEST " prefix for the TEST hierarchy), in any case, attributes in any
    order; with the family, level and range it must be classified as."""
    test = draw(st.booleans())
    level = draw(st.sampled_from(["ELEMENTAIRE", "STANDARD", "FORT"]))
    rng = draw(st.sampled_from([None, "PERSONNES", "ORGANISATIONS"]))
    words = ["TEST"] * test + ["AC"] + ["RACINE"] * draw(st.booleans()) + ["IGC-SANTE", level] + [rng] * bool(rng)
    cn = " ".join(words)
    cn = draw(st.sampled_from([cn, cn.lower(), cn.title(), cn.replace("ELEMENTAIRE", "Élémentaire")]))
    attrs = [(C, "FR"), (O, "ASIP-SANTE"), (OU, "IGC-SANTE TEST" if test else "IGC-SANTE"), (CN, cn)]
    attrs = draw(st.permutations(attrs))
    return attrs, ("igc-sante-test" if test else "igc-sante", level, rng)


@given(igc_sante_names())
def test_igc_sante_names_are_classified_by_their_words(case) -> None:
    attrs, (family, level, rng) = case
    got = classify_issuer(attrs)
    assert (got.family, got.level, got.range) == (family, level, rng)


@given(st.lists(st.tuples(st.sampled_from([C, O, OU, CN]), st.text(alphabet="ABCDEFGHIJKLMNOPQ -", max_size=40)),
                max_size=8))
def test_names_without_the_documented_words_are_other(name: list[tuple[str, str]]) -> None:
    # No ASIP-SANTE, IGC-SANTE, GIP-CPS nor a level or range word can be spelt without R, S, T... in this alphabet.
    got = classify_issuer(name)
    assert (got.family, got.level, got.range) == ("other", None, None)
