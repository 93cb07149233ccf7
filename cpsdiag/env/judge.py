"""Judge the workstation facts: pure, facts in, findings out (step ``environment``)."""

from __future__ import annotations

import re

from cpsdiag.card.identify import MIN_CRYPTOLIB   # the oldest Cryptolib CPS that drives each generation
from cpsdiag.env.facts import EnvironmentFacts, ModuleFacts
from cpsdiag.env.packages import older_than
from cpsdiag.env.pkcs11 import CPS4_MIN, slot_sees
from cpsdiag.findings.model import Finding, Severity
from cpsdiag.findings.workstation import CRYPTOLIB_URL

STEP = "environment"
OK, INFO, WARNING, ERROR = Severity.OK, Severity.INFO, Severity.WARNING, Severity.ERROR

_REMOTE = {"rdp": "RDP", "citrix": "Citrix ICA", "xrdp": "XRDP", "x2go": "X2Go", "nx": "NoMachine NX"}
_PINPAD = ("FEATURE_VERIFY_PIN_DIRECT", "FEATURE_VERIFY_PIN_START", "FEATURE_MODIFY_PIN_DIRECT",
           "FEATURE_MODIFY_PIN_START")


def _f(code: str, severity: Severity, **params: object) -> Finding:
    return Finding(code, severity, STEP, {k: v for k, v in params.items() if v is not None})


def judge_environment(facts: EnvironmentFacts) -> list[Finding]:
    out: list[Finding] = []
    _session(facts, out)
    if _pcsc(facts, out):
        _readers(facts, out)
    _drivers(facts, out)
    _middleware(facts, out)
    _conflicts(facts, out)
    _browsers(facts, out)
    _windows(facts, out)
    _proxy(facts, out)
    return out


def _proxy(facts: EnvironmentFacts, out: list[Finding]) -> None:
    for source in facts.proxy:
        if source.automatic:
            out.append(_f("PROXY_PAC", INFO, pac=source.automatic, source=source.name))


def _session(facts: EnvironmentFacts, out: list[Finding]) -> None:
    remote = facts.system.remote
    if remote is None:
        return
    if remote.kind == "ssh":
        out.append(_f("REMOTE_SESSION_SSH", WARNING, client=remote.client, evidence=remote.evidence))
    else:
        out.append(_f("REMOTE_SESSION_DESKTOP", WARNING, kind=_REMOTE.get(remote.kind, remote.kind),
                      client=remote.client, evidence=remote.evidence))


def _pcsc(facts: EnvironmentFacts, out: list[Finding]) -> bool:
    """Findings about the service; True when it answered (its readers can be judged)."""
    p, svc, platform = facts.pcsc, facts.pcsc.service, facts.system.platform
    if p.library_error:
        out.append(_f("PCSC_CLIENT_MISSING", ERROR, library=p.library or "libpcsclite.so.1", reason=p.library_error))
        return False
    if p.answers:
        out.append(_f("PCSC_SERVICE_OK", OK, service=svc.name, version=svc.version, library=p.library,
                      count=len(p.readers)))
        return True
    if platform == "linux" and svc.installed is False:
        out.append(_f("PCSC_SERVICE_NOT_INSTALLED", ERROR, service=svc.name))
    elif svc.start_mode in ("disabled", "masked"):
        out.append(_f("PCSC_SERVICE_DISABLED", ERROR, service=svc.name, start_mode=svc.start_mode))
    elif p.service_error is not None:
        err = p.service_error
        message = f"{err.operation}: {err.message}" + (f" ({err.hresult})" if err.hresult else "")
        out.append(_f("PCSC_SERVICE_STOPPED", ERROR, service=svc.name, message=message, hresult=err.hresult))
    elif svc.running is False and not (platform == "linux" and (svc.socket or svc.start_mode == "socket")) \
            and platform != "darwin":
        # No live answer, but the service manager says it is not running and nothing would start it on demand.
        out.append(_f("PCSC_SERVICE_STOPPED", ERROR, service=svc.name,
                      message=svc.detail or "no process, no socket"))
    else:
        out.append(_f("PCSC_NOT_PROBED", INFO, reason=p.probe_error or "no answer"))
    return False


