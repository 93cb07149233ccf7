"""Packages whose public names load their module on first use (keeps `cpsdiag --help` light)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any


def lazy_getattr(package: str, api: Mapping[str, str]) -> Callable[[str], Any]:
    """A module ``__getattr__`` that imports ``api[name]`` (a module path) when ``name`` is first asked for."""

    def __getattr__(name: str) -> Any:
        if name not in api:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        import importlib

        return getattr(importlib.import_module(api[name]), name)

    return __getattr__
