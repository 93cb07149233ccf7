"""Classify a certificate issuer (or any CA name) by its distinguished name.

IGC-Santé CA names read ``AC [RACINE] IGC-SANTE <ELEMENTAIRE|STANDARD|FORT> [PERSONNES|ORGANISATIONS]``
under ``O=ASIP-SANTE, OU=IGC-SANTE`` (``OU=IGC-SANTE TEST`` and a ``TEST `` CN prefix for
the TEST hierarchy); the retired hierarchy used ``O=GIP-CPS``. Class and range are read
from the CN words alone, so that look-alike PKIs (the cpsdiag emulator) classify the
same way while keeping family ``"other"``.

Pure: works on ``(dotted OID, value)`` pairs.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Final, Iterable, Literal, cast

from cpsdiag.pki.holder import OID_COMMON_NAME, OID_ORGANIZATION, OID_ORGANIZATIONAL_UNIT

IssuerFamily = Literal["igc-sante", "igc-sante-test", "gip-cps", "other"]
IssuerLevel = Literal["ELEMENTAIRE", "STANDARD", "FORT"]
IssuerRange = Literal["PERSONNES", "ORGANISATIONS"]

_LEVEL_RE: Final = re.compile(r"(?<![\w-])(ELEMENTAIRE|STANDARD|FORT)(?![\w-])")
_RANGE_RE: Final = re.compile(r"(?<![\w-])(PERSONNES|ORGANISATIONS)(?![\w-])")
_IGC_SANTE_ORG: Final = "ASIP-SANTE"
_IGC_SANTE_UNIT: Final = "IGC-SANTE"
_IGC_SANTE_TEST_UNIT: Final = "IGC-SANTE TEST"
_GIP_CPS_ORG: Final = "GIP-CPS"


@dataclass(frozen=True, slots=True)
class IssuerClass:
    family: IssuerFamily
    level: IssuerLevel | None
    range: IssuerRange | None


def _fold(text: str) -> str:
    # Upper-case without accents, so that "Élémentaire" and "ELEMENTAIRE" compare equal.
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).upper().strip()


def classify_issuer(attributes: Iterable[tuple[str, str]]) -> IssuerClass:
    """Family, level and range of a CA name. Never raises; unknown names give ``("other", None, None)``."""
    orgs: list[str] = []
    units: list[str] = []
    cns: list[str] = []
    for oid, value in attributes:
        if not isinstance(value, str):
            continue
        if oid == OID_ORGANIZATION:
            orgs.append(_fold(value))
        elif oid == OID_ORGANIZATIONAL_UNIT:
            units.append(_fold(value))
        elif oid == OID_COMMON_NAME:
            cns.append(_fold(value))
    cn = cns[0] if cns else ""
    family: IssuerFamily
    if _IGC_SANTE_TEST_UNIT in units or (
        cn.startswith("TEST ") and (_IGC_SANTE_ORG in orgs or _IGC_SANTE_UNIT in cn)
    ):
        family = "igc-sante-test"
    elif _IGC_SANTE_ORG in orgs and _IGC_SANTE_UNIT in units:
        family = "igc-sante"
    elif _GIP_CPS_ORG in orgs:
        family = "gip-cps"
    else:
        family = "other"
    level = _LEVEL_RE.search(cn)
    rng = _RANGE_RE.search(cn)
    return IssuerClass(
        family=family,
        level=cast(IssuerLevel, level.group(1)) if level else None,
        range=cast(IssuerRange, rng.group(1)) if rng else None,
    )


def display_name(attributes: Iterable[tuple[str, str]], fallback: str = "") -> str:
    """The name to show for a certificate: its CN, else its last OU, else its O (GIP-CPS CAs have no CN)."""
    cn: str | None = None
    last_unit: str | None = None
    org: str | None = None
    for oid, value in attributes:
        if not isinstance(value, str):
            continue
        if oid == OID_COMMON_NAME and cn is None:
            cn = value
        elif oid == OID_ORGANIZATIONAL_UNIT:
            last_unit = value
        elif oid == OID_ORGANIZATION and org is None:
            org = value
    return cn or last_unit or org or fallback
