"""PKCS#11 modules, shared by the areas that find them (Cryptolib CPS, p11-kit, browsers): their facts, what kind
each is, which CPS cards it drives, what it says when loaded (in a helper process), and its line in the rows.

Below the areas: it knows no area. The minimum Cryptolib of each card generation is the generation record's
(``cpsdiag.card.generation``, ``Generation.min_cryptolib``): one home.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Protocol, Sequence

from cpsdiag.card.generation import GENERATIONS, Generation
from cpsdiag.env.packages import older_than, version_tuple
from cpsdiag.host.system import RC_NOT_FOUND, RC_TIMEOUT, System
from cpsdiag.i18n import _

if TYPE_CHECKING:
    from cpsdiag.env.record import Module, ModuleProbe as ProbeRecord

PROBE_MODULE = "cpsdiag.env.probe_pkcs11"


def _min_version(g: Generation) -> tuple[int, ...]:
    return version_tuple(g.min_cryptolib) or ()


# The generation the Cryptolib's cps3_pkcs11 modules were made for, and the one that needs the newest Cryptolib
# (a Cryptolib older than its minimum cannot read the card that replaces the older one at renewal).
FIRST: Generation = min(GENERATIONS.values(), key=_min_version)
LATEST: Generation = max(GENERATIONS.values(), key=_min_version)
CPS4_MIN = LATEST.min_cryptolib    # kept for the callers that named it so: the Cryptolib that drives every card


class ModuleKind(StrEnum):
    """What a module is, from its file name."""

    CRYPTOLIB = "cryptolib"                 # the Cryptolib CPS (cps3_pkcs11_*)
    CRYPTOLIB_LEGACY = "cryptolib-legacy"   # its pre-5 modules (cps_pkcs11_*)
    OPENSC = "opensc"
    P11KIT_PROXY = "p11-kit-proxy"
    P11KIT_TRUST = "p11-kit-trust"
    NSS = "nss"                             # NSS's own modules (never a card)
    OTHER = "other"


class ClaimsSource(StrEnum):
    KNOWN = "known"     # from its kind (and version), as documented
    PROBE = "probe"     # a slot of the loaded module showed the card


class ProbeFailure(StrEnum):
    """Why a module's helper process gave no loaded module."""

    PYKCS11_MISSING = "pykcs11_missing"
    LOAD_FAILED = "load_failed"
    PKCS11_ERROR = "pkcs11_error"
    TIMEOUT = "timeout"
    CRASHED = "crashed"
    NOT_RUN = "not_run"
    USAGE = "usage"


def _failure(value: object) -> ProbeFailure | None:
    """The helper's ``error_kind``; one it does not write (a damaged answer) counts as a crash."""
    if not value:
        return None
    try:
        return ProbeFailure(str(value))
    except ValueError:
        return ProbeFailure.CRASHED


@dataclass(frozen=True)
class SlotFacts:
    slot_id: int
    description: str
    manufacturer: str | None
    token_present: bool
    token_label: str | None = None
    token_serial: str | None = None
    token_model: str | None = None
    token_manufacturer: str | None = None


@dataclass(frozen=True)
class ModuleProbe:
    """A PKCS#11 module loaded in a helper process (C_Initialize, C_GetInfo, slots)."""

    path: str
    loaded: bool
    error_kind: ProbeFailure | None = None
    error: str | None = None
    manufacturer: str | None = None
    description: str | None = None
    cryptoki_version: str | None = None
    library_version: str | None = None
    slots: tuple[SlotFacts, ...] = ()

    @property
    def tokens(self) -> tuple[SlotFacts, ...]:
        return tuple(s for s in self.slots if s.token_present)


@dataclass(frozen=True)
class ModuleFacts:
    """A PKCS#11 module some program is set to load."""

    name: str
    path: str | None                    # resolved path (None when it could not be found)
    declared: str                       # as written in the configuration
    source: str                         # "p11-kit", "firefox:<profile>", "chrome-nss", "windows"
    config: str                         # the file (or registry key) that declares it
    kind: ModuleKind
    exists: bool
    claims: tuple[str, ...] = ()        # card generations it drives ("CPS3", "CPS4")
    claims_source: ClaimsSource | None = None
    probe: ModuleProbe | None = None


