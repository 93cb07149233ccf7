"""Code tables used by CPS card certificates and card data.

Pure data, no third-party import: the CLI imports this module at start-up.

Labels follow the ANS dictionary DICO-FR.GIP v02.18 (28/02/2020), the one the
Cryptolib CPS ships, cross-checked against the NOS terminologies (TRE_G01,
TRE_G02, TRE_G08, TRE_G15); the sectors of activity (R02) are DICO's alone. The ordre addresses are those given by the
French connection guides collected in ``shared/seeds``.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import Final, Mapping

# --- OIDs -----------------------------------------------------------------

# The private extensions reuse the OIDs of the code tables they carry a value from.
OID_CARD_TYPE: Final = "1.2.250.1.71.1.2.2"  # G02, INTEGER
OID_CARD_IDENTIFIER: Final = "1.2.250.1.71.1.2.3"  # "<issuer>/<card number>", PrintableString
OID_PRODUCT_CATEGORY: Final = "1.2.250.1.71.1.2.5"  # G01, one-byte OCTET STRING
OID_PROFESSION: Final = "1.2.250.1.71.1.2.7"  # G15, INTEGER
PRIVATE_EXTENSION_OIDS: Final = (OID_CARD_TYPE, OID_CARD_IDENTIFIER, OID_PRODUCT_CATEGORY, OID_PROFESSION)

# --- G15: professions ---------------------------------------------------

PROFESSIONS: Final[Mapping[int, str]] = MappingProxyType(
    {
        10: "Médecin",
        21: "Pharmacien",
        26: "Audioprothésiste",
        28: "Opticien-Lunetier",
        31: "Assistant dentaire",
        32: "Physicien médical",
        35: "Aide-soignant",
        36: "Ambulancier",
        37: "Auxiliaire de puériculture",
        38: "Préparateur en pharmacie hospitalière",
        39: "Préparateur en pharmacie (officine)",
        40: "Chirurgien-Dentiste",
        50: "Sage-Femme",
        60: "Infirmier",
        69: "Infirmier psychiatrique",
        70: "Masseur-Kinésithérapeute",
        80: "Pédicure-Podologue",
        81: "Orthoprothésiste",
        82: "Podo-Orthésiste",
        83: "Orthopédiste-Orthésiste",
        84: "Oculariste",
        85: "Epithésiste",
        # DICO abbreviates this one ("labo"); NOS spells it out, which reads better in a report.
        86: "Technicien de laboratoire médical",
        91: "Orthophoniste",
        92: "Orthoptiste",
        # Only in NOS, where it was created already deprecated; kept so that a card carrying it is still named.
        93: "Psychologue",
        94: "Ergothérapeute",
        95: "Diététicien",
        96: "Psychomotricien",
        98: "Manipulateur ERM",
    }
)

# G16: professions of a CPF (student) card.
PROFESSIONS_IN_TRAINING: Final[Mapping[int, str]] = MappingProxyType(
    {
        10: "Médecin en formation",
        21: "Pharmacien en formation",
        40: "Chirurgien-Dentiste en formation",
        50: "Sage-Femme en formation",
    }
)

# --- G02: card types ------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CardType:
    code: int
    short: str
    label: str


CARD_TYPES: Final[Mapping[int, CardType]] = MappingProxyType(
    {
        0: CardType(0, "CPS", "Carte de Professionnel de Santé (CPS)"),
        1: CardType(1, "CPF", "Carte de Professionnel de Santé en Formation (CPF)"),
        # CDE/CDA differ from CPE/CPA by a responsibility level (G04), not by the G02 code.
        2: CardType(2, "CPE", "Carte de Personnel d'Etablissement (CDE/CPE)"),
        3: CardType(3, "CPA", "Carte de Personnel Autorisé (CDA/CPA)"),
    }
)

# --- G01: product categories ---------------------------------------------

PRODUCT_CATEGORIES: Final[Mapping[int, str]] = MappingProxyType(
    {
        0x00: "Carte de Professionnel ou Personnel de Santé",
        0x02: "Module de Sécurité",
        0x03: "Certificat logiciel",
        0x80: "Carte de PS ou de Personnel de Santé de TEST",
        0x82: "Module de Sécurité de TEST",
        0x83: "Certificat logiciel de TEST",
    }
)
# G01 codes are written as two hex digits; the extension holds them as one byte.
PRODUCT_CATEGORY_TEST_CARD: Final = 0x80
CARD_PRODUCT_CATEGORIES: Final = frozenset({0x00, 0x80})

# --- G08: person identifier types (prefix of the national identifier) ----

PERSON_ID_TYPES: Final[Mapping[int, str]] = MappingProxyType(
    {
        0: "N° ADELI",
        1: "Id. Cabinet ADELI/N° de registre",
        2: "N° DRASS",
        3: "FINESS/N° de registre",
        4: "SIREN/N° de registre",
        5: "SIRET/N° de registre",
        6: "Id. Cabinet RPPS/N° de registre",
        8: "N° RPPS",
        9: "N° Etudiant",
        10: "Adresse MSSante",
    }
)
PERSON_ID_ADELI: Final = 0
PERSON_ID_RPPS: Final = 8
# Types withdrawn by ANS on 2020-05-29; a card may still show them.
PERSON_ID_DEPRECATED: Final = frozenset({2, 9})
# Types whose identifier reads "<structure id>/<registration number in the structure>".
PERSON_ID_STRUCTURE_TYPES: Final = frozenset({1, 3, 4, 5, 6})

# --- G07: structure identifier types (prefix of the subject OU) ---------

STRUCTURE_ID_TYPES: Final[Mapping[int, str]] = MappingProxyType(
    {
        0: "Id Cabinet ADELI",
        1: "FINESS",
        2: "SIREN",
        3: "SIRET",
        4: "Id Cabinet RPPS",
    }
)

# The same structure is typed with a G08 digit in the CN and a G07 digit in the OU;
# pairing them by label lets a reader check that both name the same structure.
PERSON_TO_STRUCTURE_ID_TYPE: Final[Mapping[int, int]] = MappingProxyType({1: 0, 3: 1, 4: 2, 5: 3, 6: 4})

# --- R02: sectors of activity (secteurs d'activité RPPS), as practice situations name them ---

SECTORS: Final[Mapping[str, str]] = MappingProxyType(
    {
        "SA01": "Etablissement public de santé",
        "SA02": "Hôpital militaire du Service de santé des armées",
        "SA03": "Etablissement privé PSPH",
        "SA04": "Etablissement privé non PSPH",
        "SA05": "Centre de santé",
        "SA06": "Autre structure du Service de santé des armées",
        "SA07": "Cabinet individuel",
        "SA08": "Cabinet de groupe",
        "SA09": "Exercice en Société",
        "SA10": "Transporteur sanitaire",
        "SA11": "Entreprise d'intérim",
        "SA12": "Etablissement de soins et prévention",
        "SA13": "Prévention et soins en entreprise",
        "SA14": "Etablissement scolaire ou universitaire",
        "SA15": "PMI et Planification familiale",
        "SA16": "Etablissement pour personnes handicapées",
        "SA17": "Etablissement pour personnes âgées",
        "SA18": "Etablissement aide à la famille",
        "SA19": "Etablissement d'enseignement",
        "SA20": "Etablissement pour la protection de l'enfance",
        "SA21": "Etablissement d'hébergement et de réadaptation",
        "SA22": "Recherche",
        "SA23": "Assurance privée",
        "SA24": "Organisme de sécurité sociale",
        "SA25": "Laboratoire de biologie médicale",
        "SA26": "Ministère ou Service déconcentré",
        "SA27": "Collectivité Territoriale",
        "SA28": "Association ou organisme humanitaire",
        "SA29": "Laboratoire d'analyses et de biologie médicale",
        "SA30": "Autre établissement sanitaire",
        "SA31": "Répartition et Distribution de médicaments et dispositifs médicaux",
        "SA32": "Fabrication, Exploitation et Importation de médicaments et dispositifs médicaux",
        "SA33": "Pharmacie d'officine",
        "SA34": "Centre de dialyse",
        "SA35": "Para-pharmacie",
        "SA36": "Centre anti-cancer",
        "SA37": "Centre de transfusion sanguine",
        "SA38": "Pharmacie minière",
        "SA39": "Pharmacie mutualiste",
        "SA40": "Secteur privé, praticien hospitalier temps plein",
        "SA41": "Autre établissement du domaine social ou médico-social",
        "SA42": "Appareillage médical",
        "SA43": "Secteur non défini",
        "SA44": "Recrutement ou Gestion RH",
        "SA45": "Communication, Marketing, Consulting, Média",
        "SA46": "Fabrication, Exploitation, Importation, Répartition, Distribution médicaments et dispositifs médicaux",
        "SA47": "Incendie et secours",
        "SA48": "Entreprise industrielle et tertiaire hors industrie pharmaceutique",
        "SA49": "Entité Outre-Mer",
        "SA50": "Structure d'urgence hors établissement hospitalier",
        "SA51": "Structure de coopération avec autorisation de soins",
        "SA52": "Maison de santé ou Pôle de santé",
        "SA53": "Siège administratif d'un établissement de santé",
        "SA54": "Organisme de dépistage et de prévention",
        "SA55": "Laboratoire pharmaceutique préparant et délivrant des allergènes",
        "SA56": "Propharmacie",
        "SA57": "Structure de coopération avec mission de coordination de soins",
        "SA58": "Entreprise de taxis",
        "SA59": "Laboratoire de biologie médicale hors catégorie standard",
        "SA60": "Centres médicaux SNCF",
        "SA61": "Structure Dispensatrice à domicile d'Oxygène à usage médical",
        "SA62": "Ordres des professionnels de santé",
        "SA63": "Communauté Professionnelle Territoriale de Santé",
    }
)


# --- Ordres ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Ordre:
    """The professional body a holder updates their contact details with (e-CPS activation relies on them)."""

    name: str
    members_url: str
    professions: frozenset[int]


_ORDRES: Final = (
    Ordre("Ordre national des infirmiers (ONI)", "https://espace-membres.ordre-infirmiers.fr/", frozenset({60, 69})),
    Ordre("Ordre national des pharmaciens", "https://e-pop.ordre.pharmacien.fr", frozenset({21})),
    Ordre("Ordre des médecins", "https://monespace.medecin.fr/user/login?destination=cas/login", frozenset({10})),
    Ordre("Ordre des chirurgiens-dentistes", "https://www.ordre-chirurgiens-dentistes.fr/", frozenset({40})),
    Ordre("Ordre des masseurs-kinésithérapeutes", "https://www.ordremk.fr/", frozenset({70})),
    Ordre("Ordre des sages-femmes", "http://www.ordre-sages-femmes.fr/", frozenset({50})),
)

ORDRES_BY_PROFESSION: Final[Mapping[int, Ordre]] = MappingProxyType(
    {code: ordre for ordre in _ORDRES for code in ordre.professions}
)


# --- look-ups that never raise --------------------------------------------


def profession_label(code: int | None) -> str | None:
    return None if code is None else PROFESSIONS.get(code)


def card_type(code: int | None) -> CardType | None:
    return None if code is None else CARD_TYPES.get(code)


def product_category_label(code: int | None) -> str | None:
    return None if code is None else PRODUCT_CATEGORIES.get(code)


def person_id_type_label(code: int | None) -> str | None:
    return None if code is None else PERSON_ID_TYPES.get(code)


def structure_id_type_label(code: int | None) -> str | None:
    return None if code is None else STRUCTURE_ID_TYPES.get(code)


def sector_label(code: str | None) -> str | None:
    return None if code is None else SECTORS.get(code)


def ordre_for_profession(code: int | None) -> Ordre | None:
    return None if code is None else ORDRES_BY_PROFESSION.get(code)
