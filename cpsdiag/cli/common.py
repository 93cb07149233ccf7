"""Options, parameter types and error handling shared by the commands.

Every value a user types is checked by its parameter type while click parses
the command line, before a card or a server is touched: a bad value is a
usage error (exit 2) naming the option and what is wrong with the value.
"""

from __future__ import annotations

import functools
import math
import os
import stat
import sys
import traceback
from datetime import datetime, timezone
from pathlib import Path
from typing import IO, Any, Callable, TextIO, TypeVar, cast

import click

from cpsdiag import errors
from cpsdiag.i18n import set_language
from cpsdiag.printable import escape_controls, shown

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2

# A command function, as click's option decorators take and give it back.
F = TypeVar("F", bound=Callable[..., object])

def echo_error(message: str) -> None:
    """One ``Error: ...`` line on stderr, whatever the message holds."""
    click.echo("Error: " + escape_controls(message), err=True)


def lang_option(fn: F) -> F:
    return click.option("--lang", type=click.Choice(["fr", "en"]), default=None,
                        help="Language of the output (default: French when the locale is French).")(fn)


def debug_option(fn: F) -> F:
    return click.option("--debug", is_flag=True, help="Show Python tracebacks of unexpected errors.")(fn)


# -- parameter types ----------------------------------------------------------------------------------

# The dates --at accepts: certificates are dated from 1950 (UTCTime) to 9999 (GeneralizedTime), and a margin
# at the top keeps the date arithmetic done with it (expiry windows) inside what Python can represent.
DATE_MIN = datetime(1950, 1, 1, tzinfo=timezone.utc)
DATE_MAX = datetime(9998, 12, 31, tzinfo=timezone.utc)


# click.ParamType is generic for type checkers only from click 8.2; 8.1 (which we accept) cannot subscript it.
class DateType(click.ParamType):    # type: ignore[type-arg]
    """An ISO 8601 date or date-time; a date means midnight UTC, a time without offset is UTC."""

    name = "date"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> datetime:
        if isinstance(value, datetime):
            return value
        text = str(value).strip()
        try:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
        except ValueError:
            self.fail(f"{shown(value)} is not an ISO 8601 date such as 2027-01-31 or 2027-01-31T12:00", param, ctx)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=timezone.utc)
        utc: datetime | None
        try:
            utc = moment.astimezone(timezone.utc)
        except OverflowError:       # 9999-12-31T23:00-05:00 is in year 10000 in UTC
            utc = None
        if utc is None or not DATE_MIN <= utc <= DATE_MAX:
            self.fail(f"{shown(value)} is out of range: give a date between {DATE_MIN:%Y-%m-%d} and "
                      f"{DATE_MAX:%Y-%m-%d}", param, ctx)
        return utc


class FiniteFloatRange(click.FloatRange):
    """click's FloatRange, refusing "nan" (which compares false with every bound, so passes the range) and
    infinity (a timer of "inf" seconds, or 1e400, overflows)."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        number = super().convert(value, param, ctx)
        if isinstance(number, float) and not math.isfinite(number):
            self.fail(f"{shown(value)} is not a finite number", param, ctx)
        return number


class InputFile(click.Path):
    """A file to read: it must exist and be a regular file no larger than ``max_bytes``.

    Devices and pipes (/dev/zero, /dev/urandom) would be read for ever; a file far
    larger than what the option takes is a mistake, refused before it is read.
    """

    def __init__(self, max_bytes: int, what: str, dir_okay: bool = False):
        super().__init__(exists=True, dir_okay=dir_okay, path_type=Path)
        self.max_bytes = max_bytes
        self.what = what

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if value == "" or value == b"":
            self.fail("an empty file name", param, ctx)
        path = super().convert(value, param, ctx)
        try:
            info = os.stat(path)
        except OSError as exc:
            self.fail(f"{shown(path)}: cannot read ({exc.strerror or exc})", param, ctx)
        if self.dir_okay and stat.S_ISDIR(info.st_mode):
            return path
        if not stat.S_ISREG(info.st_mode):
            self.fail(f"{shown(path)} is not a regular file", param, ctx)
        if info.st_size > self.max_bytes:
            self.fail(f"{shown(path)} is {info.st_size / 1e6:.1f} MB: too large for {self.what} "
                      f"(at most {self.max_bytes / 1e6:.0f} MB)", param, ctx)
        return path


class HostType(click.ParamType):    # type: ignore[type-arg]
    """A host name or an IP address (to listen on, or to connect to)."""

    name = "host"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        from cpsdiag.tls.hosts import check_host

        try:
            return check_host(str(value))
        except errors.UsageError as exc:
            self.fail(str(exc), param, ctx)


class UrlType(click.ParamType):    # type: ignore[type-arg]
    """An https:// URL (parsed by the TLS probe's own parser)."""

    name = "url"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        from cpsdiag.tls.probe import parse_url

        try:
            parse_url(str(value))
        except errors.UsageError as exc:
            self.fail(str(exc), param, ctx)
        return str(value)