class Reader(Protocol):
    """What claims read of a PC/SC reader (cpsdiag.env.areas.pcsc.ReaderFacts)."""

    @property
    def name(self) -> str: ...
    @property
    def card_present(self) -> bool | None: ...
    @property
    def generation(self) -> str | None: ...


P11KIT_MODULE_DIRS = ("/usr/lib/x86_64-linux-gnu/pkcs11", "/usr/lib/aarch64-linux-gnu/pkcs11", "/usr/lib64/pkcs11",
                      "/usr/lib/pkcs11", "/usr/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu", "/usr/lib64",
                      "/usr/lib")


def resolve(system: System, declared: str) -> tuple[str | None, bool]:
    """A module path as p11-kit resolves it (and dlopen a bare name): absolute, or relative to its module folder."""
    if declared.startswith("/"):
        return declared, system.exists(declared)
    for folder in P11KIT_MODULE_DIRS:
        if system.exists(f"{folder}/{declared}"):
            return f"{folder}/{declared}", True
    return None, False

_KINDS = (
    (r"^(lib)?cps3_pkcs11", ModuleKind.CRYPTOLIB),
    (r"^(lib)?cps_pkcs11|^libcpslux", ModuleKind.CRYPTOLIB_LEGACY),
    (r"^(onepin-)?opensc-pkcs11", ModuleKind.OPENSC),
    (r"^p11-kit-(proxy|client)", ModuleKind.P11KIT_PROXY),
    (r"^p11-kit-trust", ModuleKind.P11KIT_TRUST),
    (r"^(lib)?(nssckbi|softokn3|nssdbm3|freebl)", ModuleKind.NSS),
)


def basename(path: str) -> str:
    return re.split(r"[\\/]", path)[-1]


def classify(path: str) -> ModuleKind:
    name = basename(path).lower()
    return next((kind for pattern, kind in _KINDS if re.search(pattern, name)), ModuleKind.OTHER)


def known_claims(kind: ModuleKind, version: str | None = None) -> tuple[str, ...]:
    """The CPS generations a module of this kind drives, as documented.

    The Cryptolib CPS drives the CPS3, and the CPS4 from 5.2; its pre-5
    modules (cps_pkcs11_*) only the CPS2ter. OpenSC's iasecc driver knows the
    CPS3 contact ATR since 0.22 and no CPS4 (research card.md §7).
    """
    if kind == ModuleKind.CRYPTOLIB:
        return tuple(g.name for g in GENERATIONS.values() if g is FIRST or not older_than(version, g.min_cryptolib))
    if kind == ModuleKind.OPENSC:
        return () if older_than(version, "0.22") else ("CPS3",)
    return ()


def _probe_from_json(path: str, data: dict[str, Any]) -> ModuleProbe:
    info = data.get("info") or {}
    slots = []
    for s in data.get("slots") or []:
        token = s.get("token") or {}
        slots.append(SlotFacts(slot_id=int(s.get("slot_id", 0)), description=s.get("description") or "",
                               manufacturer=s.get("manufacturer"), token_present=bool(s.get("token_present")),
                               token_label=token.get("label"), token_serial=token.get("serial"),
                               token_model=token.get("model"), token_manufacturer=token.get("manufacturer")))
    return ModuleProbe(path=path, loaded=bool(data.get("loaded")), error_kind=_failure(data.get("error_kind")),
                       error=data.get("error"), manufacturer=info.get("manufacturer"),
                       description=info.get("description"), cryptoki_version=info.get("cryptoki_version"),
                       library_version=info.get("library_version"), slots=tuple(slots))


