"""``cpsdiag emulator``: serve a virtual card to vpcd, make the test PKI, validate profiles."""

from __future__ import annotations

import logging
import os
import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Callable

import click

from . import profile as profiles

if TYPE_CHECKING:
    import subprocess

    from .vpcd import Card


class ProfileUsage(click.ClickException):
    """A profile that cannot be used: a usage error, exit status 2 like every other bad input."""

    exit_code = 2


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
    from cpsdiag.stopping import Stopped, stop_on_signals

    if os.environ.pop("CPSDIAG_EXIT_WITH_PARENT", None) == "1":
        # Started by `emulator run` or the pytest plugin: leave with them, even if they are killed outright.
        from .pcscd_namespace import exit_with_parent

        exit_with_parent()
    from .card import virtual_card

    card = None
    try:
        with stop_on_signals():
            prof = _load(profile_name)
            card = virtual_card(prof)
            _serve(card, prof, host, port, verbose)
    except Stopped:
        pass
    if card is None:
        return
    c = card.counters
    click.echo(f"emulator: stopped after {c.apdus} APDUs ({c.bytes_in} bytes in, {c.bytes_out} bytes out)", err=True)
    if stats is not None:
        import json

        stats.write_text(json.dumps({"apdus": c.apdus, "bytes_in": c.bytes_in, "bytes_out": c.bytes_out}))


def _load(name_or_path: str) -> profiles.Profile:
    from cpsdiag.errors import CpsdiagError

    try:
        return profiles.load(name_or_path)
    except profiles.ProfileError as exc:
        raise ProfileUsage(str(exc)) from None
    except CpsdiagError as exc:         # the test PKI cache cannot be written
        raise click.ClickException(str(exc)) from None


def _serve(card: Card, prof: profiles.Profile, host: str, port: int, verbose: int) -> None:
    """Serve the card until a stop signal (which raises Stopped)."""
    from .card import mask_secrets
    from .vpcd import serve

    trace = None
    if verbose:
        def trace(cmd: bytes, rsp: bytes) -> None:
            print(f"> {mask_secrets(cmd)}\n< {rsp.hex(' ')}", file=sys.stderr, flush=True)

    click.echo(f"emulator: {prof.name} ({prof.generation} {prof.interface}, card {prof.card_number}), "
               f"ATR {prof.atr.hex(' ').upper()}, vpcd {host}:{port}", err=True)
    byte_seconds = 0.0
    if prof.faults.slow:
        from cpsdiag.iso7816.atr import parse_atr

        byte_seconds = parse_atr(prof.atr).byte_time_seconds(prof.faults.clock_mhz * 1e6)
        click.echo(f"emulator: slow card, {1 / byte_seconds:.0f} bytes/s at {prof.faults.clock_mhz:g} MHz", err=True)
    serve(card, host, port, trace, faults=prof.faults, byte_seconds=byte_seconds)


@emulator.command("make-pki")
@click.argument("outdir", type=click.Path(file_okay=False, path_type=Path))
@click.option("--cards", "card_dirs", multiple=True, type=click.Path(file_okay=False, exists=True, path_type=Path),
              help="Folder of profiles to generate certificates for (repeatable; default: the shipped profiles).")
@click.option("--revocation-url", metavar="URL",
              help="Base http:// URL of the certificates' CRLs (URL/CRL/<ca>.crl) and issuers (URL/AC/<ca>.cer); "
                   "also writes the CRLs, an OCSP index and responder certificate per CA (default: .invalid URLs, "
                   "nothing published).")
@click.option("--ocsp-url", metavar="URL", help="The certificates' OCSP responder (default: the revocation URL/ocsp).")
def make_pki_command(outdir: Path, card_dirs: tuple[Path, ...], revocation_url: str | None,
                     ocsp_url: str | None) -> None:
    """Create a test PKI mirroring IGC-Santé and the certificates of every profile with a [holder] table.

    Writes OUTDIR/pki (root and intermediates; anchors.pem is the bundle to
    trust) and OUTDIR/cards/<profile> (card.toml plus PEM files), dated from today.
    With --revocation-url, OUTDIR/pki/CRL, AC and ocsp hold what a CRL server
    and `openssl ocsp` serve (docs/emulator.md, "Revocation").
    """
    from .pkigen import make_pki

    for option, url in (("--revocation-url", revocation_url), ("--ocsp-url", ocsp_url)):
        if url is not None and not url.startswith("http://"):
            raise click.BadParameter("must be an http:// URL", param_hint=option)
    if ocsp_url is not None and revocation_url is None:
        raise click.BadParameter("needs --revocation-url", param_hint="--ocsp-url")
    try:
        out = make_pki(outdir, list(card_dirs) or None, revocation_url=revocation_url, ocsp_url=ocsp_url)
    except profiles.ProfileError as exc:
        raise ProfileUsage(str(exc)) from None
    click.echo(f"trust anchors: {out.anchors}")
    click.echo(f"profiles ({len(out.profiles)}): {out.cards}")
    for name in out.profiles:
        click.echo(f"  {name}")


