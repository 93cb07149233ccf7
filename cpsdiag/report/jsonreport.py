"""The report, schema ``cpsdiag.report/1``: built once from a check's result as records (``schema.py``).

Every view reads the record built here: the JSON (``dumps``), the console,
the HTML page, the bundle. docs/report-schema.md is generated from the schema.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Iterable, cast

import msgspec

from cpsdiag import __version__
from cpsdiag.findings.catalog import render
from cpsdiag.i18n import language
from cpsdiag.record import Scalar
from cpsdiag.env.record import EnvironmentSection, ProxyServer
from cpsdiag.report import schema as s

if TYPE_CHECKING:
    from cpsdiag.diag.certfile import CertFileResult
    from cpsdiag.diag.check import CheckResult
    from cpsdiag.diag.facts import CertFacts, CheckFacts, KeyFacts, RevocationResult
    from cpsdiag.findings.model import Finding
    from cpsdiag.env.facts import EnvironmentFacts
    from cpsdiag.card.pin import PinStatus
    from cpsdiag.card.reader import CardData
    from cpsdiag.pki.certinfo import CertInfo

SCHEMA = s.SCHEMA


def _iso(moment: datetime | None) -> str | None:
    return moment.astimezone(timezone.utc).isoformat().replace("+00:00", "Z") if moment else None


def _hex(data: bytes | None) -> str | None:
    return data.hex(" ").upper() if data else None


def _param(value: object) -> Scalar | list[Scalar]:
    """A finding parameter as the schema types it: a scalar, or a list of them; anything else as text."""
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if isinstance(value, (list, tuple)):
        return [v if isinstance(v, (str, int, float, bool)) or v is None else str(v) for v in value]
    return str(value)


def _holder(info: CertInfo) -> s.Holder:
    h = info.holder
    nid = h.national_id
    structure = h.structure
    return s.Holder(
        given_name=h.given_name, surname=h.surname, national_id=h.common_name,
        id_type=nid.type_label if nid else None, id_kind=nid.kind if nid else None,
        identifier=nid.identifier if nid else None, login_id=nid.to_type if nid else None,
        title=h.title, profession_code=info.profession_code, profession=info.profession_label,
        structure=None if structure is None else s.Structure(
            name=structure.name, unit=structure.unit, id_type=structure.id_type_label,
            identifier=structure.identifier, state=structure.state))


def certificate_record(cf: CertFacts, at: datetime) -> s.Certificate:
    info = cf.info
    error = str(cf.error) if cf.error else None
    if info is None:
        return s.Certificate(role=cf.role, label=cf.label, path=cf.path, error=error)
    chain = cf.chain
    return s.Certificate(
        role=cf.role, label=cf.label, path=cf.path, error=error,
        subject=info.subject, issuer=info.issuer, issuer_name=info.issuer_display,
        issuer_family=info.issuer_family, issuer_class=info.issuer_class, issuer_range=info.issuer_range,
        serial=info.serial_hex, not_before=_iso(info.not_before) or "", not_after=_iso(info.not_after) or "",
        days_left=info.days_left(at), holder=_holder(info), card_type=info.card_type,
        card_type_label=info.card_type_label, test_card=info.test_card, card_number=info.card_number,
        key_usage=list(info.key_usage), extended_key_usage=list(info.extended_key_usage), key_type=info.key_type,
        key_size=info.key_size, private_key_size=cf.key_bits, policies=list(info.policies),
        crl_urls=list(info.crl_urls), ocsp_urls=list(info.ocsp_urls), ca_issuers_urls=list(info.ca_issuers_urls),
        sha256=info.sha256_fingerprint,
        chain=None if chain is None else s.Chain(trusted=chain.trusted, anchor=chain.anchor, path=list(chain.path),
                                                 error=chain.error, detail=chain.detail),
        revocation=revocation_record(cf.revocation))


def revocation_record(r: RevocationResult | None) -> s.Revocation | None:
    if r is None:
        return None
    return s.Revocation(
        status=r.status, source=r.source, url=r.url, produced_at=_iso(r.produced_at), revoked_at=_iso(r.revoked_at),
        reason=r.reason, error=r.error, cached=r.cached,
        attempts=[s.RevocationAttempt(source=a.source, url=a.url, outcome=a.outcome, error=a.error, reason=a.reason)
                  for a in r.attempts])


def card_record(facts: CheckFacts) -> s.Card | None:
    if facts.reader is None or (facts.atr is None and facts.card is None):
        return None
    model, card = facts.model, facts.card
    atr_decoded = (msgspec.convert(facts.atr_info.to_dict(), s.AtrDecoded)
                   if facts.atr_info is not None else None)
    serial = card.serial if card is not None else None
    return s.Card(
        reader=facts.reader, atr=_hex(facts.atr), protocol=facts.protocol,
        generation=model.generation if model else None, interface=model.interface if model else None,
        model=model.label if model else None, identified=bool(model) and not facts.model_guessed,
        atr_decoded=atr_decoded,
        card_number=serial.card_number if serial else None, pan=serial.pan if serial else None,
        card_number_check_ok=serial.check_ok if serial else None,
        pin=_pin_counter(card.pin_status) if card is not None else None,
        pkcs15=_pkcs15(card) if card is not None else None)


def _pin_counter(status: PinStatus | None) -> s.PinCounter | None:
    if status is None:
        return None
    return s.PinCounter(tries_left=status.tries_left, max_tries=status.max_tries, blocked=status.blocked,
                        verified=status.verified, source=status.source)


def _pkcs15(card: CardData) -> s.Pkcs15:
    app = card.application
    return s.Pkcs15(
        application=None if app is None else s.Application(aid=_hex(app.aid), label=app.label, path=_hex(app.path)),
        pins=[s.PinObject(label=p.label, reference=p.reference, min_length=p.min_length,
                          max_length=p.max_length) for p in card.pins],
        keys=[s.KeyObject(label=k.label, id=_hex(k.id), usage=list(k.usage), reference=k.reference,
                          modulus_bits=k.modulus_bits) for k in card.keys],
        certificates=[s.CertificateObject(label=c.object.label, id=_hex(c.object.id), path=_hex(c.object.path),
                                          size=len(c.der) if c.der else None) for c in card.certificates],
        problems=[s.ReadProblem(step=p.step, target=p.target, error=str(p.error)) for p in card.problems],
        data_objects=[s.DataObject(label=f.object.label, application=f.object.application, path=f.path.hex().upper(),
                                   size=f.size, private=f.object.private, modifiable=f.object.modifiable)
                      for f in card.data_objects])


def keys_record(keys: KeyFacts | None) -> s.Keys | None:
    if keys is None:
        return None
    pin = keys.pin
    return s.Keys(
        requested=s.KeysRequested(sign=keys.options.sign, sign_all=keys.options.sign_all, tls=keys.options.tls_url),
        pin=None if pin is None else s.PinPresentation(outcome=pin.outcome, tries_left=pin.tries_left,
                                                       via_pinpad=pin.via_pinpad),
        signatures=[s.SignatureTest(role=c.role, scheme=c.scheme, outcome=c.outcome, error=c.error,
                                    ms=round(c.seconds * 1000, 1)) for c in keys.signatures],
        card_schemes=list(keys.card_schemes))


def situations_record(keys: KeyFacts | None) -> s.Situations | None:
    from cpsdiag.pki.codes import sector_label

    found = keys.situations if keys is not None else None
    if found is None:
        return None
    return s.Situations(via=found.via, listed=found.listed, count=found.count, error=found.error, items=[
        s.Situation(label=item.label, size=item.size, raw=item.raw.hex().upper() if item.raw is not None else None,
                    error=item.error, decoded=None if item.decoded is None else s.PracticeSituation(
                        structure_name=item.decoded.structure_name, structure_id=item.decoded.structure_id,
                        sector=item.decoded.sector, sector_label=sector_label(item.decoded.sector)))
        for item in found.items])


def tls_record(keys: KeyFacts | None) -> s.Tls | None:
    result = keys.tls if keys is not None else None
    if result is None:
        return None
    server, route = result.server, result.route
    proxy = route.proxy if route is not None else None
    return s.Tls(
        url=result.target.url, host=result.target.host, port=result.target.port,
        # Never the proxy's credentials: its URL has none, and the record only says whether it has some.
        proxy=None if proxy is None else msgspec.convert(proxy.describe(), ProxyServer),
        route=None if route is None else s.TlsRoute(direct=route.direct, bypassed_by=route.bypassed_by,
                                                    pac=route.pac_url),
        connect_error=result.connect_error, connect_reason=result.connect_reason,
        server=None if server is None else s.ServerTrust(
            trusted=server.trusted, subject=server.subject, issuer=result.server_issuer,
            issuer_known=result.server_issuer_known, detail=server.detail or None, store=server.store),
        card_issuer_accepted=result.card_issuer_accepted,
        attempts=[s.TlsAttempt(
            name=a.name, outcome=a.outcome, alert=a.alert, alert_by=a.alert_by, version=a.version, cipher=a.cipher,
            signature_schemes=list(a.schemes_used),
            certificate_request=None if a.cert_request is None else s.CertificateRequest(
                ca_names=list(a.cert_request.ca_names),
                signature_algorithms=list(a.cert_request.signature_algorithms)),
            http_status=a.http_status, http_reason=a.http_reason, ms=round(a.seconds * 1000, 1), error=a.error,
        ) for a in result.attempts])


def environment_record(env: EnvironmentFacts | None) -> EnvironmentSection | None:
    if env is None:
        return None
    from cpsdiag.env.facts import environment_section

    return environment_section(env)


def finding_records(findings: Iterable[Finding]) -> list[s.Finding]:
    out = []
    for f in findings:
        r = render(f)
        out.append(s.Finding(code=r.code, severity=r.severity, step=r.step,  # type: ignore[arg-type]
                             title=r.title, detail=r.detail, remedy=r.remedy,
                             params={str(k): _param(v) for k, v in f.params.items()}))
    return out


def build_report(result: CheckResult) -> s.Report:
    """The report of a check: the one record every view reads."""
    facts = result.facts
    trace = facts.trace
    err = facts.pcsc_error
    return s.Report(
        schema=s.SCHEMA,
        tool=s.Tool(name="cpsdiag", version=__version__),
        generated_at=_iso(facts.started_at),
        language=language(),
        validity_date=_iso(facts.at),
        verdict=str(result.verdict),  # type: ignore[arg-type]
        exit_status=result.exit_status,
        findings=finding_records(result.findings),
        pcsc=s.Pcsc(library=facts.library, error=None if err is None else s.PcscFailure(
            operation=err.operation, hresult=f"0x{err.hresult:08X}", message=str(err))),
        readers=[s.Reader(name=r.name, card_present=r.card_present, atr=_hex(r.atr), exclusive=r.exclusive,
                          selected=r.name == facts.reader) for r in facts.readers],
        card=card_record(facts),
        certificates=[certificate_record(cf, facts.at) for cf in facts.certificates],
        keys=keys_record(facts.keys),
        situations=situations_record(facts.keys),
        environment=environment_record(facts.environment),
        tls=tls_record(facts.keys),
        timings_ms=dict(facts.timings_ms),
        apdu=s.Apdu(count=trace.count if trace else 0, bytes_sent=trace.bytes_sent if trace else 0,
                    bytes_received=trace.bytes_received if trace else 0),
    )


# -- JSON -------------------------------------------------------------------------------------------

# Characters that would act on a terminal (C0 but tab and newline, DEL, C1, bidi controls): written as \u escapes,
# so that a JSON report printed on a terminal cannot move its cursor nor rewrite what it shows. Same data.
_UNSAFE = re.compile("[\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def to_json(record: object, ascii_only: bool = False) -> str:
    """JSON as cpsdiag writes it (indented, UTF-8 text, control characters escaped; all escaped for an output
    that cannot take UTF-8)."""
    data = msgspec.to_builtins(record) if isinstance(record, msgspec.Struct) else record
    text = json.dumps(data, ensure_ascii=ascii_only, indent=2)
    return _UNSAFE.sub(lambda m: f"\\u{ord(m.group(0)):04x}", text)


def dumps(result: CheckResult) -> str:
    return to_json(build_report(result))


def report_dict(result: CheckResult) -> dict[str, object]:
    """The report as plain dicts (for programs that want them)."""
    return cast("dict[str, object]", msgspec.to_builtins(build_report(result)))


def findings_list(findings: Iterable[Finding]) -> list[dict[str, object]]:
    """Findings as the JSON documents of every command write them."""
    return cast("list[dict[str, object]]", msgspec.to_builtins(finding_records(findings)))


def certfile_record(result: CertFileResult) -> s.CertificateFile:
    return s.CertificateFile(file=result.path, validity_date=_iso(result.at), verdict=str(result.verdict),
                             findings=finding_records(result.findings),
                             certificates=[certificate_record(cf, result.at) for cf in result.certificates])


def certfile_dict(result: CertFileResult) -> dict[str, object]:
    return cast("dict[str, object]", msgspec.to_builtins(certfile_record(result)))
