"""What a diagnosis is doing right now, for whoever shows it (the CLI's live status line).

The library reports each step to an observer, a plain callable taking a
``Step``; it never renders anything itself and does not know whether anyone
listens. ``NO_PROGRESS`` ignores every step. An observer must be quick and
must not raise: it runs between two card commands.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

# The steps, in the order a check runs them. "revocation" is the hook of the revocation check to come.
STEPS = ("pcsc", "readers", "connect", "read", "pin_counter", "pin", "signature", "tls", "revocation",
         "environment")


@dataclass(frozen=True)
class Step:
    name: str                   # one of STEPS
    target: str | None = None   # what the step works on: a reader, a card file, a URL


Observer = Callable[[Step], None]


def NO_PROGRESS(step: Step) -> None:  # noqa: N802 (a constant-like default)
    """The observer of a run nobody watches."""
