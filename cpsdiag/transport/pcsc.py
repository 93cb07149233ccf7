"""PC/SC through pyscard: the only module that imports it.

pyscard's low-level ``smartcard.scard`` API is used directly because it returns
the raw SCARD_* codes, which are what tell "service stopped", "no card",
"card held by another program" and "card removed" apart.
"""

from __future__ import annotations

import ctypes
import sys
from dataclasses import dataclass
from typing import Any

from cpsdiag import errors
from cpsdiag.transport.base import TracedLink

# SCARD_* codes (pcsclite.h / winerror.h).
SCARD_E_CANCELLED = 0x80100002
SCARD_E_INVALID_HANDLE = 0x80100003
SCARD_E_UNKNOWN_READER = 0x80100009
SCARD_E_TIMEOUT = 0x8010000A
SCARD_E_SHARING_VIOLATION = 0x8010000B
SCARD_E_NO_SMARTCARD = 0x8010000C
SCARD_E_PROTO_MISMATCH = 0x8010000F
SCARD_E_NOT_TRANSACTED = 0x80100016
SCARD_E_READER_UNAVAILABLE = 0x80100017
SCARD_F_COMM_ERROR = 0x80100013         # the daemon went away in the middle of a call
SCARD_E_NO_SERVICE = 0x8010001D
SCARD_E_SERVICE_STOPPED = 0x8010001E
SCARD_E_NO_READERS_AVAILABLE = 0x8010002E
SCARD_W_UNRESPONSIVE_CARD = 0x80100066
SCARD_W_UNPOWERED_CARD = 0x80100067
SCARD_W_RESET_CARD = 0x80100068
SCARD_W_REMOVED_CARD = 0x80100069

_LIBRARY = {"linux": "libpcsclite.so.1", "darwin": "/System/Library/Frameworks/PCSC.framework/PCSC",
            "win32": "winscard.dll"}


def library_name() -> str:
    return _LIBRARY.get(sys.platform, "libpcsclite.so.1")


def check_library() -> str:
    """Load the PC/SC client library the way pyscard will, and return its path or name.

    pyscard reports a missing libpcsclite with the same code as a stopped
    pcscd (and prints a stray message), so the library is probed first.
    """
    name = library_name()
    try:
        lib = ctypes.CDLL(name)
    except OSError as exc:
        raise errors.PcscLibraryMissing(name, str(exc)) from None
    path = name
    if sys.platform.startswith("linux"):
        try:
            with open("/proc/self/maps") as maps:
                for line in maps:
                    if "pcsclite" in line:
                        path = line.split()[-1]
                        break
        except OSError:
            pass
    del lib
    return path


def _scard() -> Any:
    check_library()
    from smartcard import scard

    return scard


def _raise(operation: str, hresult: int, scard: Any) -> None:
    code = hresult & 0xFFFFFFFF
    try:
        message = scard.SCardGetErrorMessage(hresult)
    except Exception:  # the message is a courtesy; the code is what matters
        message = ""
    cls: type[errors.PcscError]
    if code in (SCARD_E_NO_SERVICE, SCARD_E_SERVICE_STOPPED, SCARD_F_COMM_ERROR):
        cls = errors.PcscNoService
    elif code == SCARD_E_SHARING_VIOLATION:
        cls = errors.CardSharingViolation
    elif code == SCARD_E_NO_SMARTCARD:
        cls = errors.CardAbsent
    elif code in (SCARD_W_REMOVED_CARD, SCARD_W_RESET_CARD):
        cls = errors.CardRemoved
    elif code in (SCARD_W_UNRESPONSIVE_CARD, SCARD_W_UNPOWERED_CARD, SCARD_E_TIMEOUT):
        cls = errors.CardMute
    elif code in (SCARD_E_READER_UNAVAILABLE, SCARD_E_UNKNOWN_READER):
        cls = errors.ReaderUnavailable
    else:
        cls = errors.PcscError
    raise cls(operation, code, message)


