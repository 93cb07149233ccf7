"""``report summarize``: counts over a fleet of bundles and JSON reports, read one at a time.

Memory stays flat as the fleet grows: files are found by a lazy walk, each
report is parsed, counted and dropped; only the counters (bounded by the
number of distinct codes, readers, versions) and the certificates expiring
within 90 days are kept. Counts are per report: a card reported twice counts
twice, but an expiring certificate is listed once (its latest report).

Each report is decoded against the schema: one that breaks it is skipped
and counted, never a reason to stop. A bundle whose files do not match its
manifest is counted (it is still a report) and listed as tampered. Every
text kept from a report loses its control characters on the way in.
"""

from __future__ import annotations

import csv
import json
import math
import os
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterable, Iterator, Sequence, TextIO

from cpsdiag.report.bundle import BundleError, read_report
from cpsdiag.env.record import EnvironmentSection
from cpsdiag.report.schema import Card, Report
from cpsdiag.report.view import parse_time
from cpsdiag.termtext import clean

if TYPE_CHECKING:
    from rich.console import Console

SUMMARY_SCHEMA = "cpsdiag.summary/1"
WINDOWS = (30, 60, 90)
SKIPPED_SAMPLE = 20          # files named in the output when some could not be read; the rest are counted
CONSOLE_CERTIFICATES = 50    # certificates listed on the console (all of them in --json and --csv)
NO_CARD, UNKNOWN, NO_READER, NOT_REPORTED = "no card", "unknown", "no reader", "not reported"
CSV_COLUMNS = ("table", "key", "severity", "count", "days_left", "not_after", "role", "card", "serial", "file")


@dataclass(frozen=True, slots=True)
class ExpiringCertificate:
    days_left: int
    not_after: str
    role: str
    card: str                 # the card number as the report shows it (masked in redacted reports)
    serial: str
    file: str
    generated_at: str


@dataclass
class FleetSummary:
    at: datetime
    reports: int = 0
    skipped: int = 0
    skipped_sample: list[tuple[str, str]] = field(default_factory=list)
    tampered: int = 0
    tampered_sample: list[tuple[str, str]] = field(default_factory=list)
    verdicts: Counter[str] = field(default_factory=Counter)
    findings: Counter[tuple[str, str]] = field(default_factory=Counter)
    severities: Counter[str] = field(default_factory=Counter)
    generations: Counter[str] = field(default_factory=Counter)
    readers: Counter[str] = field(default_factory=Counter)
    middleware: Counter[str] = field(default_factory=Counter)
    certificates: dict[str, ExpiringCertificate] = field(default_factory=dict)   # expired or within 90 days
    revocation: Counter[str] = field(default_factory=Counter)    # certificates by revocation status

    def skip(self, source: str, reason: str) -> None:
        self.skipped += 1
        if len(self.skipped_sample) < SKIPPED_SAMPLE:
            self.skipped_sample.append((source, reason))

    def flag_tampered(self, source: str, problems: tuple[str, ...]) -> None:
        self.tampered += 1
        if len(self.tampered_sample) < SKIPPED_SAMPLE:
            self.tampered_sample.append((source, "; ".join(problems)))

    def add(self, report: Report, source: str) -> None:
        self.reports += 1
        self.verdicts[report.verdict] += 1
        for f in report.findings:
            self.findings[(clean(f.code), f.severity)] += 1
            self.severities[f.severity] += 1
        card = report.card
        self.generations[NO_CARD if card is None else clean(card.generation or UNKNOWN)] += 1
        self.readers[reader_model(selected_reader(report))] += 1
        for name in set(middleware_versions(report.environment)):
            self.middleware[clean(name)] += 1
        self._certificates(report, source, card)

    def _certificates(self, report: Report, source: str, card: Card | None) -> None:
        for cert in report.certificates:
            if cert.revocation:
                self.revocation[clean(cert.revocation.status)] += 1
            end = parse_time(cert.not_after)
            if end is None:
                continue
            days = math.floor((end - self.at).total_seconds() / 86400)
            if days > WINDOWS[-1]:
                continue
            serial = clean(cert.serial or "")
            # The keyed hash of a redacted serial names the certificate as well as the serial itself.
            key = str(cert.serial_hmac or serial or f"{source}#{cert.role}")
            number = cert.card_number or (card.card_number if card is not None else None) or "-"
            entry = ExpiringCertificate(days, clean(str(cert.not_after)), clean(cert.role), clean(number),
                                        serial or "-", source, clean(report.generated_at or ""))
            known = self.certificates.get(key)
            if known is None or (entry.generated_at, entry.file) > (known.generated_at, known.file):
                self.certificates[key] = entry

    def expiring(self) -> list[ExpiringCertificate]:
        return sorted(self.certificates.values(), key=lambda c: (c.days_left, c.card, c.role, c.file))

    def window_counts(self) -> dict[str, int]:
        certs = self.certificates.values()
        out = {"expired": sum(1 for c in certs if c.days_left < 0)}
        for days in WINDOWS:
            out[f"within_{days}_days"] = sum(1 for c in certs if 0 <= c.days_left <= days)
        return out


