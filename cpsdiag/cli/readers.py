"""``cpsdiag readers`` and ``cpsdiag atr``: the PC/SC readers, and what an ATR says."""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING

import click

from cpsdiag.cli.common import debug_option, guarded, lang_option

if TYPE_CHECKING:
    from rich.console import Console

    from cpsdiag.findings.model import Finding


def _print_findings(findings: list[Finding], console: Console) -> None:
    from cpsdiag.report.console import render_findings

    render_findings(findings, console)


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@lang_option
@debug_option
@guarded
def readers(as_json: bool, lang: str | None, debug: bool) -> int:
    """List the PC/SC readers, whether they hold a card, and which card."""
    from cpsdiag.diag.readers import list_readers

    result = list_readers()
    rows, findings = result.rows, result.findings
    if as_json:
        from cpsdiag.report.jsonreport import findings_list

        sys.stdout.write(json.dumps({"schema": "cpsdiag.readers/1", "readers": rows,
                                     "findings": findings_list(findings)}, ensure_ascii=False, indent=2) + "\n")
    else:
        from cpsdiag.report.console import make_console, render_readers

        console = make_console()
        render_readers(rows, console)
        if findings:
            _print_findings(findings, console)
    return result.exit_status


@click.command()
@click.argument("atr_hex", metavar="HEX", nargs=-1, required=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@lang_option
@debug_option
@guarded
def atr(atr_hex: tuple[str, ...], as_json: bool, lang: str | None, debug: bool) -> int:
    """Decode an ATR (ISO 7816-3) and say which CPS card it belongs to.

    HEX may be given with spaces or colons, as one or several arguments.
    """
    from cpsdiag.diag.readers import decode_atr
    from cpsdiag.errors import MalformedDataError

    try:
        result = decode_atr(" ".join(atr_hex))
    except MalformedDataError as exc:
        # A typing error, or an ATR copied incompletely: the user's input, not a damaged card.
        raise click.BadParameter(str(exc), param_hint="HEX") from None
    decoded, model, guessed, findings = result.decoded, result.model, result.guessed, result.findings
    if as_json:
        from dataclasses import asdict

        from cpsdiag.report.jsonreport import findings_list

        doc = {"schema": "cpsdiag.atr/1", "atr": decoded.to_dict(),
               "card": asdict(model) if model else None, "guessed": guessed, "findings": findings_list(findings)}
        sys.stdout.write(json.dumps(doc, ensure_ascii=False, indent=2) + "\n")
    else:
        from cpsdiag.report.console import make_console, render_atr

        console = make_console()
        render_atr(decoded, model, guessed, console)
        _print_findings(findings, console)
    return result.exit_status
