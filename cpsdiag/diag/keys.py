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
from pathlib import Path
from typing import TYPE_CHECKING, Callable, cast

from cpsdiag import errors
from cpsdiag.card.signing import DIGEST_INFO_PREFIX
from cpsdiag.diag.facts import (CheckFacts, KeyFacts, KeyOptions, KeyRole, PinOutcome, PinResult,
                                 Scheme, SignatureCheck, SignatureResult)
from cpsdiag.diag.progress import NO_PROGRESS, Observer, Step

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey

    from cpsdiag.card.commands import CardCommands
    from cpsdiag.card.keyops import KeyOps
    from cpsdiag.card.pkcs15 import PrivateKeyObject
    from cpsdiag.card.reader import CardData
    from cpsdiag.transport.base import CardLink

    from cpsdiag.pkcs11 import Pkcs11KeyOps


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


def _check(role: KeyRole, scheme: Scheme, public_key: RSAPublicKey, fn: Callable[[bytes], bytes]) -> SignatureCheck:
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


def self_test(ops: KeyOps, facts: CheckFacts, options: KeyOptions, progress: Observer = NO_PROGRESS) -> list[SignatureCheck]:
    checks: list[SignatureCheck] = []
    for cf in facts.certificates:
        if cf.info is None or cf.key is None or cf.role not in ("authentication", "signature") \
                or (cf.role == "signature" and not options.sign_all):
            continue
        progress(Step("signature", cf.role))
        # IGC-Santé card keys are RSA (so says the card's PrKDF); another key fails its check as a mismatch.
        public_key = cast("RSAPublicKey", cf.info.certificate.public_key())
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


def _apdu_path(link: CardLink, commands: CardCommands, facts: CheckFacts, options: KeyOptions,
               progress: Observer) -> tuple[KeyOps, PinOutcome]:
    from cpsdiag.card.keyops import ApduKeyOps
    from cpsdiag.card.pinpad import reader_features, verify_on_pad

    card = cast("CardData", facts.card)     # run_key_tests runs on a card already read
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
    keys: dict[str, PrivateKeyObject] = {cf.role: cf.key for cf in facts.certificates if cf.key is not None}
    return ApduKeyOps(commands, keys), outcome


def _pkcs11_path(commands: CardCommands, facts: CheckFacts, options: KeyOptions,
                 progress: Observer) -> tuple[Pkcs11KeyOps, PinOutcome]:
    from cpsdiag.pkcs11 import Pkcs11KeyOps

    card = cast("CardData", facts.card)     # run_key_tests runs on a card already read
    ids: dict[str, bytes] = {cf.role: cf.key.id for cf in facts.certificates if cf.key is not None}
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


def run_key_tests(link: CardLink, commands: CardCommands, facts: CheckFacts, options: KeyOptions,
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


def _use_keys(ops: KeyOps, facts: CheckFacts, options: KeyOptions, out: KeyFacts, progress: Observer) -> None:
    from cpsdiag.diag.steps import guarded_step

    if not out.keys_usable:
        return
    if not facts.contactless:
        from cpsdiag.diag.situations import read_situations

        # The PIN is presented anyway: the practice situations come at no cost to the holder.
        out.situations = read_situations(cast("CardData", facts.card), ops.read_data, options.via,
                                         on_read=lambda label: progress(Step("read", label)))
    if options.sign or options.sign_all:
        with guarded_step(facts.failures, "keys"):
            out.signatures = self_test(ops, facts, options, progress)
    if options.tls_url:
        with guarded_step(facts.failures, "tls"):
            _probe_tls(ops, facts, options.tls_url, options, out, progress)


def _probe_tls(ops: KeyOps, facts: CheckFacts, url: str, options: KeyOptions, out: KeyFacts, progress: Observer) -> None:
    from cpsdiag.tls.probe import probe
    from cpsdiag.tls.signer import RoleSigner

    auth = next((cf.info for cf in facts.certificates if cf.role == "authentication" and cf.info and cf.key), None)
    if auth is None:
        out.tls_error = "no authentication certificate and key on the card"
        return
    issuer = auth.certificate.issuer.public_bytes()
    out.tls = probe(url, RoleSigner(ops, "authentication"), auth.der, issuer_der=issuer,
                    ca_file=options.tls_ca, timeout=options.tls_timeout, proxies=options.proxies,
                    on_attempt=lambda target: progress(Step("tls", target)))
