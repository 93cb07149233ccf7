"""``cpsdiag watch``: readers and cards coming and going, as they happen."""

from __future__ import annotations

import json
import sys
import threading

import click

from cpsdiag.cli.common import FiniteFloatRange, debug_option, guarded, lang_option

from cpsdiag.i18n import N_

LABELS = {
    "watching": N_("watching"), "reader_added": N_("reader added"), "reader_removed": N_("reader removed"),
    "card_inserted": N_("card inserted"), "card_removed": N_("card removed"), "card_mute": N_("card mute"),
    "card_flapping": N_("card flapping"), "service_stopped": N_("service stopped"),
}


@click.command()
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
@click.option("--duration", type=FiniteFloatRange(0.1), metavar="SECONDS", help="Stop after this long.")
@click.option("--count", type=click.IntRange(1), metavar="N", help="Stop after N card events.")
@lang_option
@debug_option
@guarded
def watch(as_json: bool, duration: float | None, count: int | None, lang: str | None, debug: bool) -> int:
    """Print reader and card events with timestamps until Ctrl-C.

    Counts flapping (a card seen coming and going several times within seconds:
    a bad contact or a reader short of USB power).
    """
    from cpsdiag import errors
    from cpsdiag.diag.judge import judge_pcsc_failure
    from cpsdiag.i18n import _
    from cpsdiag.stopping import interrupt_on_stop_signals
    from cpsdiag.watch import Watcher

    try:
        watcher = Watcher()
    except errors.PcscError as exc:
        from cpsdiag.report.console import make_console, render_findings

        render_findings([judge_pcsc_failure(exc)], make_console(stderr=True))
        return 1
    timer = threading.Timer(duration, watcher.stop) if duration else None
    if timer:
        timer.daemon = True
        timer.start()
    watcher.start()
    cards = 0
    status = 0
    labels = {k: _(v) for k, v in LABELS.items()}
    interrupt_on_stop_signals()     # SIGTERM, SIGHUP: stop the watcher and print the summary, as Ctrl-C does
    try:
        for event in watcher:
            if as_json:
                sys.stdout.write(json.dumps(event.to_dict(), ensure_ascii=False) + "\n")
            else:
                parts = [event.time.astimezone().strftime("%Y-%m-%d %H:%M:%S"), labels[event.kind]]
                parts += [p for p in (event.reader, event.card, event.atr, event.detail) if p]
                sys.stdout.write("  ".join(parts) + "\n")
            sys.stdout.flush()
            if event.kind == "service_stopped":
                status = 1
            if event.kind.startswith("card_") and event.detail is None:
                cards += 1
                if count and cards >= count:
                    watcher.stop()
    except KeyboardInterrupt:
        watcher.stop()
    finally:
        if timer:
            timer.cancel()
    totals = dict(watcher.flapping.totals)
    if as_json:
        sys.stdout.write(json.dumps({"event": "summary", "card_events": totals}) + "\n")
    elif totals:
        summary = ", ".join(f"{reader}: {n}" for reader, n in totals.items())
        sys.stdout.write(_("Card events per reader: {summary}").format(summary=summary) + "\n")
    return status
