"""Helper process: load one PKCS#11 module with PyKCS11 and print what it says, as one JSON document.

Run as ``python -m cpsdiag.env.probe_pkcs11 MODULE``. A module runs its own
code in the process that loads it: a crash or a hang there must not take the
diagnosis with it, so each module is loaded in a process of its own. Only
C_Initialize, C_GetInfo, C_GetSlotList, C_GetSlotInfo, C_GetTokenInfo and
C_Finalize are called: no session, no login, no PIN.

Output: ``{"pykcs11": bool, "path", "loaded": bool, "error_kind", "error",
"info": {"manufacturer", "description", "cryptoki_version", "library_version"},
"slots": [{"slot_id", "description", "manufacturer", "token_present",
"token": {"label", "serial", "model", "manufacturer"} | null}]}``.
PyKCS11 is an optional dependency (``pip install cpsdiag[pkcs11]``): without
it the answer says so (``error_kind`` ``pykcs11_missing``).
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any


def _text(value: Any) -> str | None:
    text = str(value).strip() if value is not None else ""
    return text or None


def _version(value: Any) -> str | None:
    try:
        major, minor = value
        return f"{major}.{minor}"
    except (TypeError, ValueError):
        return _text(value)


def probe(path: str) -> dict[str, Any]:
    out: dict[str, Any] = {"pykcs11": False, "path": path, "loaded": False, "error_kind": None, "error": None,
                           "info": None, "slots": []}
    try:
        import PyKCS11  # optional dependency (no type information: pyproject.toml [tool.mypy])
    except ImportError:
        out.update(error_kind="pykcs11_missing", error="PyKCS11 is not installed")
        return out
    out["pykcs11"] = True
    if not os.path.exists(path):
        out.update(error_kind="load_failed", error=f"{path}: no such file")
        return out
    lib = PyKCS11.PyKCS11Lib()
    try:
        lib.load(path)        # dlopen + C_GetFunctionList + C_Initialize
    except PyKCS11.PyKCS11Error as exc:
        kind = "load_failed" if getattr(exc, "value", None) == -1 else "pkcs11_error"
        out.update(error_kind=kind, error=str(exc).strip())
        return out
    out["loaded"] = True
    try:
        info = lib.getInfo()
        out["info"] = {"manufacturer": _text(info.manufacturerID), "description": _text(info.libraryDescription),
                       "cryptoki_version": _version(info.cryptokiVersion),
                       "library_version": _version(info.libraryVersion)}
        for slot in lib.getSlotList(tokenPresent=False):
            si = lib.getSlotInfo(slot)
            present = bool(si.flags & PyKCS11.CKF_TOKEN_PRESENT)
            row: dict[str, Any] = {"slot_id": int(slot), "description": _text(si.slotDescription),
                                   "manufacturer": _text(si.manufacturerID), "token_present": present, "token": None}
            if present:
                try:
                    ti = lib.getTokenInfo(slot)
                    row["token"] = {"label": _text(ti.label), "serial": _text(ti.serialNumber),
                                    "model": _text(ti.model), "manufacturer": _text(ti.manufacturerID)}
                except PyKCS11.PyKCS11Error as exc:
                    row["token_error"] = str(exc).strip()
            out["slots"].append(row)
    except PyKCS11.PyKCS11Error as exc:
        out.update(error_kind="pkcs11_error", error=str(exc).strip())
    return out


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    # Modules and PyKCS11 print their own messages on standard output: keep it for our JSON only.
    json_out = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)
    if len(args) != 1:
        result: dict[str, Any] = {"error_kind": "usage", "error": "usage: probe_pkcs11 MODULE"}
    else:
        try:
            result = probe(args[0])
        except Exception as exc:   # report, never a traceback: the parent turns it into a fact
            result = {"path": args[0], "loaded": False, "error_kind": "crashed", "error": f"{type(exc).__name__}: {exc}"}
    json_out.write(json.dumps(result) + "\n")
    json_out.flush()
    # Skip C_Finalize and atexit: a module that hangs while unloading must not hold the answer back.
    os._exit(0)


if __name__ == "__main__":
    main()
