"""``cpsdiag cert FILE``: read and judge certificate files (PEM, DER, PKCS#7) a helpdesk received."""

from __future__ import annotations

import json
import sys
from datetime import datetime
from pathlib import Path

import click

from cpsdiag.cli.check import anchors_option, proxy_settings, revocation_options, revocation_settings
from cpsdiag.cli.common import DATE, PEM_FILE, F, ProxyType, debug_option, guarded, lang_option


def _revocation(fn: F) -> F:
    for decorator in reversed([
        *revocation_options,
        click.option("--proxy", type=ProxyType(), metavar="URL",
                     help="HTTP proxy for the OCSP and CRL requests (default: the workstation's settings)."),
        click.option("--no-proxy", "no_proxy", is_flag=True, help="Connect directly, ignoring every proxy setting."),
    ]):
        fn = decorator(fn)
    return fn


@click.command()
@click.argument("files", nargs=-1, required=True, type=PEM_FILE)
@anchors_option
@click.option("--at", "at", type=DATE, metavar="DATE", help="Judge validity as of this date (ISO 8601).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of the console view.")
@_revocation
@lang_option
@debug_option
@guarded
def cert(files: tuple[Path, ...], anchors: tuple[Path, ...], at: datetime | None, as_json: bool, offline: bool,
         revocation_timeout: float, proxy: str | None, no_proxy: bool, lang: str | None, debug: bool) -> int:
    """Show who a certificate belongs to, its card data, validity and trust chain.

    Trusts the bundled IGC-Santé production authorities, plus --anchors.
    A card certificate's revocation is asked of its OCSP responder, else its
    CRL, unless --offline.
    Exit status: 0 when every certificate is fine, 1 otherwise, 2 for a usage error.
    """
    from cpsdiag.diag.certfile import check_certificate_file
    from cpsdiag.pki.anchors import load_extra_anchors

    extra = load_extra_anchors(anchors) if anchors else None
    from cpsdiag.diag.revocation import RevocationSession

    # One session for every file: a CRL or a responder is asked once per run, within one time budget.
    revocation = RevocationSession(revocation_settings(offline, revocation_timeout,
                                                       None if offline else proxy_settings(proxy, no_proxy)))
    results = [check_certificate_file(path, extra, at, revocation) for path in files]
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
