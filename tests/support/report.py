"""Helpers for the report tests: a check run in-process on the real stack, and the holder's identity.

``check_inserted`` runs the production ``run_check`` in the test process,
through pyscard, the session's pcscd and vpcd, against the card a test has
just inserted with ``insert_card``. ``identity_strings`` lists what
identifies the holder and the card, read from the profile's own PEM files,
and ``leaks`` finds any of them, in any form, in the files of a bundle.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

# The PAN as the emulator writes it into EF.SN.ICC: the leak search must look for the card's own bytes.
from cpsdiag.emulator.layout import luhn_digit
from tests.support.paths import DATA


@dataclass
class Checked:
    result: Any            # cpsdiag.diag.check.CheckResult
    report: Any            # cpsdiag.report.schema.Report

    @property
    def doc(self) -> dict[str, Any]:
        """The report as the JSON has it."""
        import msgspec

        return msgspec.to_builtins(self.report)


def check_inserted(anchors: Path, lang: str = "en") -> Checked:
    """``cpsdiag check --anchors ANCHORS`` in-process, on the card in the stack's reader."""
    from cpsdiag.diag.check import CheckOptions, run_check
    from cpsdiag.i18n import set_language
    from cpsdiag.report.jsonreport import build_report

    set_language(lang)
    result = run_check(CheckOptions(anchors=(anchors,)))
    return Checked(result, build_report(result))


def identity_strings(folder: Path) -> set[str]:
    """Every string that identifies the holder or the card, from the PEM files of a profile.

    Names and identifiers of the subjects (GN, SN, CN, O, OU), the UPN, the
    card number of extension 1.2.250.1.71.1.2.3 and the PAN built from it
    (ANS issuer + number + Luhn digit; a 10-digit number has its last 8 digits
    in EF.SN.ICC), the serials and SHA-256 fingerprints.
    """
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.x509.oid import NameOID

    out: set[str] = set()
    for pem in sorted(folder.glob("*.pem")):
        cert = x509.load_pem_x509_certificate(pem.read_bytes())
        for oid in (NameOID.GIVEN_NAME, NameOID.SURNAME, NameOID.COMMON_NAME, NameOID.ORGANIZATION_NAME,
                    NameOID.ORGANIZATIONAL_UNIT_NAME):
            out |= {str(a.value) for a in cert.subject.get_attributes_for_oid(oid)}
        try:
            san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
            for other in san.get_values_for_type(x509.OtherName):
                out.add(other.value[2:].decode())           # UTF8String: tag, length, text
        except x509.ExtensionNotFound:
            pass
        for ext in cert.extensions:
            if ext.oid.dotted_string == "1.2.250.1.71.1.2.3":
                text = ext.value.value[2:].decode()         # PrintableString "8025000001/<card number>"
                issuer, number = text.split("/")
                in_ef_sn = number[-8:] if len(number) == 10 else number
                out |= {text, number, in_ef_sn, issuer + in_ef_sn + str(luhn_digit(issuer + in_ef_sn))}
        serial = f"{cert.serial_number:X}"
        out |= {serial, serial.rjust(32, "0"), serial.rjust(len(serial) + len(serial) % 2, "0")}
        out.add(cert.fingerprint(hashes.SHA256()).hex().upper())
    return {s for s in out if s}


def needle_forms(value: str) -> set[bytes]:
    """How a value can show in a file: as text (upper, lower, title), as hex of its bytes, and as BCD digits."""
    forms: set[bytes] = set()
    for text in {value, value.upper(), value.lower(), value.title()}:
        forms.add(text.encode())
        raw = text.encode()
        for sep in ("", " ", ":"):
            forms.add(sep.join(f"{b:02x}" for b in raw).encode())
            forms.add(sep.join(f"{b:02X}" for b in raw).encode())
    if re.fullmatch(r"[0-9A-Fa-f]+", value) and len(value) % 2 == 0 and not value.isdigit():
        pairs = [value[i:i + 2] for i in range(0, len(value), 2)]
        for sep in (" ", ":"):
            forms |= {sep.join(pairs).upper().encode(), sep.join(pairs).lower().encode()}
    if value.isdigit() and len(value) >= 6 and len(value) % 2 == 0:
        # BCD on a byte boundary: the digits are the nibbles, spaced as a hex dump shows them.
        pairs = [value[i:i + 2] for i in range(0, len(value), 2)]
        forms.add(" ".join(pairs).encode())
    return forms


