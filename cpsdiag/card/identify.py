"""Which CPS card an ATR belongs to.

The table follows ANS's Cryptolib sources (``CPS_ATR_LIST`` in its OpenSC-based
driver, whose ``_is_cps_card`` compares ATRs byte for byte even though the table
carries masks) and pcsc-tools' list; upstream OpenSC matches the CPS3 under a mask.

:func:`identify` is strict: an exact ATR, or a listed mask, or nothing.
:func:`guess` is separate and may return a low-confidence model for an ATR in no
table that carries ANS's signature in its historical bytes.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import Mapping

from cpsdiag.card.generation import GENERATIONS
from cpsdiag.iso7816.atr import Atr, decode_compact_tlv

__all__ = ["CardModel", "KNOWN", "KNOWN_ATRS", "GENERATION_HINT", "MIN_CRYPTOLIB", "identify", "guess"]


@dataclass(frozen=True)
class CardModel:
    key: str
    generation: str
    """``"CPS3"``, ``"CPS4"``, or ``"CPS"`` for an older card of uncertain generation."""
    interface: str
    """``"contact"`` or ``"contactless"``."""
    label: str
    exact: bool
    """The ATR is byte-for-byte the listed one, which is what ANS's Cryptolib requires."""
    min_cryptolib: str | None
    """Oldest Cryptolib CPS version that drives the card; None when none is known to."""
    note: str | None = None


@dataclass(frozen=True)
class _Known:
    key: str
    generation: str
    interface: str
    label: str
    atr: bytes
    mask: bytes | None
    min_cryptolib: str | None
    note: str | None
    mask_note: str | None
    """Why a mask-only match matters, for the report."""


def _h(text: str) -> bytes:
    return bytes.fromhex(text)


MIN_CRYPTOLIB: Mapping[str, str] = MappingProxyType({g.name: g.min_cryptolib for g in GENERATIONS.values()})
"""Cryptolib CPS 5.x drives CPS3 cards; CPS4 support came with 5.2."""

_CRYPTOLIB_EXACT = "ANS's Cryptolib CPS compares the ATR byte for byte and may not recognise this card"

KNOWN: tuple[_Known, ...] = (
    _Known("cps3-contact", "CPS3", "contact", "CPS3 (contact, IAS-ECC)",
           _h("3B AC 00 40 2A 00 12 25 00 64 80 00 03 10 00 90 00"),
           _h("FF 00 00 00 00 FF FF FF FF FF FF 00 00 00 FF FF FF"), MIN_CRYPTOLIB["CPS3"], None,
           "matches the CPS3 ATR only under the mask OpenSC uses; " + _CRYPTOLIB_EXACT),
    _Known("cps3-contactless", "CPS3", "contactless", "CPS3 (contactless, ISO 14443-4)",
           _h("3B 8F 80 01 00 31 B8 64 04 B0 EC C1 73 94 01 80 82 90 00 0E"),
           _h("FF FF FF FF FF FF FF FF 00 00 FF C0 FF FF FF FF FF FF FF FF"), MIN_CRYPTOLIB["CPS3"], None,
           "matches the CPS3 contactless pseudo-ATR only under its mask; " + _CRYPTOLIB_EXACT),
    _Known("cps4-contact-t0", "CPS4", "contact", "CPS4 (contact, T=0)",
           _h("3B DC 18 FF 00 00 12 25 00 64 80 00 04 01 00 90 00"), None, MIN_CRYPTOLIB["CPS4"], None, None),
    _Known("cps4-contact-t1", "CPS4", "contact", "CPS4 (contact, T=0/T=1)",
           _h("3B 9B 18 80 01 00 12 25 00 64 80 04 01 00 00 90 44"), None, MIN_CRYPTOLIB["CPS4"], None, None),
    _Known("cps4-rc", "CPS4", "contact", "CPS4 (release candidate)",
           _h("3B 9B 18 80 01 00 12 25 00 64 80 00 04 01 00 90 44"), None, MIN_CRYPTOLIB["CPS4"],
           "pre-series (release candidate) CPS4 ATR", None),
    _Known("cps-older", "CPS", "contact", "CPS (older series)",
           _h("3B AC 00 40 2A 00 12 25 00 64 80 82 02 12 00 90 00"), None, None,
           "seen in the wild (\"Sesam Vitale card CPS\"), generation uncertain; Cryptolib CPS 5.2 compares ATRs "
           "exactly and does not accept it, OpenSC accepts it through its CPS3 mask", None),
)

