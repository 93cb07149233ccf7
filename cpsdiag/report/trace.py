"""The APDU trace as it goes into a bundle: certificate contents left out, identifying bytes masked, as text.

Every exchange stays, with its timing and status word, so that a helpdesk (or
a card expert) can follow what the card was asked and answered. PIN data was
already masked by the transport (``cpsdiag.transport.base``) before anything
stored it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Collection, Iterable

from cpsdiag import __version__
from cpsdiag.iso7816.sw import describe
from cpsdiag.report.redact import Redactor
from cpsdiag.report.schema import Report

if TYPE_CHECKING:
    from cpsdiag.transport.base import ApduRecord

INS_NAMES = {0xA4: "SELECT", 0xB0: "READ BINARY", 0xB1: "READ BINARY", 0xC0: "GET RESPONSE", 0xCA: "GET DATA",
             0xCB: "GET DATA", 0x20: "VERIFY", 0x22: "MANAGE SECURITY ENVIRONMENT", 0x2A: "PERFORM SECURITY OPERATION",
             0x88: "INTERNAL AUTHENTICATE", 0x84: "GET CHALLENGE", 0x70: "MANAGE CHANNEL",
             0x24: "CHANGE REFERENCE DATA", 0x2C: "RESET RETRY COUNTER"}
HEX_BYTES_PER_LINE = 32
INS_SELECT, INS_READ_BINARY, INS_READ_BINARY_ODD, INS_GET_RESPONSE = 0xA4, 0xB0, 0xB1, 0xC0
# EF.SN.ICC (3F00/D003, short EF identifier 1C) holds the PAN: its content is masked whatever the report knows.
EF_SN_FID, EF_SN_SFI = bytes.fromhex("D003"), 0x1C
_READS = frozenset({INS_READ_BINARY, INS_READ_BINARY_ODD})


@dataclass(frozen=True)
class TraceEntry:
    """One exchange as it goes into the bundle: hex with ``**`` for masked bytes, or the data left out."""

    command: str
    response: str              # "" when there is no data or it was left out
    response_length: int
    omitted: bool              # the response data is certificate content, left out
    sw: int
    seconds: float


def certificate_file_ids(report: Report) -> set[bytes]:
    """The file identifiers (last two bytes of the path) of the card's certificate files."""
    paths: list[str] = [c.path or "" for c in report.certificates]
    card = report.card
    if card is not None and card.pkcs15 is not None:
        paths += [c.path or "" for c in card.pkcs15.certificates]
    out = set()
    for path in paths:
        compact = re.sub(r"[\s:]", "", path)
        if len(compact) >= 4 and re.fullmatch(r"[0-9A-Fa-f]+", compact) and len(compact) % 2 == 0:
            out.add(bytes.fromhex(compact[-4:]))
    return out


def _tokens(hexed: str) -> list[int | None]:
    """Bytes of a trace hex string; None for bytes the transport already masked (PIN data)."""
    out: list[int | None] = []
    for tok in hexed.split():
        try:
            out.append(int(tok, 16) if len(tok) == 2 else None)
        except ValueError:
            out.append(None)
    return out


def _hex(tokens: list[int | None], hidden: set[int] = frozenset()) -> str:  # type: ignore[assignment]
    return " ".join("**" if b is None or i in hidden else f"{b:02x}" for i, b in enumerate(tokens))


def _looks_like_certificate(data: bytes) -> bool:
    # SEQUENCE (long form) holding a SEQUENCE (long form): the start of an X.509 certificate.
    return len(data) >= 8 and data[0] == 0x30 and data[1] in (0x82, 0x83) and data[4 if data[1] == 0x82 else 5] == 0x30


