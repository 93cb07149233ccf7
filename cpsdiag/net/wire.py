"""Bytes on a socket within a deadline, and the head of an HTTP/1.x answer."""

from __future__ import annotations

import socket
import time
from dataclasses import dataclass, field

from cpsdiag.net.errors import HttpProtocolError, Timeout

MAX_HEAD = 32 * 1024


class Deadline:
    """One timeout for a whole exchange: every wait gets what is left of it."""

    def __init__(self, seconds: float):
        self.seconds = seconds
        self.end = time.monotonic() + seconds

    def left(self) -> float:
        return self.end - time.monotonic()

    def arm(self, sock: socket.socket, what: str) -> None:
        left = self.left()
        if left <= 0:
            raise Timeout(f"{what}: no answer within {self.seconds:g} s")
        sock.settimeout(left)


@dataclass
class Head:
    status: int
    reason: str
    status_line: str
    headers: list[tuple[str, str]] = field(default_factory=list)

    def get(self, name: str) -> str | None:
        wanted = name.lower()
        return next((v for k, v in self.headers if k.lower() == wanted), None)

    def get_all(self, name: str) -> list[str]:
        wanted = name.lower()
        return [v for k, v in self.headers if k.lower() == wanted]


class Reader:
    """Buffered reads from a socket, each bounded by the deadline."""

    def __init__(self, sock: socket.socket, deadline: Deadline, what: str):
        self.sock, self.deadline, self.what = sock, deadline, what
        self.buffer = bytearray()
        self.eof = False

    def fill(self) -> bool:
        """Read once more; False at the end of the stream."""
        if self.eof:
            return False
        self.deadline.arm(self.sock, self.what)
        try:
            chunk = self.sock.recv(65536)
        except (socket.timeout, TimeoutError):
            raise Timeout(f"{self.what}: no answer within {self.deadline.seconds:g} s") from None
        if not chunk:
            self.eof = True
            return False
        self.buffer += chunk
        return True

    def take(self, n: int) -> bytes:
        data = bytes(self.buffer[:n])
        del self.buffer[:n]
        return data

    def line(self, limit: int = MAX_HEAD) -> bytes | None:
        while b"\r\n" not in self.buffer:
            if len(self.buffer) > limit:
                raise HttpProtocolError(f"{self.what}: a line longer than {limit} bytes")
            if not self.fill():
                return None
        index = self.buffer.index(b"\r\n")
        return self.take(index + 2)[:-2]


def read_head(reader: Reader) -> Head | None:
    """Status line and headers; None when the peer closed before saying anything."""
    first = reader.line()
    if first is None:
        if reader.buffer:
            raise HttpProtocolError(f"{reader.what}: the answer ended in its first line")
        return None
    status_line = first.decode("latin-1", "replace").strip()
    parts = status_line.split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/1.") or not parts[1].isdigit():
        raise HttpProtocolError(f"{reader.what}: not an HTTP answer: {status_line[:80]!r}")
    head = Head(int(parts[1]), parts[2] if len(parts) > 2 else "", status_line)
    size = len(first)
    while True:
        line = reader.line()
        if line is None:
            raise HttpProtocolError(f"{reader.what}: the answer ended in its headers")
        if not line:
            return head
        size += len(line)
        if size > MAX_HEAD:
            raise HttpProtocolError(f"{reader.what}: headers longer than {MAX_HEAD} bytes")
        name, sep, value = line.decode("latin-1", "replace").partition(":")
        if sep:
            head.headers.append((name.strip(), value.strip()))
