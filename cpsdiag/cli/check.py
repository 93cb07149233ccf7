"""``cpsdiag check``: the diagnosis a professional runs at the desk."""

from __future__ import annotations

import sys
import traceback
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click

from cpsdiag.cli.common import (DATE, LIBRARY_FILE, PEM_FILE, F, FiniteFloatRange, ProxyType, UrlType,
                                debug_option, guarded, lang_option)

if TYPE_CHECKING:
    from cpsdiag.diag.check import CheckOptions, CheckResult
    from cpsdiag.diag.facts import Via
    from cpsdiag.diag.revocation import RevocationOptions
    from cpsdiag.net.proxy import ProxySettings


def anchors_option(fn: F) -> F:
    return click.option("--anchors", "anchors", multiple=True, envvar="CPSDIAG_ANCHORS", type=PEM_FILE,
                        help="Extra trust anchors (PEM bundle), e.g. ANS's TEST chain or an emulator's test PKI. "
                             "Repeatable.")(fn)


revocation_options = [
    click.option("--offline", is_flag=True, envvar="CPSDIAG_OFFLINE",
                 help="No network request at all: the certificates' revocation (OCSP, CRL) is not checked."),
    click.option("--revocation-timeout", type=FiniteFloatRange(0.5, 60), default=5.0, show_default=True,
                 metavar="SECONDS",
                 help="Seconds each OCSP or CRL request may take; the whole revocation check takes at most four "
                      "times that."),
]


def revocation_settings(offline: bool, timeout: float, proxies: ProxySettings | None) -> RevocationOptions:
    """What the revocation step needs: the user's cache folder, the proxies (not read at all when offline)."""
    from cpsdiag.diag.revocation import default_options

    return default_options(offline=offline, timeout=timeout, proxies=None if offline else proxies)


def check_options(fn: F) -> F:
    """The options of a check, shared by ``check`` and ``report``."""
    decorators = [
        click.option("--reader", envvar="CPSDIAG_READER", metavar="NAME",
                     help="Reader to use (exact name or a unique part of it). Default: the first holding a CPS card."),
        anchors_option,
        click.option("--at", "at", type=DATE, metavar="DATE", help="Judge certificate validity as of this date (ISO 8601)."),
        click.option("--no-env", "no_env", is_flag=True,
                     help="Skip the workstation inventory (middleware, browsers, drivers); see `cpsdiag env`."),
        click.option("--card-timeout", type=FiniteFloatRange(0.5, 300), default=20.0, show_default=True,
                     envvar="CPSDIAG_CARD_TIMEOUT", help="Seconds a card command may take before the card is "
                                                         "reported mute."),
        click.option("--sign", is_flag=True,
                      help="Signature self-test with the authentication key (asks for the PIN)."),
        click.option("--sign-all", is_flag=True, help="Also test the non-repudiation signature key (asks for the PIN)."),
        click.option("--tls", "tls_url", type=UrlType(), metavar="URL",
                     help="TLS client-authentication probe of an https:// URL with the card (asks for the PIN)."),
        click.option("--tls-ca", type=PEM_FILE,
                     help="Trust this CA bundle for the server instead of the system's."),
        click.option("--tls-timeout", type=FiniteFloatRange(1, 120), default=10.0, show_default=True,
                     help="Seconds to wait for the server."),
        click.option("--proxy", type=ProxyType(), metavar="URL",
                     help="HTTP proxy for network requests, http://[USER:PASSWORD@]HOST:PORT (default: the "
                          "workstation's settings: HTTPS_PROXY/NO_PROXY, Windows or macOS proxy settings)."),
        click.option("--no-proxy", "no_proxy", is_flag=True,
                     help="Connect directly, ignoring every proxy setting."),
        *revocation_options,
        click.option("--pin-stdin", is_flag=True, help="Read the PIN from standard input instead of prompting."),
        click.option("--force-last-try", is_flag=True,
                     help="Present the PIN even when only one try is left (a wrong PIN then blocks the card)."),
        click.option("--via", type=click.Choice(["apdu", "pkcs11"]), default="apdu", show_default=True,
                     help="Sign with the card's commands, or through a PKCS#11 module (the path browsers use)."),
        click.option("--module", type=LIBRARY_FILE,
                     help="PKCS#11 module for --via pkcs11 (default: ANS's Cryptolib CPS if installed, else OpenSC)."),
        click.option("--quiet", "-q", is_flag=True,
                     help="No live display of the step running (it is shown only on a terminal anyway)."),
    ]
    for decorator in reversed(decorators):
        fn = decorator(fn)
    return fn


def default_module() -> Path:
    from cpsdiag.env.areas.cryptolib import default_pkcs11_module
    from cpsdiag.errors import UsageError

    found = default_pkcs11_module()
    if found is not None:
        return Path(found)
    raise UsageError("--via pkcs11: no PKCS#11 module found; give one with --module")


