"""Catalogue entries (title, detail, remedy) of the workstation findings; merged into cpsdiag.diag.catalog."""

from __future__ import annotations

ENTRIES: dict = {}
