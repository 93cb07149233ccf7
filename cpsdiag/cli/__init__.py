"""The ``cpsdiag`` command line: parses options, calls the library, renders.

Subcommands live in their own modules and are imported only when invoked, so
that ``cpsdiag --version`` and ``--help`` stay fast.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

import click

from cpsdiag import __version__

# name -> (module, attribute, one-line help shown by --help without importing the module)
COMMANDS: dict[str, tuple[str, str, str]] = {
    "check": ("cpsdiag.cli.check", "check", "Diagnose the reader, the card, its PIN counter and its certificates."),
    "atr": ("cpsdiag.cli.readers", "atr", "Decode an ATR and identify the card it belongs to."),
    "cert": ("cpsdiag.cli.cert", "cert", "Read and judge certificate files (PEM, DER, PKCS#7)."),
    "env": ("cpsdiag.cli.env", "env", "Diagnose the workstation: smart-card service, readers, Cryptolib CPS, browsers."),
    "emulator": ("cpsdiag.emulator.cli", "emulator", "Run the virtual CPS card on a vpcd reader, or make its test PKI."),
    "readers": ("cpsdiag.cli.readers", "readers", "List the card readers and the cards in them."),
    "report": ("cpsdiag.cli.report", "report", "Write a zip for the helpdesk (redacted); show or summarize such zips."),
    "watch": ("cpsdiag.cli.watch", "watch", "Print reader and card events as they happen (insertions, removals, flapping)."),
    "testssl-server": ("cpsdiag.cli.testssl", "testssl_server",
                       "Serve a local 'Test SSL' page that requires the card (HTTPS client authentication)."),
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in COMMANDS:
            return None
        module, attr, _ = COMMANDS[name]
        command: click.Command = getattr(importlib.import_module(module), attr)
        return command

    def main(self, args: Any = None, prog_name: str | None = None, complete_var: str | None = None,
             standalone_mode: bool = True, **extra: Any) -> Any:
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        # No argument at all: the standalone executable may have been double-clicked (cpsdiag/launch.py).
        if args is None and len(sys.argv) == 1:
            from cpsdiag.launch import double_clicked

            if double_clicked():
                from cpsdiag.cli.desk import run_double_clicked

                sys.exit(run_double_clicked(self))
        from cpsdiag.cli.common import standalone

        standalone(lambda: super(LazyGroup, self).main(args, prog_name, complete_var, standalone_mode=False, **extra))

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, COMMANDS[name][2]) for name in self.list_commands(ctx)]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="cpsdiag")
def main() -> None:
    """Diagnose French health-professional smart cards (CPS3, CPS4, CPE...) and the PC/SC stack around them."""
