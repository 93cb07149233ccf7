"""The live status line of ``check`` and ``report``: the step running now, on the terminal only.

The diagnosis reports its steps to an observer (cpsdiag.diag.progress);
this module renders them with Rich's live display on stderr. Nothing is
shown, and Rich is not even imported, when the output is JSON, when stdout
or stderr is not a terminal (a pipe, a file, CI), on a dumb terminal, or
with --quiet: the output of a script stays byte for byte what it was.
"""

from __future__ import annotations

import os
import sys
from contextlib import contextmanager
from dataclasses import replace
from typing import Any, Iterator

from cpsdiag.diag.progress import NO_PROGRESS, Observer, Step
from cpsdiag.i18n import N_, _

LABELS = {
    "pcsc": N_("Connecting to the smart-card service"),
    "readers": N_("Listing the card readers"),
    "connect": N_("Connecting to the card in {target}"),
    "read": N_("Reading the card: {target}"),
    "pin_counter": N_("Reading the PIN counter ({target}) without spending a try"),
    "pin": N_("Presenting the PIN"),
    "signature": N_("Signature self-test with the {target} key"),
    "tls": N_("TLS handshake with {target}"),
    "revocation": N_("Checking revocation: {target}"),
    "environment": N_("Inventory of the workstation"),
}
PIN_PAD = N_("Type the PIN on the reader's PIN pad")


def describe(step: Step) -> str:
    """The status line of a step, in the user's language."""
    from cpsdiag.findings.catalog import ROLE_LABELS
    from cpsdiag.printable import escape_controls

    if step.name == "pin" and step.target == "pinpad":
        return _(PIN_PAD)
    target = step.target or ""
    if step.name == "signature":
        target = _(ROLE_LABELS.get(target, target))
    # A reader's name or a URL may hold control characters: shown escaped, never interpreted.
    return _(LABELS.get(step.name, step.name)).format(target=escape_controls(target)) + "…"


def wanted(as_json: bool, quiet: bool) -> bool:
    """A live display only for a person watching a terminal."""
    if as_json or quiet or os.environ.get("TERM") == "dumb":
        return False
    return sys.stdout.isatty() and sys.stderr.isatty()


def _utf8(stream: Any) -> bool:
    return (getattr(stream, "encoding", None) or "").lower().replace("-", "").replace("_", "") == "utf8"


def _ascii(text: str) -> str:
    """Plain ASCII for a terminal that cannot show more (LC_ALL=POSIX): accents dropped, not a crash."""
    import unicodedata

    text = text.replace("…", "...")
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")


class LiveProgress:
    """Rich's live display on stderr: a spinner and the step running now; erased when the run ends."""

    def __init__(self) -> None:
        from rich.console import Console
        from rich.live import Live
        from rich.spinner import Spinner

        self.console = Console(stderr=True, highlight=False)
        self.plain = not _utf8(sys.stderr)
        self.spinner = Spinner("line" if self.plain else "dots", text="")
        self.live = Live(self.spinner, console=self.console, transient=True, refresh_per_second=12.5)

    def __call__(self, step: Step) -> None:
        text = describe(step)
        self.spinner.update(text=_ascii(text) if self.plain else text)
        self.live.refresh()         # each step is shown, even one shorter than a refresh period

    def __enter__(self) -> "LiveProgress":
        self.live.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.live.stop()

    @contextmanager
    def paused(self) -> Iterator[None]:
        """The terminal to itself while the user types (the PIN prompt)."""
        self.live.stop()
        try:
            yield
        finally:
            self.live.start()


@contextmanager
def progress_display(options: Any, as_json: bool, quiet: bool) -> Iterator[tuple[Observer, Any]]:
    """(observer, options): the observer to pass to run_check, and the options with a PIN prompt that
    pauses the display while the PIN is typed."""
    if not wanted(as_json, quiet):
        yield NO_PROGRESS, options
        return
    with LiveProgress() as live:
        keys = options.keys
        if keys is not None and keys.pin_source is not None and keys.pin_from == "keyboard":
            source = keys.pin_source

            def pausing(min_length: int, max_length: int) -> Any:
                with live.paused():
                    return source(min_length, max_length)

            options = replace(options, keys=replace(keys, pin_source=pausing))
        yield live, options
