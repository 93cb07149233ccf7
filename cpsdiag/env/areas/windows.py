"""Windows: certificate propagation (Certificate Propagation service, the Cryptolib's CCM) and card registrations.

Chrome and Edge on Windows see the card's certificates only once they are in
the user's personal store: the CCM (``ccm.exe``) copies them there, and so
does the Certificate Propagation service for cards with a minidriver. Windows
maps a card to its software by its ATR under ``Calais\\SmartCards``: a card
whose ATR no entry matches cannot be used through CAPI/CNG, and two entries
matching it compete for it.
"""

from __future__ import annotations

from cpsdiag.host import registry as reg
from cpsdiag.env.facts import SmartCardRegistration, WindowsFacts
from cpsdiag.env.pcsc import windows_service
from cpsdiag.host.system import System

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
