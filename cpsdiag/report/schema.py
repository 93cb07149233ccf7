"""The report schema ``cpsdiag.report/1`` as code: typed, frozen records for every section.

A report is built once from a check's result (``jsonreport.build_report``),
written as JSON from these records, decoded strictly from a bundle
(``decode_report``: a wrong type, a missing field or nesting deeper than any
report has is an error naming where), and read by every view (console, HTML,
bundle, fleet summary). docs/report-schema.md (its field tables) and
docs/report-schema.json are generated from this module
(``python -m cpsdiag.report.schemadoc --write``).

Field order is the order of the JSON. ``None`` is JSON ``null`` (a fact not
known); ``UNSET`` fields are left out of the JSON: the parts of a certificate
that could not be parsed, the ``<field>_hmac`` siblings that only redacted
reports have, the ``redaction`` block that only bundles have.

Identifying fields are marked with ``Id(kind)`` (kinds: ``name``,
``identifier``, ``card_number``, ``serial``, ``fingerprint``; ``subject`` for
a card certificate's distinguished name). Redaction (``redact.py``) is driven
by these marks alone; every marked field but a subject is followed by its
``<field>_hmac`` sibling.

Unknown fields are ignored when decoding, so that a report written by a newer
version of cpsdiag (which may add fields) still reads.
"""

from __future__ import annotations

from typing import Annotated, Final, Literal

import msgspec
from msgspec import UNSET, UnsetType

from cpsdiag.env.record import EnvironmentSection, ProxyServer
from cpsdiag.record import Doc, Hmac, Record, Scalar

SCHEMA: Final = "cpsdiag.report/1"
Unparsed = UnsetType          # a certificate that could not be parsed has none of these fields

# Finding parameters that identify someone, and the kind of value each holds (parameters are free-form).
IDENTIFYING_PARAMS: dict[str, str] = {
    "given_name": "name", "surname": "name", "auth_holder": "name", "signature_holder": "name",
    "national_id": "identifier", "identifier": "identifier", "login_id": "identifier",
    "card_number": "card_number", "cert_card_number": "card_number", "pan": "card_number",
    "card_serial": "card_number", "cache_serials": "card_number",
    "serials": "card_number",          # several card numbers, comma-separated
    "serial": "serial", "sha256": "fingerprint",
}


class Tool(Record, frozen=True, kw_only=True):
    name: str
    version: str


class Finding(Record, frozen=True, kw_only=True):
    """One conclusion of the diagnosis; texts are in the report's ``language``, programs use the code."""

    code: Annotated[str, Doc("stable code (table below)")]
    severity: Annotated[Literal["ok", "info", "warning", "error"], Doc("ok, info, warning or error")]
    step: Annotated[str, Doc("pcsc, readers, card, read, pin, certificates, revocation, consistency, "
                             "keys, tls, environment, internal")]
    title: str
    detail: str
    remedy: Annotated[str | None, Doc("what to do; null when nothing is to be done")]
    params: Annotated[dict[str, Scalar | list[Scalar]],
                      Doc("the values in the texts (reader, dates, role, tries...)", identifying_params=IDENTIFYING_PARAMS)]


class PcscFailure(Record, frozen=True, kw_only=True):
    operation: str
    hresult: Annotated[str, Doc("the SCARD_* code, 0x8010001D")]
    message: str


class Pcsc(Record, frozen=True, kw_only=True):
    library: Annotated[str | None, Doc("the PC/SC library loaded")]
    error: Annotated[PcscFailure | None, Doc("when the PC/SC library or service failed")]


class Reader(Record, frozen=True, kw_only=True):
    name: str
    card_present: bool
    atr: Annotated[str | None, Doc("hex")]
    exclusive: Annotated[bool, Doc("held exclusively by a program")]
    selected: Annotated[bool, Doc("the reader the check used")]


