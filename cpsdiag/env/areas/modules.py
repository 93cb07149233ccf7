"""Area "modules": the PKCS#11 modules registered system-wide (p11-kit), every card module loaded, and who claims
the card.

This area loads every card module the other areas found (the Cryptolib's, the
browsers'), once each and in parallel, so it is collected after them
(``needs``) and gives their modules back with their probe and claims. Which
module drives which card, and loading one, are ``cpsdiag.env.pkcs11``'s.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import TYPE_CHECKING, Protocol

from cpsdiag.card.generation import GENERATIONS
from cpsdiag.env.area import WARNING, Area, Context, Row, Section, finding
from cpsdiag.env.areas.browsers import NssDatabase
from cpsdiag.env.areas.cryptolib import CryptolibFacts
from cpsdiag.env.areas.pcsc import PcscFacts
from cpsdiag.env.areas.windows import WindowsFacts
from cpsdiag.env.pkcs11 import (ModuleFacts, ModuleKind, ModuleProbe, ProbeFailure, classify, module_line,
                                probe_module, probe_text, resolve, with_claims)
from cpsdiag.findings.model import Finding
from cpsdiag.host.system import System
from cpsdiag.i18n import _

if TYPE_CHECKING:
    from cpsdiag.env.record import EnvironmentSection

P11KIT_DIRS = ("/usr/share/p11-kit/modules", "/etc/pkcs11/modules")


def parse_p11kit(text: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        key, sep, value = line.partition(":")
        if sep:
            out[key.strip().lower()] = value.strip()
    return out


def p11kit_modules(system: System) -> list[ModuleFacts]:
    """The modules p11-kit loads for the programs that use it (GnuTLS, p11-kit-proxy in browsers...)."""
    if system.platform == "win32":
        return []
    folders = list(P11KIT_DIRS)
    home = system.home()
    if home:
        folders.append(f"{home}/.config/pkcs11/modules")
    found: dict[str, ModuleFacts] = {}
    for folder in folders:
        for path in system.glob(folder, "*.module"):
            fields = parse_p11kit(system.read_text(path) or "")
            declared = fields.get("module")
            name = path.rsplit("/", 1)[-1].removesuffix(".module")
            if not declared or fields.get("enable-in") == "none":
                continue
            resolved, exists = resolve(system, declared)
            # A user's file overrides the system one of the same name, as in p11-kit.
            found[name] = ModuleFacts(name=name, path=resolved, declared=declared, source="p11-kit", config=path,
                                      kind=classify(declared), exists=exists)
    return list(found.values())


# -- collecting: every card module loaded once, and what each claims ------------------------------

# Modules that never drive a card: not worth loading.
_NOT_CARD = {ModuleKind.NSS, ModuleKind.P11KIT_TRUST, ModuleKind.P11KIT_PROXY}
MAX_PARALLEL_PROBES = 4


def collect(ctx: Context) -> None:
    """The p11-kit modules; then every card module found anywhere (the Cryptolib's, p11-kit's, the browsers')
    loaded once, in parallel, each in its own process, and every module with the cards it claims."""
    system = ctx.system
    lib = ctx.get("cryptolib", CryptolibFacts)
    pcsc = ctx.get("pcsc", PcscFacts)
    profiles: tuple[NssDatabase, ...] = ctx.found["firefox"]
    chrome: NssDatabase | None = ctx.found["chrome"]
    registered = p11kit_modules(system)
    ctx.lap("files")

    databases = list(profiles) + ([chrome] if chrome else [])
    paths = {m.path for m in registered + [m for db in databases for m in db.modules]
             if m.path and m.exists and m.kind not in _NOT_CARD}
    if lib.module:
        paths.add(lib.module)
    probes: dict[str, ModuleProbe] = {}
    if paths and ctx.live:
        with ThreadPoolExecutor(max_workers=min(MAX_PARALLEL_PROBES, len(paths))) as pool:
            for path, probe in zip(sorted(paths), pool.map(lambda p: probe_module(system, p), sorted(paths))):
                probes[path] = probe
    lib = replace(lib, probe=probes.get(lib.module) if lib.module else None)

    def finish(m: ModuleFacts) -> ModuleFacts:
        m = replace(m, probe=probes.get(m.path) if m.path else None)
        version = lib.version if m.kind == ModuleKind.CRYPTOLIB else None
        return with_claims(m, pcsc.readers, ctx.card_generation, version)

    def finish_db(db: NssDatabase) -> NssDatabase:
        return replace(db, modules=tuple(finish(m) for m in db.modules))

    # Whether PyKCS11 is there, from the helpers that ran to the end.
    ended = [p.error_kind for p in probes.values()
             if p.error_kind not in (ProbeFailure.NOT_RUN, ProbeFailure.TIMEOUT, ProbeFailure.CRASHED)]
    pykcs11 = None
    if probes and any(p.error_kind != ProbeFailure.NOT_RUN for p in probes.values()):
        pykcs11 = not any(k == ProbeFailure.PYKCS11_MISSING for k in ended)
    ctx.found.update(cryptolib=lib, modules=tuple(finish(m) for m in registered),
                     firefox=tuple(finish_db(db) for db in profiles), chrome=finish_db(chrome) if chrome else None,
                     pykcs11=pykcs11)


# -- judging -----------------------------------------------------------------------------------

class Reads(Protocol):
    @property
    def modules(self) -> tuple[ModuleFacts, ...]: ...
    @property
    def firefox(self) -> tuple[NssDatabase, ...]: ...
    @property
    def chrome(self) -> NssDatabase | None: ...
    @property
    def windows(self) -> WindowsFacts | None: ...
    @property
    def card_generation(self) -> str | None: ...


def _claimers(mods: list[ModuleFacts], generation: str) -> list[ModuleFacts]:
    seen: dict[str, ModuleFacts] = {}
    for m in mods:
        if generation in m.claims:
            seen.setdefault(m.path or m.declared, m)
    return list(seen.values())


def judge(facts: Reads, out: list[Finding]) -> None:
    """MIDDLEWARE_CONFLICT: more than one module (or Windows registration) claims the card in one place."""
    gens = [facts.card_generation] if facts.card_generation else list(GENERATIONS)
    p11kit = list(facts.modules)
    scopes: list[tuple[str, list[ModuleFacts]]] = [("p11-kit", p11kit)]
    for db in facts.firefox:
        mods = list(db.modules)
        if any(m.kind == ModuleKind.P11KIT_PROXY for m in mods):
            mods += p11kit          # the proxy hands every p11-kit module to Firefox
        scopes.append((f"Firefox ({db.name})", mods))
    if facts.chrome is not None:
        scopes.append(("Chrome/Chromium", list(facts.chrome.modules)))
    for scope, mods in scopes:
        for gen in gens:
            claim = _claimers(mods, gen)
            if len(claim) > 1:
                out.append(finding("MIDDLEWARE_CONFLICT", WARNING, scope=scope, generation=gen,
                                   modules=", ".join(f"{m.name} ({m.path or m.declared})" for m in claim)))
                break
    if facts.windows is not None:
        matching = [r for r in facts.windows.registrations if r.matches]
        owners = {(r.provider, r.minidriver) for r in matching}
        if len(owners) > 1:
            out.append(finding("MIDDLEWARE_CONFLICT", WARNING, scope="Windows (Calais\\SmartCards)",
                               generation=facts.card_generation or "CPS",
                               modules=", ".join(f"{r.name} ({r.minidriver or r.provider})" for r in matching)))


# -- rows --------------------------------------------------------------------------------------

def sections(env: EnvironmentSection) -> list[Section]:
    rows = [Row(_("p11-kit"), module_line(m), brief=m.kind != ModuleKind.NSS) for m in env.modules]
    for m in [m for db in env.firefox for m in db.modules] + list(env.chrome.modules if env.chrome else ()):
        if m.probe is not None and m.kind != ModuleKind.CRYPTOLIB:
            rows.append(Row(m.name, probe_text(m.probe)))
    return [Section(_("Other PKCS#11 modules"), rows)] if rows else []


AREA: Area[Reads] = Area("modules", collect, judge, sections, stage="pkcs11", needs=("pcsc", "cryptolib", "browsers"))
