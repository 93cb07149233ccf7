"""``cpsdiag env``: the workstation around the card (PC/SC, readers, Cryptolib CPS, other middleware, browsers)."""

from __future__ import annotations

import json
import sys
from datetime import datetime, timezone

import click

from cpsdiag.cli.common import debug_option, guarded, lang_option

SCHEMA = "cpsdiag.environment/1"


@click.command()
@click.option("--json", "as_json", is_flag=True, help=f"Print one JSON document (schema {SCHEMA}).")
@lang_option
@debug_option
@guarded
def env(as_json: bool, lang: str | None, debug: bool) -> int:
    """Diagnose the workstation: smart-card service, readers and drivers, Cryptolib CPS, other PKCS#11 modules,
    browsers, remote session.

    Sends nothing to the card and never asks for the PIN. Exit status: 0 when
    no finding is an error, 1 otherwise.
    """
    from cpsdiag import __version__
    from cpsdiag.findings.model import exit_status, verdict
    from cpsdiag.env import collect_environment, environment_dict, judge_environment
    from cpsdiag.i18n import language

    facts = collect_environment()
    findings = judge_environment(facts)
    status = exit_status(findings)
    if as_json:
        from cpsdiag.report.jsonreport import findings_list

        doc = {"schema": SCHEMA, "tool": {"name": "cpsdiag", "version": __version__},
               "generated_at": datetime.now(timezone.utc).isoformat().replace("+00:00", "Z"),
               "language": language(), "verdict": str(verdict(findings)), "exit_status": status,
               "findings": findings_list(findings), "environment": environment_dict(facts)}
        sys.stdout.write(json.dumps(doc, ensure_ascii=False, indent=2) + "\n")
    else:
        from cpsdiag.env.render import render_environment
        from cpsdiag.report.console import make_console, render_findings

        console = make_console()
        render_environment(facts, console)
        console.print()
        render_findings(findings, console)
    return status