def selected_reader(report: Report) -> str | None:
    if report.card is not None and report.card.reader:
        return clean(report.card.reader)
    for r in report.readers:
        if r.selected:
            return clean(r.name)
    return clean(report.readers[0].name) if report.readers else None


_SLOT = re.compile(r"(?:\s+\d{1,2})+$")                  # PC/SC's " 00 00" (Linux) or " 0" (Windows)
_SERIAL = re.compile(r"\s*\((?=[^)]*\d)[0-9A-Fa-f:-]{6,}\)")  # "(645D3A2F)": the reader's own serial


def reader_model(name: str | None) -> str:
    """The model of a reader from its PC/SC name: slot numbers and serial numbers removed."""
    if not name:
        return NO_READER
    model = _SERIAL.sub("", _SLOT.sub("", name.strip()))
    return model.strip() or name.strip()


# PKCS#11 modules of the inventory that are card middleware (p11-kit's proxy and trust modules, NSS's own are not).
_MODULE_NAMES = {"cryptolib-legacy": "Cryptolib CPS (legacy module)", "opensc": "OpenSC"}


def middleware_versions(environment: EnvironmentSection | None) -> list[str]:
    """"name version" of each middleware the environment section reports.

    Read (docs/helpdesk-report.md): ``environment.cryptolib`` {installed,
    version} and the card modules of ``environment.modules`` (OpenSC...,
    version from their PKCS#11 probe), as ``cpsdiag env`` writes them.
    """
    if environment is None:
        return [NOT_REPORTED]
    lib = environment.cryptolib
    items: list[tuple[str, bool, str | None]] = [("Cryptolib CPS", lib.installed, lib.version)]
    for m in environment.modules:
        if m.kind in _MODULE_NAMES or m.kind == "other":
            items.append((_MODULE_NAMES.get(m.kind) or m.name or "?", True,
                          m.probe.library_version if m.probe is not None else None))
    return [f"{name} (not installed)" if not installed else f"{name} {version}" if version
            else f"{name} (version unknown)" for name, installed, version in items]


# -- reading -------------------------------------------------------------------------------------------


def iter_files(paths: Iterable[Path | str]) -> Iterator[str]:
    """Files named, and *.zip / *.json under folders named, found lazily (no list of the whole tree)."""
    for path in paths:
        if not os.path.isdir(path):
            yield str(path)
            continue
        stack = [str(path)]
        while stack:
            folder = stack.pop()
            try:
                with os.scandir(folder) as entries:
                    for entry in entries:
                        if entry.is_dir(follow_symlinks=False):
                            stack.append(entry.path)
                        elif entry.name.endswith((".zip", ".json")) and entry.is_file():
                            yield entry.path
            except OSError:
                continue