class InterfaceBytes(Record, frozen=True, kw_only=True):
    TA: str | UnsetType = UNSET
    TB: str | UnsetType = UNSET
    TC: str | UnsetType = UNSET
    TD: str | UnsetType = UNSET
    i: int
    qualifier: int | None
    announces: int | None


class AtrObject(Record, frozen=True, kw_only=True):
    tag: int
    name: str
    value: str
    offset: int


class AtrStatus(Record, frozen=True, kw_only=True):
    lcs: str | None
    sw: str | None


class Historical(Record, frozen=True, kw_only=True):
    raw: str
    offset: int
    category: str | None
    category_name: str | None
    objects: list[AtrObject]
    country_code: str | None
    status: AtrStatus | None
    dir_reference: str | None
    problem: str | None


class SpecificMode(Record, frozen=True, kw_only=True):
    protocol: int
    can_change: bool
    implicit_parameters: bool


class T1Parameters(Record, frozen=True, kw_only=True):
    ifsc: int
    bwi: int
    cwi: int
    edc: str


class T15Parameters(Record, frozen=True, kw_only=True):
    clock_stop: str | None
    classes: list[str]
    spu: str | None


class AtrDecoded(Record, frozen=True, kw_only=True):
    """The ATR, decoded (ISO 7816-3)."""

    hex: str
    convention: str
    protocols: list[str]
    interface_bytes: list[InterfaceBytes]
    fi: int | None
    di: int | None
    f_max_mhz: int | float | None
    extra_guard_time: int
    work_waiting_integer: int
    specific_mode: bool
    historical_bytes: str
    category: str | None
    objects: list[AtrObject]
    status: str | None
    tck: str | None
    tck_ok: bool | None
    problems: list[str]
    length: int
    ts: str
    t0: str
    historical_length: int
    indicated_protocols: list[int]
    t15_global: bool
    operating_f: int | None
    operating_d: int | None
    specific_mode_parameters: SpecificMode | None
    t1: T1Parameters | None
    t15: T15Parameters | None
    historical: Historical


class PinCounter(Record, frozen=True, kw_only=True):
    tries_left: int
    max_tries: Annotated[int | None, Doc("null if the card does not say")]
    blocked: bool
    verified: Annotated[bool, Doc("already presented by another program")]
    source: Annotated[str, Doc("how it was read: GET DATA or VERIFY")]


class Application(Record, frozen=True, kw_only=True):
    aid: str | None
    label: str
    path: str | None


class PinObject(Record, frozen=True, kw_only=True):
    label: str
    reference: int
    min_length: int
    max_length: int | None


class KeyObject(Record, frozen=True, kw_only=True):
    label: str
    id: str | None
    usage: list[str]
    reference: int | None
    modulus_bits: int | None


class CertificateObject(Record, frozen=True, kw_only=True):
    label: str
    id: str | None
    path: str | None
    size: int | None


class DataObject(Record, frozen=True, kw_only=True):
    """A data object the card's DODF lists; its contents are not read (the private ones need the PIN)."""

    label: Annotated[str, Doc("CPS_DATA, CPS_NAME_PS, CPS_ACTIVITY_01_PS...")]
    application: Annotated[str | None, Doc("applicationName")]
    path: Annotated[str, Doc("hex")]
    size: Annotated[int | None, Doc("bytes, from the file's FCP; null when it could not be selected")]
    private: Annotated[bool, Doc("the PIN is needed to read it")]
    modifiable: Annotated[bool, Doc("applications may write it (CPS_DATA on a CPS3)")]


class ReadProblem(Record, frozen=True, kw_only=True):
    step: str
    target: str
    error: str


class Pkcs15(Record, frozen=True, kw_only=True):
    application: Application | None
    pins: list[PinObject]
    keys: list[KeyObject]
    certificates: list[CertificateObject]
    problems: list[ReadProblem]
    data_objects: Annotated[list[DataObject], Doc("the DODF, in its order (missing in reports of versions that did not read it)")] = \
        msgspec.field(default_factory=list)


