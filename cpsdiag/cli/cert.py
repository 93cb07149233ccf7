"""``cpsdiag cert FILE``: read and judge certificate files (PEM, DER, PKCS#7) a helpdesk received."""

from __future__ import annotations

import json
import sys
from datetime import datetime
from pathlib import Path

import click

from cpsdiag.cli.check import anchors_option
from cpsdiag.cli.common import DATE, PEM_FILE, debug_option, guarded, lang_option


@click.command()
@click.argument("files", nargs=-1, required=True, type=PEM_FILE)
@anchors_option
@click.option("--at", "at", type=DATE, metavar="DATE", help="Judge validity as of this date (ISO 8601).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of the console view.")
@lang_option
@debug_option
@guarded
def cert(files: tuple[Path, ...], anchors: tuple[Path, ...], at: datetime | None, as_json: bool, lang: str | None,
         debug: bool) -> int:
    """Show who a certificate belongs to, its card data, validity and trust chain.

    Trusts the bundled IGC-Santé production authorities, plus --anchors.
    Exit status: 0 when every certificate is fine, 1 otherwise, 2 for a usage error.
    """
    from cpsdiag.diag.certfile import check_certificate_file
    from cpsdiag.pki.anchors import load_extra_anchors

    extra = load_extra_anchors(anchors) if anchors else None
    results = [check_certificate_file(path, extra, at) for path in files]
    if as_json:
        from cpsdiag.report.jsonreport import certfile_dict

        doc = {"schema": "cpsdiag.certificates/1", "files": [certfile_dict(r) for r in results]}
        sys.stdout.write(json.dumps(doc, ensure_ascii=False, indent=2) + "\n")
    else:
        from cpsdiag.report.console import make_console, render_certfile

        console = make_console()
        for result in results:
            render_certfile(result, console)
    return max(r.exit_status for r in results)
