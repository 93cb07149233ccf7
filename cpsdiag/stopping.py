"""SIGTERM, SIGHUP and SIGINT as an exception, so that every ``finally`` runs.

A CI runner or ``timeout`` stops a job with SIGTERM, a closed terminal sends
SIGHUP; Python's default for both is to die on the spot, leaving behind the
processes and temporary folders a command had made. Inside ``stop_on_signals()``
the first of the three signals raises ``Stopped`` in the main thread instead,
and the code unwinds as it does for Ctrl-C. Later ones are ignored, so that
the clean-up they triggered is not cut short.
"""

from __future__ import annotations

import signal
from collections.abc import Callable, Iterator
from contextlib import contextmanager

SIGNALS = (signal.SIGTERM, signal.SIGHUP, signal.SIGINT)


class Stopped(BaseException):
    """A stop signal arrived. A BaseException, like KeyboardInterrupt: ``except Exception`` lets it through."""

    def __init__(self, signum: int):
        self.signum = signum
        super().__init__(f"stopped by {signal.Signals(signum).name}")

    @property
    def exit_status(self) -> int:
        """What a shell reports for a command killed by this signal."""
        return 128 + self.signum


@contextmanager
def stop_on_signals(make: Callable[[int], BaseException] = Stopped, signals: tuple[int, ...] = SIGNALS) -> Iterator[None]:
    """Raise ``make(signum)`` on the first of ``signals``; restore the previous handlers after.

    A signal the process was started ignoring (``nohup``, a background job's SIGINT) stays ignored.
    """
    received: list[int] = []

    def handler(signum: int, frame: object) -> None:
        received.append(signum)
        if len(received) == 1:
            raise make(signum)

    previous = {signum: signal.getsignal(signum) for signum in signals}
    for signum, old in previous.items():
        if old is not signal.SIG_IGN:
            signal.signal(signum, handler)
    try:
        yield
    finally:
        for signum, old in previous.items():
            if old is not None:         # None: a handler installed from C, which Python cannot put back
                signal.signal(signum, old)


def interrupt_on_stop_signals() -> None:
    """For the rest of the process, SIGTERM and SIGHUP raise KeyboardInterrupt, as Ctrl-C does.

    For a command whose Ctrl-C handling already cleans up: one line gives the other two signals the same path.
    """
    def handler(signum: int, frame: object) -> None:
        raise KeyboardInterrupt(f"stopped by {signal.Signals(signum).name}")

    for signum in (signal.SIGTERM, signal.SIGHUP):
        if signal.getsignal(signum) is not signal.SIG_IGN:
            signal.signal(signum, handler)
