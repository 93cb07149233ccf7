"""The standalone executable double-clicked: diagnose, leave the helpdesk bundle on the Desktop, keep the window open.

The same commands a terminal user would type, with their defaults:
``cpsdiag report --output <Desktop>/cpsdiag-report-<date>-<time>.zip`` (no
PIN asked, identities masked), then ``cpsdiag report show`` of that file so
that the window shows the findings and their remedies as they were sent.
The window a double-click opened closes when the program ends: the last
lines say where the file is and wait for Enter.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

import click


def _invoke(group: click.Group, args: Sequence[str]) -> int:
    """Run one command line of the group as if typed; its exit status."""
    try:
        group.main(list(args), prog_name="cpsdiag", standalone_mode=True)
    except SystemExit as exc:
        code = exc.code
        return code if isinstance(code, int) else (0 if code is None else 1)
    return 0


def wait_for_enter() -> None:
    """Block until Enter (or the end of standard input, or Ctrl-C): the window stays until then."""
    try:
        if sys.stdin is not None:
            sys.stdin.readline()
    except (KeyboardInterrupt, EOFError, OSError, ValueError):
        pass


def run_double_clicked(group: click.Group) -> int:
    from cpsdiag.i18n import _, set_language
    from cpsdiag.launch import user_desktop
    from cpsdiag.report.bundle import default_output

    set_language(None)
    path = default_output(user_desktop())
    status = _invoke(group, ["report", "--output", str(path)])
    click.echo()
    if path.exists():
        _invoke(group, ["report", "show", str(path)])
        click.echo()
        click.echo(_("The report to send to your helpdesk is here: {path}").format(path=path))
    else:
        click.echo(_("No report was written: see the message above."))
    click.echo(_("Press Enter to close this window."))
    sys.stdout.flush()
    wait_for_enter()
    return status