def _readers(facts: EnvironmentFacts, out: list[Finding]) -> None:
    for r in facts.pcsc.readers:
        if not r.answering:
            err = r.error
            out.append(_f("READER_NOT_ANSWERING", ERROR, reader=r.name,
                          operation=err.operation if err else "SCardConnect",
                          message=err.message if err else "no answer", hresult=err.hresult if err else None))
        pads = [f.name for f in r.features or () if f.name in _PINPAD]
        if pads:
            out.append(_f("READER_PINPAD", INFO, reader=r.name, features=", ".join(pads)))
    listed = {r.usb.path for r in facts.pcsc.readers if r.usb is not None}
    has_driver = any(b.class_driver for b in facts.pcsc.drivers)
    for dev in facts.pcsc.usb_devices:
        if dev.path in listed or (dev.driver is None and not has_driver):
            continue     # listed, or READER_DRIVER_MISSING says why not
        out.append(_f("READER_NOT_LISTED", WARNING, device=_device(dev), ids=f"{dev.vendor_id}:{dev.product_id}",
                      driver=dev.driver or dev.class_driver))


def _device(dev: object) -> str:
    parts = [getattr(dev, "manufacturer", None), getattr(dev, "product", None)]
    return " ".join(p for p in parts if p) or getattr(dev, "path", "?")


def _drivers(facts: EnvironmentFacts, out: list[Finding]) -> None:
    if facts.system.platform != "linux" or any(b.class_driver for b in facts.pcsc.drivers):
        return
    for dev in facts.pcsc.usb_devices:
        if dev.driver is None:
            out.append(_f("READER_DRIVER_MISSING", ERROR, device=_device(dev), ids=f"{dev.vendor_id}:{dev.product_id}"))


def _same_card(cached: str, card: str) -> bool:
    """A cache file's serial and the card's number name the same card (one holds the other, zeros aside)."""
    a = re.sub(r"[^0-9A-F]", "", cached.upper()).lstrip("0")
    b = re.sub(r"[^0-9A-F]", "", card.upper()).lstrip("0")
    return bool(a and b) and (a in b or b in a)


def _middleware(facts: EnvironmentFacts, out: list[Finding]) -> None:
    lib, gen = facts.cryptolib, facts.card_generation
    if not lib.installed:
        out.append(_f("MIDDLEWARE_MISSING", WARNING, url=CRYPTOLIB_URL))
        return
    problems = len(out)
    minimum = MIN_CRYPTOLIB.get(gen or "")
    if lib.legacy and lib.version is None:
        if minimum:
            out.append(_f("MIDDLEWARE_TOO_OLD", ERROR, version="< 5", minimum=minimum, generation=gen,
                          url=CRYPTOLIB_URL, module=lib.module))
        else:
            out.append(_f("MIDDLEWARE_NOT_CPS4_READY", WARNING, version="< 5", minimum=CPS4_MIN, url=CRYPTOLIB_URL))
    elif lib.version is not None:
        if minimum and older_than(lib.version, minimum):
            out.append(_f("MIDDLEWARE_TOO_OLD", ERROR, version=lib.version, minimum=minimum, generation=gen,
                          url=CRYPTOLIB_URL))
        elif gen != "CPS4" and older_than(lib.version, CPS4_MIN):
            out.append(_f("MIDDLEWARE_NOT_CPS4_READY", WARNING, version=lib.version, minimum=CPS4_MIN,
                          url=CRYPTOLIB_URL))
        if lib.module is None:
            out.append(_f("MIDDLEWARE_INCOMPLETE", ERROR, version=lib.version, package=lib.package,
                          url=CRYPTOLIB_URL))
    elif lib.module:
        out.append(_f("MIDDLEWARE_VERSION_UNKNOWN", INFO, module=lib.module, url=CRYPTOLIB_URL))
    probe = lib.probe
    if probe is not None:
        if probe.error_kind == "pykcs11_missing":
            out.append(_f("MIDDLEWARE_UNCHECKED", INFO, module=lib.module))
        elif not probe.loaded and probe.error_kind != "not_run":
            out.append(_f("MIDDLEWARE_LOAD_FAILED", ERROR, module=lib.module, error=probe.error,
                          error_kind=probe.error_kind, url=CRYPTOLIB_URL))
        elif probe.loaded:
            seen = slot_sees(probe, facts.pcsc.readers, gen)
            drivable = {"CPS3", "CPS4"} if not older_than(lib.version, CPS4_MIN) else {"CPS3"}
            cards = [r for r in facts.pcsc.readers if r.card_present and r.generation in drivable]
            if seen is not None and cards and not any(r.generation in seen for r in cards):
                out.append(_f("MIDDLEWARE_CARD_NOT_SEEN", WARNING, module=lib.module, reader=cards[0].name,
                              url=CRYPTOLIB_URL))
    if facts.card_serial and lib.cache_serials:
        others = [s for s in lib.cache_serials if not _same_card(s, facts.card_serial)]
        if others:
            out.append(_f("MIDDLEWARE_CACHE_STALE", WARNING, cache=lib.cache_dir, serials=", ".join(others),
                          card_serial=facts.card_serial))
    if lib.version is not None and not any(f.severity.rank >= WARNING.rank for f in out[problems:]):
        out.insert(problems, _f("MIDDLEWARE_OK", OK, version=lib.version, module=lib.module))