@dataclass(frozen=True)
class ReaderState:
    name: str
    card_present: bool
    atr: bytes
    exclusive: bool         # another program holds the card exclusively
    in_use: bool            # another program has the card open (shared)
    mute: bool              # a card is there but gave no usable ATR
    raw_state: int


DEFAULT_CARD_TIMEOUT = 20.0     # seconds one APDU may take (a real CPS3 signs in about 1 s)


class PcscContext:
    """One PC/SC context (SCardEstablishContext ... SCardReleaseContext)."""

    def __init__(self, card_timeout: float = DEFAULT_CARD_TIMEOUT) -> None:
        self.library = check_library()
        self.scard = _scard()
        self.card_timeout = card_timeout
        # Set when a call never returned: pcsc-lite would then block any other call on
        # this context (it holds the context's lock), so nothing more is sent, not even a release.
        self.stuck = False
        rc, self.handle = self.scard.SCardEstablishContext(self.scard.SCARD_SCOPE_USER)
        if rc != 0:
            _raise("SCardEstablishContext", rc, self.scard)

    def __enter__(self) -> "PcscContext":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self.handle is not None and not self.stuck:
            self.scard.SCardReleaseContext(self.handle)
        self.handle = None

    def readers(self) -> list[str]:
        rc, names = self.scard.SCardListReaders(self.handle, [])
        if (rc & 0xFFFFFFFF) == SCARD_E_NO_READERS_AVAILABLE:
            return []
        if rc != 0:
            _raise("SCardListReaders", rc, self.scard)
        return list(names)

    def states(self, names: list[str]) -> list[ReaderState]:
        if not names:
            return []
        s = self.scard
        rc, result = s.SCardGetStatusChange(self.handle, 0, [(n, s.SCARD_STATE_UNAWARE) for n in names])
        if rc != 0 and (rc & 0xFFFFFFFF) != SCARD_E_TIMEOUT:
            _raise("SCardGetStatusChange", rc, s)
        out = []
        for name, state, atr in result:
            out.append(ReaderState(
                name=name, card_present=bool(state & s.SCARD_STATE_PRESENT), atr=bytes(atr),
                exclusive=bool(state & s.SCARD_STATE_EXCLUSIVE), in_use=bool(state & s.SCARD_STATE_INUSE),
                mute=bool(state & s.SCARD_STATE_MUTE), raw_state=state,
            ))
        return out

    def wait_for_change(self, states: list[tuple[str, int]], timeout_ms: int) -> list[tuple[str, int, bytes]] | None:
        """SCardGetStatusChange with a timeout; None when the timeout expired."""
        s = self.scard
        rc, result = s.SCardGetStatusChange(self.handle, timeout_ms, states)
        if (rc & 0xFFFFFFFF) == SCARD_E_TIMEOUT:
            return None
        if rc != 0:
            _raise("SCardGetStatusChange", rc, s)
        return [(name, state, bytes(atr)) for name, state, atr in result]

    def connect(self, reader: str, exclusive: bool = False) -> "PcscLink":
        s = self.scard
        mode = s.SCARD_SHARE_EXCLUSIVE if exclusive else s.SCARD_SHARE_SHARED
        rc, card, protocol = s.SCardConnect(self.handle, reader, mode, s.SCARD_PROTOCOL_T0 | s.SCARD_PROTOCOL_T1)
        if rc != 0:
            _raise("SCardConnect", rc, s)
        return PcscLink(self, reader, card, protocol)