@emulator.command("validate")
@click.argument("profile_name", metavar="PATH_OR_NAME")
def validate_command(profile_name: str) -> None:
    """Check a profile and print what the virtual card will hold."""
    prof = _load(profile_name)
    from .card import virtual_card

    card = virtual_card(prof)
    click.echo(f"{prof.name}: {prof.generation} {prof.interface}, ATR {prof.atr.hex(' ').upper()}")
    click.echo(f"  card number {prof.card_number}, PIN tries {prof.pin_tries_left}/{prof.pin_max_tries}")
    for node in card.mf.walk():
        path = "/".join(f"{n.fid:04X}" for n in node.path())
        size = len(node.data) if hasattr(node, "data") else None
        click.echo(f"  {path}" + (f"  {size} bytes" if size is not None else "  (DF)"))
    click.echo(f"  data objects ({len(card.data_objects)} in the DODF):")
    for obj in card.data_objects:
        flags = ", ".join(f for f, on in (("private", obj.private), ("modifiable", obj.modifiable)) if on)
        click.echo(f"    {obj.label:<24} {card.app.fid:04X}/{obj.fid:04X}  {len(obj.content)} bytes"
                   + (f"  ({flags})" if flags else ""))
    situations = len(prof.data.situations)
    click.echo(f"  practice situations: {situations}")


@emulator.command("new-profile")
@click.argument("folder", type=click.Path(path_type=Path))
@click.option("--generation", type=click.Choice(["CPS3", "CPS4"]), default="CPS3", show_default=True)
@click.option("--interface", type=click.Choice(["contact", "contactless"]), default="contact", show_default=True,
              help="contactless: the CPS3's ISO 14443 face (technical key only, no PIN).")
@click.option("--given-name", default="CAMILLE", show_default=True)
@click.option("--surname", default="EMULATEUR", show_default=True)
@click.option("--id-type", type=click.Choice(["rpps", "adeli", "structure"]), default="rpps", show_default=True,
              help="How the holder is identified: RPPS (11 digits), ADELI (9 characters), or within a structure "
                   "(FINESS/registration number, for CPE and CPA).")
@click.option("--id", "identifier", metavar="ID", help="The identifier, e.g. 99900000991, 999100991, "
                                                       "999999990/CPET0001 (default: a test one of the type).")
@click.option("--organization", metavar="NAME", help="The structure's name (CPE, CPA).")
@click.option("--profession", type=int, metavar="CODE",
              help="G15 profession code (10 Médecin, 21 Pharmacien, 60 Infirmier...; default 10; none on CPE/CPA).")
@click.option("--card-type", type=click.Choice(["CPS", "CPF", "CPE", "CPA"], case_sensitive=False), default="CPS",
              show_default=True)
@click.option("--expires-in", metavar="DURATION", help="The certificates expire in this long: 30d, 6w.")
@click.option("--expired", is_flag=True, help="The certificates expired yesterday.")
@click.option("--pin", help="The PIN, 4 to 8 digits (default 1234).")
@click.option("--max-tries", type=int, default=3, show_default=True, help="PIN tries of a fresh counter.")
@click.option("--tries-left", type=int, help="PIN tries left (0: blocked; default: all of them).")
@click.option("--card-number", help="Up to 10 digits, as on real cards (default 2990000991 for a CPS3, 3190000991 "
                                    "for a CPS4); EF.SN.ICC holds the last 8.")
@click.option("--situation", "situations", multiple=True, metavar="\"NAME;STRUCTURE ID;SECTOR\"",
              help="A practice situation (repeat for more, up to 16): the structure's name, its national identifier "
                   "(G07 type digit + identifier, e.g. 3 + SIRET) and its R02 sector (SA07 Cabinet individuel). "
                   "Default: one made from the holder.")
@click.option("--no-situation", is_flag=True, help="A card with no practice situation (billing software cannot bill).")
@click.option("--cps-data-size", type=int, metavar="BYTES", help="Size of CPS_DATA, the area applications write "
                                                                  "(default 2048).")
@click.option("--revoked", is_flag=True,
              help="Record the certificates as revoked (key compromise): make-pki --revocation-url lists them in "
                   "its CRLs and OCSP index.")
@click.option("--description", help="One line shown by validate (default: a summary of the options).")
@click.option("--force", is_flag=True, help="Write over the profile in a folder that is not empty.")
def new_profile_command(folder: Path, generation: str, interface: str, given_name: str, surname: str, id_type: str,
                        identifier: str | None, organization: str | None, profession: int | None, card_type: str,
                        expires_in: str | None, expired: bool, pin: str | None, max_tries: int,
                        tries_left: int | None, card_number: str | None, situations: tuple[str, ...],
                        no_situation: bool, cps_data_size: int | None, revoked: bool, description: str | None,
                        force: bool) -> None:
    """Make a profile folder for a card of your own, its certificates issued by a test PKI made with it.

    Example: cpsdiag emulator new-profile ./nurse --generation CPS4 --id-type adeli --profession 60
    --expires-in 30d --tries-left 1
    """
    from .newprofile import CardSpec, SpecError, parse_duration, write

    if no_situation and situations:
        raise ProfileUsage("--no-situation with --situation: choose one")
    try:
        spec = CardSpec(generation=generation, interface=interface, given_name=given_name, surname=surname,
                        id_type=id_type, identifier=identifier, organization=organization, profession=profession,
                        card_type=card_type.upper(), expired=expired, pin=pin, max_tries=max_tries,
                        tries_left=tries_left, card_number=card_number, revoked=revoked, description=description,
                        situations=() if no_situation else (situations or None), cps_data_size=cps_data_size,
                        expires_in_days=parse_duration(expires_in) if expires_in is not None else None)
        write(folder, spec, force=force)
    except (SpecError, profiles.ProfileError) as exc:
        raise ProfileUsage(str(exc)) from None
    click.echo(f"{folder}: {spec.summary()}")
    click.echo(f"  trust anchors: {folder / 'pki' / 'anchors.pem'}")
    click.echo(f"  try it: cpsdiag emulator run --profile {folder} -- cpsdiag check")


