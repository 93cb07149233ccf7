"""Judge collected facts: every step ends with at least one finding.

Pure: facts in, findings out, no I/O. Steps, in order: pcsc, readers, card,
read, pin, certificates, consistency. A step that could not run because an
earlier one failed produces nothing (the earlier finding explains why).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Callable, Mapping, cast

from cpsdiag import errors
from cpsdiag.diag.facts import CertFacts, CheckFacts
from cpsdiag.findings.model import Finding, Severity

if TYPE_CHECKING:
    from cpsdiag.card.identify import CardModel
    from cpsdiag.card.reader import CardData
    from cpsdiag.pki.certinfo import CertInfo
    from cpsdiag.pki.chain import ChainResult

EXPIRES_SOON_DAYS = 30

OK, INFO, WARNING, ERROR = Severity.OK, Severity.INFO, Severity.WARNING, Severity.ERROR


def _hex(data: bytes | None) -> str:
    return data.hex(" ").upper() if data else ""


def _date(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d")


# What the workstation inventory says about PC/SC that the check itself already reports.
_ENVIRONMENT_REDUNDANT = {"PCSC_SERVICE_OK", "PCSC_NOT_PROBED", "PCSC_CLIENT_MISSING", "PCSC_SERVICE_STOPPED"}


def judge(facts: CheckFacts) -> list[Finding]:
    out: list[Finding] = []
    _safely(out, "card", _judge_card_side, facts, out)
    out += [Finding("INTERNAL_ERROR", ERROR, f.step, {"error": f.error}) for f in facts.failures]
    if facts.environment is not None:
        from cpsdiag.env import judge_environment

        tls_said = {f.code for f in out if f.step == "tls"}
        found: list[Finding] = []
        _safely(found, "environment", lambda: found.extend(judge_environment(facts.environment)))
        out += [f for f in found if f.code not in _ENVIRONMENT_REDUNDANT and not
                (f.code in tls_said and f.code == "PROXY_PAC")]
    return out


def _safely(out: list[Finding], step: str, fn: Callable[..., None], *args: object) -> None:
    """Judge one part; a bug there is INTERNAL_ERROR for that step, and the findings made so far stay."""
    try:
        fn(*args)
    except Exception as exc:
        out.append(Finding("INTERNAL_ERROR", ERROR, step, {"error": f"{type(exc).__name__}: {exc}"}))


def _judge_card_side(facts: CheckFacts, out: list[Finding]) -> None:
    if not _judge_stack(facts, out):
        return
    if not _judge_card(facts, out):
        return
    personal = personal_params([cf.info for cf in facts.certificates if cf.info is not None])
    _judge_pin(facts, out, personal)
    _judge_certificates(facts, out, personal)
    _judge_consistency(facts, out)
    if facts.keys_error is not None:
        out.append(_card_error(facts.keys_error, "keys", facts))
    else:
        from cpsdiag.diag.judge_keys import judge_keys

        _safely(out, "keys", judge_keys, facts, out, personal)


def _judge_stack(facts: CheckFacts, out: list[Finding]) -> bool:
    err = facts.pcsc_error
    if isinstance(err, errors.PcscLibraryMissing):
        out.append(Finding("PCSC_LIBRARY_MISSING", ERROR, "pcsc", {"library": err.library, "reason": err.reason}))
        return False
    if err is not None:
        out.append(Finding("PCSC_NO_SERVICE", ERROR, "pcsc",
                           {"operation": err.operation, "message": err.message, "hresult": f"0x{err.hresult:08X}"}))
        return False
    out.append(Finding("PCSC_OK", OK, "pcsc", {"library": facts.library}))
    if not facts.readers:
        out.append(Finding("PCSC_NO_READER", ERROR, "readers"))
        return False
    out.append(Finding("READERS_OK", OK, "readers", {
        "readers": ", ".join(r.name for r in facts.readers),
        "count": len(facts.readers)}))
    return True


def judge_pcsc_failure(err: errors.PcscError) -> Finding:
    """A PC/SC service that cannot be used, for the commands that only list (``readers``, ``watch``)."""
    if isinstance(err, errors.PcscLibraryMissing):
        return Finding("PCSC_LIBRARY_MISSING", ERROR, "pcsc", {"library": err.library, "reason": err.reason})
    return Finding("PCSC_NO_SERVICE", ERROR, "pcsc", {"operation": err.operation, "message": err.message})


def judge_readers(pcsc_error: errors.PcscError | None, readers: int) -> list[Finding]:
    """The ``readers`` command's findings: only what is wrong (the list itself says what is there)."""
    if pcsc_error is not None:
        return [judge_pcsc_failure(pcsc_error)]
    if not readers:
        return [Finding("PCSC_NO_READER", ERROR, "readers")]
    return []


