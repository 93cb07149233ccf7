"""PKCS#15 (ISO/IEC 7816-15) structures as CPS cards store them: EF.DIR, ODF, AODF, PrKDF, CDF, DODF.

Pure parsers: bytes in, frozen dataclasses out, MalformedDataError for
anything else. Paths are kept as bytes; a 2-byte path is relative to the
application DF, a path starting 3F00 is absolute.
"""

from __future__ import annotations

from dataclasses import dataclass

from cpsdiag.errors import MalformedDataError
from cpsdiag.iso7816 import tlv
from cpsdiag.iso7816.tlv import Tlv

KEY_USAGE_NAMES = ("encrypt", "decrypt", "sign", "signRecover", "wrap", "unwrap", "verify", "verifyRecover",
                   "derive", "nonRepudiation")
ODF_KINDS = {0xA0: "privateKeys", 0xA1: "publicKeys", 0xA2: "trustedPublicKeys", 0xA3: "secretKeys",
             0xA4: "certificates", 0xA5: "trustedCertificates", 0xA6: "usefulCertificates",
             0xA7: "dataObjects", 0xA8: "authObjects"}


@dataclass(frozen=True)
class Application:
    aid: bytes
    label: str
    path: bytes | None


@dataclass(frozen=True)
class CertificateObject:
    label: str
    id: bytes
    path: bytes


@dataclass(frozen=True)
class PrivateKeyObject:
    label: str
    id: bytes
    usage: tuple[str, ...]
    reference: int | None
    path: bytes | None
    modulus_bits: int | None
    auth_id: bytes | None


@dataclass(frozen=True)
class PinObject:
    label: str
    auth_id: bytes | None
    reference: int
    min_length: int
    max_length: int | None
    stored_length: int
    path: bytes | None
    flags: tuple[int, ...]


@dataclass(frozen=True)
class DataObject:
    """A data object of the DODF (CPS_DATA, CPS_NAME_PS, CPS_ACTIVITY_01_PS...), as ANS's Cryptolib reads it."""

    label: str
    application: str | None     # applicationName
    path: bytes
    private: bool               # CommonObjectAttributes flags bit 0: the PIN is needed to read it
    modifiable: bool            # bit 1: an application may write it (CPS_DATA on a CPS3)
    auth_id: bytes | None


def _bits(obj: Tlv) -> tuple[int, ...]:
    """Numbers of the bits set in a BIT STRING (bit 0 = MSB of the first content byte)."""
    if obj.tag != 0x03 or not obj.value or obj.value[0] > 7:
        raise MalformedDataError(obj.what, "expected a BIT STRING", where=obj.where, offset=obj.offset)
    out = []
    for i, byte in enumerate(obj.value[1:]):
        for b in range(8):
            if byte & (0x80 >> b):
                out.append(i * 8 + b)
    return tuple(out)


def _int(obj: Tlv) -> int:
    if not obj.value or len(obj.value) > 4:
        raise MalformedDataError(obj.what, "bad INTEGER", where=obj.where, offset=obj.offset)
    return int.from_bytes(obj.value, "big", signed=obj.tag == 0x02)


def _text(obj: Tlv) -> str:
    return obj.value.decode("utf-8", errors="replace")


def _expect(obj: Tlv | None, tag: int, name: str, parent: Tlv) -> Tlv:
    if obj is None or obj.tag != tag:
        raise MalformedDataError(parent.what, f"{name}: expected tag {tag:02X}", where=parent.where,
                                 offset=(obj or parent).offset)
    return obj


def _path(obj: Tlv) -> bytes:
    """A PKCS#15 Path: SEQUENCE { efidOrPath OCTET STRING, ... }."""
    if obj.tag == 0x30:
        first = obj.children()[:1]
        if not first or first[0].tag != 0x04:
            raise MalformedDataError(obj.what, "Path without efidOrPath", where=obj.where, offset=obj.offset)
        obj = first[0]
    if obj.tag != 0x04 or not obj.value or len(obj.value) % 2:
        raise MalformedDataError(obj.what, "bad Path", where=obj.where, offset=obj.offset)
    return obj.value


def _objects(data: bytes, what: str, where: str | None) -> list[Tlv]:
    # Card files are often longer than their content and padded with 00 or FF.
    return [o for o in tlv.parse(data, what=what, where=where, skip_padding=True)]


def parse_ef_dir(data: bytes, where: str | None = "EF.DIR") -> list[Application]:
    apps = []
    for rec in _objects(data, "EF.DIR", where):
        if rec.tag != 0x61:
            continue
        fields = {c.tag: c.value for c in rec.children()}
        if 0x4F not in fields:
            raise MalformedDataError("EF.DIR", "application template without AID (4F)", where=where, offset=rec.offset)
        path = fields.get(0x51)
        apps.append(Application(fields[0x4F], fields.get(0x50, b"").decode("latin-1"), path or None))
    return apps


def parse_odf(data: bytes, where: str | None = "ODF") -> dict[str, list[bytes]]:
    out: dict[str, list[bytes]] = {}
    for entry in _objects(data, "ODF", where):
        kind = ODF_KINDS.get(entry.tag)
        if kind is None:
            continue
        inner = entry.children()
        if not inner:
            raise MalformedDataError("ODF", f"empty {kind} entry", where=where, offset=entry.offset)
        out.setdefault(kind, []).append(_path(inner[0]))
    return out