def summarize(paths: Iterable[Path | str], at: datetime | None = None,
              progress: Callable[[int], None] | None = None) -> FleetSummary:
    """Counts over every report found; ``progress(files seen)`` is called after each file."""
    summary = FleetSummary(at=at or datetime.now(timezone.utc))
    for n, path in enumerate(iter_files(paths), 1):
        shown = clean(path)
        try:
            loaded = read_report(path)
        except BundleError as exc:
            # The manifest.json of an unzipped bundle is not a report, and not a failure either.
            if not (os.path.basename(path) == "manifest.json" and "not a cpsdiag report" in str(exc)):
                summary.skip(shown, clean(str(exc).removeprefix(f"{path}: ")))
        else:
            summary.add(loaded.report, shown)
            if loaded.integrity.tampered:
                summary.flag_tampered(shown, tuple(clean(p) for p in loaded.integrity.problems))
        if progress is not None:
            progress(n)
    return summary


# -- output ---------------------------------------------------------------------------------------------


def _cert_dict(c: ExpiringCertificate) -> dict[str, object]:
    return {"days_left": c.days_left, "not_after": c.not_after, "role": c.role, "card": c.card, "serial": c.serial,
            "file": c.file, "generated_at": c.generated_at}


def _head(summary: FleetSummary) -> dict[str, object]:
    return {
        "schema": SUMMARY_SCHEMA,
        "at": summary.at.astimezone(timezone.utc).isoformat().replace("+00:00", "Z"),
        "reports": summary.reports,
        "skipped": summary.skipped,
        "skipped_files": [{"file": f, "reason": r} for f, r in summary.skipped_sample],
        "tampered": summary.tampered,
        "tampered_files": [{"file": f, "reason": r} for f, r in summary.tampered_sample],
        "verdicts": dict(summary.verdicts.most_common()),
        "severities": dict(summary.severities.most_common()),
        "findings": [{"code": code, "severity": sev, "count": n}
                     for (code, sev), n in sorted(summary.findings.items(), key=lambda kv: (-kv[1], kv[0]))],
        "generations": dict(summary.generations.most_common()),
        "readers": dict(summary.readers.most_common()),
        "middleware": dict(summary.middleware.most_common()),
        "expiry": summary.window_counts(),
        "revocation": revocation_counts(summary),
    }


def revocation_counts(summary: FleetSummary) -> dict[str, int]:
    """Certificates by revocation status; revoked and unknown always present, the ones to act on."""
    return {"revoked": summary.revocation["revoked"], "unknown": summary.revocation["unknown"],
            "good": summary.revocation["good"], "not_checked": summary.revocation["not_checked"]}


def summary_dict(summary: FleetSummary) -> dict[str, object]:
    """The ``cpsdiag.summary/1`` document."""
    return {**_head(summary), "certificates": [_cert_dict(c) for c in summary.expiring()]}


def write_json(summary: FleetSummary, out: TextIO, ascii_only: bool = False) -> None:
    """summary_dict() as JSON, the certificate list written one entry at a time (the only part that can be long)."""
    head = json.dumps(_head(summary), ensure_ascii=ascii_only, indent=2)
    out.write(head[:-2] + ',\n  "certificates": [')
    for i, c in enumerate(summary.expiring()):
        out.write(("," if i else "") + "\n    " + json.dumps(_cert_dict(c), ensure_ascii=ascii_only))
    out.write("\n  ]\n}\n" if summary.certificates else "]\n}\n")


