"""Area "windows": certificate propagation (Certificate Propagation service, the Cryptolib's CCM) and card registrations.

Chrome and Edge on Windows see the card's certificates only once they are in
the user's personal store: the CCM (``ccm.exe``) copies them there, and so
does the Certificate Propagation service for cards with a minidriver. Windows
maps a card to its software by its ATR under ``Calais\\SmartCards``: a card
whose ATR no entry matches cannot be used through CAPI/CNG, and two entries
matching it compete for it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from cpsdiag.env.area import WARNING, Area, Context, Row, Section, finding
from cpsdiag.env.areas.pcsc import ServiceFacts, windows_service
from cpsdiag.findings.model import Finding
from cpsdiag.host import registry as reg
from cpsdiag.host.system import System
from cpsdiag.i18n import _

if TYPE_CHECKING:
    from cpsdiag.env.record import EnvironmentSection


@dataclass(frozen=True)
class SmartCardRegistration:
    """A card registered with Windows (HKLM\\SOFTWARE\\Microsoft\\Cryptography\\Calais\\SmartCards)."""

    name: str
    atr: str
    mask: str | None
    provider: str | None                # "Crypto Provider" (CSP)
    minidriver: str | None              # "80000001"
    matches: tuple[str, ...] = ()       # the card ATRs (hex) it matches


@dataclass(frozen=True)
class WindowsFacts:
    certprop: ServiceFacts              # Certificate Propagation
    ccm: str | None                     # ccm.exe, the Cryptolib's certificate manager
    ccm_running: bool | None
    ccm_autostart: bool | None          # in a Run key
    user_certificates: int | None       # certificates in the user's personal store (registry-backed)
    registrations: tuple[SmartCardRegistration, ...]

CALAIS = r"HKLM\SOFTWARE\Microsoft\Cryptography\Calais\SmartCards"
RUN_KEYS = (r"HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Run",
            r"HKLM\SOFTWARE\WOW6432Node\Microsoft\Windows\CurrentVersion\Run",
            r"HKCU\SOFTWARE\Microsoft\Windows\CurrentVersion\Run")
USER_STORE = r"HKCU\SOFTWARE\Microsoft\SystemCertificates\My\Certificates"


def atr_matches(atr: bytes, ref: bytes, mask: bytes | None) -> bool:
    if len(atr) != len(ref):
        return False
    if mask is None or len(mask) != len(ref):
        return atr == ref
    return all((a & m) == (r & m) for a, r, m in zip(atr, ref, mask))


def registrations(system: System, card_atrs: tuple[str, ...]) -> list[SmartCardRegistration]:
    out = []
    atrs = [bytes.fromhex(a) for a in card_atrs]
    for name in system.registry.subkeys(CALAIS) if system.registry is not None else []:
        key = rf"{CALAIS}\{name}"
        atr = reg.value(system.registry, key, "ATR")
        if not isinstance(atr, bytes):
            continue
        mask = reg.value(system.registry, key, "ATRMask")
        mask = mask if isinstance(mask, bytes) else None
        provider = reg.value(system.registry, key, "Crypto Provider")
        minidriver = reg.value(system.registry, key, "80000001")
        matches = tuple(a.hex().upper() for a in atrs if atr_matches(a, atr, mask))
        out.append(SmartCardRegistration(name=name, atr=atr.hex().upper(), mask=mask.hex().upper() if mask else None,
                                         provider=str(provider) if provider else None,
                                         minidriver=str(minidriver) if minidriver else None, matches=matches))
    return out


def collect_windows(system: System, card_atrs: tuple[str, ...]) -> WindowsFacts:
    programs = [p for p in (system.env("ProgramFiles") or r"C:\Program Files", system.env("ProgramFiles(x86)")) if p]
    ccm = next((rf"{p}\santesocial\CPS\ccm.exe" for p in programs if system.exists(rf"{p}\santesocial\CPS\ccm.exe")),
               None)
    running = None
    if ccm:
        done = system.command(["tasklist", "/FI", "IMAGENAME eq ccm.exe", "/NH", "/FO", "CSV"], timeout=10)
        running = ("ccm.exe" in done.stdout.lower()) if done.rc == 0 else None
    autostart = None
    if ccm and system.registry is not None:
        autostart = any("ccm.exe" in str(v).lower() for key in RUN_KEYS
                        for v in (system.registry.values(key) or {}).values())
    certs = None
    if system.registry is not None and system.registry.values(USER_STORE) is not None:
        certs = len(system.registry.subkeys(USER_STORE))
    return WindowsFacts(certprop=windows_service(system, "CertPropSvc"), ccm=ccm, ccm_running=running,
                        ccm_autostart=autostart, user_certificates=certs,
                        registrations=tuple(registrations(system, card_atrs)))


def _known_atrs(generation: str | None) -> tuple[str, ...]:
    """The ATRs of the generation check read, when no card is in a reader now."""
    from cpsdiag.card.identify import KNOWN

    return tuple(k.atr.hex().upper() for k in KNOWN if generation and k.generation == generation)


def collect(ctx: Context) -> None:
    ctx.found["windows"] = collect_windows(ctx.system, ctx.card_atrs or _known_atrs(ctx.card_generation))


# -- judging -----------------------------------------------------------------------------------

class Reads(Protocol):
    @property
    def windows(self) -> WindowsFacts | None: ...
    @property
    def card_atrs(self) -> tuple[str, ...]: ...


def judge(facts: Reads, out: list[Finding]) -> None:
    w = facts.windows
    if w is None:
        return
    if w.certprop.running is False and not w.ccm_running:
        out.append(finding("CERT_PROPAGATION_OFF", WARNING, certprop=w.certprop.detail, ccm=w.ccm))
    if facts.card_atrs and w.registrations and not any(r.matches for r in w.registrations):
        out.append(finding("WINDOWS_CARD_NOT_REGISTERED", WARNING, atr=" ".join(
            facts.card_atrs[0][i:i + 2] for i in range(0, len(facts.card_atrs[0]), 2))))


# -- rows --------------------------------------------------------------------------------------

def sections(env: EnvironmentSection) -> list[Section]:
    if env.windows is None:
        return []
    w = env.windows
    cp = w.certprop
    running, stopped = _("running"), _("not running")
    cp_state = running if cp.running else (stopped if cp.running is False else "-")
    ccm_state = "" if w.ccm_running is None else " — " + (running if w.ccm_running else stopped)
    rows = [Row(_("Certificate Propagation"), cp_state + (f" ({cp.start_mode})" if cp.start_mode else "")),
            Row("CCM", (w.ccm or _("not installed")) + ccm_state),
            Row(_("Personal certificates"), "-" if w.user_certificates is None else str(w.user_certificates))]
    for r in w.registrations:
        mark = " ← " + _("matches the card") if r.matches else ""
        rows.append(Row(_("Registered card"), f"{r.name}: {r.minidriver or r.provider or '-'}{mark}"))
    return [Section("Windows", rows)]


AREA: Area[Reads] = Area("windows", collect, judge, sections, stage="windows", needs=("pcsc",),
                         platforms=frozenset({"win32"}))
