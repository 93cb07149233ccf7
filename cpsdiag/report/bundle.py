"""The helpdesk bundle: one zip with the report (JSON and HTML), the APDU trace, the environment, a manifest.

Everything written is derived from one report dict (redacted first unless
``--no-redact``), so no file can show what another hides. The manifest lists
the SHA-256 of every other file, so that a helpdesk can tell a bundle was not
edited on the way.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import zipfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Iterable, Sequence

from cpsdiag import __version__
from cpsdiag.i18n import N_, _
from cpsdiag.report.redact import Salt, load_salt, not_redacted_block, redact_report
from cpsdiag.report.trace import certificate_file_ids, redact_trace, trace_text

BUNDLE_SCHEMA = "cpsdiag.bundle/1"
REPORT_SCHEMA = "cpsdiag.report/1"
REPORT, HTML, TRACE, ENVIRONMENT, MANIFEST = "report.json", "report.html", "apdu-trace.txt", "environment.txt", \
    "manifest.json"
MAX_REPORT_BYTES = 64 * 1024 * 1024        # a report.json larger than this is not one cpsdiag wrote

DESCRIPTIONS = {
    REPORT: N_("the diagnosis, machine-readable (schema cpsdiag.report/1)"),
    HTML: N_("the diagnosis to open in a browser or print"),
    TRACE: N_("every command exchanged with the card, with timings"),
    ENVIRONMENT: N_("the workstation inventory"),
    MANIFEST: N_("SHA-256 of every file"),
    "certificate": N_("a certificate of the card (it names the holder)"),
}


class BundleError(Exception):
    """A file that is not a readable cpsdiag bundle or report (the message names it)."""


@dataclass(frozen=True)
class BundleFile:
    name: str
    data: bytes
    description: str                   # English msgid, translated when printed

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


@dataclass(frozen=True)
class Bundle:
    files: tuple[BundleFile, ...]
    report: dict[str, Any]             # as written in report.json
    redacted: bool
    certificates_included: bool


@dataclass(frozen=True)
class BundleSource:
    """What a live check gives the bundle: the report dict, the raw trace, the card's certificates."""

    report: dict[str, Any]
    trace: Sequence[Any] = ()                          # cpsdiag.transport.base.ApduRecord
    certificates: tuple[tuple[str, bytes], ...] = ()    # (role, DER)
    environment_text: str = ""


def source_from_result(result: Any, report: dict[str, Any], environment_text: str = "") -> BundleSource:
    """The bundle's input from a live ``CheckResult`` and its report dict."""
    facts = result.facts
    certs: list[tuple[str, bytes]] = [(cf.role, cf.der) for cf in facts.certificates if cf.der]
    card = facts.card
    if card is not None:
        # Certificates the CDF names but that could not be parsed are still card data to keep out of the trace.
        known = {der for _role, der in certs}
        certs += [("unknown", c.der) for c in getattr(card, "certificates", []) if c.der and c.der not in known]
    trace = facts.trace.records if facts.trace is not None else ()
    return BundleSource(report, tuple(trace), tuple(certs), environment_text)


# -- building ----------------------------------------------------------------------------------------


def build_bundle(source: BundleSource, redact: bool = True, include_certificates: bool = False,
                 salt: Salt | None = None) -> Bundle:
    from cpsdiag.report.html import render_html

    if redact:
        done = redact_report(source.report, salt or load_salt(), include_certificates)
        report, redactor = done.report, done.redactor
    else:
        report, redactor = dict(source.report), None
        report["redaction"] = not_redacted_block(include_certificates)
    entries = redact_trace(source.trace, redactor, certificate_file_ids(source.report),
                           [der for _role, der in source.certificates])
    environment = source.environment_text or environment_from_report(report.get("environment"))
    if redactor is not None:
        environment = redactor.text(environment)
    files = [
        BundleFile(REPORT, (json.dumps(report, ensure_ascii=False, indent=2) + "\n").encode(), DESCRIPTIONS[REPORT]),
        BundleFile(HTML, render_html(report).encode(), DESCRIPTIONS[HTML]),
        BundleFile(TRACE, trace_text(entries, report).encode(), DESCRIPTIONS[TRACE]),
        BundleFile(ENVIRONMENT, environment.encode(), DESCRIPTIONS[ENVIRONMENT]),
    ]
    if include_certificates:
        files += certificate_files(source.certificates)
    files.append(BundleFile(MANIFEST, manifest(files, report).encode(), DESCRIPTIONS[MANIFEST]))
    return Bundle(tuple(files), report, redact, include_certificates)


def certificate_files(certificates: Iterable[tuple[str, bytes]]) -> list[BundleFile]:
    out: list[BundleFile] = []
    used: set[str] = set()
    for role, der in certificates:
        name, n = f"certificates/{role}.pem", 2
        while name in used:
            name, n = f"certificates/{role}-{n}.pem", n + 1
        used.add(name)
        out.append(BundleFile(name, pem(der).encode(), DESCRIPTIONS["certificate"]))
    return out