class Card(Record, frozen=True, kw_only=True):
    """The card in the reader; null when no card was reached."""

    reader: str
    atr: Annotated[str | None, Doc("hex")]
    protocol: Annotated[str | None, Doc("T=0 or T=1; set when a connection was made")]
    generation: Annotated[str | None, Doc("CPS3, CPS4 or CPS")]
    interface: Annotated[str | None, Doc("contact or contactless")]
    model: str | None
    identified: Annotated[bool, Doc("false: unknown or guessed")]
    atr_decoded: AtrDecoded | None
    card_number: Annotated[str | None, Doc("EF.SN.ICC's card number", "card_number")]
    card_number_hmac: Hmac = UNSET
    pan: Annotated[str | None, Doc("EF.SN.ICC's PAN, check digit included", "card_number")]
    pan_hmac: Hmac = UNSET
    card_number_check_ok: Annotated[bool | None, Doc("the Luhn check digit is right")]
    pin: Annotated[PinCounter | None, Doc("the PIN counter (null when it could not be read)")]
    pkcs15: Annotated[Pkcs15 | None, Doc("set exactly when the card's files were read")]


class Structure(Record, frozen=True, kw_only=True):
    """The organisation of a CPE/CPA card."""

    name: Annotated[str | None, Doc("", "name")]
    name_hmac: Hmac = UNSET
    unit: Annotated[str | None, Doc("", "identifier")]
    unit_hmac: Hmac = UNSET
    id_type: str | None
    identifier: Annotated[str | None, Doc("", "identifier")]
    identifier_hmac: Hmac = UNSET
    state: str | None


class Holder(Record, frozen=True, kw_only=True):
    given_name: Annotated[str | None, Doc("", "name")]
    given_name_hmac: Hmac = UNSET
    surname: Annotated[str | None, Doc("", "name")]
    surname_hmac: Hmac = UNSET
    national_id: Annotated[str | None, Doc("the CN", "identifier")]
    national_id_hmac: Hmac = UNSET
    id_type: Annotated[str | None, Doc("e.g. N° RPPS")]
    id_kind: Annotated[str | None, Doc("RPPS, ADELI, STRUCTURE, OTHER")]
    identifier: Annotated[str | None, Doc("without its type digit", "identifier")]
    identifier_hmac: Hmac = UNSET
    login_id: Annotated[str | None, Doc("what to type for e-CPS / Pro Santé Connect", "identifier")]
    login_id_hmac: Hmac = UNSET
    title: str | None
    profession_code: Annotated[int | None, Doc("G15")]
    profession: str | None
    structure: Annotated[Structure | None, Doc("for CPE/CPA cards")]


class Chain(Record, frozen=True, kw_only=True):
    trusted: bool
    anchor: Annotated[str | None, Doc("the root reached")]
    path: Annotated[list[str], Doc("leaf to root")]
    error: Annotated[str | None, Doc("expired, not_yet_valid, issuer_not_found, test_chain_missing, legacy_gip_cps, "
                                     "bad_signature, ca_expired, wrong_intermediate, other")]
    detail: str | None


class RevocationAttempt(Record, frozen=True, kw_only=True):
    source: Annotated[str, Doc("ocsp, crl, ldap (listed, never fetched), ca_issuers (the issuer fetched to "
                               "verify answers)")]
    url: str
    outcome: Annotated[str, Doc("good, revoked, failed, skipped")]
    error: Annotated[str | None, Doc("why it failed or was skipped")]
    reason: Annotated[str | None, Doc("stable word: dns, timeout, refused, http_403, http_429, bad_signature, "
                                      "wrong_signer, stale, not_this_certificate, offline, reserved, ldap, "
                                      "budget, ...")]


