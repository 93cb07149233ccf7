"""``cpsdiag emulator``: serve a virtual card to vpcd, make the test PKI, validate profiles."""

from __future__ import annotations

import logging
import signal
import sys
from pathlib import Path

import click

from . import profile as profiles


@click.group(invoke_without_command=True)
@click.option("--profile", "profile_name", metavar="PATH_OR_NAME",
              help="Profile folder (or its card.toml), or the name of a shipped profile.")
@click.option("--host", default="127.0.0.1", show_default=True, help="Host where vpcd listens.")
@click.option("--port", default=35963, show_default=True, type=click.IntRange(1, 65535),
              help="vpcd port (slot 0 of Debian's vpcd is 35963, slot 1 is 35964).")
@click.option("-v", "--verbose", count=True, help="Log each APDU and response (PIN bytes masked); -vv adds power events.")
@click.option("--stats", type=click.Path(dir_okay=False, path_type=Path),
              help="On exit, write the APDUs and bytes exchanged to this JSON file.")
@click.pass_context
def emulator(ctx: click.Context, profile_name: str | None, host: str, port: int, verbose: int,
             stats: Path | None) -> None:
    """Run a virtual CPS3/CPS4 card in the vpcd reader until interrupted.

    The card connects to vpcd (the virtual reader driver loaded by pcscd), so
    every PC/SC program on the machine sees it as a card in "Virtual PCD 00 00".
    """
    if ctx.invoked_subcommand is not None:
        return
    if not profile_name:
        raise click.UsageError("--profile is required (or use a subcommand: make-pki, validate)")
    logging.basicConfig(level=logging.DEBUG if verbose > 1 else logging.INFO, stream=sys.stderr,
                        format="emulator: %(message)s")
    try:
        prof = profiles.load(profile_name)
    except profiles.ProfileError as exc:
        raise click.ClickException(str(exc)) from None
    from .card import VirtualCard, mask_secrets
    from .vpcd import Stop, serve

    card = VirtualCard(prof)
    trace = None
    if verbose:
        def trace(cmd: bytes, rsp: bytes) -> None:
            print(f"> {mask_secrets(cmd)}\n< {rsp.hex(' ')}", file=sys.stderr, flush=True)

    def stop(signum, frame):
        raise Stop()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    click.echo(f"emulator: {prof.name} ({prof.generation} {prof.interface}, card {prof.card_number}), "
               f"ATR {prof.atr.hex(' ').upper()}, vpcd {host}:{port}", err=True)
    byte_seconds = 0.0
    if prof.faults.slow:
        from cpsdiag.iso7816.atr import parse_atr

        byte_seconds = parse_atr(prof.atr).byte_time_seconds(prof.faults.clock_mhz * 1e6)
        click.echo(f"emulator: slow card, {1 / byte_seconds:.0f} bytes/s at {prof.faults.clock_mhz:g} MHz", err=True)
    try:
        serve(card, host, port, trace, faults=prof.faults, byte_seconds=byte_seconds)
    except Stop:
        pass
    c = card.counters
    click.echo(f"emulator: stopped after {c.apdus} APDUs ({c.bytes_in} bytes in, {c.bytes_out} bytes out)", err=True)
    if stats is not None:
        import json

        stats.write_text(json.dumps({"apdus": c.apdus, "bytes_in": c.bytes_in, "bytes_out": c.bytes_out}))


@emulator.command("make-pki")
@click.argument("outdir", type=click.Path(file_okay=False, path_type=Path))
@click.option("--cards", "card_dirs", multiple=True, type=click.Path(file_okay=False, exists=True, path_type=Path),
              help="Folder of profiles to generate certificates for (repeatable; default: the shipped profiles).")
def make_pki_command(outdir: Path, card_dirs: tuple[Path, ...]) -> None:
    """Create a test PKI mirroring IGC-Santé and the certificates of every profile with a [holder] table.

    Writes OUTDIR/pki (root and intermediates; anchors.pem is the bundle to
    trust) and OUTDIR/cards/<profile> (card.toml plus PEM files), dated from today.
    """
    from .pkigen import make_pki

    try:
        out = make_pki(outdir, list(card_dirs) or None)
    except profiles.ProfileError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"trust anchors: {out.anchors}")
    click.echo(f"profiles ({len(out.profiles)}): {out.cards}")
    for name in out.profiles:
        click.echo(f"  {name}")


