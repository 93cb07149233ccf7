"""The files of a profile: where the shipped ones are, reading card.toml, the files it names.

Apart from ``profile.py`` because the test PKI (``pkigen.py``) reads profiles
too, and ``profile.py`` asks the test PKI for the shipped profiles' folders.
"""

from __future__ import annotations

import tomllib
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

from .errors import ProfileError


def shipped_profiles() -> Traversable:
    """The profiles shipped in the package (card.toml only: their certificates are made by the test PKI)."""
    return resources.files(__package__).joinpath("profiles")


def shipped_names() -> list[str]:
    return sorted(entry.name for entry in shipped_profiles().iterdir()
                  if entry.joinpath("card.toml").is_file())


def read_toml(folder: Traversable) -> dict[str, Any]:
    file = folder.joinpath("card.toml")
    try:
        text = file.read_bytes().decode("utf-8")
    except OSError as exc:
        raise ProfileError(file, None, f"cannot read: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        raise ProfileError(file, None, f"not a UTF-8 text file (byte {exc.object[exc.start]:#04x} at offset "
                           f"{exc.start}); a profile is a TOML file") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ProfileError(file, None, f"not valid TOML: {exc}") from None


def inside(folder: Path, name: Any, file: Path | Traversable, field_name: str) -> Path:
    """Where a file a profile names lives: a relative path that stays inside the profile's folder."""
    if not isinstance(name, str) or not name:
        raise ProfileError(file, field_name, "missing file name")
    candidate = folder / name
    if Path(name).is_absolute() or not candidate.resolve().is_relative_to(folder.resolve()):
        raise ProfileError(file, field_name, f"{name!r} is outside the profile folder; files of a profile "
                           "must be inside its folder")
    return candidate


def profile_file(folder: Path, name: Any, file: Path | Traversable, field_name: str) -> Path:
    """A file a profile names, which must exist inside the profile's folder."""
    candidate = inside(folder, name, file, field_name)
    if not candidate.is_file():
        raise ProfileError(file, field_name, f"file not found: {candidate}")
    return candidate