def trace_nibbles(text: str) -> list[str]:
    """The data of each exchange of apdu-trace.txt as one run of hex digits ("--" for a masked byte)."""
    runs: list[str] = []
    current: list[str] = []
    for line in text.splitlines():
        m = re.match(r"\s+[<>] ((?:[0-9a-f*]{2} ?)+)$", line)
        if m:
            current += ["--" if tok == "**" else tok for tok in m.group(1).split()]
        elif current:
            runs.append("".join(current))
            current = []
    if current:
        runs.append("".join(current))
    return runs


def _hex_runs_forms(value: str) -> set[str]:
    forms = {t.encode().hex() for t in {value, value.upper(), value.lower(), value.title()}}
    if value.isdigit() and len(value) >= 6:
        forms.add(value)                         # BCD at any nibble
    elif re.fullmatch(r"[0-9A-Fa-f]+", value) and len(value) >= 8:
        forms.add(value.lower())                 # a serial's own bytes
    return forms


def leaks(files: dict[str, bytes], identity: set[str]) -> list[tuple[str, str]]:
    """(file, value) for every identifying value found in any form in any file.

    The APDU trace is also searched as runs of nibbles, so that a number kept
    in BCD is found whichever half of a byte it starts on.
    """
    found = []
    for value in sorted(identity):
        forms = needle_forms(value)
        for name, data in files.items():
            if any(form in data for form in forms):
                found.append((name, value))
            elif name.endswith(".txt") and any(h in run for run in trace_nibbles(data.decode(errors="replace"))
                                               for h in _hex_runs_forms(value)):
                found.append((name + " (hex across lines or BCD)", value))
    return found


# -- report.html -----------------------------------------------------------------------------------------------

VERDICTS = {"en": {"ok": ("✔", "OK: the card and the workstation are ready"), "warning": ("!", "Works, with warnings"),
                   "error": ("✖", "Problem found")},
            "fr": {"ok": ("✔", "OK : la carte et le poste sont prêts"),
                   "warning": ("!", "Fonctionne, avec des avertissements"), "error": ("✖", "Problème détecté")}}


