"""``cpsdiag report``: the helpdesk bundle; ``report show`` and ``report summarize`` read bundles back."""

from __future__ import annotations

import sys
import traceback
from datetime import datetime
from pathlib import Path
from typing import Any

import click

from cpsdiag.cli.check import check_options
from cpsdiag.cli.common import DATE, REPORT_FILE, REPORT_PATH, debug_option, guarded, lang_option


class _ReportGroup(click.Group):
    """``cpsdiag report [OPTIONS]`` makes a bundle; ``report show`` / ``report summarize`` read them."""

    def format_usage(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        formatter.write_usage(ctx.command_path, "[OPTIONS] | show FILE | summarize PATH...")


@click.group(cls=_ReportGroup, invoke_without_command=True)
@check_options
@click.option("--output", "-o", type=click.Path(path_type=Path), metavar="FILE.zip",
              help="Where to write the bundle (a folder: a timestamped name in it). "
                   "Default: cpsdiag-report-<date>-<time>.zip in the current folder.")
@click.option("--include-certificates", is_flag=True,
              help="Add the card's certificates (PEM). They name the holder: share them only when asked.")
@click.option("--no-redact", is_flag=True,
              help="Keep names, identifiers, card numbers and serials in clear. The report says so.")
@lang_option
@debug_option
@click.pass_context
def report(ctx: click.Context, /, output: Path | None, include_certificates: bool, no_redact: bool, lang: str | None,
           debug: bool, **check: Any) -> None:     # check's options: build_options types them
    """Run the diagnosis and write one zip to send to a helpdesk.

    The zip holds report.json, report.html, apdu-trace.txt, environment.txt
    and manifest.json (SHA-256 of every file). Names, national identifiers,
    card numbers and certificate serials are masked unless --no-redact. Exit
    status as for check: 0 no error finding, 1 at least one, 2 usage error.
    """
    if ctx.invoked_subcommand is not None:
        return
    make_bundle(output=output, check=check, include_certificates=include_certificates, no_redact=no_redact,
                lang=lang, debug=debug)


def _output_path(output: Path | None) -> Path:
    from cpsdiag.errors import UsageError
    from cpsdiag.report.bundle import default_output

    if output is None:
        return default_output()
    if output.is_dir():
        return default_output(output)
    if not output.parent.is_dir():
        raise UsageError(f"--output {output}: the folder {output.parent} does not exist")
    return output


@guarded
def make_bundle(output: Path | None, check: dict[str, Any], include_certificates: bool, no_redact: bool,
                lang: str | None, debug: bool) -> int:
    from cpsdiag.cli.check import build_options, diagnose
    from cpsdiag.errors import UsageError
    from cpsdiag.report.bundle import build_bundle, source_from_result, write_bundle

    path = _output_path(output)
    # check's own options, parsed by check's own code: whatever check gains, report runs it the same way.
    quiet = check.pop("quiet")
    result = diagnose(build_options(**check), as_json=False, quiet=quiet, debug=debug)
    try:
        source = source_from_result(result)
        bundle = build_bundle(source, redact=not no_redact, include_certificates=include_certificates)
    except Exception as exc:
        # A bug while building the bundle: no zip at all rather than one that might not be redacted.
        if debug:
            traceback.print_exc()
        click.echo(f"Error: the report could not be built ({type(exc).__name__}: {exc}); nothing was written. "
                   "Run again with --debug and report the output to the cpsdiag developers.", err=True)
        return 1
    try:
        size = write_bundle(bundle, path)
    except OSError as exc:
        raise UsageError(f"--output {path}: cannot write ({exc.strerror or exc})") from None
    _print_written(bundle, path, size)
    return result.exit_status


def _print_written(bundle: Any, path: Path, size: int) -> None:
    from cpsdiag.i18n import _
    from cpsdiag.printable import escape_controls
    from cpsdiag.report.view import verdict_label

    marks = {"ok": "✔", "warning": "!", "error": "✖"}
    verdict = bundle.report.verdict
    click.echo(f"{marks.get(verdict, '✖')} {verdict_label(verdict)}")
    click.echo(_("Report written: {path} ({size:.1f} kB)").format(path=escape_controls(str(path.resolve())),
                                                                 size=size / 1000))
    width = max(len(f.name) for f in bundle.files)
    for f in bundle.files:
        click.echo(f"  {f.name.ljust(width)}  {_(f.description)}")
    if bundle.redacted:
        click.echo(_("Redacted: names, national identifiers, card numbers and certificate serials are masked "
                     "(with a code that matches other reports of the same card from this computer)."))
    else:
        click.echo(_("NOT redacted (--no-redact): the files name the holder and show their identifiers. "
                     "Send them only to someone allowed to see them."))
    if bundle.certificates_included:
        click.echo(_("The card's certificates are included: they name the holder."))
    else:
        click.echo(_("The card's certificates are not included (--include-certificates adds them)."))


def _utf8_stdout() -> bool:
    """Standard output takes UTF-8 (not so under LC_ALL=POSIX with PYTHONUTF8=0): else JSON is all \\u escapes."""
    return str(getattr(sys.stdout, "encoding", "") or "").lower().replace("_", "-").startswith("utf")


# -- report show --------------------------------------------------------------------------------------


def _load(path: Path) -> Any:
    """The report and the bundle's integrity; a file that is not a valid cpsdiag report is a usage error."""
    from cpsdiag.errors import UsageError
    from cpsdiag.report.bundle import BundleError, read_report

    try:
        return read_report(path)
    except BundleError as exc:
        raise UsageError(str(exc)) from None


@report.command()
@click.argument("file", type=REPORT_FILE)
@click.option("--json", "as_json", is_flag=True, help="Print the report's JSON instead.")
@lang_option
@debug_option
@guarded
def show(file: Path, as_json: bool, lang: str | None, debug: bool) -> int:
    """Print a bundle (.zip) or a JSON report as `cpsdiag check` printed it.

    The bundle's files are checked against its manifest.json: a mismatch is
    reported first (REPORT_TAMPERED) and the content is still shown. Exit
    status: the report's own (0 or 1); 1 when the bundle was changed; 2 when
    FILE is not a valid cpsdiag report.
    """
    from cpsdiag.findings.catalog import render
    from cpsdiag.i18n import set_language

    loaded = _load(file)
    report = loaded.report
    if lang is None and report.language in ("fr", "en"):
        set_language(report.language)
    tampered = loaded.integrity.finding()
    notice = render(tampered) if tampered is not None else None
    if as_json:
        from cpsdiag.report.jsonreport import to_json

        sys.stdout.write(to_json(report, ascii_only=not _utf8_stdout()) + "\n")
        if notice is not None:
            click.echo(f"{notice.code}: {notice.title}. {notice.detail}", err=True)
    else:
        from cpsdiag.report.console import make_console, render_notices, render_report

        console = make_console()
        render_notices([notice] if notice is not None else [], console)
        render_report(report, console)
    if notice is not None:
        return 1
    return report.exit_status if report.exit_status in (0, 1) else 1


# -- report summarize ---------------------------------------------------------------------------------


@report.command()
@click.argument("paths", nargs=-1, required=True, type=REPORT_PATH)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document (schema cpsdiag.summary/1).")
@click.option("--csv", "as_csv", is_flag=True, help="Print CSV rows: table,key,severity,count,...")
@click.option("--at", "at", type=DATE, metavar="DATE", help="Count days to expiry from this date (default now).")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar on the terminal.")
@lang_option
@debug_option
@guarded
def summarize(paths: tuple[Path, ...], as_json: bool, as_csv: bool, at: datetime | None, quiet: bool, lang: str | None,
              debug: bool) -> int:
    """Count findings, card generations, readers and middleware over many bundles or JSON reports.

    Folders are walked recursively (*.zip, *.json). Lists the certificates
    expiring within 30, 60 and 90 days. Files that are not valid reports are
    skipped and counted; bundles whose files do not match their manifest are
    counted and listed as tampered. Exit status: 0 when every file was read
    and none was tampered with, 1 otherwise, 2 for a usage error.
    """
    from cpsdiag.errors import UsageError
    from cpsdiag.report.summarize import summarize as run, write_csv, write_json

    if as_json and as_csv:
        raise UsageError("--json and --csv: choose one")
    if quiet or as_json or as_csv or not (sys.stdout.isatty() and sys.stderr.isatty()):
        summary = run(paths, at=at)
    else:
        summary = _with_progress(paths, at, run)
    if as_json:
        write_json(summary, sys.stdout, ascii_only=not _utf8_stdout())
    elif as_csv:
        if not _utf8_stdout():
            sys.stdout.reconfigure(errors="replace")      # type: ignore[union-attr]
        write_csv(summary, sys.stdout)
    else:
        from cpsdiag.report.console import make_console
        from cpsdiag.report.summarize import render_summary

        render_summary(summary, make_console())
    for source, reason in summary.skipped_sample:
        click.echo(f"skipped {source}: {reason}", err=True)
    for source, reason in summary.tampered_sample:
        click.echo(f"tampered {source}: {reason}", err=True)
    return 1 if summary.skipped or summary.tampered else 0


def _with_progress(paths: tuple[Path, ...], when: Any, run: Any) -> Any:
    """The summary, with Rich's progress bar on the terminal (stderr): files read out of files found."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from cpsdiag.i18n import _
    from cpsdiag.report.console import make_console
    from cpsdiag.report.summarize import iter_files

    total = sum(1 for _file in iter_files(paths))
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=make_console(file=sys.stderr), transient=True) as progress:
        task = progress.add_task(_("Reading reports"), total=total)
        return run(paths, at=when, progress=lambda n: progress.update(task, completed=n))
