"""``cpsdiag check``: the diagnosis a professional runs at the desk."""

from __future__ import annotations

import sys
import traceback
from pathlib import Path

import click

from cpsdiag.cli.common import debug_option, guarded, lang_option, parse_date


def anchors_option(fn):
    return click.option("--anchors", "anchors", multiple=True, envvar="CPSDIAG_ANCHORS",
                        type=click.Path(dir_okay=False, path_type=Path),
                        help="Extra trust anchors (PEM bundle), e.g. ANS's TEST chain or an emulator's test PKI. "
                             "Repeatable.")(fn)


@click.command()
@click.option("--reader", envvar="CPSDIAG_READER", metavar="NAME",
              help="Reader to use (exact name or a unique part of it). Default: the first holding a CPS card.")
@anchors_option
@click.option("--at", "at", metavar="DATE", help="Judge certificate validity as of this date (ISO 8601).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document (schema cpsdiag.report/1).")
@lang_option
@debug_option
@guarded
def check(reader: str | None, anchors: tuple[Path, ...], at: str | None, as_json: bool, lang: str | None,
          debug: bool) -> int:
    """Diagnose the PC/SC stack, the reader, the card, its PIN counter and its certificates.

    Never asks for the PIN and never spends a PIN try. Exit status: 0 when no
    finding is an error, 1 otherwise, 2 for a usage error.
    """
    from cpsdiag.diag.check import CheckOptions, internal_error, run_check

    options = CheckOptions(reader=reader, anchors=anchors, at=parse_date(at))
    try:
        result = run_check(options)
    except click.exceptions.Exit:
        raise
    except Exception as exc:
        from cpsdiag.errors import UsageError

        if isinstance(exc, UsageError):
            raise
        if debug:
            traceback.print_exc()
        result = internal_error(None, exc)
    if as_json:
        from cpsdiag.report.jsonreport import dumps

        sys.stdout.write(dumps(result) + "\n")
    else:
        from cpsdiag.report.console import make_console, render_check

        render_check(result, make_console())
    return result.exit_status
