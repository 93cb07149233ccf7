"""The helpdesk bundle: one zip with the report (JSON and HTML), the APDU trace, the environment, a manifest.

Everything written is derived from one report record (redacted first unless
``--no-redact``), so no file can show what another hides. The manifest lists
the SHA-256 of every other file; reading a bundle back (``read_report``)
checks them, so that a helpdesk can tell a bundle was edited on the way, and
decodes report.json strictly against the schema (``schema.decode_report``).
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
from typing import IO, TYPE_CHECKING, Iterable, Sequence

import msgspec

from cpsdiag import __version__
from cpsdiag.i18n import N_, _
from cpsdiag.report.redact import Salt, load_salt, not_redacted_block, redact_report
from cpsdiag.report.schema import Report, SchemaError, decode_report
from cpsdiag.report.trace import certificate_file_ids, redact_trace, trace_text

if TYPE_CHECKING:
    from cpsdiag.diag.check import CheckResult
    from cpsdiag.findings.model import Finding
    from cpsdiag.transport.base import ApduRecord

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
    report: Report                     # as written in report.json
    redacted: bool
    certificates_included: bool


@dataclass(frozen=True)
class BundleSource:
    """What a live check gives the bundle: the report, the raw trace, the card's certificates."""

    report: Report
    trace: Sequence[ApduRecord] = ()
    certificates: tuple[tuple[str, bytes], ...] = ()    # (role, DER)


def source_from_result(result: CheckResult, report: Report | None = None) -> BundleSource:
    """The bundle's input from a live ``CheckResult`` (and its report, when already built)."""
    if report is None:
        from cpsdiag.report.jsonreport import build_report

        report = build_report(result)
    facts = result.facts
    certs: list[tuple[str, bytes]] = [(cf.role, cf.der) for cf in facts.certificates if cf.der]
    card = facts.card
    if card is not None:
        # Certificates the CDF names but that could not be parsed are still card data to keep out of the trace.
        known = {der for _role, der in certs}
        certs += [("unknown", c.der) for c in getattr(card, "certificates", []) if c.der and c.der not in known]
    trace = facts.trace.records if facts.trace is not None else ()
    return BundleSource(report, tuple(trace), tuple(certs))


# -- building ----------------------------------------------------------------------------------------


def build_bundle(source: BundleSource, redact: bool = True, include_certificates: bool = False,
                 salt: Salt | None = None) -> Bundle:
    from cpsdiag.report.html import render_html
    from cpsdiag.report.jsonreport import to_json

    if redact:
        done = redact_report(source.report, salt or load_salt(), include_certificates)
        report, redactor = done.report, done.redactor
    else:
        report, redactor = msgspec.structs.replace(source.report, redaction=not_redacted_block(include_certificates)), \
            None
    entries = redact_trace(source.trace, redactor, certificate_file_ids(source.report),
                           [der for _role, der in source.certificates])
    environment = environment_from_report(report)
    if redactor is not None:
        environment = redactor.text(environment)
    files = [
        BundleFile(REPORT, (to_json(report) + "\n").encode(), DESCRIPTIONS[REPORT]),
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


def manifest(files: list[BundleFile], report: Report) -> str:
    redaction = report.redaction or None
    doc = {
        "schema": BUNDLE_SCHEMA,
        "tool": {"name": "cpsdiag", "version": __version__},
        "generated_at": report.generated_at,
        "redacted": bool(redaction and redaction.applied),
        "certificates_included": bool(redaction and redaction.certificates_included),
        "files": [{"name": f.name, "size": len(f.data), "sha256": f.sha256, "description": f.description}
                  for f in files],
    }
    return json.dumps(doc, ensure_ascii=False, indent=2) + "\n"


def environment_from_report(report: Report) -> str:
    """environment.txt: the rows of the report's environment section, as every view shows them."""
    if report.environment is None:
        return _("The workstation inventory was not collected by this version of cpsdiag.") + "\n"
    from cpsdiag.env.render import environment_text

    return environment_text(report.environment)


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


class Manifest(msgspec.Struct, frozen=True):
    """What ``read_report`` needs of manifest.json (cpsdiag.bundle/1)."""

    class Entry(msgspec.Struct, frozen=True):
        name: str
        sha256: str

    schema: str
    files: list[Entry]


@dataclass(frozen=True)
class Integrity:
    """What the manifest says of the bundle's files: ``problems`` empty when every SHA-256 matches."""

    checked: bool                      # False for a JSON report (check --json): it has no manifest
    problems: tuple[str, ...] = ()

    @property
    def tampered(self) -> bool:
        return bool(self.problems)

    def finding(self) -> Finding | None:
        """REPORT_TAMPERED when a file does not match the manifest, shown before the report's own findings."""
        if not self.problems:
            return None
        from cpsdiag.findings.model import Finding, Severity
        from cpsdiag.termtext import clean

        return Finding("REPORT_TAMPERED", Severity.ERROR, "report", {"problems": clean("; ".join(self.problems))})


@dataclass(frozen=True)
class LoadedReport:
    report: Report
    integrity: Integrity
    raw: bytes                          # report.json as stored


def load_report(path: Path | str) -> Report:
    """The report of a bundle (.zip) or of a JSON file written by ``check --json``; BundleError otherwise."""
    return read_report(path).report


def read_report(path: Path | str, verify: bool = True) -> LoadedReport:
    """The report of a bundle or a JSON report, decoded against the schema, and the bundle's integrity.

    The file is opened once and told apart by its first bytes (summarize reads
    thousands of them: zipfile.is_zipfile would open each one a second time).
    A file that is not a cpsdiag report, or whose report.json breaks the
    schema, raises BundleError naming the file and what is wrong; a bundle
    whose files do not match its manifest is returned, its ``integrity``
    saying which.
    """
    integrity = Integrity(False)
    try:
        with open(path, "rb") as fh:
            head = fh.read(4)
            if head in (b"PK\x03\x04", b"PK\x05\x06"):
                raw, integrity = _zipped_report(path, fh, verify)
            else:
                if os.fstat(fh.fileno()).st_size > MAX_REPORT_BYTES:
                    raise BundleError(f"{path}: too large to be a cpsdiag report")
                raw = head + fh.read()
    except BundleError:
        raise
    except OSError as exc:
        raise BundleError(f"{path}: cannot read ({exc.strerror or exc})") from None
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, ValueError) as exc:
        raise BundleError(f"{path}: damaged zip ({exc})") from None
    try:
        report = decode_report(raw)
    except SchemaError as exc:
        raise BundleError(_schema_problem(path, raw, str(exc))) from None
    return LoadedReport(report, integrity, raw)


