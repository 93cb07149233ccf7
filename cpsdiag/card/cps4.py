"""The CPS4 (ChipDoc) command set, as ANS's Cryptolib drives the card.

Everything on logical channel 1 after selecting the ChipDoc application;
files by path from the MF with P1=08; PIN counter by VERIFY without data.
There is no INTERNAL AUTHENTICATE: the host pads and the card does a raw RSA
"decipher" (MSE SET CT + chained PSO DECIPHER); hash-then-sign and RSA-PSS go
through MSE SET DST + PSO COMPUTE DIGITAL SIGNATURE.
"""

from __future__ import annotations

import hashlib

from cpsdiag.card.cps3 import pin_result
from cpsdiag.card.generation import CPS4
from cpsdiag.card.pin import PinStatus, status_from_verify_sw
from cpsdiag.card.pkcs15 import PrivateKeyObject
from cpsdiag.card.session import CardSession, refused
from cpsdiag.iso7816.sw import SW
from cpsdiag.transport.base import CardLink

CHIPDOC_AID = bytes.fromhex("8025000001FF0100")
GP_CARD_MANAGER = bytes.fromhex("A0000001510000")
CPS2TER_AID = bytes.fromhex("8025000001FF0002")
# Answers after which the Cryptolib re-selects ChipDoc: 69 85 (#1722), channel or applet lost.
RECOVERABLE = (SW.CONDITIONS_NOT_SATISFIED, SW.LOGICAL_CHANNEL_NOT_SUPPORTED, SW.INCORRECT_P1P2,
               SW.CLA_NOT_SUPPORTED, SW.FILE_NOT_FOUND)
# MSE SET DST algorithm identifiers (Cryptolib cards.h).
DST_ALG = {("sha1", False): 0x0A, ("sha256", False): 0x28, ("sha1", True): 0x15, ("sha256", True): 0x2C}


class Cps4Commands:
    spec = CPS4
    generation = CPS4.name
    supports_sfi = CPS4.short_ef_ids
    assumed_max_tries = CPS4.assumed_max_tries      # the CPS4 does not tell (card.md §3.3)
    schemes: tuple[str, ...] = CPS4.schemes

    def __init__(self, link: CardLink):
        self.s = CardSession(link, CPS4.logical_channel)

    def start(self) -> None:
        _, sw = self.s.send(0xA4, 0x04, 0x0C, CHIPDOC_AID)
        if sw in RECOVERABLE:
            # What the Cryptolib does since 5.2.1 (release note #1722): select the card
            # manager, the CPS2ter applet on the basic channel, then ChipDoc again.
            self.s.send(0xA4, 0x04, 0x0C, GP_CARD_MANAGER)
            self.s.send(0xA4, 0x04, 0x0C, CPS2TER_AID, channel=0)
            _, sw = self.s.send(0xA4, 0x04, 0x0C, CHIPDOC_AID)
        if sw != SW.OK:
            raise refused("SELECT ChipDoc", sw)

    def select_path(self, path: bytes) -> None:
        if path[:2] == b"\x3f\x00":
            path = path[2:]
        if not path:
            self.s.check("SELECT MF", 0xA4, 0x00, 0x0C, b"\x3f\x00")
        else:
            self.s.check(f"SELECT {path.hex().upper()}", 0xA4, CPS4.select_path_p1, 0x0C, path)

    def file_size(self, path: bytes) -> int | None:
        """The size an EF's FCI gives (SELECT with P2=00, as the Cryptolib's CPS4 driver asks)."""
        from cpsdiag.iso7816.fcp import parse_fcp

        if path[:2] == b"\x3f\x00":
            path = path[2:]
        fci = self.s.check(f"SELECT {path.hex().upper()}", 0xA4, CPS4.select_path_p1, 0x00, path)
        return parse_fcp(fci, where=f"FCI {path.hex().upper()}").size

    def read_pin_status(self, reference: int, path: bytes | None) -> PinStatus:
        _, sw = self.s.send(0x20, 0x00, reference)
        status = status_from_verify_sw(sw, self.assumed_max_tries)
        if status is None:
            raise refused("VERIFY (status)", sw)
        return status

    def verify_pin(self, reference: int, path: bytes | None, pin: bytes) -> None:
        _, sw = self.s.send(0x20, 0x00, reference, pin)
        pin_result(sw)

    @staticmethod
    def _reference(key: PrivateKeyObject) -> int:
        if key.reference is None:
            raise refused(f"key {key.label} has no reference in the PrKDF", SW.REFERENCED_DATA_NOT_FOUND)
        return key.reference & 0x7F

    def raw_rsa(self, key: PrivateKeyObject, block: bytes) -> bytes:
        """RSA private operation on a block the host padded (how a CPS4 signs for TLS 1.2 and PKCS#1)."""
        self.s.check("MSE SET CT", 0x22, 0x41, 0xB8, bytes([0x83, 0x01, self._reference(key)]))
        return self.s.check_chained("PSO DECIPHER", 0x2A, 0x80, 0x86, block)

    def sign_pkcs1(self, key: PrivateKeyObject, digest_info: bytes) -> bytes:
        size = (key.modulus_bits or 2048) // 8
        if len(digest_info) > size - 11:
            raise ValueError("DigestInfo too long for the key")
        block = b"\x00\x01" + b"\xff" * (size - 3 - len(digest_info)) + b"\x00" + digest_info
        return self.raw_rsa(key, block)

    def sign_digest(self, key: PrivateKeyObject, hash_name: str, digest: bytes, pss: bool) -> bytes:
        """PKCS#1 v1.5 or RSA-PSS (salt = hash length) of a hash computed by the host."""
        alg = DST_ALG[(hash_name, pss)]
        self.s.check("MSE SET DST", 0x22, 0x81, 0xB6, bytes([0x91, 0x02, alg, 0x80 | self._reference(key)]))
        return self.s.check("PSO CDS", 0x2A, 0x9E, 0x9A, digest)

    def sign_pss(self, key: PrivateKeyObject, hash_name: str, digest: bytes) -> bytes:
        """RSA-PSS of a host-computed hash: the card pads SHA-1 and SHA-256 itself, the host pads the others."""
        if hash_name in ("sha1", "sha256"):
            return self.sign_digest(key, hash_name, digest, pss=True)
        from cpsdiag.card.pss import emsa_pss_encode

        return self.raw_rsa(key, emsa_pss_encode(digest, hash_name, key.modulus_bits or 2048))

    def sign_message(self, key: PrivateKeyObject, message: bytes) -> bytes:
        """A PKCS#1 v1.5 signature of the message's SHA-256, hashed by the host (the CPS4 has no PSO HASH)."""
        return self.sign_digest(key, "sha256", hashlib.sha256(message).digest(), pss=False)
