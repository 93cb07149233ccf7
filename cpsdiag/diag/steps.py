"""A step that fails unexpectedly is recorded, and the diagnosis goes on with what it has.

Below ``collect.py`` and ``keys.py``, which both run guarded steps.
"""

from __future__ import annotations

import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from cpsdiag import errors


@dataclass
class StepFailure:
    """A step that failed unexpectedly (a bug): reported as INTERNAL_ERROR for that step only."""

    step: str
    error: str                       # "ValueError: ..."
    traceback: str = field(default="", repr=False)   # shown with --debug, never written to a report


@contextmanager
def guarded_step(failures: list[StepFailure], step: str) -> Iterator[None]:
    """Run one step; an unexpected exception is recorded and the diagnosis goes on with what it has.

    PC/SC errors pass through (expected: the caller's finding explains them), and so do usage errors (a
    malformed PIN typed at the prompt: exit 2, as for any bad input).
    """
    try:
        yield
    except (errors.PcscError, errors.UsageError):
        raise
    except Exception as exc:
        failures.append(StepFailure(step, f"{type(exc).__name__}: {exc}", traceback.format_exc()))
