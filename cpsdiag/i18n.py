"""User-facing text in French or English through gettext.

Messages are written in English in the code and marked with ``_()`` (translated
now) or ``N_()`` (translated later, at render time). The French catalogue is
``cpsdiag/locale/fr/LC_MESSAGES/cpsdiag.po`` (compiled to ``.mo`` by
``scripts/i18n``). ``--lang`` chooses; without it the environment does, in
gettext's order: the first of LANGUAGE, LC_ALL, LC_MESSAGES and LANG that is
set decides. LANGUAGE is a list of preferences ("de:fr:en"): its first
language cpsdiag speaks wins. A locale ("fr_FR.UTF-8") means French when it
starts with "fr", English otherwise ("C", "POSIX" included).
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


def _language_of(locale_name: str) -> str | None:
    """"fr" or "en" for a locale or language name ("fr_FR.UTF-8", "en", "C"); None for another language."""
    name = locale_name.strip().lower()
    if name in ("c", "posix") or name.startswith(("c.", "posix.")):
        return "en"
    base = name.split("_")[0].split(".")[0].split("@")[0]
    return next((lang for lang in LANGUAGES if base.startswith(lang)), None)    # "french", glibc's alias, too


def detect_language(environ: Mapping[str, str] | None = None) -> str:
    env = os.environ if environ is None else environ
    # The first variable that is set decides, as gettext's own lookup does.
    for var in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        value = env.get(var)
        if not value:
            continue
        if var == "LANGUAGE":
            # A list of preferences: the first one cpsdiag speaks; none of them: English, the source language.
            return next((lang for lang in map(_language_of, value.split(":")) if lang), "en")
        return "fr" if _language_of(value) == "fr" else "en"
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


def pgettext(context: str, message: str) -> str:
    """A message whose translation depends on what it is said of (French agrees in gender: "non installée"
    of the Cryptolib, "non installé" of a program)."""
    return _current.pgettext(context, message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return _current.ngettext(singular, plural, n)


def N_(message: str) -> str:
    """Mark a message for extraction without translating it yet."""
    return message
