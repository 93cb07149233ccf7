"""User-facing text in French or English through gettext.

Messages are written in English in the code and marked with ``_()`` (translated
now) or ``N_()`` (translated later, at render time). The French catalogue is
``cpsdiag/locale/fr/LC_MESSAGES/cpsdiag.po`` (compiled to ``.mo`` by
``scripts/i18n``). French is used when the locale is French (LC_ALL, then
LC_MESSAGES, then LANG starting with "fr"), English otherwise; ``--lang``
overrides.
"""

from __future__ import annotations

import gettext
import os
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path

DOMAIN = "cpsdiag"
LOCALE_DIR = Path(__file__).resolve().parent / "locale"
LANGUAGES = ("fr", "en")


def detect_language(environ: Mapping[str, str] | None = None) -> str:
    env = os.environ if environ is None else environ
    # The first variable that is set decides, as in POSIX locale resolution.
    for var in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = env.get(var)
        if value:
            return "fr" if value.lower().startswith("fr") else "en"
    return "en"


@lru_cache(maxsize=None)
def translations(lang: str) -> gettext.NullTranslations:
    if lang == "en":
        return gettext.NullTranslations()
    return gettext.translation(DOMAIN, localedir=str(LOCALE_DIR), languages=[lang], fallback=True)


_current: gettext.NullTranslations = gettext.NullTranslations()
_current_lang = "en"


def set_language(lang: str | None = None) -> str:
    """Choose the language for everything rendered afterwards; returns it."""
    global _current, _current_lang
    _current_lang = lang if lang in LANGUAGES else detect_language()
    _current = translations(_current_lang)
    return _current_lang


def language() -> str:
    return _current_lang


def _(message: str) -> str:
    return _current.gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return _current.ngettext(singular, plural, n)


def N_(message: str) -> str:
    """Mark a message for extraction without translating it yet."""
    return message