class Revocation(Record, frozen=True, kw_only=True):
    """Whether the certificate is revoked, and who said so (docs/revocation.md)."""

    status: Annotated[Literal["good", "revoked", "unknown", "not_checked"],
                      Doc("unknown: no verified answer (see error); not_checked: --offline, or no OCSP/CRL URL "
                          "reachable over HTTP")]
    source: Annotated[Literal["ocsp", "crl"] | None, Doc("where the answer came from")]
    url: Annotated[str | None, Doc("the responder or CRL that answered")]
    produced_at: Annotated[str | None, Doc("OCSP producedAt, CRL thisUpdate")]
    revoked_at: str | None
    reason: Annotated[str | None, Doc("CRLReason: keyCompromise, affiliationChanged, superseded, "
                                      "cessationOfOperation, certificateHold, privilegeWithdrawn, unspecified...")]
    error: Annotated[str | None, Doc("why unknown or not checked")]
    cached: Annotated[bool, Doc("the CRL came from the disk cache")] = False
    attempts: Annotated[list[RevocationAttempt], Doc("every URL, in the order tried")] = []


class Certificate(Record, frozen=True, kw_only=True):
    """A certificate of the card; one that could not be parsed has only role, label, path and error."""

    role: Annotated[str, Doc("authentication, signature, unknown (authority in cert --json)")]
    label: str | None
    path: Annotated[str | None, Doc("on the card")]
    error: str | None
    subject: Annotated[str | Unparsed, Doc("RFC 4514", "subject")] = UNSET
    issuer: Annotated[str | Unparsed, Doc("RFC 4514")] = UNSET
    issuer_name: str | Unparsed = UNSET
    issuer_family: Annotated[str | Unparsed, Doc("igc-sante, igc-sante-test, gip-cps, other")] = UNSET
    issuer_class: Annotated[str | None | Unparsed, Doc("ELEMENTAIRE, STANDARD, FORT")] = UNSET
    issuer_range: Annotated[str | None | Unparsed, Doc("PERSONNES, ORGANISATIONS")] = UNSET
    serial: Annotated[str | Unparsed, Doc("hex", "serial")] = UNSET
    serial_hmac: Hmac = UNSET
    not_before: str | Unparsed = UNSET
    not_after: str | Unparsed = UNSET
    days_left: Annotated[int | Unparsed, Doc("at the validity date")] = UNSET
    holder: Holder | Unparsed = UNSET
    card_type: Annotated[int | None | Unparsed, Doc("G02 code")] = UNSET
    card_type_label: str | None | Unparsed = UNSET
    test_card: bool | Unparsed = UNSET
    card_number: Annotated[str | None | Unparsed, Doc("extension .3", "card_number")] = UNSET
    card_number_hmac: Hmac = UNSET
    key_usage: list[str] | Unparsed = UNSET
    extended_key_usage: list[str] | Unparsed = UNSET
    key_type: str | Unparsed = UNSET
    key_size: int | None | Unparsed = UNSET
    private_key_size: Annotated[int | None | Unparsed, Doc("from the PrKDF")] = UNSET
    policies: list[str] | Unparsed = UNSET
    crl_urls: list[str] | Unparsed = UNSET
    ocsp_urls: list[str] | Unparsed = UNSET
    ca_issuers_urls: list[str] | Unparsed = UNSET
    sha256: Annotated[str | Unparsed, Doc("fingerprint", "fingerprint")] = UNSET
    sha256_hmac: Hmac = UNSET
    chain: Chain | None | Unparsed = UNSET
    revocation: Annotated[Revocation | None | Unparsed, Doc("null: not checked (an authority certificate)")] = UNSET

    @property
    def parsed(self) -> bool:
        return self.serial is not UNSET


class KeysRequested(Record, frozen=True, kw_only=True):
    sign: bool
    sign_all: bool
    tls: Annotated[str | None, Doc("the --tls URL")]


class PinPresentation(Record, frozen=True, kw_only=True):
    outcome: Annotated[str, Doc("verified, already_verified, not_needed, wrong, blocked, blocked_now, "
                                "last_try_refused, counter_unknown, not_given")]
    tries_left: int | None
    via_pinpad: bool


class SignatureTest(Record, frozen=True, kw_only=True):
    role: str
    scheme: Annotated[str, Doc("pkcs1-sha256, pss-sha256")]
    outcome: Annotated[str, Doc("ok, mismatch, refused")]
    error: str | None
    ms: float