def _claimers(mods: list[ModuleFacts], generation: str) -> list[ModuleFacts]:
    seen: dict[str, ModuleFacts] = {}
    for m in mods:
        if generation in m.claims:
            seen.setdefault(m.path or m.declared, m)
    return list(seen.values())


def _conflicts(facts: EnvironmentFacts, out: list[Finding]) -> None:
    gens = [facts.card_generation] if facts.card_generation else ["CPS3", "CPS4"]
    p11kit = list(facts.modules)
    scopes: list[tuple[str, list[ModuleFacts]]] = [("p11-kit", p11kit)]
    for db in facts.firefox:
        mods = list(db.modules)
        if any(m.kind == "p11-kit-proxy" for m in mods):
            mods += p11kit          # the proxy hands every p11-kit module to Firefox
        scopes.append((f"Firefox ({db.name})", mods))
    if facts.chrome is not None:
        scopes.append(("Chrome/Chromium", list(facts.chrome.modules)))
    for scope, mods in scopes:
        for gen in gens:
            claim = _claimers(mods, gen)
            if len(claim) > 1:
                out.append(_f("MIDDLEWARE_CONFLICT", WARNING, scope=scope, generation=gen,
                              modules=", ".join(f"{m.name} ({m.path or m.declared})" for m in claim)))
                break
    if facts.windows is not None:
        matching = [r for r in facts.windows.registrations if r.matches]
        owners = {(r.provider, r.minidriver) for r in matching}
        if len(owners) > 1:
            out.append(_f("MIDDLEWARE_CONFLICT", WARNING, scope="Windows (Calais\\SmartCards)",
                          generation=facts.card_generation or "CPS",
                          modules=", ".join(f"{r.name} ({r.minidriver or r.provider})" for r in matching)))


def _browsers(facts: EnvironmentFacts, out: list[Finding]) -> None:
    lib = facts.cryptolib
    for db in facts.firefox:
        for m in db.modules:
            if not m.exists and m.kind != "nss" and re.search(r"[\\/]", m.declared):
                out.append(_f("FIREFOX_MODULE_BROKEN", WARNING, profile=db.name, name=m.name, path=m.declared))
    if not lib.installed:
        return      # MIDDLEWARE_MISSING comes first: there is no module to load yet
    missing = [db for db in facts.firefox if not db.loads_cps]
    for db in missing:
        out.append(_f("FIREFOX_MODULE_MISSING", WARNING, profile=db.name, module=lib.module, path=db.path))
    if facts.firefox and not missing:
        out.append(_f("FIREFOX_MODULE_OK", OK, profiles=", ".join(db.name for db in facts.firefox)))
    if facts.system.platform == "linux" and facts.chrome_installed and (
            facts.chrome is None or not facts.chrome.loads_cps):
        out.append(_f("CHROME_MODULE_MISSING", WARNING, path=facts.chrome.path if facts.chrome else "~/.pki/nssdb",
                      module=lib.module))


def _windows(facts: EnvironmentFacts, out: list[Finding]) -> None:
    w = facts.windows
    if w is None:
        return
    if w.certprop.running is False and not w.ccm_running:
        out.append(_f("CERT_PROPAGATION_OFF", WARNING, certprop=w.certprop.detail, ccm=w.ccm))
    if facts.card_atrs and w.registrations and not any(r.matches for r in w.registrations):
        out.append(_f("WINDOWS_CARD_NOT_REGISTERED", WARNING, atr=" ".join(
            facts.card_atrs[0][i:i + 2] for i in range(0, len(facts.card_atrs[0]), 2))))
