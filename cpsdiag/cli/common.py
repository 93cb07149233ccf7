"""Options and error handling shared by the commands."""

from __future__ import annotations

import functools
import sys
import traceback
from datetime import datetime, timezone
from typing import Any, Callable

import click

from cpsdiag import errors
from cpsdiag.i18n import set_language

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2


def lang_option(fn: Callable[..., Any]) -> Callable[..., Any]:
    return click.option("--lang", type=click.Choice(["fr", "en"]), default=None,
                        help="Language of the output (default: French when the locale is French).")(fn)


def debug_option(fn: Callable[..., Any]) -> Callable[..., Any]:
    return click.option("--debug", is_flag=True, help="Show Python tracebacks of unexpected errors.")(fn)


def parse_date(value: str | None) -> datetime | None:
    """--at: an ISO date or date-time; a date means midnight UTC; naive times are UTC."""
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise click.BadParameter(f"{value!r} is not an ISO date such as 2027-01-31 or 2027-01-31T12:00",
                                 param_hint="--at") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)


def guarded(fn: Callable[..., int]) -> Callable[..., None]:
    """Run a command body: usage errors exit 2 with a message, never a traceback unless --debug."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> None:
        set_language(kwargs.get("lang"))
        debug = kwargs.get("debug", False)
        try:
            status = fn(*args, **kwargs)
        except errors.UsageError as exc:
            if debug:
                traceback.print_exc()
            click.echo(f"Error: {exc}", err=True)
            sys.exit(EXIT_USAGE)
        except (errors.MalformedDataError, errors.CpsdiagError) as exc:
            if debug:
                traceback.print_exc()
            click.echo(f"Error: {exc}", err=True)
            sys.exit(EXIT_FINDINGS)
        sys.exit(status)

    return wrapper
