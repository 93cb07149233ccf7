"""Small helpers for tests that start local servers."""

from __future__ import annotations

import socket
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port: int, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on {port}")


@contextmanager
def http_server(handler: type) -> Iterator[int]:
    """A plain HTTP server on 127.0.0.1 in a thread, for the duration of a block; yields its port."""
    from http.server import ThreadingHTTPServer

    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def running_testssl_server(anchors: Path, folder: Path, versions: str = "1.2") -> Iterator[tuple[int, Path]]:
    """``cpsdiag testssl-server`` trusting ``anchors``, listening; yields (port, the CA file clients trust)."""
    from tests.support.cli import spawn_cpsdiag

    port = free_port()
    ca = folder / "ca.pem"
    server = spawn_cpsdiag("testssl-server", "--port", str(port), "--anchors", str(anchors), "--ca-out", str(ca),
                           "--tls-versions", versions)
    try:
        wait_port(port)
        yield port, ca
    finally:
        server.terminate()
        server.wait(10)
