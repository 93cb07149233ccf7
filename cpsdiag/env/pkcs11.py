"""PKCS#11 modules: what kind each is, which CPS cards it drives, and what it says when loaded."""

from __future__ import annotations

import json
import re
from dataclasses import replace

from cpsdiag.card.identify import MIN_CRYPTOLIB
from cpsdiag.env.facts import ModuleFacts, ModuleProbe, ReaderFacts, SlotFacts
from cpsdiag.env.packages import older_than
from cpsdiag.host.system import RC_NOT_FOUND, RC_TIMEOUT, System

PROBE_MODULE = "cpsdiag.env.probe_pkcs11"
# The first Cryptolib CPS that drives a CPS4: one home, cpsdiag.card.identify.MIN_CRYPTOLIB.
CPS4_MIN = MIN_CRYPTOLIB["CPS4"]

_KINDS = (
    (r"^(lib)?cps3_pkcs11", "cryptolib"),
    (r"^(lib)?cps_pkcs11|^libcpslux", "cryptolib-legacy"),
    (r"^(onepin-)?opensc-pkcs11", "opensc"),
    (r"^p11-kit-(proxy|client)", "p11-kit-proxy"),
    (r"^p11-kit-trust", "p11-kit-trust"),
    (r"^(lib)?(nssckbi|softokn3|nssdbm3|freebl)", "nss"),
)


def basename(path: str) -> str:
    return re.split(r"[\\/]", path)[-1]


def classify(path: str) -> str:
    name = basename(path).lower()
    return next((kind for pattern, kind in _KINDS if re.search(pattern, name)), "other")


def known_claims(kind: str, version: str | None = None) -> tuple[str, ...]:
    """The CPS generations a module of this kind drives, as documented.

    The Cryptolib CPS drives the CPS3, and the CPS4 from 5.2; its pre-5
    modules (cps_pkcs11_*) only the CPS2ter. OpenSC's iasecc driver knows the
    CPS3 contact ATR since 0.22 and no CPS4 (research card.md §7).
    """
    if kind == "cryptolib":
        return ("CPS3",) if older_than(version, CPS4_MIN) else ("CPS3", "CPS4")
    if kind == "opensc":
        return () if older_than(version, "0.22") else ("CPS3",)
    return ()


def _probe_from_json(path: str, data: dict) -> ModuleProbe:
    info = data.get("info") or {}
    slots = []
    for s in data.get("slots") or []:
        token = s.get("token") or {}
        slots.append(SlotFacts(slot_id=int(s.get("slot_id", 0)), description=s.get("description") or "",
                               manufacturer=s.get("manufacturer"), token_present=bool(s.get("token_present")),
                               token_label=token.get("label"), token_serial=token.get("serial"),
                               token_model=token.get("model"), token_manufacturer=token.get("manufacturer")))
    return ModuleProbe(path=path, loaded=bool(data.get("loaded")), error_kind=data.get("error_kind"),
                       error=data.get("error"), manufacturer=info.get("manufacturer"),
                       description=info.get("description"), cryptoki_version=info.get("cryptoki_version"),
                       library_version=info.get("library_version"), slots=tuple(slots))


def probe_module(system: System, path: str) -> ModuleProbe:
    """Load ``path`` in a helper process; every failure is a fact, never an exception."""
    done = system.helper(PROBE_MODULE, path, timeout=system.timeout)
    if done.rc == RC_NOT_FOUND:
        return ModuleProbe(path=path, loaded=False, error_kind="not_run", error="not run")
    if done.rc == RC_TIMEOUT:
        return ModuleProbe(path=path, loaded=False, error_kind="timeout", error=done.stderr.strip())
    lines = done.stdout.strip().splitlines()
    try:
        data = json.loads(lines[-1]) if lines else None
    except ValueError:
        data = None
    if not isinstance(data, dict):
        why = (done.stderr.strip().splitlines() or [f"exit status {done.rc}"])[-1]
        return ModuleProbe(path=path, loaded=False, error_kind="crashed",
                           error=f"the module's process ended without an answer ({why})")
    return _probe_from_json(path, data)


def _norm(text: str) -> str:
    return " ".join(text.lower().split())


def slot_sees(probe: ModuleProbe, readers: tuple[ReaderFacts, ...], generation: str | None) -> tuple[str, ...] | None:
    """The generations a loaded module showed a token for: a token in the slot of a reader holding a CPS card.

    None when that cannot be told (module not loaded, or no CPS card in a reader).
    """
    if not probe.loaded:
        return None
    cps = [r for r in readers if r.card_present and r.generation in ("CPS3", "CPS4")]
    if not cps:
        return None
    seen = set()
    for r in cps:
        for slot in probe.tokens:
            desc = _norm(slot.description)
            # Slot descriptions are the reader's name, cut to 64 characters and padded.
            if desc and (_norm(r.name).startswith(desc) or desc.startswith(_norm(r.name))):
                seen.add(r.generation)
        if len(cps) == 1 and probe.tokens and not seen and len(probe.slots) == 1:
            seen.add(r.generation)    # a module with one slot of its own naming (not the reader's)
    return tuple(sorted(seen))


def with_claims(module: ModuleFacts, readers: tuple[ReaderFacts, ...], generation: str | None,
                version: str | None = None) -> ModuleFacts:
    """The module with the CPS generations it claims: as seen through its slots when it was loaded, else as known."""
    if module.probe is not None:
        seen = slot_sees(module.probe, readers, generation)
        if seen is not None:
            return replace(module, claims=seen, claims_source="probe")
    version = version or (module.probe.library_version if module.probe and module.kind == "opensc" else None)
    claims = known_claims(module.kind, version)
    return replace(module, claims=claims, claims_source="known" if claims else None)