def write_csv(summary: FleetSummary, out: TextIO) -> None:
    """One table in long form: counts rows, then one row per certificate expired or expiring within 90 days."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)

    def row(table: str, key: str, count: int, severity: str = "") -> None:
        writer.writerow([table, key, severity, count, "", "", "", "", "", ""])

    row("reports", "read", summary.reports)
    row("reports", "skipped", summary.skipped)
    row("reports", "tampered", summary.tampered)
    for key, n in summary.verdicts.most_common():
        row("verdict", key, n)
    for (code, sev), n in sorted(summary.findings.items(), key=lambda kv: (-kv[1], kv[0])):
        row("finding", code, n, sev)
    for sev, n in summary.severities.most_common():
        row("severity", sev, n, sev)
    for table, counter in (("generation", summary.generations), ("reader", summary.readers),
                           ("middleware", summary.middleware)):
        for key, n in counter.most_common():
            row(table, key, n)
    for key, n in summary.window_counts().items():
        row("expiry", key, n)
    for key, n in revocation_counts(summary).items():
        row("revocation", key, n)
    for c in summary.expiring():
        writer.writerow(["certificate", "expired" if c.days_left < 0 else f"within_{_window(c.days_left)}_days", "",
                         1, c.days_left, c.not_after, c.role, c.card, c.serial, c.file])


def _window(days: int) -> int:
    return next(w for w in WINDOWS if days <= w)


def render_summary(summary: FleetSummary, console: Console) -> None:
    from rich.table import Table
    from rich.text import Text

    from cpsdiag.i18n import _

    console.print(Text(_("{reports} reports read, {skipped} files skipped").format(
        reports=summary.reports, skipped=summary.skipped), style="bold"))
    if summary.tampered:
        console.print(Text(_("{n} bundles were changed after they were written (their files do not match their "
                             "manifest): see the list below.").format(n=summary.tampered), style="bold red"))

    def counts(title: str, rows: Sequence[tuple[str, ...]], headers: tuple[str, ...]) -> None:
        table = Table(title=title, title_justify="left", title_style="bold", box=None, padding=(0, 2))
        for i, h in enumerate(headers):
            table.add_column(h, justify="right" if i == len(headers) - 1 else "left")
        for r in rows:
            table.add_row(*r)
        console.print()
        console.print(table)

    counts(_("Verdicts"), [(k, str(n)) for k, n in summary.verdicts.most_common()], (_("Verdict"), _("Reports")))
    counts(_("Findings"), [(code, sev, str(n)) for (code, sev), n in
                           sorted(summary.findings.items(), key=lambda kv: (-kv[1], kv[0]))],
           (_("Code"), _("Severity"), _("Reports")))
    counts(_("Card generations"), [(k, str(n)) for k, n in summary.generations.most_common()],
           (_("Generation"), _("Reports")))
    counts(_("Reader models"), [(k, str(n)) for k, n in summary.readers.most_common()], (_("Reader"), _("Reports")))
    counts(_("Middleware"), [(k, str(n)) for k, n in summary.middleware.most_common()],
           (_("Middleware"), _("Reports")))
    windows = summary.window_counts()
    counts(_("Certificate expiry"), [(_("expired"), str(windows["expired"]))] +
           [(_("within {days} days").format(days=d), str(windows[f"within_{d}_days"])) for d in WINDOWS],
           (_("When"), _("Certificates")))
    revocation = revocation_counts(summary)
    counts(_("Certificate revocation"), [(_("revoked"), str(revocation["revoked"])),
                                         (_("unknown (not checked successfully)"), str(revocation["unknown"])),
                                         (_("not revoked"), str(revocation["good"])),
                                         (_("not checked"), str(revocation["not_checked"]))],
           (_("Status"), _("Certificates")))
    expiring = summary.expiring()
    if expiring:
        table = Table(box=None, padding=(0, 2))
        for h in (_("Days left"), _("Expires on"), _("Role"), _("Card number"), _("File")):
            table.add_column(h)
        for c in expiring[:CONSOLE_CERTIFICATES]:
            table.add_row(str(c.days_left), c.not_after[:10], c.role, c.card, c.file)
        console.print()
        console.print(table)
        if len(expiring) > CONSOLE_CERTIFICATES:
            console.print(_("{more} more: see --json or --csv.").format(more=len(expiring) - CONSOLE_CERTIFICATES))