def judge_atr(atr: str, model: CardModel | None, guessed: bool) -> list[Finding]:
    """The ``atr`` command's finding: the card an ATR alone names."""
    if model is None or guessed:
        return [Finding("CARD_UNKNOWN", ERROR if model is None else WARNING, "card", {"atr": atr})]
    return [Finding("CARD_IDENTIFIED", OK, "card", {"atr": atr, "label": model.label})]


def _card_error(err: errors.PcscError, step: str, facts: CheckFacts) -> Finding:
    """What a PC/SC error while connecting to or reading the card means."""
    reader = facts.reader or ""
    if isinstance(err, errors.PcscNoService):
        return Finding("PCSC_NO_SERVICE", ERROR, step, {"operation": err.operation, "message": err.message})
    params: dict[str, object] = {"reader": reader, "message": str(err), "hresult": f"0x{err.hresult:08X}"}
    if isinstance(err, errors.CardAbsent):
        others = [r.name for r in facts.readers if r.name != reader and r.card_present]
        if others:
            params["other_readers"] = ", ".join(others)
        return Finding("CARD_ABSENT", ERROR, step, params)
    if isinstance(err, errors.CardSharingViolation):
        return Finding("CARD_SHARING_VIOLATION", ERROR, step, params)
    if isinstance(err, errors.CardRemoved):
        return Finding("CARD_REMOVED", ERROR, step, params)
    return Finding("CARD_MUTE", ERROR, step, params)


def _judge_card(facts: CheckFacts, out: list[Finding]) -> bool:
    reader = facts.reader or ""
    if facts.card_error is not None:
        out.append(_card_error(facts.card_error, "card", facts))
        return False
    atr = _hex(facts.atr)
    if facts.atr_error is not None:
        out.append(Finding("CARD_ATR_MALFORMED", ERROR, "card", {"reader": reader, "atr": atr,
                                                                  "error": str(facts.atr_error)}))
        return False
    model = facts.model
    if model is None or facts.model_guessed:
        out.append(Finding("CARD_UNKNOWN", ERROR if model is None else WARNING, "card", {"reader": reader, "atr": atr}))
        if model is None:
            return False
    else:
        out.append(Finding("CARD_IDENTIFIED", OK, "card", {"reader": reader, "atr": atr, "label": model.label,
                                                           "generation": model.generation,
                                                           "interface": model.interface}))
        if not model.exact:
            out.append(Finding("CARD_ATR_NOT_EXACT", WARNING, "card",
                               {"atr": atr, "label": model.label, "note": model.note or ""}))
    if facts.read_error is not None:
        out.append(_card_error(facts.read_error, "read", facts))
        return False
    card = facts.card
    if card is None:
        return False
    read_problems = [p for p in card.problems if p.step not in ("pin", "certificate")]
    for problem in read_problems:
        out.append(Finding("CARD_READ_ERROR", ERROR, "read", {"target": problem.target, "error": str(problem.error)}))
    if card.serial is not None and not card.serial.check_ok:
        from cpsdiag.card.efsn import luhn_digit

        out.append(Finding("CARD_SERIAL_INVALID", ERROR, "read",
                           {"pan": card.serial.pan, "expected": luhn_digit(card.serial.pan[:-1])}))
    if not read_problems:
        trace = facts.trace
        out.append(Finding("CARD_READ_OK", OK, "read", {
            "card_number": card.serial.card_number if card.serial else "?",
            "certificates": len(card.certificates), "keys": len(card.keys),
            "apdus": trace.count if trace else 0}))
    return True


