"""The emulator's one error: a profile that cannot be used as written.

Apart from ``profile.py`` because the modules that parse parts of a profile
(``carddata.py``, ``faults.py``) raise it too, and ``profile.py`` imports them.
"""

from __future__ import annotations

from importlib.resources.abc import Traversable
from pathlib import Path

from cpsdiag.errors import UsageError


class ProfileError(UsageError):
    """A profile cannot be used as written: a usage error (exit status 2), never a traceback."""

    def __init__(self, file: Path | Traversable | str, field_name: str | None, message: str):
        self.file = str(file)
        self.field = field_name
        self.message = message
        where = f"{self.file}: field '{field_name}'" if field_name else self.file
        super().__init__(f"{where}: {message}")
