"""``cpsdiag emulator new-profile``: a card of one's own in one command.

A ``CardSpec`` says what the card should be (generation, interface, holder,
identifier, profession, card type, validity, PIN counter, revocation, card
number, practice situations and CPS_DATA's size);
``problems()`` lists the combinations no real card has, and ``write()`` makes
the profile folder: card.toml (with the ``[holder]`` table that produced it),
the two key pairs issued by a test PKI made for this card (``pki/``, laid out
like make-pki's), and ``anchors = "pki/anchors.pem"`` so that ``emulator run``
and the pytest fixtures hand the right trust anchors to the program under test.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path

from cpsdiag.errors import UsageError

from .carddata import (DEFAULT_CPS_DATA_SIZE, MAX_CPS_DATA_SIZE, MAX_SITUATIONS, MAX_TEXT, SECTOR, Situation,
                       default_situations)
from .generations import GENERATIONS

CARD_TYPES = {"CPS": 0, "CPF": 1, "CPE": 2, "CPA": 3}
ID_TYPES = ("rpps", "adeli", "structure")
VALIDITY_DAYS = 1095            # IGC-Santé card certificates last three years
STAFF_TITLE = "Personnel santé ou social"
DEFAULT_IDS = {"rpps": "99900000991", "adeli": "999100991", "structure": "999999990/CPET0991"}
# 10 digits as on real cards (CPS3v3-2900995266, CPS4v1-3100603746); EF.SN.ICC holds the last 8.
DEFAULT_CARD_NUMBERS = {"CPS3": "2990000991", "CPS4": "3190000991"}


class SpecError(UsageError):
    """A card that cannot exist as asked: the message says which options clash and why."""


def parse_duration(text: str) -> int:
    """``30d``, ``6w`` or ``30`` -> days."""
    match = re.fullmatch(r"\s*(\d+)\s*([dw]?)\s*", text or "")
    if not match:
        raise SpecError(f"--expires-in {text!r}: expected a number of days such as 30d (or weeks: 6w)")
    return int(match.group(1)) * (7 if match.group(2) == "w" else 1)


@dataclass
class CardSpec:
    generation: str = "CPS3"
    interface: str = "contact"
    given_name: str = "CAMILLE"
    surname: str = "EMULATEUR"
    id_type: str = "rpps"
    identifier: str | None = None
    organization: str | None = None         # structure cards: the establishment's name
    profession: int | None = None
    card_type: str = "CPS"
    expires_in_days: int | None = None
    expired: bool = False
    pin: str | None = None
    max_tries: int = 3
    tries_left: int | None = None
    card_number: str | None = None
    revoked: bool = False
    description: str | None = None
    situations: tuple[str, ...] | None = None   # "STRUCTURE NAME;STRUCTURE ID;SECTOR", None: one made from the holder
    cps_data_size: int | None = None

    @property
    def number(self) -> str:
        return self.card_number or DEFAULT_CARD_NUMBERS.get(self.generation, DEFAULT_CARD_NUMBERS["CPS3"])

    def parsed_situations(self) -> tuple[Situation, ...]:
        """The situations asked for, or the one a card of this holder would have (none on the contactless face)."""
        if self.situations is not None:
            return tuple(Situation(*(part.strip() for part in text.split(";"))) for text in self.situations
                         if text.count(";") == 2)
        if self.interface == "contactless":
            return ()
        holder = {"card_type": CARD_TYPES.get(self.card_type), "surname": self.surname,
                  "profession_code": self.profession_code}
        if self.id_type == "structure":
            holder.update(organization=self.organization or "STRUCTURE EMULATEUR",
                          organizational_unit="1" + self.id_value.split("/", 1)[0])
        return default_situations(holder)

    def situation_problems(self) -> list[str]:
        out = []
        if self.interface == "contactless" and self.situations:
            out.append("--situation with --interface contactless: the contactless face holds no practice situation")
        for text in self.situations or ():
            parts = [part.strip() for part in text.split(";")]
            if len(parts) != 3 or not all(parts):
                out.append(f"--situation {text!r}: expected \"STRUCTURE NAME;STRUCTURE ID;SECTOR\", "
                           "for example \"CABINET DU DR X;399999999900019;SA07\"")
            elif not SECTOR.fullmatch(parts[2]):
                out.append(f"--situation {text!r}: the sector is an R02 code such as SA07 (Cabinet individuel)")
            elif any(len(part) > MAX_TEXT or not part.isprintable() for part in parts):
                out.append(f"--situation {text!r}: at most {MAX_TEXT} printable characters a part")
        if self.situations is not None and len(self.situations) > MAX_SITUATIONS:
            out.append(f"--situation given {len(self.situations)} times: a card holds at most {MAX_SITUATIONS}")
        if self.cps_data_size is not None and not 1 <= self.cps_data_size <= MAX_CPS_DATA_SIZE:
            out.append(f"--cps-data-size {self.cps_data_size}: from 1 to {MAX_CPS_DATA_SIZE} bytes")
        return out

    def problems(self) -> list[str]:
        """Every reason this card cannot exist; empty when it can."""
        from cpsdiag.pki.codes import PROFESSIONS, PROFESSIONS_IN_TRAINING

        out = []
        facts = GENERATIONS.get(self.generation)
        if facts is None:
            out.append(f"--generation {self.generation}: must be {' or '.join(GENERATIONS)}")
        if self.interface not in ("contact", "contactless"):
            out.append(f"--interface {self.interface}: must be contact or contactless")
        if self.interface == "contactless":
            if facts is not None and not facts.contactless:
                out.append("--interface contactless: only a CPS3 has a contactless face to emulate")
            if self.pin is not None or self.tries_left is not None:
                out.append("--pin/--tries-left with --interface contactless: the contactless face has no PIN")
        if self.card_type not in CARD_TYPES:
            out.append(f"--card-type {self.card_type}: must be one of {', '.join(CARD_TYPES)}")
        if self.id_type not in ID_TYPES:
            out.append(f"--id-type {self.id_type}: must be one of {', '.join(ID_TYPES)}")
        staff = self.card_type in ("CPE", "CPA")
        if staff and self.id_type != "structure":
            out.append(f"--card-type {self.card_type} with --id-type {self.id_type}: establishment staff (CPE, "
                       "CPA) are identified within their structure (--id-type structure)")
        if not staff and self.id_type == "structure":
            out.append(f"--card-type {self.card_type} with --id-type structure: a health professional's card "
                       "carries an RPPS or ADELI number (structure identifiers are for CPE and CPA cards)")
        if staff and self.profession is not None:
            out.append(f"--profession with --card-type {self.card_type}: staff cards carry no profession code")
        if not staff and self.card_type in CARD_TYPES:
            table = PROFESSIONS_IN_TRAINING if self.card_type == "CPF" else PROFESSIONS
            if self.profession_code not in table:
                known = ", ".join(str(code) for code in sorted(table))
                out.append(f"--profession {self.profession_code}: not a profession a {self.card_type} carries "
                           f"(known codes: {known})")
        if self.organization and not staff:
            out.append("--organization is for structure cards (CPE, CPA)")
        identifier = self.national_identifier_problem()
        if identifier:
            out.append(identifier)
        if self.expired and self.expires_in_days is not None:
            out.append("--expired with --expires-in: choose one")
        if self.expires_in_days is not None and not 1 <= self.expires_in_days <= VALIDITY_DAYS:
            out.append(f"--expires-in {self.expires_in_days}d: must be between 1 day and {VALIDITY_DAYS} days "
                       "(card certificates last three years)")
        if self.pin is not None and not re.fullmatch(r"[0-9]{4,8}", self.pin):
            out.append("--pin: 4 to 8 digits")
        if not 1 <= self.max_tries <= 15:
            out.append(f"--max-tries {self.max_tries}: between 1 and 15")
        if self.tries_left is not None and not 0 <= self.tries_left <= self.max_tries:
            out.append(f"--tries-left {self.tries_left}: between 0 (blocked) and --max-tries ({self.max_tries})")
        if not re.fullmatch(r"[0-9]{1,10}", self.number):
            out.append(f"--card-number {self.number}: 1 to 10 digits (real cards have 10)")
        out += self.situation_problems()
        for option, value in (("--given-name", self.given_name), ("--surname", self.surname)):
            if not value.strip():
                out.append(f"{option}: empty")
        return out

    @property
    def profession_code(self) -> int | None:
        if self.card_type in ("CPE", "CPA"):
            return None
        return 10 if self.profession is None else self.profession

    @property
    def id_value(self) -> str:
        return self.identifier if self.identifier is not None else DEFAULT_IDS.get(self.id_type, "")

    def national_identifier_problem(self) -> str | None:
        value = self.id_value
        if self.id_type == "rpps" and not re.fullmatch(r"[0-9]{11}", value):
            return f"--id {value}: an RPPS number is 11 digits"
        if self.id_type == "adeli" and not re.fullmatch(r"[0-9][0-9AB][0-9]{7}", value):
            return f"--id {value}: an ADELI number is 9 characters (digits; B or A second for Corsica)"
        if self.id_type == "structure" and not re.fullmatch(r"[0-9][0-9AB][0-9]{7}/[A-Za-z0-9]{1,20}", value):
            return (f"--id {value}: a structure identifier is the establishment's FINESS number, '/', and the "
                    "person's registration number in it (for example 999999990/CPET0001)")
        return None

    @property
    def national_id(self) -> str:
        """The subject CN: the G08 type digit then the identifier (8 RPPS, 0 ADELI, 3 FINESS/registration)."""
        return {"rpps": "8", "adeli": "0", "structure": "3"}[self.id_type] + self.id_value

    def validity_lines(self) -> list[str]:
        """The [holder] dates, relative to the day the certificates are issued."""
        if self.expired:
            return ["not_after_days = -1              # expired at the end of the day before it was made",
                    f"validity_days = {VALIDITY_DAYS}"]
        if self.expires_in_days is not None:
            return [f"not_after_days = {self.expires_in_days}             # expires at the end of that day (UTC)",
                    f"validity_days = {VALIDITY_DAYS}"]
        return ["not_before_days = -365", f"validity_days = {VALIDITY_DAYS}"]

    def toml(self) -> str:
        contactless = self.interface == "contactless"
        lines = [
            f"description = {_quote(self.description or self.summary())}",
            f"generation = {_quote(self.generation)}",
            f"interface = {_quote(self.interface)}",
            f"card_number = {_quote(self.number)}",
        ]
        if not contactless:
            lines += [f"pin = {_quote(self.pin or '1234')}", f"pin_max_tries = {self.max_tries}",
                      f"pin_tries_left = {self.max_tries if self.tries_left is None else self.tries_left}"]
        lines += ['anchors = "pki/anchors.pem"      # the test PKI made for this card', "",
                  "[auth]", 'certificate = "auth.pem"', 'key = "auth.key"', ""]
        if not contactless:
            lines += ["[signature]", 'certificate = "signature.pem"', 'key = "signature.key"', ""]
        lines += ["# What the certificates say (cpsdiag emulator make-pki reads it too).", "[holder]",
                  f"given_name = {_quote(self.given_name)}", f"surname = {_quote(self.surname)}",
                  f"national_id = {_quote(self.national_id)}"]
        if self.profession_code is not None:
            lines.append(f"profession_code = {self.profession_code}")
        else:
            lines.append(f"title = {_quote(STAFF_TITLE)}")
        lines.append(f"card_type = {CARD_TYPES[self.card_type]}               # {self.card_type}")
        if self.id_type == "structure":
            finess = self.id_value.split("/", 1)[0]
            lines += [f"organization = {_quote(self.organization or 'STRUCTURE EMULATEUR')}",
                      f'organizational_unit = "1{finess}"      # 1 = FINESS']
        lines += self.validity_lines()
        if self.revoked:
            lines += ["revoked = true                  # listed by make-pki --revocation-url's CRLs and OCSP index",
                      'revocation_reason = "keyCompromise"']
        lines += ["", "# The card's data objects (docs/emulator.md).", "[data]",
                  f"cps_data_size = {self.cps_data_size or DEFAULT_CPS_DATA_SIZE}"]
        situations = self.parsed_situations()
        if not situations and not contactless:
            lines.append("situations = []                 # no practice situation: billing software cannot bill")
        for situation in situations:
            lines += ["", "[[data.situations]]", f"structure_name = {_quote(situation.structure_name)}",
                      f"structure_id = {_quote(situation.structure_id)}", f"sector = {_quote(situation.sector)}"]
        return "\n".join(lines) + "\n"

    def summary(self) -> str:
        parts = [f"{self.card_type} {self.generation} {self.interface}", f"{self.id_type.upper()} {self.id_value}"]
        if self.expired:
            parts.append("certificates expired")
        elif self.expires_in_days is not None:
            parts.append(f"certificates expire in {self.expires_in_days} days")
        if self.tries_left is not None:
            parts.append(f"{self.tries_left} of {self.max_tries} PIN tries left")
        if self.situations == ():
            parts.append("no practice situation")
        if self.revoked:
            parts.append("revoked")
        return ", ".join(parts) + " (cpsdiag emulator new-profile)"


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def write(folder: Path, spec: CardSpec, force: bool = False, now: dt.datetime | None = None) -> Path:
    """Make the profile folder; refuses a card that cannot exist, and a folder already holding something."""
    from .pkigen import issue_card, make_authorities
    from .profile import load_folder

    problems = spec.problems()
    if problems:
        raise SpecError("this card cannot exist:\n  " + "\n  ".join(problems))
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise SpecError(f"{folder}: exists and is not a folder")
    if folder.is_dir() and any(folder.iterdir()) and not force:
        raise SpecError(f"{folder}: not empty (use --force to write over the profile in it)")
    now = (now or dt.datetime.now(dt.timezone.utc)).replace(microsecond=0)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "card.toml").write_text(spec.toml(), encoding="utf-8")
    cas, anchors = make_authorities(folder / "pki", now)
    issue_card(folder, folder, cas, anchors, now)
    load_folder(folder)         # what we wrote must be a valid profile
    return folder