@emulator.command("validate")
@click.argument("profile_name", metavar="PATH_OR_NAME")
def validate_command(profile_name: str) -> None:
    """Check a profile and print what the virtual card will hold."""
    try:
        prof = profiles.load(profile_name)
    except profiles.ProfileError as exc:
        raise click.ClickException(str(exc)) from None
    from .layout import build

    image = build(prof)
    click.echo(f"{prof.name}: {prof.generation} {prof.interface}, ATR {prof.atr.hex(' ').upper()}")
    click.echo(f"  card number {prof.card_number}, PIN tries {prof.pin_tries_left}/{prof.pin_max_tries}")
    for node in image.mf.walk():
        path = "/".join(f"{n.fid:04X}" for n in node.path())
        size = len(node.data) if hasattr(node, "data") else None
        click.echo(f"  {path}" + (f"  {size} bytes" if size is not None else "  (DF)"))


@emulator.command("run", context_settings={"ignore_unknown_options": True})
@click.option("--profile", "profile_name", default="cps3-medecin", show_default=True, metavar="PATH_OR_NAME")
@click.option("--isolate/--no-isolate", default=None,
              help="Run pcscd in private mount and network namespaces (default: yes when root).")
@click.option("-v", "--verbose", is_flag=True, help="Keep the emulator's APDU log and print where it is.")
@click.argument("command", nargs=-1, type=click.UNPROCESSED, required=True)
def run_command(profile_name: str, isolate: bool | None, verbose: bool, command: tuple[str, ...]) -> None:
    """Start pcscd and the virtual card, run COMMAND against it, stop both.

    Example: cpsdiag emulator run --profile cps4-infirmier -- cpsdiag check
    """
    import os
    import subprocess
    import tempfile

    from . import stack as stk

    try:
        prof = profiles.load(profile_name)
    except profiles.ProfileError as exc:
        raise click.ClickException(str(exc)) from None
    if isolate is None:
        isolate = stk.can_isolate()
    workdir = Path(tempfile.mkdtemp(prefix="cpsdiag-run-"))
    pcscd = None

    def say(text: str) -> None:
        click.echo(click.style(f"[emulator run] {text}", dim=True), err=True)

    try:
        if isolate:
            stk.isolate()
            say("private mount and network namespaces, tmpfs on /run/pcscd")
        if isolate or not (stk.PCSCD_RUN_DIR / "pcscd.comm").exists():
            pcscd = stk.Pcscd(workdir=workdir)
            pcscd.start()
            reader, port = pcscd.reader, pcscd.port
            say(f"pcscd started, pid {pcscd.process.pid}, reader \"{reader}\" on vpcd port {port}")
        else:
            reader, port = "Virtual PCD 00 00", 35963
            say(f"using the running pcscd, reader \"{reader}\"")
        emu = stk.Emulator(str(prof.folder), port, verbose=verbose, log_file=workdir / "emulator.log")
        emu.start()
        say(f"emulator started, pid {emu.process.pid}: {prof.name} ({prof.generation} {prof.interface}, "
            f"card {prof.card_number})")
        try:
            stk.wait_for_card(reader)
            say(f"card present in \"{reader}\"; running: {' '.join(command)}")
            env = dict(os.environ, CPSDIAG_READER=reader)
            anchors = prof.folder.parent.parent / "pki" / "anchors.pem"
            if anchors.exists():
                env["CPSDIAG_ANCHORS"] = str(anchors)
            try:
                status = subprocess.call(list(command), env=env)
            except OSError as exc:
                # What a shell says and returns for a command it cannot run.
                say(f"cannot run {command[0]}: {exc.strerror}")
                status = 127 if isinstance(exc, FileNotFoundError) else 126
        finally:
            pid = emu.process.pid if emu.process else "?"
            emu.stop()
            say(f"emulator stopped (pid {pid})")
    except stk.StackError as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        if pcscd is not None and pcscd.process is not None:
            pid = pcscd.process.pid
            pcscd.stop()
            say(f"pcscd stopped (pid {pid})")
    if verbose:
        click.echo(f"emulator log: {workdir / 'emulator.log'}", err=True)
    sys.exit(status)
