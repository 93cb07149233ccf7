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
from typing import Protocol

log = logging.getLogger("cpsdiag.emulator")

POWER_OFF, POWER_ON, RESET, GET_ATR = 0, 1, 2, 4
DEFAULT_PORT = 0x8C7B  # 35963, slot 0 of Debian's vpcd reader.conf


class Card(Protocol):
    atr: bytes

    def process(self, raw: bytes) -> bytes: ...
    def power_on(self) -> None: ...
    def power_off(self) -> None: ...
    def reset(self) -> None: ...


class Stop(Exception):
    """Raised from a signal handler to leave the serve loop."""


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


def serve_connection(sock: socket.socket, card: Card, trace=None) -> None:
    """Answer vpcd on one connection until it closes."""
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
        rsp = card.process(msg)
        if trace is not None:
            trace(msg, rsp)
        sock.sendall(struct.pack(">H", len(rsp)) + rsp)


def serve(card: Card, host: str = "127.0.0.1", port: int = DEFAULT_PORT, trace=None, once: bool = False) -> None:
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
            serve_connection(sock, card, trace)
        except (ConnectionError, OSError) as exc:
            log.info("vpcd connection lost (%s)", exc)
        finally:
            sock.close()
        card.power_off()
        if once:
            return
        time.sleep(0.1)