class _Worker:
    """One daemon thread that makes the blocking PC/SC calls, so the caller can stop waiting.

    A daemon thread (unlike concurrent.futures' workers, joined at exit) lets
    the process end even when a call stuck in pcsc-lite never returns.
    """

    def __init__(self) -> None:
        import queue
        import threading

        self._requests: Any = queue.SimpleQueue()
        threading.Thread(target=self._run, name="pcsc", daemon=True).start()

    def _run(self) -> None:
        while True:
            fn, args, box = self._requests.get()
            try:
                box["result"] = fn(*args)
            except BaseException as exc:  # handed back to the caller's thread
                box["error"] = exc
            box["done"].set()

    def call(self, fn: Any, args: tuple[Any, ...], timeout: float) -> Any:
        import threading

        box: dict[str, Any] = {"done": threading.Event()}
        self._requests.put((fn, args, box))
        if not box["done"].wait(timeout):
            raise TimeoutError
        if "error" in box:
            raise box["error"]
        return box["result"]


class PcscLink(TracedLink):
    """A connection to the card. Every APDU has a deadline: a mute card cannot hang cpsdiag."""

    def __init__(self, context: PcscContext, reader: str, card: Any, protocol: int):
        super().__init__()
        self.context = context
        self._worker: Any = None
        self.scard = context.scard
        self.reader = reader
        self.card = card
        self._protocol = protocol
        self.protocol = {self.scard.SCARD_PROTOCOL_T0: "T=0", self.scard.SCARD_PROTOCOL_T1: "T=1"}.get(protocol, "RAW")
        rc, _reader, _state, _proto, atr = self.scard.SCardStatus(card)
        if rc != 0:
            _raise("SCardStatus", rc, self.scard)
        self.atr = bytes(atr)

    def _call(self, fn: Any, *args: Any) -> Any:
        """Run a blocking PC/SC call with the context's deadline (pyscard releases the GIL while it waits)."""
        if self.context.stuck:
            raise errors.CardMute("SCardTransmit", SCARD_E_TIMEOUT, "an earlier command never returned")
        if self._worker is None:
            self._worker = _Worker()
        try:
            return self._worker.call(fn, args, self.context.card_timeout)
        except TimeoutError:
            self.context.stuck = True
            raise errors.CardMute("SCardTransmit", SCARD_E_TIMEOUT,
                                  f"no answer from the card in {self.context.card_timeout:g} s") from None

    def _transmit(self, apdu: bytes) -> tuple[bytes, int]:
        rc, response = self._call(self.scard.SCardTransmit, self.card, self._protocol, list(apdu))
        if (rc & 0xFFFFFFFF) == SCARD_E_NOT_TRANSACTED:
            # vpcd and some readers say "transaction failed" for a card that just left: ask the reader.
            self._raise_gone_or(rc)
        if rc != 0:
            _raise("SCardTransmit", rc, self.scard)
        if len(response) < 2:
            raise errors.CardProtocolError(f"response of {len(response)} bytes has no status word")
        return bytes(response[:-2]), (response[-2] << 8) | response[-1]

    def control(self, code: int, data: bytes = b"") -> bytes:
        """SCardControl: a command to the reader itself (PC/SC part 10 features, PIN pad)."""
        rc, response = self.scard.SCardControl(self.card, code, list(data))
        if rc != 0:
            _raise("SCardControl", rc, self.scard)
        return bytes(response)

    def control_code(self, function: int) -> int:
        """SCARD_CTL_CODE of the platform for a reader function number (3400 = GET_FEATURE_REQUEST)."""
        return int(self.scard.SCARD_CTL_CODE(function))

    def _raise_gone_or(self, rc: int) -> None:
        s = self.scard
        # Wait for pcscd's next poll (about 0.4 s) to notice an absent card; None: the state did not change.
        result = self.context.wait_for_change([(self.reader, s.SCARD_STATE_PRESENT)], 1000)
        if result and result[0][1] & s.SCARD_STATE_EMPTY:
            raise errors.CardRemoved("SCardTransmit", SCARD_W_REMOVED_CARD, "the card left the reader")
        _raise("SCardTransmit", rc, s)

    def close(self) -> None:
        if self.card is not None and not self.context.stuck:
            self.scard.SCardDisconnect(self.card, self.scard.SCARD_LEAVE_CARD)
        self.card = None

    def __enter__(self) -> "PcscLink":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
