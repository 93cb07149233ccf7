"""The CPS3 (IAS-ECC) command set, as ANS's Cryptolib drives the card.

Files by absolute path with P1=09 (3F00 included) and no FCP; PIN counter by
GET DATA of the PIN security data object; authentication signature by MSE SET
AT + INTERNAL AUTHENTICATE (the card pads PKCS#1 v1.5 itself); non-repudiation
signature by MSE SET HT + PSO HASH + MSE SET DST + PSO COMPUTE DIGITAL SIGNATURE.
"""

from __future__ import annotations

from cpsdiag.card.generation import CPS3
from cpsdiag.card.pin import PinStatus, parse_pin_sdo
from cpsdiag.card.pkcs15 import PrivateKeyObject
from cpsdiag.card.session import CardSession, refused
from cpsdiag.errors import PinBlocked, PinIncorrect
from cpsdiag.iso7816.sw import SW
from cpsdiag.transport.base import CardLink

HT_ALG = {"sha1": 0x10, "sha256": 0x40}
DST_ALG = {"sha1": 0x12, "sha256": 0x42}
INT_AUTH_PKCS1 = 0x02


def pin_result(sw: int) -> None:
    """Raise the typed PIN error a VERIFY status word means (90 00 returns)."""
    if sw == SW.OK:
        return
    if sw >> 4 == SW.VERIFY_FAILED >> 4:
        if sw & 0x0F == 0:
            raise PinBlocked()
        raise PinIncorrect(sw & 0x0F)
    if sw == SW.AUTH_METHOD_BLOCKED:
        raise PinBlocked()
    raise refused("VERIFY", sw)


class Cps3Commands:
    spec = CPS3
    generation = CPS3.name
    supports_sfi = CPS3.short_ef_ids
    # What the card can sign for TLS: PKCS#1 v1.5 only (it pads itself, no raw RSA).
    schemes: tuple[str, ...] = CPS3.schemes

    def __init__(self, link: CardLink):
        self.s = CardSession(link, CPS3.logical_channel)

    def start(self) -> None:
        # Another program sharing the card may have left another DF current.
        self.s.check("SELECT MF", 0xA4, CPS3.select_path_p1, 0x0C, bytes.fromhex("3F00"))

    def _select(self, path: bytes, p2: int) -> bytes:
        # Always the absolute path, 3F00 included, as the Cryptolib sends it (P1=09).
        if path[:2] != b"\x3f\x00":
            path = b"\x3f\x00" + path
        return self.s.check(f"SELECT {path.hex().upper()}", 0xA4, CPS3.select_path_p1, p2, path)

    def select_path(self, path: bytes) -> None:
        self._select(path, 0x0C)

    def file_size(self, path: bytes) -> int | None:
        """The size an EF's FCP gives (SELECT with P2=04: a real CPS3 refuses FCI requests)."""
        from cpsdiag.iso7816.fcp import parse_fcp

        return parse_fcp(self._select(path, 0x04), where=f"FCP {path.hex().upper()}").size

    def read_pin_status(self, reference: int, path: bytes | None) -> PinStatus:
        # The PIN object lives where the AODF's PIN path says (the MF on a CPS3).
        self.select_path(path or b"\x3f\x00")
        sdo = bytes([0xBF, 0x81, reference & 0x3F])
        request = bytes([0x4D, 0x08, 0x70, 0x06]) + sdo + bytes([0x02, 0xA0, 0x80])
        data = self.s.check("GET DATA PIN", 0xCB, 0x3F, 0xFF, request)
        return parse_pin_sdo(data, reference, where=f"GET DATA {sdo.hex().upper()}")

    def verify_pin(self, reference: int, path: bytes | None, pin: bytes) -> None:
        self.select_path(path or b"\x3f\x00")
        _, sw = self.s.send(0x20, 0x00, reference, pin)
        pin_result(sw)

    def _use_key(self, key: PrivateKeyObject) -> int:
        if key.reference is None:
            raise refused(f"key {key.label} has no reference in the PrKDF", SW.REFERENCED_DATA_NOT_FOUND)
        self.select_path(key.path or b"\x3f\x00\x00\x01")
        return key.reference

    def sign_pkcs1(self, key: PrivateKeyObject, digest_info: bytes) -> bytes:
        """PKCS#1 v1.5 signature of a DigestInfo with the authentication key (INTERNAL AUTHENTICATE)."""
        reference = self._use_key(key)
        self.s.check("MSE SET AT", 0x22, 0x41, 0xA4, bytes([0x80, 0x01, INT_AUTH_PKCS1, 0x84, 0x01, reference]))
        return self.s.check("INTERNAL AUTHENTICATE", 0x88, 0x00, 0x00, digest_info)

    def sign_pss(self, key: PrivateKeyObject, hash_name: str, digest: bytes) -> bytes:
        """The CPS3 has no RSA-PSS and no raw RSA operation: a capability it lacks, not a refusal."""
        from cpsdiag.card.signing import CannotSign

        raise CannotSign(f"rsa_pss_{hash_name}")

    def sign_message(self, key: PrivateKeyObject, message: bytes, hash_name: str = "sha256") -> bytes:
        """Non-repudiation signature: the card hashes the message (a single last block) and signs it."""
        if len(message) > 64:
            raise ValueError("the card-side hash is given the whole message only up to one block")
        reference = self._use_key(key)
        self.s.check("MSE SET HT", 0x22, 0x41, 0xAA, bytes([0x80, 0x01, HT_ALG[hash_name]]))
        self.s.check("PSO HASH", 0x2A, 0x90, 0xA0, bytes([0x90, 0x00, 0x80, len(message)]) + message)
        self.s.check("MSE SET DST", 0x22, 0x41, 0xB6, bytes([0x80, 0x01, DST_ALG[hash_name], 0x84, 0x01, reference]))
        return self.s.check("PSO CDS", 0x2A, 0x9E, 0x9A, le=0)
