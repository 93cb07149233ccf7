"""Prove the card's keys: safe PIN presentation, signature self-test, TLS probe.

PIN safety, in order: the counter read without spending a try decides; a
blocked PIN is never presented; the last try is never spent unless the user
forced it; the PIN is asked for only then (or typed on the reader's PIN pad),
presented once, never retried, and wiped.
"""

from __future__ import annotations

import hashlib
import os
import time
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, cast

from cpsdiag import errors
from cpsdiag.card.signing import DIGEST_INFO_PREFIX
from cpsdiag.diag.progress import NO_PROGRESS, Observer, Step
from cpsdiag.diag.situations import SituationFacts

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey

    from cpsdiag.card.commands import CardCommands
    from cpsdiag.card.keyops import KeyOps
    from cpsdiag.card.reader import CardData
    from cpsdiag.net.proxy import ProxySettings
    from cpsdiag.pinentry import PinSource
    from cpsdiag.transport.base import CardLink

# ``facts`` below stays Any: it is a cpsdiag.diag.collect.CheckFacts, and collect imports this module, so even a
# TYPE_CHECKING import would be a cycle for the import contract (grimp counts it).
    from cpsdiag.pkcs11 import ModuleInfo, Pkcs11KeyOps
    from cpsdiag.tls.probe import TlsProbeResult


@dataclass(frozen=True)
class KeyOptions:
    sign: bool = False
    sign_all: bool = False
    tls_url: str | None = None
    tls_ca: Path | None = None
    tls_timeout: float = 10.0
    force_last_try: bool = False
    pin_source: PinSource | None = None
    pin_from: str = "keyboard"                              # where pin_source reads it: "keyboard" | "stdin"
    via: str = "apdu"                                       # "apdu" | "pkcs11"
    module: Path | None = None                              # PKCS#11 module for via="pkcs11"
    proxies: ProxySettings | None = None                    # for the TLS probe

    @property
    def wanted(self) -> bool:
        return self.sign or self.sign_all or self.tls_url is not None


class PinResult(StrEnum):
    """What became of the PIN (the report's ``keys.pin.outcome``)."""

    VERIFIED = "verified"
    ALREADY_VERIFIED = "already_verified"
    NOT_NEEDED = "not_needed"
    WRONG = "wrong"
    BLOCKED = "blocked"                    # blocked before cpsdiag tried: nothing was presented
    BLOCKED_NOW = "blocked_now"            # the PIN presented was the last wrong one
    LAST_TRY_REFUSED = "last_try_refused"  # one try left: cpsdiag does not risk it
    COUNTER_UNKNOWN = "counter_unknown"
    NOT_GIVEN = "not_given"


class SignatureResult(StrEnum):
    OK = "ok"
    MISMATCH = "mismatch"                  # the card signed, the certificate's key does not verify it
    REFUSED = "refused"


@dataclass
class PinOutcome:
    outcome: PinResult
    tries_left: int | None = None
    via_pinpad: bool = False


@dataclass
class SignatureCheck:
    role: str                    # authentication | signature
    scheme: str                  # pkcs1-sha256 | pss-sha256
    outcome: SignatureResult
    error: str | None = None
    seconds: float = 0.0


@dataclass
class KeyFacts:
    options: KeyOptions
    pin: PinOutcome | None = None
    pinpad: bool = False
    signatures: list[SignatureCheck] = field(default_factory=list)
    card_schemes: tuple[str, ...] = ()
    tls: TlsProbeResult | None = None
    tls_error: str | None = None  # why the probe could not run
    module: ModuleInfo | None = None    # on the middleware path
    module_error: str | None = None
    situations: SituationFacts | None = None    # read once the PIN was presented (contact cards)

    @property
    def keys_usable(self) -> bool:
        return self.pin is not None and self.pin.outcome in ("verified", "already_verified", "not_needed")


def _verify(public_key: RSAPublicKey, signature: bytes, message: bytes, pss: bool) -> bool:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    pad = padding.PSS(padding.MGF1(hashes.SHA256()), 32) if pss else padding.PKCS1v15()
    try:
        public_key.verify(signature, message, pad, hashes.SHA256())
        return True
    except (InvalidSignature, ValueError):
        return False


