"""``cpsdiag readers`` and ``cpsdiag atr``: the PC/SC readers, and what an ATR says."""

from __future__ import annotations

import json
import sys

import click

from cpsdiag.cli.common import debug_option, guarded, lang_option


def _print_findings(findings, console) -> None:
    from cpsdiag.report.console import render_findings

    render_findings(findings, console)


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@lang_option
@debug_option
@guarded
def readers(as_json: bool, lang: str | None, debug: bool) -> int:
    """List the PC/SC readers, whether they hold a card, and which card."""
    from cpsdiag import errors
    from cpsdiag.diag.collect import ReaderFacts, describe_card
    from cpsdiag.findings.model import Finding, Severity
    from cpsdiag.transport import pcsc

    findings: list[Finding] = []
    rows: list[dict] = []
    try:
        with pcsc.PcscContext() as ctx:
            states = ctx.states(ctx.readers())
    except errors.PcscLibraryMissing as exc:
        findings.append(Finding("PCSC_LIBRARY_MISSING", Severity.ERROR, "pcsc",
                                {"library": exc.library, "reason": exc.reason}))
        states = []
    except errors.PcscError as exc:
        findings.append(Finding("PCSC_NO_SERVICE", Severity.ERROR, "pcsc",
                                {"operation": exc.operation, "message": exc.message}))
        states = []
    else:
        if not states:
            findings.append(Finding("PCSC_NO_READER", Severity.ERROR, "readers"))
    for s in states:
        card = describe_card(ReaderFacts(s.name, s.card_present, s.atr, s.exclusive)) if s.card_present else None
        rows.append({"name": s.name, "card_present": s.card_present, "atr": s.atr.hex(" ").upper() or None,
                     "card": card, "exclusive": s.exclusive, "in_use": s.in_use})
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
    return 1 if findings else 0


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
    from cpsdiag.card.identify import guess, identify
    from cpsdiag.findings.model import Finding, Severity
    from cpsdiag.errors import MalformedDataError
    from cpsdiag.iso7816.atr import parse_atr

    text = " ".join(atr_hex)
    findings: list[Finding] = []
    guessed = False
    try:
        decoded = parse_atr(text, where="command line")
    except MalformedDataError as exc:
        # A typing error, or an ATR copied incompletely: the user's input, not a damaged card.
        raise click.BadParameter(str(exc), param_hint="HEX") from None
    model = identify(decoded)
    if model is None:
        model, guessed = guess(decoded), True
        findings.append(Finding("CARD_UNKNOWN", Severity.ERROR if model is None else Severity.WARNING, "card",
                                {"atr": decoded.hex}))
    else:
        findings.append(Finding("CARD_IDENTIFIED", Severity.OK, "card", {"atr": decoded.hex, "label": model.label}))
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
    return 1 if any(f.severity is Severity.ERROR for f in findings) else 0
