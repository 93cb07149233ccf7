"""Builds the file tree of a CPS card from a profile.

The bytes follow what a real CPS3 returns where it is known (docs/emulator.md
lists each choice) and, where it is not, what Debian's OpenSC and ANS's
Cryptolib both accept.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from . import der, dataobjects
from .filesystem import ALWAYS, DF, EF, NEVER, PIN
from .generations import GenerationFacts

if TYPE_CHECKING:
    from .profile import KeyPair, Profile

ROOT_AID = bytes.fromhex("80250000 01FF0100".replace(" ", ""))
PKCS15_AID_CONTACT = bytes.fromhex("E828BD080F8025000001FF0010")
PKCS15_AID_CONTACTLESS = bytes.fromhex("E828BD080F8025000001FF0020")
ISSUER_PREFIX = "8025000001"

# EF.ATR of a real CPS3 (OpenSC issue #2223): card service data, pre-issuing data,
# root AID and the I/O buffer sizes (send 260, receive 256) OpenSC relies on.
EF_ATR = bytes.fromhex(
    "804301B8460404B0ECC1470394018 04F088025000001FF0100E010020201040202010402020100020201007808"
    "06062B8122F8780282029000".replace(" ", "")
)

# IAS-ECC security data objects (GET DATA 00 CB 3F FF). The DOCP access rules
# are those OpenSC accepts for signing (opensc-cpx.md §5, §9); a real card's
# exact bytes are not known.
PIN_POLICY_7F41 = bytes.fromhex("7F4106800108810104")           # max length 8, min length 4
PIN_ACL = bytes.fromhex("A1088C06F3000013FF00")
KEY_DOCP = {
    "auth": bytes.fromhex("800201 00A1088C063B1111FFFF009E0100".replace(" ", "")),
    "signature": bytes.fromhex("80020100A1078C054B11FFFF009E0101"),
}
SE_1 = bytes.fromhex("7B08A40683010195 0108".replace(" ", ""))


def luhn_digit(digits: str) -> int:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch) * (2 if i % 2 == 0 else 1)
        total += d - 9 if d > 9 else d
    return (10 - total % 10) % 10


def serial_number(card_number: str) -> str:
    """The digits EF.SN.ICC holds: a real card's 10-digit number keeps its last 8 there (UNCERTAIN which 8,
    docs/emulator.md); a shorter number, of profiles made before, fits whole."""
    return card_number[-8:] if len(card_number) == 10 else card_number


def ef_sn_icc(card_number: str) -> bytes:
    """EF.SN.ICC: tag 5A, PAN = issuer 8025000001 + card number + Luhn digit, F-padded BCD.

    A real card holds 12 bytes whatever its printed number (the Cryptolib refuses
    any other size): 5A 0A 80 25 00 00 01 + 8 digits + Luhn digit + F.
    """
    pan = ISSUER_PREFIX + serial_number(card_number)
    pan += str(luhn_digit(pan))
    pan = pan.ljust(20, "F")
    return der.tlv(0x5A, bytes.fromhex(pan))


def _path(*fids: int) -> bytes:
    return der.seq(der.octets(b"".join(f.to_bytes(2, "big") for f in fids)))


@dataclass(frozen=True)
class KeySlot:
    role: str               # "auth" | "signature"
    label: str
    cert_label: str
    id_suffix: int
    reference: int          # keyReference stored in the PrKDF
    cert_fid: int


def key_slots(profile: Profile, facts: GenerationFacts) -> list[KeySlot]:
    if profile.interface == "contactless":
        return [KeySlot("auth", "CPS_PRIV_TECH_AUT", "Certificat Technique CPS", 0x02, 0x82, 0xA001)]
    refs = facts.key_references
    return [
        KeySlot("auth", "CPS_PRIV_AUT", "Certificat d'Authentification CPS", 0x02, refs[0], 0xA001),
        KeySlot("signature", "CPS_PRIV_SIG", "Certificat de Signature CPS", 0x01, refs[1], 0xA002),
    ]


def token_label(profile: Profile, facts: GenerationFacts) -> str:
    """As real cards read: CPS3v3-2900995266, CPS4v1-3100603746, and CPS3v3_CL on the contactless face."""
    if profile.interface == "contactless":
        return f"{facts.token_label}_CL"
    return f"{facts.token_label}-{profile.card_number}"


def token_info(profile: Profile, facts: GenerationFacts) -> bytes:
    def algo(ref: int, mech: int, ops: bytes, oid: str, alg_ref: int) -> bytes:
        return der.seq(der.integer(ref), der.integer(mech), der.null(), ops, der.oid(oid), der.integer(alg_ref))

    hash_op, sign_op, decipher_op = der.bits(6), der.bits(1), der.bits(5)
    algorithms = der.tlv(
        0xA2,
        algo(1, 0x220, hash_op, "1.3.14.3.2.26", 0x10),                   # CKM_SHA_1, MSE HT algRef 10
        algo(2, 0x250, hash_op, "2.16.840.1.101.3.4.2.1", 0x40),          # CKM_SHA256, algRef 40
        algo(3, 0x06, sign_op, "1.2.840.113549.1.1.5", 0x12),             # CKM_SHA1_RSA_PKCS
        algo(4, 0x40, sign_op, "1.2.840.113549.1.1.11", 0x42),            # CKM_SHA256_RSA_PKCS
        algo(5, 0x01, decipher_op, "1.2.840.113549.1.1.1", 0x1A),         # CKM_RSA_PKCS decipher
        algo(6, 0x01, sign_op, "1.2.840.113549.1.1.1", 0x02),             # CKM_RSA_PKCS, INTERNAL AUTHENTICATE
    )
    label = token_label(profile, facts)
    return der.seq(
        der.integer(0),
        der.octets(b""),                                    # serial left empty: middleware takes EF.SN
        der.utf8("ASIP SANTE"),
        der.tlv(0x80, label.encode()),
        der.bits(0, 1),                                      # readOnly, loginRequired
        algorithms,
        der.tlv(0xA5, der.tlv(0x18, b"20100316110000Z")),   # lastUpdate, as on the real card
    )


def aodf() -> bytes:
    pin_attrs = der.seq(
        der.bits(4),                 # pinFlags: initialized (no needs-padding: the PIN is sent as typed)
        der.tlv(0x0A, b"\x01"),      # ascii-numeric
        der.integer(4), der.integer(4), der.integer(8),   # min, stored, max length
        der.tlv(0x80, b"\x01"),      # pinReference 1 -> VERIFY P2=01, SDO BF 81 01
        der.octets(b"\xff"),         # padChar
        _path(0x3F00),
    )
    return der.seq(
        der.seq(der.utf8("PIN"), der.bits(0, 1)),
        der.seq(der.octets(b"\x01")),
        der.tlv(0xA1, pin_attrs),
    )


def prkdf(profile: Profile, facts: GenerationFacts, app_fid: int, aid: bytes) -> bytes:
    out = b""
    with_pin = profile.interface == "contact"
    for slot in key_slots(profile, facts):
        pair = profile.auth if slot.role == "auth" else profile.signature
        assert pair is not None
        # The real PrKDF marks the authentication key private+modifiable, the signature key private only.
        flags = der.bits(0, 1) if slot.role == "auth" else der.bits(0)
        common = der.seq(der.utf8(slot.label), flags, *([der.octets(b"\x01")] if with_pin else []))
        usage = der.bits(1, 2) if slot.role == "auth" else der.bits(9)   # decrypt+sign / nonRepudiation
        key_attrs = der.seq(
            der.octets(aid + bytes([slot.id_suffix])),
            usage,
            der.boolean(True),
            der.bits(0, 2, 3),            # sensitive, alwaysSensitive, neverExtractable
            der.integer(slot.reference),
        )
        # The key path is the plain 3F00/<app DF> form: ANS's Cryptolib finds no
        # token when it is given the AID-only form (opensc-cpx.md §3).
        rsa_attrs = der.tlv(0xA1, der.seq(_path(0x3F00, app_fid), der.integer(pair.key.key_size)))
        out += der.seq(common, key_attrs, rsa_attrs)
    return out


def cdf(profile: Profile, facts: GenerationFacts, app_fid: int, aid: bytes) -> bytes:
    out = b""
    for slot in key_slots(profile, facts):
        out += der.seq(
            der.seq(der.utf8(slot.cert_label)),
            der.seq(der.octets(aid + bytes([slot.id_suffix]))),
            der.tlv(0xA1, der.seq(_path(0x3F00, app_fid, slot.cert_fid))),
        )
    return out


def odf(with_aodf: bool) -> bytes:
    def entry(tag: int, fid: int) -> bytes:
        return der.tlv(tag, _path(fid))

    # 7006 is the DODF by the IAS-ECC convention (and a file the Cryptolib's own tests cache on a real CPS3).
    return ((entry(0xA8, 0x7001) if with_aodf else b"") + entry(0xA0, 0x7002) + entry(0xA4, 0x7005)
            + entry(0xA7, 0x7006))


def ef_dir(aid: bytes, app_fid: int, label: str) -> bytes:
    # Each record carries a 51 path: Cryptolib 0.11-based code cannot build a
    # path from a DF name alone.
    return der.tlv(0x61, der.tlv(0x4F, aid), der.tlv(0x50, label.encode()),
                   der.tlv(0x51, (0x3F00).to_bytes(2, "big") + app_fid.to_bytes(2, "big")))


@dataclass
class CardImage:
    mf: DF
    app: DF
    keys: list[tuple[KeySlot, KeyPair]]        # what the card class turns into keys it can use
    data_objects: list[dataobjects.DataObject]
    values: dict[str, bytes]                   # contents of every data object, by label (CPS2ter side included)


def build(profile: Profile, facts: GenerationFacts) -> CardImage:
    contactless = profile.interface == "contactless"
    app_fid, aid, label = (0x0002, PKCS15_AID_CONTACTLESS, "CPS CL") if contactless else (0x0001, PKCS15_AID_CONTACT, "CPS")
    mf = DF(0x3F00, aid=ROOT_AID)
    mf.add(EF(0x2F00, data=ef_dir(aid, app_fid, label), sfi=0x1E))
    mf.add(EF(0x2F01, data=EF_ATR, sfi=0x1D))
    serial = ef_sn_icc(profile.card_number)
    mf.add(EF(0xD003, data=serial, sfi=0x1C))
    app = DF(app_fid, aid=aid)
    mf.add(app)
    app.add(EF(0x5031, data=odf(with_aodf=not contactless)))
    app.add(EF(0x5032, data=token_info(profile, facts)))
    if not contactless:
        app.add(EF(0x7001, data=aodf()))
    app.add(EF(0x7002, data=prkdf(profile, facts, app_fid, aid)))
    app.add(EF(0x7005, data=cdf(profile, facts, app_fid, aid)))
    values = dataobjects.contents(profile, profile.data, serial)
    objects = dataobjects.dodf_objects(profile, facts, values)
    app.add(EF(0x7006, data=b"".join(dataobjects.dodf_entry(o, app_fid) for o in objects)))
    for obj in objects:
        # The contactless face has no PIN: nothing there is private, and nothing can be written.
        app.add(EF(obj.fid, data=obj.content, read=PIN if obj.private else ALWAYS,
                   update=PIN if obj.modifiable else NEVER))
    mf.sdos[bytes.fromhex("BFFB01")] = {b"\x7b": SE_1}
    keys = []
    for slot in key_slots(profile, facts):
        pair = profile.auth if slot.role == "auth" else profile.signature
        assert pair is not None
        app.add(EF(slot.cert_fid, data=pair.certificate))
        keys.append((slot, pair))
    _apply_file_faults(mf, profile)
    return CardImage(mf=mf, app=app, keys=keys, data_objects=objects, values=values)


def _apply_file_faults(mf: DF, profile: Profile) -> None:
    from .faults import garble

    faults = profile.faults
    for node in mf.walk():
        if not isinstance(node, EF):
            continue
        path = "/".join(f"{n.fid:04X}" for n in node.path()[1:])
        if path in faults.corrupt_files:
            node.data = garble(node.data)
        if path in faults.truncate_files:
            node.data = node.data[:faults.truncate_files[path]]