class Keys(Record, frozen=True, kw_only=True):
    """null unless --sign, --sign-all or --tls. Never the PIN."""

    requested: KeysRequested
    pin: PinPresentation | None
    signatures: list[SignatureTest]
    card_schemes: Annotated[list[str], Doc("pkcs1, pss")]


class PracticeSituation(Record, frozen=True, kw_only=True):
    """A situation decoded as the one public description has it (EE {84 name, 85 Struct_IdNat, 86 sector})."""

    structure_name: Annotated[str, Doc("tag 84", "name")]
    structure_name_hmac: Hmac = UNSET
    structure_id: Annotated[str, Doc("tag 85: Struct_IdNat, G07 type digit + identifier", "identifier")]
    structure_id_hmac: Hmac = UNSET
    sector: Annotated[str, Doc("tag 86: R02 sector of activity, e.g. SA07")]
    sector_label: str | None


class Situation(Record, frozen=True, kw_only=True):
    label: Annotated[str, Doc("CPS_ACTIVITY_01_PS ... _16_PS")]
    size: Annotated[int | None, Doc("from the DODF's file")]
    raw: Annotated[str | None, Doc("hex, as read; null when it could not be read", "identifier")]
    raw_hmac: Hmac = UNSET
    error: str | None
    decoded: Annotated[PracticeSituation | None, Doc("null when the bytes have another form than the public one")]


class Situations(Record, frozen=True, kw_only=True):
    """The holder's practice situations: null unless the PIN was presented (--sign, --sign-all, --tls)."""

    via: Annotated[str, Doc("apdu or pkcs11")]
    listed: Annotated[bool, Doc("the DODF was read: count is how many the card holds")]
    count: int
    items: list[Situation]
    error: Annotated[str | None, Doc("why the DODF could not be read")]


class ServerTrust(Record, frozen=True, kw_only=True):
    trusted: bool
    subject: str | None
    issuer: Annotated[str | None, Doc("who issued the certificate presented (CN, O)")] = None
    issuer_known: Annotated[bool | None, Doc("issued by a public or IGC-Santé authority; null unless a proxy is "
                                             "in the path")] = None
    detail: str | None
    store: str


class CertificateRequest(Record, frozen=True, kw_only=True):
    ca_names: list[str]
    signature_algorithms: list[str]


class TlsAttempt(Record, frozen=True, kw_only=True):
    name: Annotated[str, Doc("tls13-pss, tls13, tls12-pkcs1")]
    outcome: Annotated[str, Doc("ok, alert, card_cannot_sign, card_error, closed, timeout, error")]
    alert: str | None
    alert_by: Annotated[str | None, Doc("server or client")]
    version: str | None
    cipher: str | None
    signature_schemes: Annotated[list[str], Doc("what the card signed")]
    certificate_request: CertificateRequest | None
    http_status: int | None
    http_reason: str | None
    ms: float
    error: str | None


class TlsRoute(Record, frozen=True, kw_only=True):
    """How the connection was made: ``proxy`` says through which proxy; when direct, ``direct`` says why."""

    direct: Annotated[str | None, Doc("no_proxy_configured, disabled, bypassed, no_proxy_for_scheme, "
                                      "pac_not_evaluated; null through a proxy")]
    bypassed_by: Annotated[str | None, Doc("the exclusion that matched, \"environment: .example.fr\"")]
    pac: Annotated[str | None, Doc("automatic configuration script (or WPAD) the system would run first; "
                                   "not run; credentials in its URL masked")]


