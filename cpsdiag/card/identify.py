"""Which CPS card an ATR belongs to.

The table comes from ANS's Cryptolib sources (which compare ATRs byte for
byte) and pcsc-tools' list; OpenSC matches the CPS3 under a mask. ``identify``
is strict; ``guess`` recognises the ANS signature in the historical bytes of
an ATR that is in no table, with low confidence.
"""

from __future__ import annotations

from dataclasses import dataclass

from cpsdiag.iso7816.atr import Atr


@dataclass(frozen=True)
class CardModel:
    key: str
    generation: str            # "CPS3" | "CPS4" | "CPS"
    interface: str             # "contact" | "contactless"
    label: str
    exact: bool                # byte-exact match (what ANS's Cryptolib requires)
    min_cryptolib: str | None  # oldest Cryptolib CPS version that drives it
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
    note: str | None = None


def _h(text: str) -> bytes:
    return bytes.fromhex("".join(text.split()))


KNOWN: tuple[_Known, ...] = (
    _Known("cps3-contact", "CPS3", "contact", "CPS3 (contact, IAS-ECC)",
           _h("3B AC 00 40 2A 00 12 25 00 64 80 00 03 10 00 90 00"),
           _h("FF 00 00 00 00 FF FF FF FF FF FF 00 00 00 FF FF FF"), "5.0"),
    _Known("cps3-contactless", "CPS3", "contactless", "CPS3 (contactless)",
           _h("3B 8F 80 01 00 31 B8 64 04 B0 EC C1 73 94 01 80 82 90 00 0E"),
           _h("FF FF FF FF FF FF FF FF 00 00 FF C0 FF FF FF FF FF FF FF FF"), "5.0"),
    _Known("cps4-contact-t0", "CPS4", "contact", "CPS4 (contact, ChipDoc, T=0)",
           _h("3B DC 18 FF 00 00 12 25 00 64 80 00 04 01 00 90 00"), None, "5.2"),
    _Known("cps4-contact-t1", "CPS4", "contact", "CPS4 (contact, ChipDoc, T=0/T=1)",
           _h("3B 9B 18 80 01 00 12 25 00 64 80 04 01 00 00 90 44"), None, "5.2"),
    _Known("cps4-rc", "CPS4", "contact", "CPS4 (release candidate)",
           _h("3B 9B 18 80 01 00 12 25 00 64 80 00 04 01 00 90 44"), None, "5.2"),
    _Known("cps-older", "CPS", "contact", "CPS (older series)",
           _h("3B AC 00 40 2A 00 12 25 00 64 80 82 02 12 00 90 00"), None, None,
           "seen in the wild; ANS's Cryptolib 5.2 does not accept this ATR, OpenSC does (IAS/ECC CPx mask)"),
)


def _masked_equal(atr: bytes, ref: bytes, mask: bytes) -> bool:
    return len(atr) == len(ref) and all((a & m) == (r & m) for a, r, m in zip(atr, ref, mask))


def identify(atr: Atr) -> CardModel | None:
    raw = atr.raw
    for known in KNOWN:
        if raw == known.atr:
            return CardModel(known.key, known.generation, known.interface, known.label, True,
                             known.min_cryptolib, known.note)
    for known in KNOWN:
        if known.mask is not None and _masked_equal(raw, known.atr, known.mask):
            note = "matches the mask OpenSC uses but not the exact ATR ANS's Cryptolib compares with"
            return CardModel(known.key, known.generation, known.interface, known.label, False,
                             known.min_cryptolib, note)
    return None


def guess(atr: Atr) -> CardModel | None:
    """A low-confidence model for an unlisted ATR carrying ANS's compact-TLV signature.

    CPS ATRs carry country code 250 (tag 1, ``25 0x``) and pre-issuing data
    (tag 6) starting 80 whose second or third byte is the generation (80 00 03
    10 on a CPS3, 80 00 04 01 and 80 04 01 00 on the two CPS4 forms).
    """
    country = next((o.value for o in atr.objects if o.tag == 0x1), None)
    pre_issuing = next((o.value for o in atr.objects if o.tag == 0x6), None)
    if not country or country[:1] != b"\x25" or not pre_issuing or len(pre_issuing) < 3 or pre_issuing[0] != 0x80:
        return None
    generation = next(({0x03: "CPS3", 0x04: "CPS4"}[b] for b in pre_issuing[1:3] if b in (0x03, 0x04)), None)
    if generation is None:
        return None
    return CardModel(f"{generation.lower()}-guess", generation, "contact", f"{generation} ?", False,
                     "5.2" if generation == "CPS4" else "5.0",
                     "unknown ATR; the generation is guessed from its historical bytes")
