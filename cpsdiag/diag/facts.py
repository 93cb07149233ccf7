"""The facts of a check, as records: what collecting found, before anything is judged.

``collect.py``, ``keys.py`` and ``revocation.py`` fill them in; the judges
(``judge*.py``) and the report read them. They live apart from the steps so
that each step can name the records it reads without importing the others
(the import contract forbids cycles, type-only imports included).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from cpsdiag import errors
from cpsdiag.diag.steps import StepFailure

if TYPE_CHECKING:
    from cpsdiag.card.identify import CardModel
    from cpsdiag.card.pkcs15 import PrivateKeyObject
    from cpsdiag.card.reader import CardData
    from cpsdiag.diag.situations import SituationFacts
    from cpsdiag.env.facts import EnvironmentFacts
    from cpsdiag.iso7816.atr import Atr
    from cpsdiag.net.proxy import ProxySettings
    from cpsdiag.pinentry import PinSource
    from cpsdiag.pki.certinfo import CertInfo
    from cpsdiag.pki.chain import ChainResult
    from cpsdiag.pkcs11 import ModuleInfo
    from cpsdiag.tls.probe import TlsProbeResult
    from cpsdiag.transport.base import ApduTrace


# The words of the records below (the report writes them as they are).
CertRole = Literal["authentication", "signature", "authority", "unknown"]   # "authority": a CA certificate (cert)
KeyRole = Literal["authentication", "signature"]
Scheme = Literal["pkcs1-sha256", "pss-sha256"]
Via = Literal["apdu", "pkcs11"]
AttemptSource = Literal["ocsp", "crl", "ldap", "ca_issuers"]


# -- keys: PIN, self-test, TLS probe (keys.py) ------------------------------------------------------------------

@dataclass(frozen=True)
class KeyOptions:
    sign: bool = False
    sign_all: bool = False
    tls_url: str | None = None
    tls_ca: Path | None = None
    tls_timeout: float = 10.0
    force_last_try: bool = False
    pin_source: PinSource | None = None
    pin_from: Literal["keyboard", "stdin"] = "keyboard"     # where pin_source reads it
    via: Via = "apdu"                                       # the card's commands, or a PKCS#11 module
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
    role: KeyRole
    scheme: Scheme
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


# -- revocation (revocation.py) ----------------------------------------------------------------------------------

@dataclass
class Attempt:
    source: AttemptSource
    url: str
    outcome: Literal["good", "revoked", "failed", "skipped"]
    error: str | None = None   # why it failed or was skipped
    reason: str | None = None  # stable word: dns, timeout, refused, http_403, bad_signature, stale, cached, ...


# The same words as the report's certificates[].revocation (report/schema.py).
RevocationStatus = Literal["good", "revoked", "unknown", "not_checked"]
RevocationSource = Literal["ocsp", "crl"]


@dataclass
class RevocationResult:
    status: RevocationStatus
    source: RevocationSource | None = None
    url: str | None = None
    produced_at: datetime | None = None
    revoked_at: datetime | None = None
    reason: str | None = None                  # CRLReason word when revoked
    error: str | None = None                   # why unknown / not checked
    why: Literal["offline", "no_url"] | None = None    # why not checked
    cached: bool = False                       # the CRL came from the disk cache
    attempts: list[Attempt] = field(default_factory=list)


# -- the check (collect.py) -------------------------------------------------------------------------------------

@dataclass
class CertFacts:
    role: CertRole
    label: str
    path: str
    der: bytes | None
    info: CertInfo | None = None
    error: Exception | None = None  # why it could not be read or parsed
    chain: ChainResult | None = None
    key: PrivateKeyObject | None = None     # the matching private key of the PrKDF
    revocation: RevocationResult | None = None      # None: not checked

    @property
    def key_bits(self) -> int | None:
        return self.key.modulus_bits if self.key is not None else None


@dataclass
class ReaderFacts:
    name: str
    card_present: bool
    atr: bytes
    exclusive: bool


@dataclass
class CheckFacts:
    at: datetime
    started_at: datetime = field(default_factory=lambda: datetime.now(timezone.utc))
    library: str | None = None
    pcsc_error: errors.PcscError | None = None
    readers: list[ReaderFacts] = field(default_factory=list)
    reader: str | None = None
    reader_error: errors.CpsdiagError | None = None     # --reader named no reader
    card_error: errors.PcscError | None = None           # while connecting
    read_error: errors.PcscError | None = None           # the card went away while being read
    keys: KeyFacts | None = None
    keys_error: errors.PcscError | None = None           # the card went away during the key tests
    atr: bytes | None = None
    atr_info: Atr | None = None
    atr_error: errors.MalformedDataError | None = None
    model: CardModel | None = None
    model_guessed: bool = False
    protocol: str | None = None
    card: CardData | None = None
    certificates: list[CertFacts] = field(default_factory=list)
    timings_ms: dict[str, float] = field(default_factory=dict)
    trace: ApduTrace | None = None
    environment: EnvironmentFacts | None = None
    failures: list[StepFailure] = field(default_factory=list)   # steps that failed unexpectedly

    @property
    def contactless(self) -> bool:
        return bool(self.model and self.model.interface == "contactless")
