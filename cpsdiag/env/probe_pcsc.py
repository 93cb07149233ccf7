"""Helper process: ask the live PC/SC service for its readers and what each can do; print one JSON document.

Run as ``python -m cpsdiag.env.probe_pcsc [--timeout SECONDS]``. It lives in
its own process because a reader or a driver that stops answering blocks the
PC/SC call for as long as it likes: the parent gets an answer (or kills this
process) within its own time limit, and one stuck reader does not hide the
others, which are probed in parallel threads. No APDU is ever sent: the card
is only connected to (shared) and left as it was.

Output: ``{"library", "library_error", "service_error", "readers": [{"name",
"card_present", "atr", "state", "exclusive", "answering", "error",
"card_error", "features", "features_error"}]}``; errors are ``{"operation",
"hresult", "message"}``; ``features`` is the GET_FEATURE_REQUEST answer in hex.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import threading
from typing import Any

from cpsdiag import errors

# Reader-level failures: the reader (or its driver) does not answer, whatever the card does.
_READER_DEAD = {0x80100017, 0x80100009, 0x80100013, 0x80100014, 0x80100016, 0x80100004, 0x8010000A}
# The reader answers and says something about the card.
_CARD_MUTE = {0x80100066, 0x80100067, 0x8010000F}
_SHARING = 0x8010000B
_NO_CARD = 0x8010000C

_STATE_FLAGS = (("IGNORE", 0x1), ("CHANGED", 0x2), ("UNKNOWN", 0x4), ("UNAVAILABLE", 0x8), ("EMPTY", 0x10),
                ("PRESENT", 0x20), ("ATRMATCH", 0x40), ("EXCLUSIVE", 0x80), ("INUSE", 0x100), ("MUTE", 0x200),
                ("UNPOWERED", 0x400))


def _error(operation: str, rc: int, scard: Any) -> dict[str, Any]:
    code = rc & 0xFFFFFFFF
    try:
        message = scard.SCardGetErrorMessage(rc)
    except Exception:  # the message is a courtesy
        message = ""
    return {"operation": operation, "hresult": f"0x{code:08X}", "message": message or "failed"}


def _from_exception(exc: errors.PcscError) -> dict[str, Any]:
    # PcscError's text is "<operation>: <message> (0x...)": keep the message alone, the rest has its own field.
    message = re.sub(r"\s*\(0x[0-9A-F]{8}\)$", "", str(exc))
    message = message.removeprefix(f"{exc.operation}: ")
    return {"operation": exc.operation, "hresult": f"0x{exc.hresult:08X}", "message": message or "failed"}


def _flags(state: int) -> list[str]:
    return [name for name, bit in _STATE_FLAGS if state & bit]


def _probe_reader(name: str, card_present: bool, platform: str, out: dict[str, Any]) -> None:
    """Connect directly (no card needed) for the features, then to the card when there is one."""
    from cpsdiag.transport.features import GET_FEATURE_REQUEST, scard_ctl_code
    from cpsdiag.transport.pcsc import PcscContext

    try:
        ctx = PcscContext()
    except errors.PcscError as exc:
        out.update(answering=False, error=_from_exception(exc))
        return
    s = ctx.scard
    try:
        rc, handle, _proto = s.SCardConnect(ctx.handle, name, s.SCARD_SHARE_DIRECT, 0)
        if rc == 0:
            rc2, answer = s.SCardControl(handle, scard_ctl_code(GET_FEATURE_REQUEST, platform), [])
            if rc2 == 0:
                out["features"] = bytes(answer).hex().upper()
            else:
                out["features_error"] = _error("SCardControl(GET_FEATURE_REQUEST)", rc2, s)["message"]
            s.SCardDisconnect(handle, s.SCARD_LEAVE_CARD)
        elif (rc & 0xFFFFFFFF) in _READER_DEAD:
            out.update(answering=False, error=_error("SCardConnect(DIRECT)", rc, s))
            return
        else:
            out["features_error"] = _error("SCardConnect(DIRECT)", rc, s)["message"]
        if card_present:
            rc, handle, _proto = s.SCardConnect(ctx.handle, name, s.SCARD_SHARE_SHARED,
                                                s.SCARD_PROTOCOL_T0 | s.SCARD_PROTOCOL_T1)
            code = rc & 0xFFFFFFFF
            if rc == 0:
                s.SCardDisconnect(handle, s.SCARD_LEAVE_CARD)
            elif code == _SHARING:
                out["exclusive"] = True
            elif code in _CARD_MUTE or code == _NO_CARD:
                out["card_error"] = _error("SCardConnect", rc, s)
            else:
                out.update(answering=False, error=_error("SCardConnect", rc, s))
                return
        out["answering"] = True
    finally:
        ctx.close()


def probe(timeout: float, platform: str) -> dict[str, Any]:
    from cpsdiag.transport.pcsc import PcscContext, check_library

    result: dict[str, Any] = {"library": None, "library_error": None, "service_error": None, "readers": []}
    try:
        result["library"] = check_library()
    except errors.PcscLibraryMissing as exc:
        result["library_error"] = f"{exc.library}: {exc.reason}"
        return result
    try:
        with PcscContext() as ctx:
            names = ctx.readers()
            states = ctx.states(names)
    except errors.PcscError as exc:
        result["service_error"] = _from_exception(exc)
        return result
    rows = []
    threads = []
    for st in states:
        row: dict[str, Any] = {"name": st.name, "card_present": st.card_present, "atr": st.atr.hex().upper() or None,
                               "state": _flags(st.raw_state), "exclusive": st.exclusive, "answering": None,
                               "error": None, "card_error": None, "features": None, "features_error": None}
        rows.append(row)
        if st.raw_state & (0x4 | 0x8):      # UNKNOWN / UNAVAILABLE: pcscd already lost it
            row.update(answering=False, error={"operation": "SCardGetStatusChange", "hresult": None,
                                               "message": "reader state " + "|".join(row["state"])})
            continue
        t = threading.Thread(target=_probe_reader, args=(st.name, st.card_present, platform, row), daemon=True)
        t.start()
        threads.append((t, row))
    for t, row in threads:
        t.join(timeout)
        if t.is_alive():
            row.update(answering=False, error={"operation": "SCardConnect", "hresult": None,
                                               "message": f"no answer within {timeout:g} s"})
    result["readers"] = [dict(r) for r in rows]
    return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="probe_pcsc")
    parser.add_argument("--timeout", type=float, default=4.0)
    args = parser.parse_args(argv)
    platform = "win32" if sys.platform.startswith("win") else sys.platform
    # Libraries print their own messages on standard output: keep it for our JSON only.
    json_out = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)
    try:
        result = probe(args.timeout, platform)
    except Exception as exc:   # report, never a traceback: the parent turns it into a fact
        result = {"crashed": f"{type(exc).__name__}: {exc}"}
    json_out.write(json.dumps(result) + "\n")
    json_out.flush()
    # A thread stuck in a PC/SC call must not keep the process alive, nor its context be released under it.
    os._exit(0)


if __name__ == "__main__":
    main()
