"""The card's PKCS#15 data objects: which a card of each kind holds, where, with which flags and contents.

What ANS's Cryptolib reads (research cryptolib-data-objects.md §1.3-§1.6, §2.3):
a DODF entry gives the label, the private (bit 0) and modifiable (bit 1)
flags, the PIN's authId for a private object, applicationName "CPS" and the
file's path. On a CPS3 the Cryptolib adds CPS_SIT_FACT and one
CPS2TER_ACTIVITY_nn_PS per situation itself, read through the card's CPS2ter
side (cps2ter.py), so they are not in its DODF; a CPS4 lists them.

File identifiers are a choice (docs/emulator.md): CPS_DATA at D107 (the one
path the Cryptolib never caches) and the situations at D120-D12F (the
Cryptolib's own list of CPS3 situation files) follow the Cryptolib; the others
are not documented.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from . import der
from .carddata import CardData, cps2ter_situation_label, situation_label
from .generations import GenerationFacts
from .objectnames import PUBLIC_CPS, PUBLIC_CPS2TER, labels

if TYPE_CHECKING:
    from .profile import Profile

APPLICATION = "CPS"
PIN_AUTH_ID = b"\x01"
SITUATIONS_FID = 0xD120             # + n - 1: CPS_ACTIVITY_nn_PS (Cryptolib cps3_sit_paths)
CPS4_SIT_FACT_FID = 0xD140
CPS4_CPS2TER_SITUATIONS_FID = 0xD210
# The CPS2ter side of a CPS3 (Cryptolib pkcs15.c): CPS_SIT_FACT 3F00/7F01/4000, situation nn at 3F00/40(0F+nn).
CPS2TER_SIT_FACT = (0x7F01, 0x4000)
CPS2TER_SITUATIONS_FID = 0x4010


@dataclass(frozen=True)
class DataObject:
    label: str
    fid: int                 # in the PKCS#15 application DF
    private: bool
    modifiable: bool
    content: bytes


def _names(profile: Profile) -> tuple[str, str, int | None]:
    """Given name, surname and profession code of the authentication certificate (placeholders only)."""
    from cryptography import x509
    from cryptography.x509.oid import NameOID

    try:
        cert = x509.load_der_x509_certificate(profile.auth.certificate)
    except ValueError:
        return "", "", None

    def first(oid: x509.ObjectIdentifier) -> str:
        values = cert.subject.get_attributes_for_oid(oid)
        return str(values[0].value) if values else ""

    profession = None
    try:
        ext = cert.extensions.get_extension_for_oid(x509.ObjectIdentifier("1.2.250.1.71.1.2.7"))
        value = getattr(ext.value, "value", b"")
        if len(value) >= 3 and value[0] == 0x02:
            profession = int.from_bytes(value[2:2 + value[1]], "big")
    except x509.ExtensionNotFound:
        pass
    return first(NameOID.GIVEN_NAME), first(NameOID.SURNAME), profession


def contents(profile: Profile, data: CardData, ef_sn: bytes) -> dict[str, bytes]:
    """The bytes of every object: the profile's own, else the situations as the public hint encodes them, else
    placeholders (docs/emulator.md says what each one is)."""
    given, surname, profession = _names(profile)
    info = f"{profession or 0:02d}" + ("SM26" if profession == 10 else "")   # SM26: R01 general practice
    identifier = f"8025000001/{profile.card_number}".encode()
    out = {
        "CPS_DATA": data.cps_data,
        "CPS_ID_CARD": identifier,
        "CPS_NAME_PS": f"{surname} {given}".strip().encode() or b"EMULATEUR",
        "CPS_LANG_PS": b"fr",
        "CPS_INFO_PS": info.encode(),
        "CPS2TER_ATR": profile.atr,
        "CPS2TER_ID": identifier,
        "CPS2TER_ICC": ef_sn,
        "CPS2TER_DIRAMO": bytes(16),
        "CPS_SIT_FACT": data.situations[0].encode() if data.situations else b"\xee\x00",
    }
    out["CPS2TER_NAME"], out["CPS2TER_LANG"] = out["CPS_NAME_PS"], out["CPS_LANG_PS"]
    out["CPS2TER_PSINFO"] = out["CPS_INFO_PS"]
    for n, situation in enumerate(data.situations, 1):
        out[situation_label(n)] = out[cps2ter_situation_label(n)] = situation.encode()
    out.update(data.objects)
    return out


def dodf_objects(profile: Profile, facts: GenerationFacts, values: dict[str, bytes]) -> list[DataObject]:
    """The objects the card's DODF lists, in its order: public ones first, then those needing the PIN."""
    contactless = profile.interface == "contactless"
    situations = len(profile.data.situations)
    fids = dict(PUBLIC_CPS)
    if facts.cps2ter_objects_in_dodf:
        fids.update(PUBLIC_CPS2TER)
        fids["CPS_SIT_FACT"] = CPS4_SIT_FACT_FID
        fids.update({cps2ter_situation_label(n): CPS4_CPS2TER_SITUATIONS_FID + n - 1
                     for n in range(1, situations + 1)})
    fids.update({situation_label(n): SITUATIONS_FID + n - 1 for n in range(1, situations + 1)})
    out = []
    for label in labels(facts, contactless, situations):
        if label not in fids:
            continue            # on the CPS2ter side of a CPS3
        private = label.startswith(("CPS_ACTIVITY", "CPS2TER_ACTIVITY")) or label == "CPS_SIT_FACT"
        modifiable = label == "CPS_DATA" and facts.cps_data_modifiable and not contactless
        out.append(DataObject(label, fids[label], private, modifiable, values[label]))
    out.sort(key=lambda o: o.private)
    return out


def dodf_entry(obj: DataObject, app_fid: int) -> bytes:
    """SEQUENCE { CommonObjectAttributes, CommonDataObjectAttributes, [1] { Path } } (PKCS#15 opaque data)."""
    # Flags as the Cryptolib decodes them: private = bit 0 (03 02 07 80), modifiable = bit 1 (03 02 06 40).
    flags = [b for b, on in ((0, obj.private), (1, obj.modifiable)) if on]
    common = der.seq(der.utf8(obj.label), *([der.bits(*flags)] if flags else []),
                     *([der.octets(PIN_AUTH_ID)] if obj.private else []))
    path = der.seq(der.octets(b"".join(f.to_bytes(2, "big") for f in (0x3F00, app_fid, obj.fid))))
    return der.seq(common, der.seq(der.utf8(APPLICATION)), der.tlv(0xA1, path))


def cps2ter_files(profile: Profile, values: dict[str, bytes]) -> dict[tuple[int, ...], bytes]:
    """The files of a CPS3's CPS2ter side, by path under its MF."""
    files: dict[tuple[int, ...], bytes] = {CPS2TER_SIT_FACT: values["CPS_SIT_FACT"]}
    for n in range(1, len(profile.data.situations) + 1):
        files[(CPS2TER_SITUATIONS_FID + n - 1,)] = values[cps2ter_situation_label(n)]
    return files