class ProxyType(click.ParamType):    # type: ignore[type-arg]
    """An HTTP proxy, http://[USER:PASSWORD@]HOST[:PORT]; messages about it never repeat the credentials."""

    name = "url"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        from cpsdiag.net.settings import BadProxyOption, load_proxy_settings

        try:
            load_proxy_settings(proxy=str(value))      # the option alone: the workstation is not read here
        except BadProxyOption as exc:
            self.fail(str(exc), param, ctx)
        return str(value)


DATE = DateType()
# Sizes well above any real file of each kind: a PEM bundle of every IGC-Santé authority is under 100 kB.
PEM_FILE = InputFile(10_000_000, "a certificate file")
LIBRARY_FILE = InputFile(200_000_000, "a PKCS#11 module")
REPORT_FILE = InputFile(100_000_000, "a cpsdiag report")
REPORT_PATH = InputFile(100_000_000, "a cpsdiag report", dir_okay=True)


# -- running a command ----------------------------------------------------------------------------------


def guarded(fn: Callable[..., int]) -> Callable[..., None]:
    """Run a command body: usage errors exit 2 with a message, never a traceback unless --debug."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> None:
        set_language(kwargs.get("lang"))
        debug = kwargs.get("debug", False)
        try:
            status = fn(*args, **kwargs)
        except (click.exceptions.Exit, click.exceptions.Abort, click.ClickException):
            raise
        except errors.UsageError as exc:
            if debug:
                traceback.print_exc()
            echo_error(str(exc))
            sys.exit(EXIT_USAGE)
        except errors.CpsdiagError as exc:
            if debug:
                traceback.print_exc()
            echo_error(str(exc))
            sys.exit(EXIT_FINDINGS)
        except Exception as exc:
            # A bug: one line saying so, the traceback with --debug.
            if debug:
                traceback.print_exc()
            echo_error(f"cpsdiag failed unexpectedly ({type(exc).__name__}: {exc}). Run again with --debug and "
                       "report the output to the cpsdiag developers.")
            sys.exit(EXIT_FINDINGS)
        sys.exit(status)

    return wrapper


class _EscapingStream:
    """stderr for click's own messages: control characters from the command line shown escaped."""

    def __init__(self, stream: TextIO):
        self.stream = stream

    def write(self, text: str) -> int:
        return self.stream.write(escape_controls(text, keep="\n\t"))

    def flush(self) -> None:
        self.stream.flush()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.stream, name)


def standalone(invoke: Callable[[], Any]) -> None:
    """click's standalone mode around ``invoke`` (a non-standalone ``main``), with its messages escaped:
    an option value may hold escape sequences, and click quotes some values raw."""
    import errno

    try:
        status = invoke()
    except click.ClickException as exc:
        exc.show(file=cast("IO[str]", _EscapingStream(sys.stderr)))     # click only writes and flushes it
        sys.exit(exc.exit_code)
    except click.exceptions.Abort:
        click.echo("Aborted!", err=True)
        sys.exit(EXIT_FINDINGS)
    except OSError as exc:
        if exc.errno != errno.EPIPE:
            raise
        # Output piped into `head`: stop quietly, as click does, without a second error at exit.
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 (left for the interpreter's final flush)
        sys.exit(EXIT_FINDINGS)
    sys.exit(status if isinstance(status, int) else EXIT_OK)