@emulator.command("run", context_settings={"ignore_unknown_options": True})
@click.option("--profile", "profile_names", default=("cps3-medecin",), show_default=True, metavar="PATH_OR_NAME",
              multiple=True, help="The card (repeat for several cards, each in a reader of its own).")
@click.option("--isolate/--no-isolate", default=None,
              help="--isolate: a private pcscd or nothing; --no-isolate: the pcscd running on the machine "
                   "(Debian's \"Virtual PCD\" readers). Default: a private pcscd when the machine allows it, "
                   "else the running one.")
@click.option("-v", "--verbose", is_flag=True, help="Log the APDUs (PIN bytes masked) and print the log at the end.")
@click.argument("command", nargs=-1, type=click.UNPROCESSED, required=True)
def run_command(profile_names: tuple[str, ...], isolate: bool | None, verbose: bool,
                command: tuple[str, ...]) -> None:
    """Start pcscd and the virtual card, run COMMAND against it, stop both.

    Example: cpsdiag emulator run --profile cps4-infirmier -- cpsdiag check

    No root needed: pcscd runs alone in namespaces of its own, on free vpcd
    ports, and COMMAND finds it through PCSCLITE_CSOCK_NAME; it also gets
    CPSDIAG_READER and CPSDIAG_ANCHORS. SIGTERM, SIGHUP and SIGINT are passed
    on to COMMAND, then everything started here is stopped and its temporary
    folder removed. Exit status: COMMAND's, or 128 + the signal's number.
    """
    from cpsdiag.stopping import Stopped, stop_on_signals

    from .service import VirtualReaders
    from .stack import StackError

    def say(text: str) -> None:
        click.echo(click.style(f"[emulator run] {text}", dim=True), err=True)

    try:
        with stop_on_signals():
            loaded = [_load(name) for name in profile_names]
            readers = VirtualReaders(readers=len(loaded), isolate=isolate, say=say, verbose_cards=verbose)
            try:
                readers.start()
                cards = [readers.card(prof) for prof in loaded]
                for card in cards:
                    card.insert()
                    say(f"card present in \"{card.reader}\": {card.data.name} ({card.generation} "
                        f"{card.data.interface}, card {card.card_number}), emulator pid {card.pid}")
                status = _run_wrapped(list(command), dict(os.environ, **cards[0].env), say)
                if verbose:
                    for card in cards:
                        click.echo(f"-- emulator log of {card.reader} --\n{card.log()}", err=True)
            finally:
                readers.close()
    except StackError as exc:
        raise click.ClickException(str(exc)) from None
    except Stopped as stop:
        say(f"stopped by {signal.Signals(stop.signum).name}; everything started here is stopped")
        status = stop.exit_status
    sys.exit(status)


def _run_wrapped(command: list[str], env: dict[str, str], say: Callable[[str], None]) -> int:
    """Run the command; a stop signal is passed on to it, and it is waited for (killed if it lingers)."""
    import subprocess

    from cpsdiag.stopping import Stopped

    say(f"running: {' '.join(command)}")
    try:
        proc = subprocess.Popen(command, env=env)
    except OSError as exc:
        # What a shell says and returns for a command it cannot run.
        say(f"cannot run {command[0]}: {exc.strerror}")
        return 127 if isinstance(exc, FileNotFoundError) else 126
    try:
        return proc.wait()
    except Stopped as stop:
        # Ctrl-C in a terminal reaches the whole foreground process group, COMMAND included: give it a
        # moment to stop on its own before sending it another one. SIGTERM and SIGHUP usually reach only us.
        if stop.signum != signal.SIGINT or _still_running(proc, 2.0):
            proc.send_signal(stop.signum)
        if _still_running(proc, 10.0):
            say(f"{command[0]} still running 10 s after {signal.Signals(stop.signum).name}: killing it")
            proc.kill()
            proc.wait()
        raise
    finally:
        if proc.poll() is None:       # any other way out: never leave the command behind
            proc.kill()
            proc.wait()


def _still_running(proc: subprocess.Popen[bytes], seconds: float) -> bool:
    import subprocess

    try:
        proc.wait(seconds)
        return False
    except subprocess.TimeoutExpired:
        return True