def personal_params(infos: list[CertInfo]) -> dict[str, object]:
    """What remedies may name: the holder's ordre and the identifier to type for e-CPS."""
    from cpsdiag.pki.codes import ordre_for_profession

    params: dict[str, object] = {}
    for info in infos:
        ordre = ordre_for_profession(info.profession_code)
        if ordre and "ordre" not in params:
            params["ordre"] = ordre.name
            params["ordre_url"] = ordre.members_url
        nid = info.holder.national_id
        if nid is not None and nid.to_type and "login_id" not in params and nid.kind in ("RPPS", "ADELI"):
            params["login_id"] = nid.to_type
    return params


def _judge_pin(facts: CheckFacts, out: list[Finding], personal: Mapping[str, object]) -> None:
    card = cast("CardData", facts.card)     # called once _judge_card found the card read
    if facts.contactless or not card.pins:
        return        # the contactless face has no PIN
    status = card.pin_status
    if status is None:
        problem = next((p for p in card.problems if p.step == "pin"), None)
        out.append(Finding("PIN_UNKNOWN", WARNING, "pin", {"error": str(problem.error) if problem else "?"}))
        return
    params: dict[str, object] = {
        "tries_left": status.tries_left, "max_tries": status.max_tries if status.max_tries is not None else "?",
        "source": status.source, "verified": status.verified}
    if status.blocked:
        out.append(Finding("PIN_BLOCKED", ERROR, "pin", {**params, **personal}))
    elif status.max_tries is not None and status.tries_left < status.max_tries and not status.verified:
        out.append(Finding("PIN_TRIES_LOW", WARNING, "pin", params))
    else:
        out.append(Finding("PIN_OK", OK, "pin", params))


def _expected_roles(facts: CheckFacts) -> tuple[str, ...]:
    return ("authentication",) if facts.contactless else ("authentication", "signature")


def _judge_certificates(facts: CheckFacts, out: list[Finding], personal: Mapping[str, object]) -> None:
    present = {cf.role for cf in facts.certificates}
    for role in _expected_roles(facts):
        if role not in present:
            out.append(Finding("CERT_MISSING", ERROR, "certificates", {"role": role}))
    test_card = False
    for cf in facts.certificates:
        base = {"role": cf.role, "label": cf.label, "path": cf.path}
        if cf.info is None:
            out.append(Finding("CERT_MALFORMED", ERROR, "certificates",
                               {**base, "error": str(cf.error) if cf.error else "not read"}))
            continue
        out.extend(judge_certificate(cf, facts.at, base, personal))
        test_card = test_card or cf.info.test_card
    if test_card:
        out.append(Finding("CERT_TEST_CARD", INFO, "certificates"))