KNOWN_ATRS: Mapping[str, bytes] = MappingProxyType({k.key: k.atr for k in KNOWN})
"""Listed ATRs by key, e.g. for the emulator or a benchmark to present a real card's ATR."""

GENERATION_HINT: Mapping[bytes, str] = MappingProxyType({
    b"\x80\x00\x03": "CPS3",
    b"\x80\x00\x04": "CPS4",
    # The production T=0/T=1 CPS4 ATR, read as compact-TLV, carries 80 04 01 00 instead.
    b"\x80\x04\x01": "CPS4",
})
"""Start of the pre-issuing data object (compact-TLV tag 6) -> generation, for :func:`guess`."""

_FRANCE = "250"


def _model(known: _Known, exact: bool, note: str | None) -> CardModel:
    return CardModel(known.key, known.generation, known.interface, known.label, exact, known.min_cryptolib, note)


def _masked_equal(atr: bytes, ref: bytes, mask: bytes) -> bool:
    return len(atr) == len(ref) and all((a & m) == (r & m) for a, r, m in zip(atr, ref, mask))


def identify(atr: Atr) -> CardModel | None:
    """The listed card this ATR belongs to: byte-exact first, then under a listed mask.

    A mask match has ``exact=False`` and a note naming the differing offsets, since the
    Cryptolib would refuse what OpenSC accepts.
    """
    raw = atr.raw
    # Exact matches first: cps-older also fits the CPS3 mask and must not be taken for a CPS3.
    for known in KNOWN:
        if raw == known.atr:
            return _model(known, True, known.note)
    for known in KNOWN:
        if known.mask is not None and _masked_equal(raw, known.atr, known.mask):
            differing = ", ".join(str(i) for i, (a, r) in enumerate(zip(raw, known.atr)) if a != r)
            return _model(known, False, f"{known.mask_note} (differs at offset {differing})")
    return None


def _looks_contactless(atr: Atr) -> bool:
    # PC/SC part 3 pseudo-ATR of an ISO 14443-4 card: 3B 8n 80 01 <historical bytes> TCK.
    raw = atr.raw
    return len(raw) >= 4 and raw[0] == 0x3B and raw[1] & 0xF0 == 0x80 and raw[2] == 0x80 and raw[3] == 0x01


def guess(atr: Atr) -> CardModel | None:
    """:func:`identify`'s answer when there is one, else a low-confidence model or None.

    The guess needs the signature of ANS's ATRs in compact-TLV historical bytes:
    country code 250 (tag 1, ``25 0x``) and pre-issuing data (tag 6) starting with a
    :data:`GENERATION_HINT` prefix. The objects are walked leniently (over the status
    indicator too, stopping at the first truncated object), because the CPS4 T=0/T=1
    ATRs themselves do not follow the category 00 layout.
    """
    known = identify(atr)
    if known is not None:
        return known
    hist = atr.historical
    if not hist or hist[0] not in (0x00, 0x80):
        return None
    objects, _ = decode_compact_tlv(hist[1:])
    country = next((o.value for o in objects if o.tag == 0x1), None)
    pre_issuing = next((o.value for o in objects if o.tag == 0x6), None)
    if country is None or len(country) < 2 or country.hex()[:3] != _FRANCE or pre_issuing is None:
        return None
    generation = next((gen for prefix, gen in GENERATION_HINT.items() if pre_issuing.startswith(prefix)), None)
    if generation is None:
        return None
    interface = "contactless" if _looks_contactless(atr) else "contact"
    return CardModel(
        key=f"{generation.lower()}-guess",
        generation=generation,
        interface=interface,
        label=f"{generation} ({interface})",
        exact=False,
        min_cryptolib=MIN_CRYPTOLIB[generation],
        note=(f"guess: this ATR is in no list, its historical bytes carry country code 250 and pre-issuing data "
              f"{pre_issuing.hex(' ').upper()}; " + _CRYPTOLIB_EXACT),
    )
