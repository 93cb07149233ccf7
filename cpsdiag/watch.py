"""Watch readers and cards: events from SCardGetStatusChange, no polling loop of cpsdiag's own.

A daemon thread blocks in SCardGetStatusChange (with pcsc-lite's reader
hot-plug pseudo-reader, so reader arrivals wake it too) and hands events to
the caller, whose thread stays interruptible; stopping cancels the wait
with SCardCancel.
"""

from __future__ import annotations

import queue
import threading
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Iterator

from cpsdiag import errors

PNP_READER = "\\\\?PnP?\\Notification"
INFINITE = 0xFFFFFFFF
FLAP_WINDOW_S = 10.0      # insertions and removals counted over this window
FLAP_THRESHOLD = 6        # this many card events in the window: a bad contact or USB power


@dataclass(frozen=True)
class Event:
    time: datetime
    kind: str             # reader_added | reader_removed | card_inserted | card_removed | card_mute
                          # | card_flapping | service_stopped | watching
    reader: str | None = None
    atr: str | None = None
    card: str | None = None
    detail: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"time": self.time.isoformat().replace("+00:00", "Z"), "event": self.kind}
        for key in ("reader", "atr", "card", "detail"):
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        return out


@dataclass
class Flapping:
    window: float = FLAP_WINDOW_S
    threshold: int = FLAP_THRESHOLD
    recent: dict[str, deque[float]] = field(default_factory=lambda: defaultdict(deque))
    totals: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    def record(self, reader: str, now: float) -> bool:
        """Count a card event; True when the reader is flapping (once per burst)."""
        events = self.recent[reader]
        events.append(now)
        self.totals[reader] += 1
        while events and now - events[0] > self.window:
            events.popleft()
        if len(events) >= self.threshold:
            events.clear()
            return True
        return False


def _describe(atr: bytes) -> str | None:
    from cpsdiag.card.identify import guess, identify
    from cpsdiag.iso7816.atr import parse_atr

    try:
        info = parse_atr(atr)
    except errors.MalformedDataError:
        return None
    model = identify(info) or guess(info)
    return model.label if model else None


class Watcher:
    def __init__(self) -> None:
        from cpsdiag.transport.pcsc import PcscContext

        self.context = PcscContext()
        self.scard = self.context.scard
        self.events: queue.SimpleQueue[Event | None] = queue.SimpleQueue()
        self.flapping = Flapping()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="watch", daemon=True)

    def _now(self) -> datetime:
        return datetime.now(timezone.utc)

    def _emit(self, kind: str, **kwargs: Any) -> None:
        self.events.put(Event(self._now(), kind, **kwargs))

    def _card_event(self, name: str, state: int, atr: bytes, before: int) -> None:
        s = self.scard
        present, was = bool(state & s.SCARD_STATE_PRESENT), bool(before & s.SCARD_STATE_PRESENT)
        if present and not was:
            hexatr = atr.hex(" ").upper() or None
            if state & s.SCARD_STATE_MUTE:
                self._emit("card_mute", reader=name, atr=hexatr)
            else:
                self._emit("card_inserted", reader=name, atr=hexatr, card=_describe(atr))
        elif was and not present:
            self._emit("card_removed", reader=name)
        else:
            return
        if self.flapping.record(name, time.monotonic()):
            self._emit("card_flapping", reader=name,
                       detail=f"{self.flapping.threshold} card events within {self.flapping.window:g} s")

    def _run(self) -> None:
        s = self.scard
        states: dict[str, int] = {}
        try:
            names = self.context.readers()
            for name, state, atr in self.context.wait_for_change([(n, s.SCARD_STATE_UNAWARE) for n in names], 0) or []:
                states[name] = state & ~s.SCARD_STATE_CHANGED
                if state & s.SCARD_STATE_PRESENT:
                    self._emit("card_inserted", reader=name, atr=bytes(atr).hex(" ").upper(),
                               card=_describe(bytes(atr)), detail="present when watching started")
            self._emit("watching", detail=", ".join(names) or "no reader")
            pnp = 0
            while not self._stop.is_set():
                query = [(n, st) for n, st in states.items()] + [(PNP_READER, pnp)]
                try:
                    result = self.context.wait_for_change(query, INFINITE)
                except errors.PcscError as exc:
                    if exc.hresult == 0x80100002:      # SCARD_E_CANCELLED: stop() was called
                        return
                    raise
                if result is None:
                    continue
                for name, state, atr in result:
                    if name == PNP_READER:
                        if state & s.SCARD_STATE_CHANGED:
                            pnp = state & ~s.SCARD_STATE_CHANGED
                            self._readers_changed(states)
                        continue
                    if not state & s.SCARD_STATE_CHANGED or name not in states:
                        continue
                    before = states[name]
                    states[name] = state & ~s.SCARD_STATE_CHANGED
                    if state & (s.SCARD_STATE_UNKNOWN | s.SCARD_STATE_UNAVAILABLE):
                        continue          # the reader is going away: the PnP event says so
                    self._card_event(name, state, bytes(atr), before)
        except errors.PcscError as exc:
            self._emit("service_stopped", detail=str(exc))
        finally:
            self.events.put(None)

    def _readers_changed(self, states: dict[str, int]) -> None:
        s = self.scard
        names = set(self.context.readers())
        for gone in sorted(set(states) - names):
            del states[gone]
            self._emit("reader_removed", reader=gone)
        for new in sorted(names - set(states)):
            states[new] = s.SCARD_STATE_UNAWARE
            self._emit("reader_added", reader=new)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        try:
            self.scard.SCardCancel(self.context.handle)
        except Exception:  # the service may already be gone: nothing is waiting then
            pass

    def __iter__(self) -> Iterator[Event]:
        while True:
            event = self.events.get()
            if event is None:
                return
            yield event