def judge_certificate(cf: CertFacts, at: datetime, base: Mapping[str, object], personal: Mapping[str, object]) -> list[Finding]:
    # Callers judge parsed certificates only: info is set, and chain with it by the same step.
    info, chain = cast("CertInfo", cf.info), cast("ChainResult", cf.chain)
    found: list[Finding] = []
    days = info.days_left(at)
    dates = {**base, "not_before": _date(info.not_before), "not_after": _date(info.not_after), "days_left": days}
    dated_ok = False
    if at < info.not_before:
        found.append(Finding("CERT_NOT_YET_VALID", ERROR, "certificates", dates))
    elif at > info.not_after:
        found.append(Finding("CERT_EXPIRED", ERROR, "certificates", {**dates, "days_ago": -days, **personal}))
    elif days <= EXPIRES_SOON_DAYS:
        found.append(Finding("CERT_EXPIRES_SOON", WARNING, "certificates", {**dates, **personal}))
    else:
        dated_ok = True
    chain_params = {**base, "chain_error": chain.error, "chain_detail": chain.detail,
                    "missing_issuer": chain.missing_issuer, "issuer": info.issuer_display}
    if chain.trusted:
        if dated_ok:
            found.append(Finding("CERT_OK", OK, "certificates",
                                 {**dates, "issuer": info.issuer_display, "anchor": chain.anchor}))
    elif chain.error in ("expired", "not_yet_valid"):
        pass          # the dates above already say it
    elif chain.error == "test_chain_missing":
        found.append(Finding("CERT_TEST_CHAIN_MISSING", WARNING, "certificates", chain_params))
    else:
        found.append(Finding("CERT_UNTRUSTED", ERROR, "certificates", chain_params))
    if cf.role == "unknown":
        found.append(Finding("CERT_PURPOSE_UNEXPECTED", WARNING, "certificates", {
            **base, "key_usage": ", ".join(info.key_usage) or "-",
            "extended_key_usage": ", ".join(info.extended_key_usage) or "-"}))
    from cpsdiag.diag.judge_revocation import judge_revocation

    revocation = judge_revocation(cf, base, personal)
    if any(f.code == "CERT_REVOKED" for f in revocation):
        found = [f for f in found if f.code != "CERT_OK"]     # revoked is not "valid and trusted"
    found.extend(revocation)
    return found


def card_numbers_match(cert_number: str, card_number: str, check_digit: int) -> bool:
    """Extension 1.2.250.1.71.1.2.3 against EF.SN.ICC.

    Real cards show 10 digits in the extension (and their token label) and 8 in
    EF.SN.ICC, which has room for no more: those 8 are the last 8 of the 10. A
    shorter number may carry its check digit or leading zeros (docs/decisions.md).
    """
    if len(cert_number) == 10 and len(card_number) == 8 and cert_number.isdigit():
        return cert_number[-8:] == card_number
    cert = cert_number.lstrip("0")
    candidates = {card_number.lstrip("0"), (card_number + str(check_digit)).lstrip("0")}
    return cert in candidates


def _holder_key(info: CertInfo) -> tuple[str, str, str]:
    h = info.holder
    return (h.given_name or "", h.surname or "", h.common_name or "")


def _judge_consistency(facts: CheckFacts, out: list[Finding]) -> None:
    parsed = [cf for cf in facts.certificates if cf.info is not None]
    if not parsed:
        return
    problems: list[Finding] = []
    by_role = {cf.role: cf for cf in parsed}
    auth, sign = by_role.get("authentication"), by_role.get("signature")
    if auth and sign and auth.info and sign.info and _holder_key(auth.info) != _holder_key(sign.info):
        problems.append(Finding("CERT_HOLDER_MISMATCH", ERROR, "consistency", {
            "auth_holder": " ".join(filter(None, _holder_key(auth.info))),
            "signature_holder": " ".join(filter(None, _holder_key(sign.info)))}))
    serial = cast("CardData", facts.card).serial     # called once _judge_card found the card read
    for cf in parsed:
        info = cf.info
        if info is None:        # never: parsed holds parsed certificates only (says so to the type checker)
            continue
        number = info.card_number
        if serial is not None and number and not card_numbers_match(number, serial.card_number, serial.check_digit):
            problems.append(Finding("CARD_NUMBER_MISMATCH", ERROR, "consistency", {
                "role": cf.role, "cert_card_number": number, "card_number": serial.card_number}))
        if cf.key_bits and info.key_size and cf.key_bits != info.key_size:
            problems.append(Finding("CERT_KEY_MISMATCH", ERROR, "consistency", {
                "role": cf.role, "cert_bits": info.key_size, "key_bits": cf.key_bits}))
    out.extend(problems or [Finding("CARD_CONSISTENT", OK, "consistency")])