class Tls(Record, frozen=True, kw_only=True):
    """null unless --tls."""

    url: str
    host: Annotated[str, Doc("host name in its ASCII (IDNA) form, or an IP address")]
    port: int
    proxy: Annotated[ProxyServer | None, Doc("the proxy the connection went through; null when direct")] = None
    route: TlsRoute | None = None
    connect_error: str | None
    connect_reason: Annotated[str | None, Doc("dns, refused, timeout, unreachable, proxy_unreachable, "
                                              "proxy_auth_required, proxy_refused, protocol (proxy: earlier versions)")]
    server: ServerTrust | None
    card_issuer_accepted: Annotated[bool | None, Doc("null when the server sent no CA names")]
    attempts: list[TlsAttempt]


class Apdu(Record, frozen=True, kw_only=True):
    """Commands exchanged with the card and bytes each way (status words included)."""

    count: int
    bytes_sent: int
    bytes_received: int


class Redaction(Record, frozen=True, kw_only=True):
    """Only in helpdesk bundles: what was masked, or that --no-redact was given (helpdesk-report.md)."""

    applied: bool
    method: str | UnsetType = UNSET
    salt: Annotated[str | UnsetType, Doc("installation or ephemeral")] = UNSET
    salt_id: Annotated[str | UnsetType, Doc("reports with the same salt_id have comparable hashes")] = UNSET
    kinds: list[str] | UnsetType = UNSET
    fields: Annotated[list[str] | UnsetType, Doc("where values were masked")] = UNSET
    replacements_in_text: int | UnsetType = UNSET
    reason: Annotated[str | UnsetType, Doc("--no-redact")] = UNSET
    certificates_included: bool
    trace: str | UnsetType = UNSET
    salt_problem: str | UnsetType = UNSET


class Report(Record, frozen=True, kw_only=True):
    """``cpsdiag check --json``, and report.json in a helpdesk bundle."""

    schema: Annotated[Literal["cpsdiag.report/1"], Doc("cpsdiag.report/1")]
    tool: Tool
    generated_at: Annotated[str | None, Doc("UTC, ISO 8601")]
    language: Annotated[str, Doc("fr or en: the language of the texts")]
    validity_date: Annotated[str | None, Doc("the date certificates were judged at (--at, default now)")]
    verdict: Annotated[Literal["ok", "warning", "error"], Doc("ok (info findings allowed), warning, error")]
    exit_status: Annotated[int, Doc("0 no error finding, 1 at least one")]
    findings: list[Finding]
    pcsc: Pcsc
    readers: list[Reader]
    card: Card | None
    certificates: list[Certificate]
    keys: Keys | None = None
    situations: Situations | None = None
    environment: Annotated[EnvironmentSection | None,
                           Doc("null with --no-env; the workstation inventory (environment.md)")] = None
    tls: Tls | None = None
    timings_ms: Annotated[dict[str, float], Doc("milliseconds per stage; total is the whole collection")]
    apdu: Apdu
    redaction: Redaction | UnsetType = UNSET


class CertificateFile(Record, frozen=True, kw_only=True):
    """One file of ``cpsdiag cert --json`` (schema cpsdiag.certificates/1)."""

    file: str
    validity_date: str | None
    verdict: str
    findings: list[Finding]
    certificates: list[Certificate]


# -- decoding ---------------------------------------------------------------------------------------


class SchemaError(ValueError):
    """A document that is not a valid cpsdiag.report/1 report; the message says what is wrong and where."""


_DECODER = msgspec.json.Decoder(Report)


def decode_report(raw: bytes | str) -> Report:
    """A report from its JSON, checked against the schema (types, required fields, nesting)."""
    try:
        return _DECODER.decode(raw)
    except msgspec.ValidationError as exc:
        raise SchemaError(_where(str(exc))) from None
    except msgspec.DecodeError as exc:
        raise SchemaError(f"not JSON ({exc})") from None
    except RecursionError:
        raise SchemaError("$: nested too deeply (arrays or objects inside one another beyond what a report has)") from None


def _where(message: str) -> str:
    """msgspec says "Expected `array`, got `str` - at `$.findings`": the place first, in the report's terms."""
    text, sep, place = message.rpartition(" - at ")
    if not sep:
        text, place = message, "$"
    return f"{place.strip('`')}: {text.replace('`', '')}"
