"""Privacy by default for what leaves the desk: identifying values masked and hashed, everywhere.

A helpdesk needs to see *that* the card number in the certificate matches the
card, and to match two reports of the same card, but not *who* the holder is.
So every identifying value (names, national identifiers, structure
identifiers, card numbers, the PAN, certificate serials and fingerprints) is
replaced by a partial mask (``0169****170E``) and, next to it, a keyed hash:
HMAC-SHA256 with a salt made once per installation and kept in the user's
configuration folder. The same card gives the same hash on the same machine
(or on every machine that was given the same salt file), and the hash cannot
be reversed by hashing the public RPPS directory, which a plain SHA-256 of an
11-digit number could.

Identifying values are found by the marks of the schema (``Doc(...,
"card_number")`` on a field of ``cpsdiag.report.schema``, and the finding
parameters the ``params`` field lists), never by a list of key names: a field
renamed keeps its mark. Then every string of the report, the APDU trace and
the environment text is searched for them (as text, RFC 4514-escaped, as
bytes in UTF-8, Latin-1 and UTF-16, and as BCD digits at any nibble).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Iterator, cast

import msgspec
from msgspec import UNSET, Struct

from cpsdiag.record import HMAC_SUFFIX, field_meta, identifying_fields
from cpsdiag.report.schema import Redaction, Report

SALT_FILE = "redaction-salt"
HASH_HEX_DIGITS = 16          # 64 bits: enough to match reports, short enough to read
HASH_SUFFIX = HMAC_SUFFIX

# Hex values are masked and hashed without their separators, so that "01 69" and "01:69" agree.
_HEX_KINDS = frozenset({"serial", "fingerprint"})
_RFC4514_SPECIAL = '\\"+,;<>'
# A card number after ANS's issuer number, as EF.SN.ICC (PAN, BCD padded with F) or extension .3 ("issuer/number")
# write it: masked even where no field of the report names it (a parse error quoting a damaged EF.SN.ICC).
_PAN = re.compile(r"(?<![0-9A-Za-z])(8025000001/?)([0-9A-Fa-f]{4,})(?![0-9A-Za-z])")


# -- the salt ---------------------------------------------------------------------------------


def config_dir(environ: dict[str, str] | None = None) -> Path:
    """The user's cpsdiag configuration folder, by the platform's convention."""
    env = os.environ if environ is None else environ
    if env.get("CPSDIAG_CONFIG_DIR"):
        return Path(env["CPSDIAG_CONFIG_DIR"])
    if sys.platform == "win32" and env.get("APPDATA"):
        return Path(env["APPDATA"]) / "cpsdiag"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Application Support" / "cpsdiag"
    base = env.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "cpsdiag"


@dataclass(frozen=True)
class Salt:
    key: bytes = field(repr=False)
    origin: str                 # "installation" (kept in a file) | "ephemeral" (this report only)
    path: str | None = None
    problem: str | None = None  # why an ephemeral salt was used

    @property
    def id(self) -> str:
        """A public name of the salt: two reports with the same id have comparable hashes."""
        return hmac.new(self.key, b"cpsdiag salt id", hashlib.sha256).hexdigest()[:8]


def load_salt(directory: Path | None = None) -> Salt:
    """The installation's salt, made on first use (32 random bytes, hex, mode 0600).

    An unwritable or damaged file does not stop the report: an ephemeral salt is
    used and the redaction block says so (hashes then match nothing else).
    """
    folder = directory or config_dir()
    path = folder / SALT_FILE
    try:
        folder.mkdir(parents=True, exist_ok=True)
        try:
            # O_EXCL: two reports started at once must not make two different salts.
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "w") as out:
                out.write(secrets.token_hex(32) + "\n")
        text = path.read_text(encoding="ascii").strip()
        key = bytes.fromhex(text)
        if len(key) < 16:
            raise ValueError("shorter than 16 bytes")
        return Salt(key, "installation", str(path))
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        return Salt(secrets.token_bytes(32), "ephemeral", str(path), f"{path}: {reason}")


# -- masks and hashes -------------------------------------------------------------------------


def _normal(value: str, kind: str) -> str:
    text = value.strip()
    if kind in _HEX_KINDS:
        text = re.sub(r"[\s:]", "", text)
    if kind == "card_number" and len(text) == 10 and text.isdigit():
        # A real card's 10-digit number (certificates) has its last 8 digits in EF.SN.ICC: the same card hashes
        # alike in both places, so a helpdesk still sees that they agree.
        text = text[-8:]
    return text.upper()


def mask(value: str, kind: str = "identifier") -> str:
    """A partial mask that shows too little to identify, enough to talk about: 0169****170E, C****.

    Numbers and serials keep at most a sixth of their characters at each end
    (4 at most); names keep their initial only. The middle is never shown and
    the mask does not tell the length.
    """
    text = _normal(value, kind) if kind in _HEX_KINDS else value.strip()
    if kind == "name":
        return f"{text[:1]}****" if len(text) >= 4 else "****"
    keep = min(4, len(text) // 6)
    return f"{text[:keep]}****{text[len(text) - keep:]}" if keep else "****"


def keyed_hash(salt: Salt, value: str, kind: str = "identifier") -> str:
    return hmac.new(salt.key, _normal(value, kind).encode(), hashlib.sha256).hexdigest()[:HASH_HEX_DIGITS]


# -- finding identifying values in any tree -----------------------------------------------------


def _scalar(value: object) -> bool:
    return isinstance(value, (str, int)) and not isinstance(value, bool) and bool(str(value).strip())


def _identifying(value: object) -> bool:
    """A value an identifying key holds that can be masked: text or number, or a list of them."""
    return _scalar(value) or (isinstance(value, list) and bool(value) and all(_scalar(v) for v in value))


def _parts(value: str, kind: str) -> list[str]:
    """"90000001, 90000004" (a finding's list of card numbers) is two values; anything else is one."""
    if kind == "card_number" and "," in value:
        return [p.strip() for p in value.split(",") if p.strip()]
    return [value]


def _fields(node: Struct) -> Iterator[tuple[str, object, str | None, dict[str, str] | None]]:
    """(name, value, identifying kind, identifying parameters) of each field of a record that has a value."""
    kinds = identifying_fields(type(node))
    meta = field_meta(type(node))
    for name in node.__struct_fields__:
        value = getattr(node, name)
        if value is not UNSET:
            yield name, value, kinds.get(name), meta[name].get("identifying_params")


def identifying_values(record: object) -> Iterator[tuple[str, str, str]]:
    """(path, kind, value) of every identifying value of a record (a subject's own values are ``subjects``')."""

    def walk(node: object, path: str) -> Iterator[tuple[str, str, str]]:
        if isinstance(node, Struct):
            for name, value, kind, params in _fields(node):
                here = f"{path}.{name}" if path else name
                if kind is not None and kind != "subject" and _identifying(value):
                    for item in (value if isinstance(value, list) else [value]):
                        yield from ((here, kind, part) for part in _parts(str(item), kind))
                elif params is not None and isinstance(value, dict):
                    for key, item in value.items():
                        if key in params and _identifying(item):
                            for one in (item if isinstance(item, list) else [item]):
                                yield from ((f"{here}.{key}", params[key], p) for p in _parts(str(one), params[key]))
                else:
                    yield from walk(value, here)
        elif isinstance(node, list):
            for i, value in enumerate(node):
                yield from walk(value, f"{path}[{i}]")

    yield from walk(record, "")


def subjects(record: object) -> Iterator[str]:
    """The values of the fields marked ``subject`` (the card certificates' distinguished names)."""
    if isinstance(record, Struct):
        for _name, value, kind, _params in _fields(record):
            if kind == "subject" and isinstance(value, str):
                yield value
            else:
                yield from subjects(value)
    elif isinstance(record, list):
        for value in record:
            yield from subjects(value)


def rfc4514_escape(value: str) -> str:
    """As cryptography escapes attribute values in Name.rfc4514_string()."""
    out = "".join("\\" + c if c in _RFC4514_SPECIAL else c for c in value).replace("\0", "\\00")
    if out[:1] in ("#", " "):
        out = "\\" + out
    if value.endswith(" ") and len(value) > 1:
        out = out[:-1] + "\\ "
    return out


@dataclass(frozen=True)
class Needle:
    text: str            # as it may appear in a string
    replacement: str     # the mask shown instead
    words: bool          # letters at an end: match whole words only (a short name inside another word is not it)


def _variants(value: str, kind: str) -> set[str]:
    text = value.strip()
    out = {text, rfc4514_escape(text)}
    if kind in _HEX_KINDS:
        compact = _normal(text, kind)
        pairs = [compact[i:i + 2] for i in range(0, len(compact), 2)]
        for joined in (compact, " ".join(pairs), ":".join(pairs)):
            out |= {joined, joined.lower()}
        if kind == "serial" and re.fullmatch(r"[0-9A-F]+", compact):
            out.add(str(int(compact, 16)))          # decimal, as some tools print serials
    if kind == "name" and len(text) > 3:
        out |= {text.upper(), text.title(), text.lower()}
    if kind in ("identifier", "card_number") and "/" in text:
        # A structure's "FINESS/registration" identifier: each part identifies on its own.
        out |= {part for part in re.split(r"[/\s]+", text) if len(part) >= 4}
    return {v for v in out if v}


class Redactor:
    """Replaces known identifying values in strings and in APDU bytes."""

    def __init__(self, salt: Salt, values: Iterable[tuple[str, str]] = (), home: str | None = None):
        self.salt = salt
        self.values: dict[str, tuple[str, str]] = {}     # original value -> (kind, mask)
        needles: dict[str, Needle] = {}
        for kind, value in values:
            value = str(value).strip()
            if not value or value in self.values:
                continue
            shown = mask(value, kind)
            self.values[value] = (kind, shown)
            for text in _variants(value, kind):
                words = text[:1].isalpha() or text[-1:].isalpha()
                # A longer or earlier needle wins when two would give the same text.
                needles.setdefault(text, Needle(text, shown, words))
        self.needles = tuple(sorted(needles.values(), key=lambda n: -len(n.text)))
        parts = []
        for n in self.needles:
            if len(n.text) < 2:
                continue        # a one-letter initial would mask every "a" of the texts
            body = re.escape(n.text)
            if len(n.text) <= 3:
                body = f"(?-i:{body})"      # a short name counts only as written (upper case in certificates)
            if n.words:
                body = rf"(?<![^\W\d_]){body}(?![^\W\d_])"
            parts.append(body)
        self._pattern = re.compile("|".join(parts), re.IGNORECASE) if parts else None
        self._by_text = {n.text.casefold(): n.replacement for n in self.needles}
        # The user's home folder names the account (often the person): shown as ~.
        self.home: str = (home if home is not None else _home()) or ""
        self._home_pattern = re.compile(re.escape(self.home) + r"(?![^\W_])") if self.home else None
        self._byte_needles = self._make_byte_needles()
        self.replacements = 0

    # -- strings --

    def text(self, value: str) -> str:
        if self._home_pattern is not None and self.home in value:
            value = self._home_pattern.sub("~", value)
        if self._pattern is None:
            return _PAN.sub(self._pan, value)

        def sub(match: re.Match[str]) -> str:
            self.replacements += 1
            return self._by_text.get(match.group(0).casefold(), "****")

        value = self._pattern.sub(sub, value)
        return _PAN.sub(self._pan, value)

    def _pan(self, match: re.Match[str]) -> str:
        self.replacements += 1
        return match.group(1) + mask(match.group(2), "card_number")

    # -- bytes --

    def _make_byte_needles(self) -> tuple[tuple[str, bool], ...]:
        """(lowercase hex, any_nibble) to look for in APDU data."""
        out: set[tuple[str, bool]] = set()
        for value, (kind, _shown) in self.values.items():
            if kind in _HEX_KINDS:
                compact = _normal(value, kind).lower()
                if re.fullmatch(r"(?:[0-9a-f]{2})+", compact) and len(compact) >= 8:
                    out.add((compact, False))
                continue
            for text in _variants(value, kind):
                if len(text) < 3:
                    continue
                for codec in ("utf-8", "latin-1", "utf-16-be"):
                    try:
                        out.add((text.encode(codec).hex(), False))
                    except UnicodeEncodeError:
                        pass
                digits = re.sub(r"\D", "", text)
                # BCD (EF.SN.ICC packs the PAN two digits a byte): the digits are the hex nibbles themselves.
                if len(digits) >= 6 and digits == text:
                    out.add((digits, True))
        return tuple(sorted(out, key=lambda n: -len(n[0])))

    def data_mask(self, data: bytes) -> set[int]:
        """Indexes of the bytes of ``data`` that belong to an identifying value."""
        hexed = data.hex()
        hit: set[int] = set()
        for needle, any_nibble in self._byte_needles:
            start = hexed.find(needle)
            while start != -1:
                if any_nibble or start % 2 == 0:
                    hit.update(range(start // 2, (start + len(needle) + 1) // 2))
                start = hexed.find(needle, start + 1)
        return hit


def _home() -> str | None:
    try:
        home = str(Path.home())
    except RuntimeError:
        return None
    return home if len(home) > 1 else None


# -- distinguished names -------------------------------------------------------------------------

# Attribute types of a subject that do not identify the holder; every other value of a subject is masked.
SUBJECT_KEEP = frozenset({"C", "ST", "L", "TITLE", "2.5.4.6", "2.5.4.8", "2.5.4.7", "2.5.4.12"})


def parse_rfc4514(text: str) -> list[list[tuple[str, str]]]:
    """RDNs of an RFC 4514 string (as written, most specific first), each a list of (type, value)."""
    rdns: list[list[tuple[str, str]]] = []
    rdn: list[tuple[str, str]] = []
    buf: list[str] = []
    attr: str | None = None
    i = 0
    while i < len(text):
        c = text[i]
        if c == "\\" and i + 1 < len(text):
            pair = text[i + 1:i + 3]
            if len(pair) == 2 and all(ch in "0123456789abcdefABCDEF" for ch in pair):
                buf.append(chr(int(pair, 16)))
                i += 3
                continue
            buf.append(text[i + 1])
            i += 2
            continue
        if c == "=" and attr is None:
            attr, buf = "".join(buf).strip(), []
        elif c in ",+" and attr is not None:
            rdn.append((attr, "".join(buf)))
            attr, buf = None, []
            if c == ",":
                rdns.append(rdn)
                rdn = []
        else:
            buf.append(c)
        i += 1
    if attr is not None:
        rdn.append((attr, "".join(buf)))
    if rdn:
        rdns.append(rdn)
    return rdns


def join_rfc4514(rdns: list[list[tuple[str, str]]]) -> str:
    return ",".join("+".join(f"{t}={rfc4514_escape(v)}" for t, v in rdn) for rdn in rdns)


def mask_subject(subject: str) -> str:
    """A subject with every value that could identify the holder masked (country, region, title kept)."""
    rdns = parse_rfc4514(subject)
    def hidden(value: str) -> str:
        return mask(value, "identifier" if any(c.isdigit() for c in value) else "name")

    return join_rfc4514([[(t, v if t.upper() in SUBJECT_KEEP else hidden(v)) for t, v in rdn] for rdn in rdns])


# -- the report ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class RedactedReport:
    report: Report
    redactor: Redactor


def redactor_for(report: Report, salt: Salt, extra: Iterable[tuple[str, str]] = (), home: str | None = None
                 ) -> Redactor:
    """A redactor that knows every identifying value of ``report`` (plus ``extra`` (kind, value) pairs)."""
    values = [(kind, value) for _path, kind, value in identifying_values(report)]
    # Any other value of a subject (a UID, a pseudonym, an e-mail...) identifies the holder as well.
    values += [("name", v) for subject in subjects(report) for rdn in parse_rfc4514(subject)
               for t, v in rdn if t.upper() not in SUBJECT_KEEP]
    return Redactor(salt, [*values, *extra], home=home)


def redact_report(report: Report, salt: Salt, include_certificates: bool = False,
                  extra: Iterable[tuple[str, str]] = (), home: str | None = None) -> RedactedReport:
    """A copy of ``report`` with identifying values masked and hashed, and a ``redaction`` block saying so.

    Fields marked identifying get a mask and their ``<field>_hmac`` sibling
    (so do the identifying finding parameters); a field marked ``subject``
    keeps its attribute types with identifying values masked; every other
    string has the identifying values it contains masked.
    """
    redactor = redactor_for(report, salt, extra, home)
    fields: list[str] = []
    kinds: set[str] = set()

    def hidden(value: object, kind: str, here: str) -> tuple[str | list[str], str | list[str]]:
        fields.append(here)
        kinds.add(kind)
        if isinstance(value, list):
            return [mask(str(v), kind) for v in value], [keyed_hash(salt, str(v), kind) for v in value]
        parts = _parts(str(value), kind)
        if len(parts) > 1:
            return ", ".join(mask(p, kind) for p in parts), [keyed_hash(salt, p, kind) for p in parts]
        return mask(str(value), kind), keyed_hash(salt, str(value), kind)

    def replace(node: object, path: str) -> object:
        if isinstance(node, Struct):
            changes: dict[str, object] = {}
            for name, value, kind, params in _fields(node):
                here = f"{path}.{name}" if path else name
                if kind == "subject" and isinstance(value, str):
                    changes[name] = redactor.text(mask_subject(value))
                    fields.append(here)
                elif kind is not None and kind != "subject" and _identifying(value):
                    changes[name], changes[f"{name}{HASH_SUFFIX}"] = hidden(value, kind, here)
                elif params is not None and isinstance(value, dict):
                    out: dict[str, object] = {}
                    for key, item in value.items():
                        if key in params and _identifying(item):
                            out[key], out[f"{key}{HASH_SUFFIX}"] = hidden(item, params[key], f"{here}.{key}")
                        else:
                            out[key] = replace(item, f"{here}.{key}")
                    changes[name] = out
                else:
                    changes[name] = replace(value, here)
            return msgspec.structs.replace(node, **changes)
        if isinstance(node, list):
            return [replace(v, f"{path}[{i}]") for i, v in enumerate(node)]
        if isinstance(node, str):
            return redactor.text(node)
        return node

    # A Struct comes back as a Struct of its own type. (Not mutated: a cast does nothing at run time.)
    masked = cast(Report, replace(report, ""))  # pragma: no mutate
    block = redaction_block(salt, sorted(kinds), fields, redactor.replacements, include_certificates)
    return RedactedReport(msgspec.structs.replace(masked, redaction=block), redactor)


def redaction_block(salt: Salt, kinds: list[str], fields: list[str], replacements: int,
                    include_certificates: bool) -> Redaction:
    return Redaction(
        applied=True,
        method=f"partial mask; HMAC-SHA256 keyed with a per-installation salt, first {HASH_HEX_DIGITS} hex "
               f"digits in <field>{HASH_SUFFIX}",
        salt=salt.origin, salt_id=salt.id, kinds=kinds, fields=fields, replacements_in_text=replacements,
        certificates_included=include_certificates,
        trace="certificate contents omitted; identifying bytes shown as **",
        salt_problem=salt.problem if salt.problem else UNSET)


def not_redacted_block(include_certificates: bool) -> Redaction:
    return Redaction(applied=False, reason="--no-redact", certificates_included=include_certificates)