def _schema_problem(path: Path | str, raw: bytes, problem: str) -> str:
    """"not a cpsdiag report" when it says it is something else, else what breaks the schema and where."""
    if problem.startswith("not JSON"):
        return f"{path}: {problem}"
    if problem.startswith("$.schema:") or "field schema" in problem or problem.startswith("$: Expected object"):
        try:
            found = msgspec.json.decode(raw, type=_Head).schema
        except (msgspec.DecodeError, msgspec.ValidationError, RecursionError):
            found = None
        return f"{path}: not a cpsdiag report (schema {found!r}, expected {REPORT_SCHEMA})"
    return f"{path}: not a valid {REPORT_SCHEMA} document: {problem}"


class _Head(msgspec.Struct):
    schema: object = None


def _zipped_report(path: Path | str, fh: IO[bytes], verify: bool) -> tuple[bytes, Integrity]:
    fh.seek(0)
    with zipfile.ZipFile(fh) as zf:
        try:
            info = zf.getinfo(REPORT)
        except KeyError:
            raise BundleError(f"{path}: no {REPORT} in this zip (not a cpsdiag bundle)") from None
        if info.file_size > MAX_REPORT_BYTES:
            raise BundleError(f"{path}: {REPORT} is too large to be a cpsdiag report")
        raw = zf.read(info)
        return raw, (_verify(zf) if verify else Integrity(False))


def _verify(zf: zipfile.ZipFile) -> Integrity:
    """Every file against the SHA-256 manifest.json gives it; files missing from either side are problems too."""
    try:
        info = zf.getinfo(MANIFEST)
    except KeyError:
        return Integrity(True, (f"{MANIFEST} is missing",))
    try:
        if info.file_size > MAX_REPORT_BYTES:
            raise ValueError("too large")
        listed = msgspec.json.decode(zf.read(info), type=Manifest)
    except (ValueError, msgspec.DecodeError, RecursionError, zipfile.BadZipFile) as exc:
        return Integrity(True, (f"{MANIFEST} cannot be read ({str(exc)[:200]})",))
    problems: list[str] = []
    names = set(zf.namelist()) - {MANIFEST}
    for entry in listed.files:
        if entry.name not in names:
            problems.append(f"{entry.name} is listed in {MANIFEST} but missing")
            continue
        names.discard(entry.name)
        digest = hashlib.sha256()
        with zf.open(entry.name) as member:
            for chunk in iter(lambda: member.read(1 << 16), b""):
                digest.update(chunk)
        if digest.hexdigest() != entry.sha256.lower():
            problems.append(f"{entry.name} does not match its SHA-256 in {MANIFEST}")
    problems += [f"{name} is not listed in {MANIFEST}" for name in sorted(names)]
    return Integrity(True, tuple(problems))
