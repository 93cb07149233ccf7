"""Decoders for the private extensions of CPS card certificates (arc 1.2.250.1.71.1.2).

Each decoder takes the raw DER of the extension value (the content of the
extnValue OCTET STRING, as ``cryptography`` returns it in
``UnrecognizedExtension.value``) and returns a plain Python value, or raises
:class:`MalformedDataError`. Nothing else escapes, whatever the bytes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Mapping, TypeVar

from cpsdiag.errors import MalformedDataError
from cpsdiag.pki import codes

_TAG_INTEGER = 0x02
_TAG_OCTET_STRING = 0x04
_TAG_UTF8_STRING = 0x0C
_TAG_PRINTABLE_STRING = 0x13
_TAG_IA5_STRING = 0x16
_STRING_TAGS = {_TAG_UTF8_STRING: "utf-8", _TAG_PRINTABLE_STRING: "ascii", _TAG_IA5_STRING: "ascii"}

# These values are small codes; a longer INTEGER can only be garbage, and refusing it keeps big ints out of reports.
_MAX_INTEGER_OCTETS = 4
_MAX_STRING_OCTETS = 256

_T = TypeVar("_T")


def read_single_tlv(data: bytes, what: str, where: str | None = None) -> tuple[int, bytes]:
    """Split ``data`` into (tag, value), requiring exactly one definite-length, single-byte-tag TLV."""
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise MalformedDataError(what, f"expected bytes, got {type(data).__name__}", where=where)
    data = bytes(data)
    if len(data) < 2:
        raise MalformedDataError(what, "truncated TLV header", where=where, offset=len(data))
    tag = data[0]
    if tag & 0x1F == 0x1F:
        raise MalformedDataError(what, "multi-byte tags are not used here", where=where, offset=0)
    first = data[1]
    offset = 2
    if first < 0x80:
        length = first
    elif first == 0x80:
        raise MalformedDataError(what, "indefinite length is not allowed in DER", where=where, offset=1)
    else:
        n = first & 0x7F
        if n > 4:
            raise MalformedDataError(what, f"length field of {n} bytes", where=where, offset=1)
        if len(data) < 2 + n:
            raise MalformedDataError(what, "truncated length field", where=where, offset=len(data))
        length = int.from_bytes(data[2 : 2 + n], "big")
        offset = 2 + n
    end = offset + length
    if end > len(data):
        raise MalformedDataError(
            what, f"value of {length} bytes overruns the {len(data)}-byte buffer", where=where, offset=offset
        )
    if end != len(data):
        raise MalformedDataError(what, f"{len(data) - end} trailing bytes after the value", where=where, offset=end)
    return tag, data[offset:end]


def _expect(data: bytes, tags: set[int] | frozenset[int], what: str, where: str | None) -> tuple[int, bytes]:
    tag, value = read_single_tlv(data, what, where)
    if tag not in tags:
        wanted = "/".join(f"0x{t:02X}" for t in sorted(tags))
        raise MalformedDataError(what, f"tag 0x{tag:02X} where {wanted} was expected", where=where, offset=0)
    return tag, value


def _decode_small_unsigned(data: bytes, what: str, where: str | None) -> int:
    _, value = _expect(data, {_TAG_INTEGER}, what, where)
    if not value:
        raise MalformedDataError(what, "empty INTEGER", where=where, offset=2)
    if len(value) > _MAX_INTEGER_OCTETS:
        raise MalformedDataError(what, f"INTEGER of {len(value)} bytes is too long for a code", where=where, offset=2)
    number = int.from_bytes(value, "big", signed=True)
    if number < 0:
        raise MalformedDataError(what, f"negative code {number}", where=where, offset=2)
    return number


def decode_card_type(data: bytes, where: str | None = None) -> int:
    """Extension 1.2.250.1.71.1.2.2: the G02 card type (0 CPS, 1 CPF, 2 CPE/CDE, 3 CPA/CDA)."""
    return _decode_small_unsigned(data, "card type extension (1.2.250.1.71.1.2.2)", where)


def decode_profession(data: bytes, where: str | None = None) -> int:
    """Extension 1.2.250.1.71.1.2.7: the G15 profession code (60 = Infirmier)."""
    return _decode_small_unsigned(data, "profession extension (1.2.250.1.71.1.2.7)", where)


def decode_product_category(data: bytes, where: str | None = None) -> int:
    """Extension 1.2.250.1.71.1.2.5: the G01 product category, one byte whose hex digits are the code (0x80 = TEST card)."""
    what = "product category extension (1.2.250.1.71.1.2.5)"
    _, value = _expect(data, {_TAG_OCTET_STRING}, what, where)
    if len(value) != 1:
        raise MalformedDataError(what, f"{len(value)} bytes where one was expected", where=where, offset=2)
    return value[0]


@dataclass(frozen=True, slots=True)
class CardIdentifier:
    """Extension 1.2.250.1.71.1.2.3, ``"<issuer>/<card number>"``.

    ``issuer`` is the part before the slash (``8025000001`` on every card seen);
    ``number`` the part after it, the serial number printed on the card.
    A value without a slash is kept whole in ``number``.
    """

    raw: str
    issuer: str | None
    number: str


def decode_card_identifier(data: bytes, where: str | None = None) -> CardIdentifier:
    what = "card identifier extension (1.2.250.1.71.1.2.3)"
    tag, value = _expect(data, frozenset(_STRING_TAGS), what, where)
    if not value:
        raise MalformedDataError(what, "empty string", where=where, offset=2)
    if len(value) > _MAX_STRING_OCTETS:
        raise MalformedDataError(what, f"string of {len(value)} bytes is implausibly long", where=where, offset=2)
    try:
        text = value.decode(_STRING_TAGS[tag])
    except UnicodeDecodeError as exc:
        raise MalformedDataError(what, "string is not valid text", where=where, offset=2 + exc.start) from None
    if not text.isprintable():
        raise MalformedDataError(what, "string holds control characters", where=where, offset=2)
    issuer, slash, number = text.partition("/")
    if not slash:
        return CardIdentifier(raw=text, issuer=None, number=text)
    if not number:
        raise MalformedDataError(what, "nothing after the '/'", where=where, offset=2 + len(value))
    return CardIdentifier(raw=text, issuer=issuer or None, number=number)


@dataclass(frozen=True, slots=True)
class PrivateExtensions:
    """The decoded private extensions; a field is None when the extension is absent or did not decode.

    ``problems`` lists, in English, every extension that was present but could
    not be decoded, so that a caller can report it instead of silently losing it.
    """

    card_type: int | None = None
    card_identifier: CardIdentifier | None = None
    product_category: int | None = None
    profession: int | None = None
    problems: tuple[str, ...] = ()


def decode_private_extensions(raw: Mapping[str, bytes], where: str | None = None) -> PrivateExtensions:
    """Decode whichever of the four private extensions ``raw`` (dotted OID -> extension DER) holds.

    Never raises for bad content: a failing extension becomes a ``problems`` entry.
    """
    problems: list[str] = []
    card_type = _attempt(raw, codes.OID_CARD_TYPE, decode_card_type, where, problems)
    card_identifier = _attempt(raw, codes.OID_CARD_IDENTIFIER, decode_card_identifier, where, problems)
    category = _attempt(raw, codes.OID_PRODUCT_CATEGORY, decode_product_category, where, problems)
    profession = _attempt(raw, codes.OID_PROFESSION, decode_profession, where, problems)
    return PrivateExtensions(
        card_type=card_type,
        card_identifier=card_identifier,
        product_category=category,
        profession=profession,
        problems=tuple(problems),
    )


def _attempt(
    raw: Mapping[str, bytes],
    oid: str,
    decoder: Callable[[bytes, str | None], _T],
    where: str | None,
    problems: list[str],
) -> _T | None:
    data = raw.get(oid)
    if data is None:
        return None
    try:
        return decoder(data, where)
    except MalformedDataError as exc:
        problems.append(str(exc))
        return None
