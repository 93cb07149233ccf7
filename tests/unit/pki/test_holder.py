"""Holder and national identifier. Examples: shared/pki/codes.md §1-2, research/pki.md §2.2, the seeds."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cpsdiag.pki.holder import parse_holder, parse_national_id

GN, CN, SN, C, ST, L, O, OU, TITLE, PSEUDO = (
    "2.5.4.42", "2.5.4.3", "2.5.4.4", "2.5.4.6", "2.5.4.8", "2.5.4.7", "2.5.4.10", "2.5.4.11", "2.5.4.12", "2.5.4.65",
)


def test_rpps() -> None:
    nid = parse_national_id("899700209812")
    assert (nid.kind, nid.type_code, nid.identifier, nid.registration) == ("RPPS", 8, "99700209812", None)
    assert nid.type_label == "N° RPPS"
    # e-CPS / Pro Santé Connect: "numéro RPPS précédé du chiffre 8", i.e. the CN itself.
    assert nid.to_type == "899700209812"


def test_adeli() -> None:
    nid = parse_national_id("00B6087510")
    assert (nid.kind, nid.type_code, nid.identifier) == ("ADELI", 0, "0B6087510")
    # "numéro ADELI précédé du chiffre 0": the ADELI is 0B6087510, so the user types 00B6087510.
    assert nid.to_type == "00B6087510"


@pytest.mark.parametrize(
    ("cn", "type_code", "identifier", "registration"),
    [
        ("30B0057881/CPET0002", 3, "0B0057881", "CPET0002"),
        ("500000000029751/CPAT0001", 5, "00000000029751", "CPAT0001"),
        ("3760021832/000000018", 3, "760021832", "000000018"),
    ],
)
def test_structure_attached(cn: str, type_code: int, identifier: str, registration: str) -> None:
    nid = parse_national_id(cn)
    assert nid.kind == "STRUCTURE"
    assert (nid.type_code, nid.identifier, nid.registration) == (type_code, identifier, registration)
    assert nid.well_formed and nid.to_type == cn


@pytest.mark.parametrize(
    ("cn", "kind"),
    [
        ("89970020981", "RPPS"),  # 10 digits after the 8
        ("8997002098123", "RPPS"),
        ("89970020981A", "RPPS"),
        ("0B6087510", "ADELI"),  # ADELI typed without its 0 prefix reads as type 0 + 8 characters
        ("00b6087510", "ADELI"),
        ("3/CPET0002", "STRUCTURE"),
        ("30B0057881", "STRUCTURE"),  # no registration number
        ("30B005788/CPET0002", "STRUCTURE"),  # FINESS has 9 characters
        ("50000000002975/CPAT0001", "STRUCTURE"),  # SIRET has 14 digits
        ("30B0057881/", "STRUCTURE"),
        ("2123456789", "OTHER"),  # N° DRASS, withdrawn
        ("7123", "OTHER"),
        ("ALAIN", "OTHER"),
        ("", "OTHER"),
    ],
)
def test_malformed_identifiers(cn: str, kind: str) -> None:
    nid = parse_national_id(cn)
    assert nid.kind == kind
    assert not nid.well_formed
    assert nid.problem
    assert nid.to_type is None


def test_cps_holder() -> None:
    holder = parse_holder([(C, "FR"), (TITLE, "Infirmier"), (GN, "OLIVIER"), (CN, "00B6087510"), (SN, "INFIRMCS ADELI8751")])
    assert (holder.given_name, holder.surname, holder.title, holder.country) == (
        "OLIVIER", "INFIRMCS ADELI8751", "Infirmier", "FR")
    assert holder.display_name == "OLIVIER INFIRMCS ADELI8751"
    assert holder.structure is None
    assert holder.national_id is not None and holder.national_id.kind == "ADELI"


def test_cpe_holder_structure() -> None:
    holder = parse_holder([
        (C, "FR"), (ST, "Paris (75)"), (O, "HOPITAL DES 3 DAMES"), (OU, "10B0057881"),
        (TITLE, "Personnel santé ou social"), (GN, "CHARLES"), (CN, "30B0057881/CPET0002"), (SN, "ADMINISTRATIF-CH057880002"),
    ])
    s = holder.structure
    assert s is not None
    assert (s.name, s.unit, s.id_type_code, s.id_type_label, s.identifier, s.state) == (
        "HOPITAL DES 3 DAMES", "10B0057881", 1, "FINESS", "0B0057881", "Paris (75)")
    assert s.matches_cn is True


def test_cpa_holder_with_siret_and_locality() -> None:
    holder = parse_holder([
        (C, "FR"), (O, "TEST"), (L, "Paris (75)"), (OU, "300000000029751"),
        (GN, "PATRICE"), (SN, "MAITRE0000029750001"), (CN, "500000000029751/CPAT0001"),
    ])
    s = holder.structure
    assert s is not None
    assert (s.id_type_code, s.id_type_label, s.identifier, s.locality) == (3, "SIRET", "00000000029751", "Paris (75)")
    assert s.matches_cn is True


def test_structure_mismatch_is_reported() -> None:
    holder = parse_holder([(O, "X"), (OU, "10B0057882"), (CN, "30B0057881/CPET0002")])
    assert holder.structure is not None and holder.structure.matches_cn is False


def test_profession_in_ou_is_not_a_structure_id() -> None:
    # Old CPS2ter-style subject: the OU holds the profession label.
    holder = parse_holder([(C, "FR"), (O, "TEST"), (OU, "Masseur-Kinésithérapeute"), (GN, "HONORE"), (CN, "00B7010446")])
    s = holder.structure
    assert s is not None and s.unit == "Masseur-Kinésithérapeute"
    assert s.id_type_code is None and s.matches_cn is None


def test_service_card_with_pseudonym() -> None:
    holder = parse_holder([(C, "FR"), (TITLE, "Carte de service santé ou social"), (PSEUDO, "EMPLOYE000000018"),
                           (CN, "3760021832/000000018")])
    assert holder.given_name is None and holder.display_name == "EMPLOYE000000018"


# The identifier forms of shared/pki/codes.md §1, generated independently of the parser.
RPPS = st.text(alphabet="0123456789", min_size=11, max_size=11).map(lambda d: ("8" + d, "RPPS", True))
ADELI = st.text(alphabet="0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=9, max_size=9).map(
    lambda d: ("0" + d, "ADELI", True))
WRONG_LENGTH = st.tuples(st.sampled_from("08"), st.text(alphabet="0123456789", max_size=14)).filter(
    lambda t: len(t[1]) != (11 if t[0] == "8" else 9)).map(lambda t: (t[0] + t[1], "RPPS" if t[0] == "8" else "ADELI",
                                                                      False))
WITHDRAWN = st.tuples(st.sampled_from("29"), st.text(alphabet="0123456789", max_size=12)).map(
    lambda t: (t[0] + t[1], "OTHER", False))
NO_TYPE_DIGIT = st.text(max_size=20).filter(lambda t: not t.strip()[:1].isdigit() or not t.strip()[:1].isascii()).map(
    lambda t: (t, "OTHER", False))


@given(st.one_of(RPPS, ADELI, WRONG_LENGTH, WITHDRAWN, NO_TYPE_DIGIT))
def test_national_ids_are_classified_as_codes_md_says(case: tuple[str, str, bool]) -> None:
    text, kind, well_formed = case
    nid = parse_national_id(text)
    assert (nid.kind, nid.well_formed) == (kind, well_formed), nid
    assert nid.to_type == (text.strip() if well_formed else None)
    if kind in ("RPPS", "ADELI"):
        assert (nid.type_code, nid.identifier) == (int(text[0]), text[1:])


@given(st.lists(st.tuples(st.sampled_from([GN, CN, SN, C, ST, L, O, OU, TITLE, PSEUDO, "1.2.3"]), st.text(max_size=30)),
                max_size=12))
def test_the_holder_takes_the_first_value_of_each_attribute(attrs: list[tuple[str, str]]) -> None:
    first = {}
    for oid, value in attrs:
        first.setdefault(oid, value)
    holder = parse_holder(attrs)
    assert (holder.given_name, holder.surname, holder.common_name, holder.title, holder.pseudonym, holder.country) == (
        first.get(GN), first.get(SN), first.get(CN), first.get(TITLE), first.get(PSEUDO), first.get(C))
    assert (holder.national_id is None) == (CN not in first)
    names = [n for n in (first.get(GN), first.get(SN)) if n]
    assert holder.display_name == (" ".join(names) if names else first.get(PSEUDO) or first.get(CN))