def probe_module(system: System, path: str) -> ModuleProbe:
    """Load ``path`` in a helper process; every failure is a fact, never an exception."""
    done = system.helper(PROBE_MODULE, path, timeout=system.timeout)
    if done.rc == RC_NOT_FOUND:
        return ModuleProbe(path=path, loaded=False, error_kind=ProbeFailure.NOT_RUN, error="not run")
    if done.rc == RC_TIMEOUT:
        return ModuleProbe(path=path, loaded=False, error_kind=ProbeFailure.TIMEOUT, error=done.stderr.strip())
    lines = done.stdout.strip().splitlines()
    try:
        data = json.loads(lines[-1]) if lines else None
    except ValueError:
        data = None
    if not isinstance(data, dict):
        why = (done.stderr.strip().splitlines() or [f"exit status {done.rc}"])[-1]
        return ModuleProbe(path=path, loaded=False, error_kind=ProbeFailure.CRASHED,
                           error=f"the module's process ended without an answer ({why})")
    return _probe_from_json(path, data)


def _norm(text: str) -> str:
    return " ".join(text.lower().split())


def slot_sees(probe: ModuleProbe, readers: Sequence[Reader], generation: str | None) -> tuple[str, ...] | None:
    """The generations a loaded module showed a token for: a token in the slot of a reader holding a CPS card.

    None when that cannot be told (module not loaded, or no CPS card in a reader).
    """
    if not probe.loaded:
        return None
    cps = [r for r in readers if r.card_present and r.generation in GENERATIONS]
    if not cps:
        return None
    seen: set[str] = set()
    for r in cps:
        for slot in probe.tokens:
            desc = _norm(slot.description)
            # Slot descriptions are the reader's name, cut to 64 characters and padded.
            if desc and (_norm(r.name).startswith(desc) or desc.startswith(_norm(r.name))):
                seen.add(str(r.generation))
        if len(cps) == 1 and probe.tokens and not seen and len(probe.slots) == 1:
            seen.add(str(r.generation))    # a module with one slot of its own naming (not the reader's)
    return tuple(sorted(seen))


def with_claims(module: ModuleFacts, readers: Sequence[Reader], generation: str | None,
                version: str | None = None) -> ModuleFacts:
    """The module with the CPS generations it claims: as seen through its slots when it was loaded, else as known."""
    if module.probe is not None:
        seen = slot_sees(module.probe, readers, generation)
        if seen is not None:
            return replace(module, claims=seen, claims_source=ClaimsSource.PROBE)
    version = version or (module.probe.library_version if module.probe and module.kind == ModuleKind.OPENSC else None)
    claims = known_claims(module.kind, version)
    return replace(module, claims=claims, claims_source=ClaimsSource.KNOWN if claims else None)


# -- rows --------------------------------------------------------------------------------------

def probe_text(probe: ProbeRecord | None) -> str:
    """What loading a module gave, in words."""
    if probe is None:
        return _("not loaded")
    if probe.error_kind == ProbeFailure.PYKCS11_MISSING:
        return _("not loaded: PyKCS11 is not installed (pip install 'cpsdiag[pkcs11]')")
    if probe.error_kind == ProbeFailure.NOT_RUN:
        return _("not loaded")
    if not probe.loaded:
        return _("does not load: {error}").format(error=probe.error or probe.error_kind)
    info = " ".join(p for p in (probe.manufacturer, probe.description) if p)
    tokens = ", ".join(f"{s.token_label or '?'} ({s.description})" for s in probe.tokens) or _("none")
    return _("loads: {info} {version}, PKCS#11 {cryptoki}; {slots} slot(s), card(s) seen: {tokens}").format(
        info=info, version=probe.library_version or "", cryptoki=probe.cryptoki_version or "?",
        slots=len(probe.slots), tokens=tokens)


def module_line(m: Module) -> str:
    """A module's row: its name, where it is, whether its file exists, the cards it drives."""
    where = m.path or m.declared
    parts = [f"{m.name}: {where}"]
    if not m.exists:
        parts.append(_("(file missing)"))
    if m.claims:
        parts.append(_("drives {cards}").format(cards="/".join(m.claims)))
    return " ".join(parts)