def _check(role: str, scheme: str, public_key: RSAPublicKey, fn: Callable[[bytes], bytes]) -> SignatureCheck:
    challenge = os.urandom(32)            # fresh each time: a replayed signature proves nothing
    start = time.perf_counter()
    try:
        signature = fn(challenge)
    except errors.SIGNATURE_REFUSED as exc:
        return SignatureCheck(role, scheme, SignatureResult.REFUSED, str(exc), time.perf_counter() - start)
    seconds = time.perf_counter() - start
    ok = _verify(public_key, signature, challenge, scheme.startswith("pss"))
    return SignatureCheck(role, scheme, SignatureResult.OK if ok else SignatureResult.MISMATCH, None, round(seconds, 4))


def present_pin(card: CardData, options: KeyOptions, contactless: bool, verify: Callable[[bytes], None],
                pin_pad: Callable[[], None] | None, progress: Observer = NO_PROGRESS) -> PinOutcome:
    """Decide from the counter, then present the PIN once (typed, or on the reader's pad)."""
    if contactless or not card.pins:
        return PinOutcome(PinResult.NOT_NEEDED)
    pin_object = card.pins[0]
    status = card.pin_status
    if status is None and not options.force_last_try:
        return PinOutcome(PinResult.COUNTER_UNKNOWN)
    if status is not None:
        if status.blocked:
            return PinOutcome(PinResult.BLOCKED, 0)
        if status.verified:
            return PinOutcome(PinResult.ALREADY_VERIFIED, status.tries_left)
        if status.tries_left == 1 and not options.force_last_try:
            return PinOutcome(PinResult.LAST_TRY_REFUSED, 1)
    via_pad = pin_pad is not None
    progress(Step("pin", "pinpad" if via_pad else options.pin_from))
    try:
        if pin_pad is not None:
            pin_pad()
        else:
            pin = options.pin_source(pin_object.min_length or 4, pin_object.max_length or 8) \
                if options.pin_source else None
            if pin is None:
                return PinOutcome(PinResult.NOT_GIVEN, status.tries_left if status else None)
            try:
                verify(pin.reveal())
            finally:
                pin.wipe()
    except errors.PinIncorrect as exc:
        return PinOutcome(PinResult.WRONG, exc.tries_left, via_pinpad=via_pad)
    except errors.PinBlocked:
        return PinOutcome(PinResult.BLOCKED_NOW, 0, via_pinpad=via_pad)
    return PinOutcome(PinResult.VERIFIED, status.max_tries if status else None, via_pinpad=via_pad)


def self_test(ops: KeyOps, facts: Any, options: KeyOptions, progress: Observer = NO_PROGRESS) -> list[SignatureCheck]:
    checks: list[SignatureCheck] = []
    for cf in facts.certificates:
        if cf.info is None or cf.key is None or cf.role not in ("authentication", "signature") \
                or (cf.role == "signature" and not options.sign_all):
            continue
        progress(Step("signature", cf.role))
        public_key = cf.info.certificate.public_key()
        if cf.role == "authentication":
            checks.append(_check("authentication", "pkcs1-sha256", public_key, lambda m: ops.sign_pkcs1(
                "authentication", DIGEST_INFO_PREFIX["sha256"] + hashlib.sha256(m).digest())))
            if "pss" in ops.schemes:
                checks.append(_check("authentication", "pss-sha256", public_key, lambda m: ops.sign_pss(
                    "authentication", "sha256", hashlib.sha256(m).digest())))
        else:
            checks.append(_check("signature", "pkcs1-sha256", public_key,
                                 lambda m: ops.sign_message("signature", m)))
    return checks


