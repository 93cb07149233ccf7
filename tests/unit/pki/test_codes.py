"""Code tables: expected values come from shared/pki/codes.md, the DICO-FR.GIP extract and the seeds."""

from __future__ import annotations

import subprocess
import sys

import pytest

from cpsdiag.pki import codes


@pytest.mark.parametrize(
    ("code", "label"),
    [
        (10, "Médecin"),
        (21, "Pharmacien"),
        (40, "Chirurgien-Dentiste"),
        (50, "Sage-Femme"),
        (60, "Infirmier"),
        (70, "Masseur-Kinésithérapeute"),
        (91, "Orthophoniste"),
        (92, "Orthoptiste"),
        (98, "Manipulateur ERM"),
    ],
)
def test_profession_labels(code: int, label: str) -> None:
    assert codes.profession_label(code) == label


def test_profession_table_covers_dico() -> None:
    dico_g15 = {10, 21, 26, 28, 31, 32, 35, 36, 37, 38, 39, 40, 50, 60, 69, 70, 80, 81, 82, 83, 84, 85, 86, 91, 92, 94,
                95, 96, 98}
    assert dico_g15 <= set(codes.PROFESSIONS)


def test_unknown_codes_give_none() -> None:
    assert codes.profession_label(11) is None
    assert codes.profession_label(None) is None
    assert codes.card_type(7) is None
    assert codes.product_category_label(0x81) is None
    assert codes.ordre_for_profession(91) is None


def test_card_types() -> None:
    assert [(c, codes.CARD_TYPES[c].short) for c in range(4)] == [(0, "CPS"), (1, "CPF"), (2, "CPE"), (3, "CPA")]
    assert codes.card_type(2) is not None and "CDE/CPE" in codes.card_type(2).label  # type: ignore[union-attr]


def test_product_categories() -> None:
    assert codes.product_category_label(0x80) == "Carte de PS ou de Personnel de Santé de TEST"
    assert codes.product_category_label(0x00) == "Carte de Professionnel ou Personnel de Santé"
    assert codes.product_category_label(0x83) == "Certificat logiciel de TEST"


def test_identifier_type_tables() -> None:
    assert codes.person_id_type_label(8) == "N° RPPS"
    assert codes.person_id_type_label(0) == "N° ADELI"
    assert codes.person_id_type_label(3) == "FINESS/N° de registre"
    assert codes.structure_id_type_label(1) == "FINESS"
    assert codes.structure_id_type_label(3) == "SIRET"
    # FINESS is 3 in the CN but 1 in the OU (codes.md §2).
    assert codes.PERSON_TO_STRUCTURE_ID_TYPE[3] == 1


@pytest.mark.parametrize(
    ("profession", "url"),
    [
        (60, "https://espace-membres.ordre-infirmiers.fr/"),
        (21, "https://e-pop.ordre.pharmacien.fr"),
        (10, "https://monespace.medecin.fr/user/login?destination=cas/login"),
        (40, "https://www.ordre-chirurgiens-dentistes.fr/"),
        (70, "https://www.ordremk.fr/"),
        (50, "http://www.ordre-sages-femmes.fr/"),
    ],
)
def test_ordre_members_pages_from_seeds(profession: int, url: str) -> None:
    ordre = codes.ordre_for_profession(profession)
    assert ordre is not None
    assert ordre.members_url == url
    assert ordre.name.startswith("Ordre")


def test_extension_oids() -> None:
    assert codes.PRIVATE_EXTENSION_OIDS == (
        "1.2.250.1.71.1.2.2",
        "1.2.250.1.71.1.2.3",
        "1.2.250.1.71.1.2.5",
        "1.2.250.1.71.1.2.7",
    )


def test_pure_modules_do_not_import_cryptography() -> None:
    code = (
        "import sys\n"
        "import cpsdiag.pki.codes, cpsdiag.pki.holder, cpsdiag.pki.extensions, cpsdiag.pki.issuer\n"
        "import cpsdiag.pki.certinfo, cpsdiag.pki.anchors, cpsdiag.pki.chain\n"
        "print('cryptography' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# Rows of table R02 (secteurs d'activité), copied from DICO-FR.GIP v02.18 (shared/pki/dico-fr-gip-02.18-extract.tsv).
@pytest.mark.parametrize(("code", "label"), [
    ("SA01", "Etablissement public de santé"),
    ("SA07", "Cabinet individuel"),
    ("SA11", "Entreprise d'intérim"),
    ("SA22", "Recherche"),
])
def test_sector_labels(code: str, label: str) -> None:
    assert codes.sector_label(code) == label


def test_sector_label_of_nothing_or_an_unknown_code() -> None:
    assert codes.sector_label(None) is None
    assert codes.sector_label("SA99") is None
    assert len(codes.SECTORS) == 63          # the DICO extract has 63 R02 rows