def pem(der: bytes) -> str:
    b64 = base64.b64encode(der).decode()
    lines = [b64[i:i + 64] for i in range(0, len(b64), 64)]
    return "-----BEGIN CERTIFICATE-----\n" + "\n".join(lines) + "\n-----END CERTIFICATE-----\n"


def manifest(files: list[BundleFile], report: dict[str, Any]) -> str:
    redaction = report.get("redaction") or {}
    doc = {
        "schema": BUNDLE_SCHEMA,
        "tool": {"name": "cpsdiag", "version": __version__},
        "generated_at": report.get("generated_at"),
        "redacted": bool(redaction.get("applied")),
        "certificates_included": bool(redaction.get("certificates_included")),
        "files": [{"name": f.name, "size": len(f.data), "sha256": f.sha256, "description": f.description}
                  for f in files],
    }
    return json.dumps(doc, ensure_ascii=False, indent=2) + "\n"


def environment_from_report(section: Any) -> str:
    """environment.txt when the caller gave no text: the report's environment section, indented."""
    if not section:
        return _("The workstation inventory was not collected by this version of cpsdiag.") + "\n"
    lines: list[str] = []

    def walk(node: Any, indent: int) -> None:
        pad = "  " * indent
        if isinstance(node, dict):
            for key, value in node.items():
                if isinstance(value, (dict, list)) and value:
                    lines.append(f"{pad}{key}:")
                    walk(value, indent + 1)
                else:
                    lines.append(f"{pad}{key}: {_scalar(value)}")
        elif isinstance(node, list):
            for value in node:
                if isinstance(value, (dict, list)) and value:
                    lines.append(f"{pad}-")
                    walk(value, indent + 1)
                else:
                    lines.append(f"{pad}- {_scalar(value)}")
        else:
            lines.append(f"{pad}{_scalar(node)}")

    walk(section, 0)
    return "\n".join(lines) + "\n"


def _scalar(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (dict, list)):
        return "-"
    return str(value)


# -- writing and reading -----------------------------------------------------------------------------


def default_output(folder: Path | None = None, now: datetime | None = None) -> Path:
    """cpsdiag-report-20261123-214206.zip in the current folder, never overwriting an earlier one."""
    stamp = (now or datetime.now()).strftime("%Y%m%d-%H%M%S")
    base = (folder or Path.cwd()) / f"cpsdiag-report-{stamp}.zip"
    path, n = base, 2
    while path.exists():
        path, n = base.with_name(f"cpsdiag-report-{stamp}-{n}.zip"), n + 1
    return path


def write_bundle(bundle: Bundle, path: Path) -> int:
    """Write the zip atomically (a half-written bundle never carries the final name); returns its size."""
    path = Path(path)
    partial = path.with_name(path.name + ".partial")
    stamp = datetime.now().timetuple()[:6]
    try:
        with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            for f in bundle.files:
                info = zipfile.ZipInfo(f.name, date_time=stamp)
                info.compress_type = zipfile.ZIP_DEFLATED
                info.external_attr = 0o644 << 16
                zf.writestr(info, f.data)
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return path.stat().st_size


def load_report(path: Path | str) -> dict[str, Any]:
    """The report of a bundle (.zip) or of a JSON file written by ``check --json``; BundleError otherwise.

    The file is opened once and told apart by its first bytes (summarize reads
    thousands of them: zipfile.is_zipfile would open each one a second time).
    """
    try:
        with open(path, "rb") as fh:
            head = fh.read(4)
            if head in (b"PK\x03\x04", b"PK\x05\x06"):
                raw = _zipped_report(path, fh)
            else:
                if os.fstat(fh.fileno()).st_size > MAX_REPORT_BYTES:
                    raise BundleError(f"{path}: too large to be a cpsdiag report")
                raw = head + fh.read()
        doc = json.loads(raw)
    except BundleError:
        raise
    except OSError as exc:
        raise BundleError(f"{path}: cannot read ({exc.strerror or exc})") from None
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError) as exc:
        raise BundleError(f"{path}: damaged zip ({exc})") from None
    except (UnicodeDecodeError, ValueError) as exc:
        raise BundleError(f"{path}: not JSON ({exc})") from None
    if not isinstance(doc, dict) or doc.get("schema") != REPORT_SCHEMA:
        found = doc.get("schema") if isinstance(doc, dict) else type(doc).__name__
        raise BundleError(f"{path}: not a cpsdiag report (schema {found!r}, expected {REPORT_SCHEMA})")
    return doc


def _zipped_report(path: Path | str, fh: Any) -> bytes:
    fh.seek(0)
    with zipfile.ZipFile(fh) as zf:
        try:
            info = zf.getinfo(REPORT)
        except KeyError:
            raise BundleError(f"{path}: no {REPORT} in this zip (not a cpsdiag bundle)") from None
        if info.file_size > MAX_REPORT_BYTES:
            raise BundleError(f"{path}: {REPORT} is too large to be a cpsdiag report")
        return zf.read(info)
