"""Card holder identity from a certificate subject.

Works on ``(dotted OID, value)`` pairs rather than on a ``cryptography`` Name, so
that it stays importable without cryptography and testable with plain tuples.

Layout of a CPx subject: ``C``, optionally ``ST``/``L``/``O``/``OU`` for
structure-attached staff, ``title`` (profession label), then one multi-valued
RDN ``GN + CN + SN`` where CN is the national identifier: one G08 type digit
followed by the identifier (``8`` + RPPS, ``0`` + ADELI, ``3`` + FINESS ``/``
registration number...).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final, Iterable, Literal

from cpsdiag.pki import codes

OID_COMMON_NAME: Final = "2.5.4.3"
OID_SURNAME: Final = "2.5.4.4"
OID_COUNTRY: Final = "2.5.4.6"
OID_LOCALITY: Final = "2.5.4.7"
OID_STATE: Final = "2.5.4.8"
OID_ORGANIZATION: Final = "2.5.4.10"
OID_ORGANIZATIONAL_UNIT: Final = "2.5.4.11"
OID_TITLE: Final = "2.5.4.12"
OID_GIVEN_NAME: Final = "2.5.4.42"
OID_PSEUDONYM: Final = "2.5.4.65"

IdKind = Literal["RPPS", "ADELI", "STRUCTURE", "OTHER"]

_RPPS_RE: Final = re.compile(r"[0-9]{11}")
# ADELI numbers start with a département code, which may hold letters (2A, 2B; test cards use 0B).
_ADELI_RE: Final = re.compile(r"[0-9A-Z]{9}")
_ID_CHARS_RE: Final = re.compile(r"[0-9A-Za-z]+")
_REGISTRATION_RE: Final = re.compile(r"[^/\s]+")
# Known lengths of the structure identifiers, by G08 type; cabinet ids (1, 6) have no documented length.
_STRUCTURE_ID_FORMAT: Final = {
    3: (re.compile(r"[0-9A-Z]{9}"), "a 9-character FINESS number"),
    4: (re.compile(r"[0-9]{9}"), "a 9-digit SIREN number"),
    5: (re.compile(r"[0-9]{14}"), "a 14-digit SIRET number"),
}
# Same lengths, keyed by the G07 digit used in the OU.
_OU_ID_FORMAT: Final = {
    1: _STRUCTURE_ID_FORMAT[3],
    2: _STRUCTURE_ID_FORMAT[4],
    3: _STRUCTURE_ID_FORMAT[5],
}


@dataclass(frozen=True, slots=True)
class NationalId:
    """The national identifier (IdNat) carried in the subject CN.

    ``identifier`` is the part after the type digit and before any ``/``
    (the 11-digit RPPS, the 9-character ADELI, or the structure identifier);
    ``registration`` the person's number inside the structure.
    ``problem`` says in English why the value is not well formed, or is None.
    """

    raw: str
    kind: IdKind
    type_code: int | None
    type_label: str | None
    identifier: str
    registration: str | None
    problem: str | None

    @property
    def well_formed(self) -> bool:
        return self.problem is None

    @property
    def to_type(self) -> str | None:
        """What the holder types as "identifiant national" in e-CPS / Pro Santé Connect.

        That is the whole IdNat, type digit included (``8`` + RPPS, ``0`` + ADELI),
        which is exactly the CN; None when the CN does not look like one.
        """
        return self.raw if self.problem is None else None


def parse_national_id(cn: str) -> NationalId:
    """Classify a subject CN as a national identifier. Never raises."""
    text = cn.strip()
    if not text:
        return NationalId(text, "OTHER", None, None, "", None, "the identifier is empty")
    if not text[0].isdigit() or not text[0].isascii():
        return NationalId(text, "OTHER", None, None, text, None, "the identifier does not start with a type digit")
    type_code = int(text[0])
    label = codes.person_id_type_label(type_code)
    head, slash, registration = text[1:].partition("/")

    def make(kind: IdKind, problem: str | None) -> NationalId:
        return NationalId(text, kind, type_code, label, head, registration if slash else None, problem)

    if type_code in codes.PERSON_ID_STRUCTURE_TYPES:
        if not slash:
            return make("STRUCTURE", f"type {type_code} ({label}) needs '/<registration number>'")
        if not _ID_CHARS_RE.fullmatch(head):
            return make("STRUCTURE", "the structure identifier is missing or holds unexpected characters")
        fmt = _STRUCTURE_ID_FORMAT.get(type_code)
        if fmt is not None and not fmt[0].fullmatch(head):
            return make("STRUCTURE", f"the structure identifier should be {fmt[1]}")
        if not _REGISTRATION_RE.fullmatch(registration):
            return make("STRUCTURE", "the registration number after '/' is missing or malformed")
        return make("STRUCTURE", None)
    if type_code == codes.PERSON_ID_RPPS:
        if slash or not _RPPS_RE.fullmatch(head):
            return make("RPPS", "an RPPS identifier is '8' followed by 11 digits")
        return make("RPPS", None)
    if type_code == codes.PERSON_ID_ADELI:
        if slash or not _ADELI_RE.fullmatch(head):
            return make("ADELI", "an ADELI identifier is '0' followed by 9 characters")
        return make("ADELI", None)
    if type_code in codes.PERSON_ID_DEPRECATED:
        return make("OTHER", f"identifier type {type_code} ({label}) was withdrawn in 2020")
    return make("OTHER", f"{type_code} is not a person identifier type")


@dataclass(frozen=True, slots=True)
class Structure:
    """The structure a CPE/CPA holder is attached to: O, OU (G07 digit + identifier), ST, L."""

    name: str | None
    unit: str | None
    id_type_code: int | None
    id_type_label: str | None
    identifier: str | None
    state: str | None
    locality: str | None
    matches_cn: bool | None
    """Whether the OU names the same structure as the CN; None when there is nothing to compare."""


def _parse_unit(unit: str) -> tuple[int, str] | None:
    if len(unit) < 2 or not unit[0].isdigit() or not unit[0].isascii():
        return None
    type_code, identifier = int(unit[0]), unit[1:]
    if type_code not in codes.STRUCTURE_ID_TYPES or not _ID_CHARS_RE.fullmatch(identifier):
        return None
    fmt = _OU_ID_FORMAT.get(type_code)
    if fmt is not None and not fmt[0].fullmatch(identifier):
        return None
    return type_code, identifier


def _structure(
    name: str | None, units: list[str], state: str | None, locality: str | None, national_id: NationalId | None
) -> Structure | None:
    if name is None and not units and state is None and locality is None:
        return None
    # Only an OU shaped like "<G07 digit><id>" identifies the structure; older profiles put other text there.
    parsed = next(((u, p) for u in units if (p := _parse_unit(u)) is not None), None)
    unit = parsed[0] if parsed else (units[0] if units else None)
    id_type = parsed[1][0] if parsed else None
    identifier = parsed[1][1] if parsed else None
    matches: bool | None = None
    if parsed and national_id is not None and national_id.kind == "STRUCTURE" and national_id.type_code is not None:
        expected_type = codes.PERSON_TO_STRUCTURE_ID_TYPE.get(national_id.type_code)
        matches = expected_type == id_type and national_id.identifier == identifier
    return Structure(
        name=name,
        unit=unit,
        id_type_code=id_type,
        id_type_label=codes.structure_id_type_label(id_type),
        identifier=identifier,
        state=state,
        locality=locality,
        matches_cn=matches,
    )


@dataclass(frozen=True, slots=True)
class Holder:
    given_name: str | None
    surname: str | None
    common_name: str | None
    title: str | None
    pseudonym: str | None
    country: str | None
    national_id: NationalId | None
    structure: Structure | None

    @property
    def display_name(self) -> str | None:
        parts = [p for p in (self.given_name, self.surname) if p]
        if parts:
            return " ".join(parts)
        return self.pseudonym or self.common_name


def parse_holder(attributes: Iterable[tuple[str, str]]) -> Holder:
    """Build a :class:`Holder` from subject attributes in DER order (dotted OID, string value). Never raises."""
    first: dict[str, str] = {}
    units: list[str] = []
    for oid, value in attributes:
        if not isinstance(value, str):
            continue
        if oid == OID_ORGANIZATIONAL_UNIT:
            units.append(value)
        first.setdefault(oid, value)
    cn = first.get(OID_COMMON_NAME)
    national_id = parse_national_id(cn) if cn is not None else None
    return Holder(
        given_name=first.get(OID_GIVEN_NAME),
        surname=first.get(OID_SURNAME),
        common_name=cn,
        title=first.get(OID_TITLE),
        pseudonym=first.get(OID_PSEUDONYM),
        country=first.get(OID_COUNTRY),
        national_id=national_id,
        structure=_structure(
            first.get(OID_ORGANIZATION), units, first.get(OID_STATE), first.get(OID_LOCALITY), national_id
        ),
    )