def redact_trace(records: Iterable[ApduRecord], redactor: Redactor | None, certificate_fids: Collection[bytes] = frozenset(),
                 certificate_blobs: Iterable[bytes] = ()) -> list[TraceEntry]:
    """The trace with certificate contents left out and identifying bytes masked (``redactor`` None: as recorded).

    Certificate reads are recognised three ways, so that one miss does not leak:
    the file selected is a certificate file named by the CDF; the data is a
    piece of a certificate the card returned; the first chunk of the file
    starts like a certificate. Every remaining byte string is searched for the
    identifying values (EF.SN.ICC's PAN in BCD included).
    """
    blobs = tuple(b for b in certificate_blobs if b)
    out: list[TraceEntry] = []
    in_certificate = in_serial = False
    last_ins: int | None = None
    for rec in records:
        command = _tokens(rec.command)
        response = _tokens(rec.response)
        data = bytes(b or 0 for b in response)
        if redactor is None:
            out.append(TraceEntry(_hex(command), _hex(response), len(response), False, rec.sw, rec.seconds))
            continue
        ins = command[1] if len(command) > 1 else None
        p1 = command[2] if len(command) > 2 else None
        if ins == INS_SELECT and len(command) > 5 and None not in command[5:]:
            body = bytes(command[5:5 + (command[4] or 0)])  # type: ignore[arg-type]
            in_certificate = p1 != 0x04 and len(body) >= 2 and body[-2:] in certificate_fids
            in_serial = p1 != 0x04 and len(body) >= 2 and body[-2:] == EF_SN_FID
        elif ins == INS_READ_BINARY and p1 is not None and p1 & 0x80:
            in_certificate = False          # a short EF identifier selects another file
            in_serial = p1 & 0x1F == EF_SN_SFI
        reading = ins in _READS or (ins == INS_GET_RESPONSE and last_ins in _READS)
        if ins != INS_GET_RESPONSE:
            last_ins = ins
        if reading and data and _looks_like_certificate(data):
            in_certificate = True
        omit = bool(data) and ((reading and in_certificate) or (len(data) >= 8 and any(data in b for b in blobs)))
        hidden_cmd = redactor.data_mask(bytes(b or 0 for b in command))
        if omit:
            out.append(TraceEntry(_hex(command, hidden_cmd), "", len(response), True, rec.sw, rec.seconds))
        else:
            hidden = redactor.data_mask(data)
            if reading and in_serial:
                hidden |= set(range(2, len(data)))      # keep the tag and length (5A 0A), not the PAN
            out.append(TraceEntry(_hex(command, hidden_cmd), _hex(response, hidden), len(response), False, rec.sw,
                                  rec.seconds))
    return out


def _ins_name(command: str) -> str:
    tokens = command.split()
    try:
        return INS_NAMES.get(int(tokens[1], 16), f"INS {tokens[1].upper()}")
    except (IndexError, ValueError):
        return "?"


def _wrapped(prefix: str, hexed: str) -> list[str]:
    tokens = hexed.split()
    if not tokens:
        return []
    return [prefix + " ".join(tokens[i:i + HEX_BYTES_PER_LINE]) for i in range(0, len(tokens), HEX_BYTES_PER_LINE)]


def trace_text(entries: list[TraceEntry], report: Report) -> str:
    """apdu-trace.txt: every exchange, its time, its status word and what it means (technical, in English)."""
    card, apdu = report.card, report.apdu
    total_ms = sum(e.seconds for e in entries) * 1000
    lines = [f"cpsdiag {__version__}: APDU trace",
             f"Reader: {card.reader if card else '-'}   Protocol: {(card.protocol if card else None) or '-'}   "
             f"ATR: {(card.atr if card else None) or '-'}",
             f"{len(entries)} commands, {apdu.bytes_sent} bytes sent, {apdu.bytes_received} "
             f"bytes received (status words included), {total_ms:.2f} ms at the card.",
             "PIN data (VERIFY, CHANGE REFERENCE DATA, RESET RETRY COUNTER) is always shown as **."]
    if report.redaction and report.redaction.applied:
        lines.append("Redacted: certificate contents are left out; bytes of identifying values are shown as **.")
    else:
        lines.append("NOT redacted (--no-redact): responses are shown as the card sent them.")
    if not entries:
        lines += ["", "No command was sent to the card."]
    lines += ["", "  #   start ms    time ms  command"]
    elapsed = 0.0
    for i, e in enumerate(entries, 1):
        lines.append(f"{i:3d} {elapsed * 1000:10.2f} {e.seconds * 1000:10.2f}  {_ins_name(e.command)}")
        lines += _wrapped("      > ", e.command)
        if e.omitted:
            lines.append(f"      < [certificate data left out: {e.response_length} bytes]")
        else:
            lines += _wrapped("      < ", e.response)
        lines.append(f"      < {e.sw >> 8:02x} {e.sw & 0xFF:02x}  {describe(e.sw)}")
        elapsed += e.seconds
    return "\n".join(lines) + "\n"
