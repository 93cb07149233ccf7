"""Collect the workstation facts: system, PC/SC, readers, Cryptolib CPS, other modules, browsers, Windows.

Collecting only gathers: nothing here decides what is wrong
(cpsdiag.env.judge does). A probe that cannot tell leaves ``None`` in the
facts; expected failures (no library, no service, a module that will not
load) are facts too, never exceptions.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

from cpsdiag.env import browsers, cryptolib, modules, pcsc, pkcs11, sysinfo
from cpsdiag.env.facts import EnvironmentFacts, ModuleFacts, ModuleProbe, NssDatabase
from cpsdiag.host.system import System

# Modules that never drive a card: not worth loading.
_NOT_CARD = {"nss", "p11-kit-trust", "p11-kit-proxy"}
MAX_PARALLEL_PROBES = 4


def _known_atrs(generation: str | None) -> tuple[str, ...]:
    from cpsdiag.card.identify import KNOWN

    return tuple(k.atr.hex().upper() for k in KNOWN if generation and k.generation == generation)


def collect_environment(system: System | None = None, *, card_generation: str | None = None,
                        card_serial: str | None = None, live: bool = True) -> EnvironmentFacts:
    """Everything the workstation diagnosis looks at. ``card_*`` come from ``check`` when it read the card.

    ``live=False`` (what ``check`` uses) reads only files, registry and package
    data: no PC/SC helper (check has just talked to the service itself) and no
    PKCS#11 module loaded (a module reads the whole card: seconds at T=0 speed).
    """
    system = system or System.local()
    timings: dict[str, float] = {}
    start = time.perf_counter()

    def lap(stage: str, since: float) -> float:
        now = time.perf_counter()
        timings[stage] = round((now - since) * 1000, 2)
        return now

    t = start
    sys_facts = sysinfo.collect_system(system)
    t = lap("system", t)
    pcsc_facts = pcsc.collect_pcsc(system, live=live)
    t = lap("pcsc", t)

    cps_readers = [r for r in pcsc_facts.readers if r.card_present and r.generation in ("CPS3", "CPS4")]
    card_source = "check" if card_generation else ("atr" if cps_readers else None)
    card_generation = card_generation or (cps_readers[0].generation if cps_readers else None)
    live_atrs = tuple(r.atr for r in cps_readers if r.atr)

    lib = cryptolib.collect_cryptolib(system)
    registered = modules.p11kit_modules(system)
    profiles = browsers.firefox_profiles(system)
    chrome_installed, chrome = browsers.chrome_nssdb(system)
    t = lap("files", t)

    # Load every card module once, in parallel (each in its own process).
    paths = {m.path for m in registered + [m for db in profiles + ([chrome] if chrome else []) for m in db.modules]
             if m.path and m.exists and m.kind not in _NOT_CARD}
    if lib.module:
        paths.add(lib.module)
    probes: dict[str, ModuleProbe] = {}
    if paths and live:
        with ThreadPoolExecutor(max_workers=min(MAX_PARALLEL_PROBES, len(paths))) as pool:
            for path, probe in zip(sorted(paths), pool.map(lambda p: pkcs11.probe_module(system, p), sorted(paths))):
                probes[path] = probe
    t = lap("pkcs11", t)
    lib = replace(lib, probe=probes.get(lib.module) if lib.module else None)

    def finish(m: ModuleFacts) -> ModuleFacts:
        m = replace(m, probe=probes.get(m.path) if m.path else None)
        version = lib.version if m.kind == "cryptolib" else None
        return pkcs11.with_claims(m, pcsc_facts.readers, card_generation, version)

    def finish_db(db: NssDatabase) -> NssDatabase:
        return replace(db, modules=tuple(finish(m) for m in db.modules))

    registered = [finish(m) for m in registered]
    profiles = [finish_db(db) for db in profiles]
    chrome = finish_db(chrome) if chrome else None

    windows = None
    if system.platform == "win32":
        from cpsdiag.env.windows import collect_windows

        windows = collect_windows(system, live_atrs or _known_atrs(card_generation))
        t = lap("windows", t)

    from cpsdiag.net.settings import workstation_proxies

    proxy = workstation_proxies(system)
    t = lap("proxy", t)

    kinds = [p.error_kind for p in probes.values() if p.error_kind not in ("not_run", "timeout", "crashed")]
    pykcs11 = None
    if probes and any(p.error_kind != "not_run" for p in probes.values()):
        pykcs11 = not any(k == "pykcs11_missing" for k in kinds)
    timings["total"] = round((time.perf_counter() - start) * 1000, 2)
    return EnvironmentFacts(
        system=sys_facts, pcsc=pcsc_facts, cryptolib=lib, modules=tuple(registered), firefox=tuple(profiles),
        firefox_installed=browsers.firefox_installed(system, profiles), chrome=chrome,
        chrome_installed=chrome_installed, windows=windows, pykcs11=pykcs11, card_generation=card_generation,
        card_serial=card_serial, card_source=card_source, card_atrs=live_atrs, proxy=proxy, timings_ms=timings)
