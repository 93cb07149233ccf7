"""Collect the facts of a diagnosis: the PC/SC stack, the reader, the card, its certificates.

Collecting only gathers and records (expected failures included, as typed
exceptions in the facts); ``cpsdiag.diag.judge`` turns the facts into
findings. No PIN is ever sent here.
"""

from __future__ import annotations

import time
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Iterator

from cpsdiag import errors
from cpsdiag.diag.facts import CertFacts, CheckFacts, ReaderFacts
from cpsdiag.diag.progress import NO_PROGRESS, Observer, Step
# guarded_step wraps every step of the check (a bug in one is a finding of that step, not the end of the check).
from cpsdiag.diag.steps import guarded_step

if TYPE_CHECKING:
    # Types only: the modules stay lazily imported by the steps that need them.
    from cpsdiag.card.identify import CardModel
    from cpsdiag.card.reader import CardData
    from cpsdiag.diag.facts import KeyOptions
    from cpsdiag.diag.revocation import RevocationOptions
    from cpsdiag.iso7816.atr import Atr
    from cpsdiag.pki.certinfo import CertInfo
    from cpsdiag.transport.pcsc import PcscContext


@dataclass(frozen=True)
class CheckOptions:
    reader: str | None = None
    anchors: tuple[Path, ...] = ()
    at: datetime | None = None
    keys: KeyOptions | None = None  # PIN, self-test, TLS probe
    card_timeout: float = 20.0      # seconds one card command may take before the card is called mute
    environment: bool = True        # the workstation inventory (cpsdiag.env), files and registry only
    revocation: RevocationOptions | None = None     # None: not checked


@contextmanager
def _timed(facts: CheckFacts, stage: str) -> Iterator[None]:
    start = time.perf_counter()
    try:
        yield
    finally:
        facts.timings_ms[stage] = round((time.perf_counter() - start) * 1000, 2)


def _identify(atr: bytes) -> tuple[Atr, CardModel | None, bool]:
    from cpsdiag.card.identify import guess, identify
    from cpsdiag.iso7816.atr import parse_atr

    info = parse_atr(atr)
    model = identify(info)
    if model is not None:
        return info, model, False
    return info, guess(info), True


def describe_card(reader: ReaderFacts) -> str | None:
    """One line naming the card in a reader, from its ATR alone."""
    try:
        _info, model, guessed = _identify(reader.atr)
    except errors.MalformedDataError:
        return None
    if model is None:
        return None
    return model.label + (" ?" if guessed else "")


def choose_reader(readers: list[ReaderFacts], wanted: str | None) -> str:
    """The reader named by --reader (exact, or a unique case-insensitive part), else the first holding a CPS card."""
    if wanted:
        exact = [r.name for r in readers if r.name == wanted]
        if exact:
            return exact[0]
        partial = [r.name for r in readers if wanted.lower() in r.name.lower()]
        if len(partial) == 1:
            return partial[0]
        known = ", ".join(r.name for r in readers) or "none"
        which = "several readers match" if partial else "no reader matches"
        raise errors.UsageError(f"--reader {wanted!r}: {which} (readers: {known})")
    with_card = [r for r in readers if r.card_present]
    for r in with_card:
        try:
            _info, model, guessed = _identify(r.atr)
        except errors.MalformedDataError:
            continue
        if model is not None and not guessed:
            return r.name
    return (with_card or readers)[0].name


def collect(options: CheckOptions, anchors: list[CertInfo] | None = None,
            progress: Observer = NO_PROGRESS) -> CheckFacts:
    from cpsdiag.transport import pcsc

    facts = CheckFacts(at=options.at or datetime.now(timezone.utc))
    overall = time.perf_counter()
    try:
        progress(Step("pcsc"))
        with _timed(facts, "pcsc"):
            facts.library = pcsc.check_library()
            context = pcsc.PcscContext(card_timeout=options.card_timeout)
    except errors.PcscError as exc:
        facts.pcsc_error = exc
    else:
        try:
            with guarded_step(facts.failures, "card"):
                _collect_card(facts, options, context, anchors, progress)
        finally:
            context.close()
    if options.revocation is not None and facts.certificates:
        # After the card is released: the network may take seconds, the card need not wait for it.
        from cpsdiag.diag.revocation import collect_revocation

        with _timed(facts, "revocation"), guarded_step(facts.failures, "revocation"):
            collect_revocation(facts.certificates, options.revocation, progress)
    if options.environment:
        progress(Step("environment"))
        with guarded_step(facts.failures, "environment"):
            _collect_environment(facts)
    facts.timings_ms["total"] = round((time.perf_counter() - overall) * 1000, 2)
    return facts