def _common(entry: Tlv) -> tuple[str, tuple[int, ...], bytes | None, list[Tlv]]:
    parts = entry.children()
    if len(parts) < 2:
        raise MalformedDataError(entry.what, "object with fewer than two parts", where=entry.where, offset=entry.offset)
    common = _expect(parts[0], 0x30, "CommonObjectAttributes", entry).children()
    label = ""
    flags: tuple[int, ...] = ()
    auth_id: bytes | None = None
    for c in common:
        if c.tag == 0x0C:
            label = _text(c)
        elif c.tag == 0x03:
            flags = _bits(c)
        elif c.tag == 0x04:
            auth_id = c.value
    return label, flags, auth_id, parts[1:]


def _type_attributes(rest: list[Tlv], entry: Tlv) -> Tlv:
    for part in rest:
        if part.tag == 0xA1:
            inner = part.children()
            if not inner:
                break
            return inner[0]
    raise MalformedDataError(entry.what, "missing type attributes [1]", where=entry.where, offset=entry.offset)


def parse_cdf(data: bytes, where: str | None = "CDF") -> list[CertificateObject]:
    out = []
    for entry in _objects(data, "CDF", where):
        if entry.tag != 0x30:
            continue   # other certificate types (A0 ...) are not used on CPS cards
        label, _flags, _auth, rest = _common(entry)
        ident = _expect(rest[0], 0x30, "CommonCertificateAttributes", entry).children()
        cert_id = ident[0].value if ident and ident[0].tag == 0x04 else b""
        attrs = _expect(_type_attributes(rest[1:], entry), 0x30, "X509CertificateAttributes", entry).children()
        if not attrs:
            raise MalformedDataError("CDF", "certificate without value", where=where, offset=entry.offset)
        out.append(CertificateObject(label, cert_id, _path(attrs[0])))
    return out


def parse_prkdf(data: bytes, where: str | None = "PrKDF") -> list[PrivateKeyObject]:
    out = []
    for entry in _objects(data, "PrKDF", where):
        if entry.tag != 0x30:
            continue
        label, _flags, auth_id, rest = _common(entry)
        key_attrs = _expect(rest[0], 0x30, "CommonKeyAttributes", entry).children()
        key_id = b""
        usage: tuple[str, ...] = ()
        reference: int | None = None
        for c in key_attrs:
            if c.tag == 0x04 and not key_id:
                key_id = c.value
            elif c.tag == 0x03 and not usage:
                usage = tuple(KEY_USAGE_NAMES[b] for b in _bits(c) if b < len(KEY_USAGE_NAMES))
            elif c.tag == 0x02:
                reference = _int(c)
        rsa = _expect(_type_attributes(rest[1:], entry), 0x30, "PrivateRSAKeyAttributes", entry).children()
        path = modulus = None
        for c in rsa:
            if c.tag in (0x30, 0x04) and path is None:
                path = _path(c)
            elif c.tag == 0x02 and modulus is None:
                modulus = _int(c)
        out.append(PrivateKeyObject(label, key_id, usage, reference, path, modulus, auth_id))
    return out


def parse_aodf(data: bytes, where: str | None = "AODF") -> list[PinObject]:
    out = []
    for entry in _objects(data, "AODF", where):
        if entry.tag != 0x30:
            continue
        label, _flags, _auth, rest = _common(entry)
        auth = _expect(rest[0], 0x30, "CommonAuthenticationObjectAttributes", entry).children()
        auth_id = auth[0].value if auth and auth[0].tag == 0x04 else None
        pin = _expect(_type_attributes(rest[1:], entry), 0x30, "PinAttributes", entry).children()
        if len(pin) < 4:
            raise MalformedDataError("AODF", "PinAttributes too short", where=where, offset=entry.offset)
        flags = _bits(pin[0])
        ints = [c for c in pin[2:] if c.tag == 0x02]
        if len(ints) < 2:
            raise MalformedDataError("AODF", "PIN lengths missing", where=where, offset=entry.offset)
        min_len, stored = _int(ints[0]), _int(ints[1])
        max_len = _int(ints[2]) if len(ints) > 2 else None
        reference, path = 0, None
        for c in pin:
            if c.tag == 0x80:
                reference = _int(c)
            elif c.tag == 0x30:
                path = _path(c)
        out.append(PinObject(label, auth_id, reference, min_len, max_len, stored, path, flags))
    return out


def parse_dodf(data: bytes, where: str | None = "DODF") -> list[DataObject]:
    """Opaque data objects: SEQUENCE { CommonObjectAttributes, CommonDataObjectAttributes, [1] { Path } }."""
    out = []
    for entry in _objects(data, "DODF", where):
        if entry.tag != 0x30:
            continue   # externalIDO [0] and oidDO [1] are not used on CPS cards
        label, flags, auth_id, rest = _common(entry)
        attrs = _expect(rest[0], 0x30, "CommonDataObjectAttributes", entry).children()
        application = next((_text(c) for c in attrs if c.tag == 0x0C), None)
        value = _type_attributes(rest[1:], entry)
        out.append(DataObject(label, application, _path(value), 0 in flags, 1 in flags, auth_id))
    return out