def _apdu_path(link: CardLink, commands: CardCommands, facts: Any, options: KeyOptions,
               progress: Observer) -> tuple[KeyOps, PinOutcome]:
    from cpsdiag.card.keyops import ApduKeyOps
    from cpsdiag.card.pinpad import reader_features, verify_on_pad

    card = facts.card
    pin_object = card.pins[0] if card.pins else None
    pad = None
    if pin_object is not None:
        features = reader_features(link)
        if features.pin_pad:
            def pad() -> None:
                verify_on_pad(link, features, commands.s.cla, pin_object.reference,
                              pin_object.min_length or 4, pin_object.max_length or 8)

    def verify(pin: bytes) -> None:
        assert pin_object is not None       # present_pin calls it only for a card that has a PIN
        commands.verify_pin(pin_object.reference, pin_object.path, pin)

    outcome = present_pin(card, options, facts.contactless, verify, pad, progress)
    keys = {cf.role: cf.key for cf in facts.certificates if cf.key is not None}
    return ApduKeyOps(commands, keys), outcome


def _pkcs11_path(commands: CardCommands, facts: Any, options: KeyOptions,
                 progress: Observer) -> tuple[Pkcs11KeyOps, PinOutcome]:
    from cpsdiag.pkcs11 import Pkcs11KeyOps

    card = facts.card
    ids = {cf.role: cf.key.id for cf in facts.certificates if cf.key is not None}
    # The CLI always fills module for via="pkcs11"; a library caller's None reaches the loader as before.
    ops = Pkcs11KeyOps(cast(Path, options.module), card.serial.card_number if card.serial else None, ids)
    pin_object = card.pins[0] if card.pins else None

    def verify(pin: bytes) -> None:
        try:
            ops.login(pin)
        except errors.PinIncorrect:
            # PKCS#11 does not say how many tries are left: the card does, read without spending one.
            assert pin_object is not None   # present_pin calls verify only for a card that has a PIN
            status = commands.read_pin_status(pin_object.reference, pin_object.path)
            raise errors.PinIncorrect(status.tries_left) from None

    return ops, present_pin(card, options, facts.contactless, verify, None, progress)


def run_key_tests(link: CardLink, commands: CardCommands, facts: Any, options: KeyOptions,
                  progress: Observer = NO_PROGRESS) -> KeyFacts:
    """PIN, then the self-test and the TLS probe, on a card already read (``facts.card``)."""
    out = KeyFacts(options, card_schemes=tuple(commands.schemes))
    try:
        if options.via == "pkcs11":
            middleware, out.pin = _pkcs11_path(commands, facts, options, progress)
            out.card_schemes = tuple(middleware.schemes)
            out.module = middleware.info
            ops: KeyOps = middleware
        else:
            ops, out.pin = _apdu_path(link, commands, facts, options, progress)
    except errors.Pkcs11Error as exc:
        out.module_error = str(exc)
        return out
    try:
        _use_keys(ops, facts, options, out, progress)
    finally:
        close = getattr(ops, "close", None)
        if close is not None:
            close()
    return out


def _use_keys(ops: KeyOps, facts: Any, options: KeyOptions, out: KeyFacts, progress: Observer) -> None:
    from cpsdiag.diag.steps import guarded_step

    if not out.keys_usable:
        return
    if not facts.contactless:
        from cpsdiag.diag.situations import read_situations

        # The PIN is presented anyway: the practice situations come at no cost to the holder.
        out.situations = read_situations(facts.card, ops.read_data, options.via,
                                         on_read=lambda label: progress(Step("read", label)))
    if options.sign or options.sign_all:
        with guarded_step(facts.failures, "keys"):
            out.signatures = self_test(ops, facts, options, progress)
    if options.tls_url:
        with guarded_step(facts.failures, "tls"):
            _probe_tls(ops, facts, options.tls_url, options, out, progress)


def _probe_tls(ops: KeyOps, facts: Any, url: str, options: KeyOptions, out: KeyFacts, progress: Observer) -> None:
    from cpsdiag.tls.probe import probe
    from cpsdiag.tls.signer import RoleSigner

    auth = next((cf for cf in facts.certificates if cf.role == "authentication" and cf.info and cf.key), None)
    if auth is None:
        out.tls_error = "no authentication certificate and key on the card"
        return
    issuer = auth.info.certificate.issuer.public_bytes()
    out.tls = probe(url, RoleSigner(ops, "authentication"), auth.info.der, issuer_der=issuer,
                    ca_file=options.tls_ca, timeout=options.tls_timeout, proxies=options.proxies,
                    on_attempt=lambda target: progress(Step("tls", target)))