def proxy_settings(proxy: str | None, no_proxy: bool) -> ProxySettings:
    """The proxies network requests use; a bad --proxy is a usage error (its password never repeated)."""
    from cpsdiag.errors import UsageError
    from cpsdiag.net.settings import BadProxyOption, load_proxy_settings

    if proxy is not None and no_proxy:
        raise UsageError("--proxy and --no-proxy: choose one")
    try:
        return load_proxy_settings(proxy=proxy, no_proxy=no_proxy)
    except BadProxyOption as exc:
        raise UsageError(f"--proxy: {exc}") from None


def build_options(reader: str | None, anchors: tuple[Path, ...], at: datetime | None, no_env: bool,
                  card_timeout: float, sign: bool, sign_all: bool, tls_url: str | None, tls_ca: Path | None,
                  tls_timeout: float, pin_stdin: bool, force_last_try: bool, via: Via = "apdu",
                  module: Path | None = None, proxy: str | None = None, no_proxy: bool = False, offline: bool = False,
                  revocation_timeout: float = 5.0) -> CheckOptions:
    from cpsdiag.diag.check import CheckOptions
    from cpsdiag.diag.facts import KeyOptions
    from cpsdiag.i18n import _
    from cpsdiag.pinentry import prompt_source, stdin_source

    # Bad bundles and proxies are usage errors before the card is touched and the PIN asked (--tls and --proxy
    # values were checked by their parameter types already).
    if tls_ca is not None:
        from cpsdiag.tls.trust import read_trust_store

        read_trust_store(tls_ca)    # a file with no certificate is a usage error before the PIN is asked for
    # One set of proxies for the TLS probe and the revocation check; --offline reads none (no request is made).
    proxies = None
    if tls_url is not None or not offline:
        proxies = proxy_settings(proxy, no_proxy)
    elif proxy is not None or no_proxy:
        proxy_settings(proxy, no_proxy)
    keys = None
    if sign or sign_all or tls_url:
        source = stdin_source() if pin_stdin else prompt_source(_("PIN of the CPS card (not shown): "))
        if via == "pkcs11" and module is None:
            module = default_module()
        keys = KeyOptions(sign=sign or sign_all, sign_all=sign_all, tls_url=tls_url, tls_ca=tls_ca,
                          tls_timeout=tls_timeout, force_last_try=force_last_try, pin_source=source,
                          pin_from="stdin" if pin_stdin else "keyboard", via=via,
                          module=module, proxies=proxies)
    return CheckOptions(reader=reader, anchors=anchors, at=at, keys=keys, card_timeout=card_timeout,
                        environment=not no_env,
                        revocation=revocation_settings(offline, revocation_timeout, proxies))


def diagnose(options: CheckOptions, *, as_json: bool, quiet: bool, debug: bool) -> CheckResult:
    """run_check, its steps shown live on a terminal; a bug becomes one INTERNAL_ERROR finding."""
    from cpsdiag.cli.progress import progress_display
    from cpsdiag.diag.check import internal_error, run_check
    from cpsdiag.errors import UsageError

    with progress_display(options, as_json, quiet) as (observer, options):
        try:
            result = run_check(options, observer)
        except (UsageError, click.exceptions.Exit, click.exceptions.Abort):
            raise
        except Exception as exc:
            if debug:
                traceback.print_exc()
            return internal_error(None, exc)
    if debug:       # the steps that failed unexpectedly are findings; --debug adds their tracebacks
        for failure in result.facts.failures:
            sys.stderr.write(failure.traceback)
    return result


@click.command()
@check_options
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document (schema cpsdiag.report/1).")
@lang_option
@debug_option
@guarded
def check(reader: str | None, anchors: tuple[Path, ...], at: datetime | None, no_env: bool, card_timeout: float,
          sign: bool, sign_all: bool,
          tls_url: str | None, tls_ca: Path | None, tls_timeout: float, proxy: str | None, no_proxy: bool,
          offline: bool, revocation_timeout: float, pin_stdin: bool, force_last_try: bool, via: Via, module: Path | None, quiet: bool, as_json: bool,
          lang: str | None, debug: bool) -> int:
    """Diagnose the PC/SC stack, the reader, the card, its PIN counter and its certificates.

    Without --sign or --tls it never asks for the PIN and never spends a PIN
    try. With them, the PIN counter is read first: a blocked PIN is never
    presented, nor the last try unless --force-last-try; the PIN is presented
    once and never retried. Exit status: 0 when no finding is an error, 1
    otherwise, 2 for a usage error.
    """
    options = build_options(reader, anchors, at, no_env, card_timeout, sign, sign_all, tls_url, tls_ca, tls_timeout,
                            pin_stdin, force_last_try, via, module, proxy, no_proxy, offline, revocation_timeout)
    result = diagnose(options, as_json=as_json, quiet=quiet, debug=debug)
    if as_json:
        from cpsdiag.report.jsonreport import dumps

        sys.stdout.write(dumps(result) + "\n")
    else:
        from cpsdiag.report.console import make_console, render_check

        render_check(result, make_console())
    return result.exit_status