def _collect_environment(facts: CheckFacts) -> None:
    from cpsdiag.env import collect_environment

    card = facts.card
    with _timed(facts, "environment"):
        facts.environment = collect_environment(
            card_generation=facts.model.generation if facts.model is not None else None,
            card_serial=card.serial.card_number if card is not None and card.serial is not None else None,
            live=False)


def _collect_card(facts: CheckFacts, options: CheckOptions, context: PcscContext, anchors: list[CertInfo] | None,
                  progress: Observer) -> None:
    progress(Step("readers"))
    with _timed(facts, "readers"):
        try:
            names = context.readers()
            states = context.states(names)
        except errors.PcscError as exc:
            facts.pcsc_error = exc
            return
        facts.readers = [ReaderFacts(s.name, s.card_present, s.atr, s.exclusive) for s in states]
    if not facts.readers:
        return
    try:
        facts.reader = choose_reader(facts.readers, options.reader)
    except errors.UsageError as exc:
        facts.reader_error = exc
        return
    progress(Step("connect", facts.reader))
    with _timed(facts, "connect"):
        try:
            link = context.connect(facts.reader)
        except errors.PcscError as exc:
            facts.card_error = exc
            state = next(r for r in facts.readers if r.name == facts.reader)
            facts.atr = state.atr or None
            return
    try:
        facts.atr, facts.protocol, facts.trace = link.atr, link.protocol, link.trace
        with _timed(facts, "identify"):
            try:
                facts.atr_info, facts.model, facts.model_guessed = _identify(link.atr)
            except errors.MalformedDataError as exc:
                facts.atr_error = exc
        if facts.model is None:
            return
        from cpsdiag.card.commands import commands_for
        from cpsdiag.card.reader import read_card

        commands = commands_for(facts.model.generation, link)

        def reading(step: str, target: str) -> None:
            progress(Step("pin_counter" if step == "pin" else "read", target))

        with _timed(facts, "read"):
            try:
                facts.card = read_card(commands, on_step=reading)
            except errors.PcscError as exc:
                facts.read_error = exc
                return
        with _timed(facts, "certificates"):
            _collect_certificates(facts, facts.card, anchors)
        if options.keys is not None and options.keys.wanted:
            from cpsdiag.diag.keys import run_key_tests

            with _timed(facts, "keys"):
                try:
                    with guarded_step(facts.failures, "keys"):
                        facts.keys = run_key_tests(link, commands, facts, options.keys, progress)
                except errors.PcscError as exc:
                    facts.keys_error = exc
    finally:
        try:
            link.close()
        except errors.PcscError:
            pass   # the card or the service is already gone; the facts say so


def _collect_certificates(facts: CheckFacts, card: CardData, anchors: list[CertInfo] | None) -> None:
    keys_by_id = {k.id: k for k in card.keys}
    for cert_file in card.certificates:
        obj = cert_file.object
        key = keys_by_id.get(obj.id)
        cf = CertFacts(role="unknown", label=obj.label, path=obj.path.hex().upper(), der=cert_file.der, key=key)
        if key is not None and "nonRepudiation" in key.usage:
            cf.role = "signature"
        elif key is not None and ("sign" in key.usage or "decrypt" in key.usage):
            cf.role = "authentication"
        facts.certificates.append(cf)     # first: a certificate that breaks the parser is still listed
        if cert_file.der is None:
            cf.error = next((p.error for p in card.problems if p.step == "certificate" and obj.label in p.target), None)
        else:
            with guarded_step(facts.failures, "certificates"):
                _parse_certificate(facts, cf, cert_file.der, anchors)


def _parse_certificate(facts: CheckFacts, cf: CertFacts, der: bytes, anchors: list[CertInfo] | None) -> None:
    from cpsdiag.pki.certinfo import parse_certificate
    from cpsdiag.pki.chain import validate_chain

    try:
        info = parse_certificate(der, where=f"card {cf.path}")
    except errors.MalformedDataError as exc:
        cf.error = exc
        return
    if info.role != "unknown":
        cf.role = info.role
    chain = validate_chain(info, anchors=anchors, at=facts.at)
    cf.info, cf.chain = info, chain
