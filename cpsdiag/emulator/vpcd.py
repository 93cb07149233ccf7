"""The vpcd side of the virtual reader: a TCP client speaking vpcd's framing.

vpcd (vsmartcard's IFD handler, loaded by pcscd) listens; the card connects.
Every message is a 2-byte big-endian length and a payload. A 1-byte payload is
a control message (0 power off, 1 power on, 2 reset, 4 get ATR; only the last
one is answered); anything longer is a command APDU.
"""

from __future__ import annotations

import logging
import socket
import struct
import time
from typing import TYPE_CHECKING, Callable, Protocol

if TYPE_CHECKING:
    from .faults import Faults

# What a verbose card prints: each command and its response.
Trace = Callable[[bytes, bytes], None]

log = logging.getLogger("cpsdiag.emulator")

POWER_OFF, POWER_ON, RESET, GET_ATR = 0, 1, 2, 4
DEFAULT_PORT = 0x8C7B  # 35963, slot 0 of Debian's vpcd reader.conf


class Card(Protocol):
    atr: bytes

    def process(self, raw: bytes) -> bytes: ...
    def power_on(self) -> None: ...
    def power_off(self) -> None: ...
    def reset(self) -> None: ...


def _recv_exact(sock: socket.socket, n: int) -> bytes:
    buf = bytearray()
    while len(buf) < n:
        # vpcd writes length and payload in two send() calls without TCP_NODELAY;
        # with delayed ACKs every APDU would stall 40 ms (lab.md pitfall 1).
        # TCP_QUICKACK is one-shot, so it is re-armed before every receive.
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK, 1)
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise ConnectionError("vpcd closed the connection")
        buf += chunk
    return bytes(buf)


class Removed(Exception):
    """The card leaves the reader (fault injection)."""


def _stall_forever(sock: socket.socket) -> None:
    # A mute card: the reader has sent a command and never hears back. Keep the
    # connection open (the card is still in the reader) and read nothing more.
    while True:
        time.sleep(3600)


def serve_connection(sock: socket.socket, card: Card, trace: Trace | None = None, faults: Faults | None = None,
                     byte_seconds: float = 0.0) -> None:
    """Answer vpcd on one connection until it closes."""
    served = 0
    while True:
        (n,) = struct.unpack(">H", _recv_exact(sock, 2))
        msg = _recv_exact(sock, n) if n else b""
        if n == 1:
            code = msg[0]
            if code == GET_ATR:
                sock.sendall(struct.pack(">H", len(card.atr)) + card.atr)
            elif code == POWER_ON:
                card.power_on()
                log.debug("power on")
            elif code == POWER_OFF:
                card.power_off()
                log.debug("power off")
            elif code == RESET:
                card.reset()
                log.debug("reset")
            continue
        served += 1
        if faults is not None and faults.mute_after_apdus is not None and served > faults.mute_after_apdus:
            log.info("fault: card mute after %d APDUs", faults.mute_after_apdus)
            _stall_forever(sock)
        rsp = card.process(msg)
        if trace is not None:
            trace(msg, rsp)
        if byte_seconds:
            # T=0 at the card's own speed: every byte of command and response crosses the contact.
            time.sleep((len(msg) + len(rsp)) * byte_seconds)
        sock.sendall(struct.pack(">H", len(rsp)) + rsp)
        if faults is not None and faults.remove_after_apdus is not None and served >= faults.remove_after_apdus:
            raise Removed()


def serve(card: Card, host: str = "127.0.0.1", port: int = DEFAULT_PORT, trace: Trace | None = None,
          once: bool = False, faults: Faults | None = None, byte_seconds: float = 0.0) -> None:
    """Insert the card into the vpcd slot at host:port and keep it there.

    pcscd may start after the emulator or restart under it: the card keeps
    reconnecting, which to pcscd looks like the card being inserted again.
    """
    announced = False
    while True:
        try:
            sock = socket.create_connection((host, port), timeout=5)
        except OSError:
            if not announced:
                log.info("waiting for vpcd on %s:%d (is pcscd running with the vpcd driver?)", host, port)
                announced = True
            time.sleep(0.1)
            continue
        sock.settimeout(None)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        log.info("card inserted in the vpcd slot %s:%d", host, port)
        announced = False
        try:
            serve_connection(sock, card, trace, faults, byte_seconds)
        except Removed:
            assert faults is not None       # only a removal fault removes the card
            sock.close()
            card.power_off()
            delay = faults.reinsert_after_seconds
            log.info("fault: card removed after %d APDUs%s", faults.remove_after_apdus,
                     "" if delay is None else f", back in {delay:g} s")
            if delay is None:
                while True:
                    time.sleep(3600)
            time.sleep(delay)
            faults = None       # reinserted once: the fault has happened
            continue
        except (ConnectionError, OSError) as exc:
            log.info("vpcd connection lost (%s)", exc)
        finally:
            sock.close()
        card.power_off()
        if once:
            return
        time.sleep(0.1)
