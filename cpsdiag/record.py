"""What every JSON record of cpsdiag is made of: frozen msgspec structs whose fields carry their meaning.

``Doc`` describes a field (the description goes into the generated
docs/report-schema.md and the JSON Schema) and marks the fields that
identify the holder or the card: redaction finds them by this mark, not by
their names (``identifying_fields``).
"""

from __future__ import annotations

import functools
import typing
from typing import Annotated, Any

from msgspec import Meta, Struct, UnsetType

IDENTIFYING_KINDS = ("name", "identifier", "card_number", "serial", "fingerprint", "subject")


def Doc(description: str, identifying: str | None = None, **extra: Any) -> Meta:
    """A field's description, and the kind of identifying value it holds (redaction's mark)."""
    if identifying is not None:
        if identifying not in IDENTIFYING_KINDS:
            raise ValueError(f"unknown kind of identifying value {identifying!r}")
        extra["identifying"] = identifying
    return Meta(description=description or None, extra=extra or None,
                extra_json_schema={"x-identifying": identifying} if identifying else None)


class Record(Struct, frozen=True, kw_only=True):
    """Base of the records: frozen. Subclasses say kw_only=True (msgspec does not inherit it) and frozen=True (which msgspec inherits, but type checkers do not see): fields with and
    without defaults then mix, and the JSON order stays the field order."""


Scalar = str | int | float | bool | None
# Redacted reports carry a keyed hash after each identifying value: a list for a list of values.
Hmac = Annotated[str | list[str] | UnsetType, Doc("keyed hash of the value before it (redacted reports only)")]
HMAC_SUFFIX = "_hmac"


def field_meta(cls: type[Struct]) -> dict[str, dict[str, Any]]:
    """The ``extra`` of each field's ``Doc`` (empty for a field without one)."""
    return _field_meta(cls)


@functools.cache
def _field_meta(cls: type[Struct]) -> dict[str, dict[str, Any]]:
    hints = typing.get_type_hints(cls, include_extras=True)
    out: dict[str, dict[str, Any]] = {}
    for name in cls.__struct_fields__:
        extra: dict[str, Any] = {}
        hint = hints[name]
        if typing.get_origin(hint) is Annotated:
            for meta in hint.__metadata__:
                if isinstance(meta, Meta) and meta.extra:
                    extra.update(meta.extra)
        out[name] = extra
    return out


def identifying_fields(cls: type[Struct]) -> dict[str, str]:
    """Field name -> kind of identifying value, for the fields of ``cls`` marked so."""
    return {name: extra["identifying"] for name, extra in field_meta(cls).items() if "identifying" in extra}


R = typing.TypeVar("R", bound=Struct)


def displayable(record: R) -> R:
    """A copy of ``record`` whose every text (keys of free-form maps too) is safe to show on a terminal or a page.

    The one place where data from a card, a certificate, a bundle or a server
    loses the escape sequences and control characters it may carry
    (``termtext.clean``): the views receive records that went through it.
    """
    import msgspec

    from cpsdiag.termtext import clean

    def walk(node: Any) -> Any:
        if isinstance(node, str):
            return clean(node)
        if isinstance(node, dict):
            return {clean(str(k)): walk(v) for k, v in node.items()}
        if isinstance(node, list):
            return [walk(v) for v in node]
        return node

    return msgspec.convert(walk(msgspec.to_builtins(record)), type(record))