class Page(HTMLParser):
    """Body text in order, the tags seen, and every attribute value."""

    def __init__(self) -> None:
        super().__init__()
        self.in_body = False
        self.texts: list[str] = []
        self.tags: list[str] = []
        self.attrs: list[tuple[str, str]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attrs += [(k, v or "") for k, v in attrs]
        self.in_body = self.in_body or tag == "body"

    def handle_data(self, data):
        if self.in_body and data.strip():
            self.texts.append(data.strip())


def parse_page(html: str) -> Page:
    page = Page()
    page.feed(html)
    return page


def assert_self_contained(html: str) -> None:
    """No script, no event handler, nothing fetched: the page opens offline from a zip, as it was written."""
    page = parse_page(html)
    assert "script" not in page.tags and "link" not in page.tags and "img" not in page.tags
    for name, value in page.attrs:
        assert not name.startswith("on"), name
        if name in ("src", "href"):
            raise AssertionError(f"external reference {name}={value}")
    style = html[html.index("<style>"):html.index("</style>")]
    assert "url(" not in style and "@import" not in style and "@font-face" not in style


def bundle_report_json(anchors: Path, salt: Any) -> dict[str, Any]:
    """The report.json of a redacted bundle of the card in the reader, checked without the workstation inventory."""
    import json

    from cpsdiag.diag.check import CheckOptions, run_check
    from cpsdiag.report.bundle import REPORT, build_bundle, source_from_result

    result = run_check(CheckOptions(anchors=(anchors,), environment=False))
    bundle = build_bundle(source_from_result(result), salt=salt)
    return json.loads(next(f.data for f in bundle.files if f.name == REPORT))


# -- reports written by hand (unit tests) --------------------------------------------------------------------


def report_doc(**sections: Any) -> dict[str, Any]:
    """A complete cpsdiag.report/1 document with nothing in it (no reader, no card), ``sections`` replacing parts."""
    doc: dict[str, Any] = {
        "schema": "cpsdiag.report/1", "tool": {"name": "cpsdiag", "version": "0.1.0"},
        "generated_at": "2026-11-23T21:34:10Z", "language": "en", "validity_date": "2026-11-23T21:34:10Z",
        "verdict": "ok", "exit_status": 0, "findings": [], "pcsc": {"library": None, "error": None}, "readers": [],
        "card": None, "certificates": [], "keys": None, "environment": None, "tls": None, "timings_ms": {},
        "apdu": {"count": 0, "bytes_sent": 0, "bytes_received": 0}}
    doc.update(sections)
    return doc


def holder_doc(**fields: Any) -> dict[str, Any]:
    holder = dict.fromkeys(("given_name", "surname", "national_id", "id_type", "id_kind", "identifier", "login_id",
                            "title", "profession_code", "profession", "structure"))
    holder.update(fields)
    return holder


def certificate_doc(**fields: Any) -> dict[str, Any]:
    """A parsed certificate of the card with every field (most of them null), ``fields`` replacing some."""
    cert: dict[str, Any] = {
        "role": "authentication", "label": None, "path": None, "error": None, "subject": "CN=x", "issuer": "CN=y",
        "issuer_name": "y", "issuer_family": "other", "issuer_class": None, "issuer_range": None,
        "serial": "5A3F09B7C2D4E6F8A1B2C3D4E5F60718",
        "not_before": "2025-01-01T00:00:00Z", "not_after": "2028-01-01T00:00:00Z", "days_left": 400,
        "holder": holder_doc(), "card_type": None, "card_type_label": None, "test_card": False, "card_number": None,
        "key_usage": [], "extended_key_usage": [], "key_type": "RSA", "key_size": 2048, "private_key_size": None,
        "policies": [], "crl_urls": [], "ocsp_urls": [], "ca_issuers_urls": [], "sha256": "9F" * 32, "chain": None}
    cert.update(fields)
    return cert


def card_doc(**fields: Any) -> dict[str, Any]:
    card: dict[str, Any] = {
        "reader": "Reader 0", "atr": None, "protocol": None, "generation": "CPS3", "interface": "contact",
        "model": None, "identified": True, "atr_decoded": None, "card_number": None, "pan": None,
        "card_number_check_ok": None, "pin": None, "pkcs15": None}
    card.update(fields)
    return card


def finding_doc(code: str, severity: str = "ok", step: str = "card", **params: Any) -> dict[str, Any]:
    return {"code": code, "severity": severity, "step": step, "title": code, "detail": "", "remedy": None,
            "params": params}


def as_report(doc: dict[str, Any]) -> Any:
    """The record of a document, decoded as a bundle's report.json is."""
    import json

    from cpsdiag.report.schema import decode_report

    return decode_report(json.dumps(doc))


def inventory() -> dict:
    """The environment section of the fake Linux workstation (tests/data/env/linux)."""
    from cpsdiag.env import collect_environment, load_layout
    from cpsdiag.env import environment_dict

    return environment_dict(collect_environment(load_layout(DATA / "env" / "linux")))


# -- what a rendered report must show, from the profile's own files ------------------------------------------------

@dataclass
class ProfileFacts:
    """What the console and the page must show for the card of a profile, read from its card.toml (the
    emulator's documented defaults where it is silent) and from its certificates with ``cryptography``:
    nothing here comes from cpsdiag's own reading of the card."""

    card_number: str
    given_name: str
    surname: str
    national_id: str
    tries: tuple[int, int] | None                   # (left, max); None: no PIN (contactless, card.md)
    certificates: list[tuple[str, str, str]]       # (role, serial in upper-case hex, expiry "YYYY-MM-DD HH:MM")
    fingerprints: list[str]                        # SHA-256, colon-separated upper-case hex


def profile_facts(folder: Path) -> ProfileFacts:
    import tomllib

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.x509.oid import NameOID

    doc = tomllib.loads((folder / "card.toml").read_text())
    holder = doc["holder"]
    tries_max = doc.get("pin_max_tries", 3)                    # docs/emulator.md: default 3
    certificates, fingerprints = [], []
    for role in ("auth", "signature"):
        if role in doc:
            cert = x509.load_pem_x509_certificate((folder / doc[role]["certificate"]).read_bytes())
            assert cert.subject.get_attributes_for_oid(NameOID.GIVEN_NAME)[0].value == holder["given_name"]
            serial = f"{cert.serial_number:X}"
            serial = serial.rjust(len(serial) + len(serial) % 2, "0")    # whole bytes, as `openssl x509 -serial`
            certificates.append((role, serial, cert.not_valid_after_utc.strftime("%Y-%m-%d %H:%M")))
            fingerprints.append(cert.fingerprint(hashes.SHA256()).hex(":").upper())
    return ProfileFacts(str(doc["card_number"]), holder["given_name"], holder["surname"], holder["national_id"],
                        None if doc.get("interface") == "contactless" else (doc.get("pin_tries_left", tries_max), tries_max),
                        certificates, fingerprints)


CONSOLE_LABELS = {
    "en": {"number": "Card number", "given": "Given name", "surname": "Surname", "id": "Identifier",
           "serial": "Serial number", "expires": "Expires on", "tries": "{left} of {max} tries left"},
    "fr": {"number": "N° de carte", "given": "Prénom", "surname": "Nom", "id": "Identifiant",
           "serial": "N° de série", "expires": "Expire le", "tries": "{left} essai(s) restant(s) sur {max}"},
}


def assert_console_shows_the_profile(text: str, facts: ProfileFacts, lang: str = "en") -> None:
    """Each value on the line of its label (the column layout is free: any run of spaces between them)."""
    labels = CONSOLE_LABELS[lang]
    lines = [re.sub(r"[│╭╮╰╯─]", " ", line) for line in text.splitlines()]

    def row(label: str, value: str) -> None:
        pattern = re.compile(rf"(^|\s){re.escape(label)}\s+{re.escape(value)}(\s|$)")
        assert any(pattern.search(line) for line in lines), f"no line '{label}  {value}' in:\n{text}"

    row(labels["number"], facts.card_number)
    row(labels["given"], facts.given_name)
    row(labels["surname"], facts.surname)
    row(labels["id"], facts.national_id)
    if facts.tries is None:
        tries = re.escape(labels["tries"]).replace(r"\{left\}", r"\d+").replace(r"\{max\}", r"\d+")
        assert not re.search(tries, text), text
    elif facts.tries[0]:                 # a blocked PIN is said in words, not as "0 of 3"
        assert labels["tries"].format(left=facts.tries[0], max=facts.tries[1]) in text, text
    for _role, serial, expiry in facts.certificates:
        row(labels["serial"], serial)
        row(labels["expires"], expiry)
    # One serial line per certificate of the profile: a certificate shown twice, or one missing, would show.
    serials = [line for line in lines if re.search(rf"(^|\s){re.escape(labels['serial'])}\s", line)]
    assert len(serials) == len(facts.certificates), text


def assert_page_shows_the_profile(texts: list[str], facts: ProfileFacts) -> None:
    """The text of report.html (unredacted, English): each value in the cell after its label."""
    pairs = list(zip(texts, texts[1:]))

    def row(label: str, value: str) -> None:
        assert any(a == label and b.startswith(value) for a, b in pairs), f"no cell {value!r} after {label!r}"

    row("Card number", facts.card_number)
    row("Given name", facts.given_name)
    row("Surname", facts.surname)
    row("Identifier", facts.national_id)
    for _role, serial, expiry in facts.certificates:
        row("Serial number", serial)
        row("Expires on", expiry)
    assert {b for a, b in pairs if a == "Serial number"} == {serial for _r, serial, _e in facts.certificates}
    assert {b for a, b in pairs if a == "SHA-256"} == set(facts.fingerprints)
