"""Helpers for the report tests: a real check of an emulated card in-process, and the holder's identity.

``checked(profile)`` runs the production ``run_check`` with the PC/SC layer
replaced by the emulator's card in the same process (no pcscd): the reading,
judging and JSON code are the real ones, so the report, the trace and the
certificates are exactly what ``cpsdiag report`` would bundle. The stack tests
(tests/stack/test_report_*.py) do the same through pcscd and the CLI.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from cpsdiag.emulator import profile as profiles
from cpsdiag.emulator.card import VirtualCard
from cpsdiag.transport.base import TracedLink

READER = "Fake Reader (0A1B2C3D) 00 00"


class _FakeState:
    def __init__(self, atr: bytes):
        self.name, self.card_present, self.atr, self.exclusive = READER, True, atr, False
        self.in_use, self.mute, self.raw_state = False, False, 0


class _FakeLink(TracedLink):
    def __init__(self, card: VirtualCard, protocol: str):
        super().__init__()
        self.card, self.reader, self.atr, self.protocol = card, READER, card.atr, protocol

    def _transmit(self, apdu: bytes) -> tuple[bytes, int]:
        rsp = self.card.process(apdu)
        return rsp[:-2], int.from_bytes(rsp[-2:], "big")

    def close(self) -> None:
        pass


class _FakeContext:
    card: VirtualCard
    protocol: str

    def __init__(self, *args: Any, **kwargs: Any) -> None:      # whatever options the real context takes
        self.library = "fake-libpcsclite"

    def __enter__(self) -> "_FakeContext":
        return self

    def __exit__(self, *exc: object) -> None:
        pass

    def close(self) -> None:
        pass

    def readers(self) -> list[str]:
        return [READER]

    def states(self, names: list[str]) -> list[_FakeState]:
        return [_FakeState(self.card.atr)]

    def connect(self, reader: str, *args: Any, **kwargs: Any) -> _FakeLink:
        self.card.power_on()
        return _FakeLink(self.card, self.protocol)


@dataclass
class Checked:
    result: Any
    report: dict[str, Any]
    folder: Path


def run_emulated(monkeypatch: pytest.MonkeyPatch, folder: Path, anchors: Path, lang: str = "en") -> Checked:
    from cpsdiag.diag.check import CheckOptions, run_check
    from cpsdiag.i18n import set_language
    from cpsdiag.iso7816.atr import parse_atr
    from cpsdiag.report.jsonreport import report_dict
    from cpsdiag.transport import pcsc

    card = VirtualCard(profiles.load_folder(folder))
    protocols = parse_atr(card.atr).protocols
    context = type("Ctx", (_FakeContext,), {"card": card, "protocol": "T=0" if 0 in protocols else "T=1"})
    monkeypatch.setattr(pcsc, "check_library", lambda: "fake-libpcsclite")
    monkeypatch.setattr(pcsc, "PcscContext", context)
    set_language(lang)
    result = run_check(CheckOptions(anchors=(anchors,)))
    return Checked(result, report_dict(result), folder)


# -- the holder's identity, read from the profile's certificates themselves -------------------------


def _luhn(digits: str) -> int:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch) * (2 if i % 2 == 0 else 1)
        total += d - 9 if d > 9 else d
    return (10 - total % 10) % 10


def identity_strings(folder: Path) -> set[str]:
    """Every string that identifies the holder or the card, from the PEM files of a profile.

    Names and identifiers of the subjects (GN, SN, CN, O, OU), the UPN, the
    card number of extension 1.2.250.1.71.1.2.3 and the PAN built from it
    (ANS issuer + number + Luhn digit), the serials and SHA-256 fingerprints.
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
                out |= {text, number, issuer + number + str(_luhn(issuer + number))}
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


def test_identity_strings_read_from_certificates(pki):
    identity = identity_strings(pki.cards / "cpe-etablissement")
    assert {"ALEX", "EMULATEUR-ADMINISTRATIF", "3999999990/CPET0001", "CENTRE HOSPITALIER EMULATEUR", "1999999990",
            "90000003", "3999999990/CPET0001@carte-cps.fr"} <= identity
    assert "8025000001900000032" in identity        # the PAN, as EF.SN.ICC holds it
