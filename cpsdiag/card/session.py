"""APDU exchange with T=0 handling, and the CPS3 / CPS4 command sets on top of it.

The two generations select files and read their PIN counter differently; the
backends hide that so that ``cpsdiag.card.reader`` reads both the same way.
"""

from __future__ import annotations

from cpsdiag.errors import ApduError, CardProtocolError
from cpsdiag.iso7816.tlv import der_total_length
from cpsdiag.transport.base import CardLink

CHIPDOC_AID = bytes.fromhex("8025000001FF0100")
MAX_CHUNKS = 64            # 16 KB: more is a card looping on 61xx, not data


class CardSession:
    """Sends APDUs on one logical channel and collects T=0 61xx/6Cxx answers."""

    def __init__(self, link: CardLink, channel: int = 0):
        self.link = link
        self.cla = channel & 0x03

    def send(self, ins: int, p1: int, p2: int, data: bytes = b"", le: int | None = None,
             cla: int | None = None) -> tuple[bytes, int]:
        cla = self.cla if cla is None else cla
        apdu = bytes([cla, ins, p1, p2])
        if data:
            apdu += bytes([len(data)]) + data
        if le is not None:
            apdu += bytes([le & 0xFF])
        out, sw = self.link.transmit(apdu)
        chunks = 0
        # T=0: data of case-4 commands come through GET RESPONSE, SW2 = bytes available (00 = 256).
        while sw >> 8 == 0x61:
            chunks += 1
            if chunks > MAX_CHUNKS:
                raise CardProtocolError("card keeps answering 61xx")
            more, sw = self.link.transmit(bytes([self.cla, 0xC0, 0, 0, sw & 0xFF]))
            if sw >> 8 == 0x6C:
                more, sw = self.link.transmit(bytes([self.cla, 0xC0, 0, 0, sw & 0xFF]))
            out += more
        return out, sw

    def check(self, name: str, ins: int, p1: int, p2: int, data: bytes = b"", le: int | None = None) -> bytes:
        out, sw = self.send(ins, p1, p2, data, le)
        if sw != 0x9000:
            raise ApduError(name, sw)
        return out

    def read_binary(self, offset: int, le: int, sfi: int | None = None) -> tuple[bytes, bool]:
        """One READ BINARY; returns (data, end_reached)."""
        if sfi is not None:
            p1, p2 = 0x80 | sfi, offset
        else:
            p1, p2 = offset >> 8, offset & 0xFF
        data, sw = self.send(0xB0, p1, p2, le=le)
        if sw >> 8 == 0x6C:
            # Fewer bytes left than asked: the card says how many.
            data, sw = self.send(0xB0, p1, p2, le=sw & 0xFF)
            if sw != 0x9000:
                raise ApduError("READ BINARY", sw)
            return data, True
        if sw == 0x6282:
            return data, True
        if sw == 0x6B00 and offset > 0:
            return b"", True
        if sw != 0x9000:
            raise ApduError("READ BINARY", sw)
        return data, len(data) < (le or 256)

    def read_all(self, sfi: int | None = None, size: int | None = None, der: bool = False) -> bytes:
        """Read the current (or SFI-designated) EF to its end, in the largest chunks short APDUs allow.

        With ``der`` the total size comes from the DER header of the first
        chunk, which saves the probe for the end of the file.
        """
        data = b""
        total = size
        while total is None or len(data) < total:
            want = 256 if total is None else min(256, total - len(data))
            # An SFI read also selects the EF, so later chunks use plain offsets
            # (an SFI read can only address the first 256 bytes).
            chunk, end = self.read_binary(len(data), want & 0xFF, sfi if not data else None)
            data += chunk
            if der and total is None:
                total = der_total_length(data)
            if end or not chunk:
                break
            if len(data) > MAX_CHUNKS * 256:
                raise CardProtocolError("file larger than 16 KB")
        return data if total is None else data[:total]


class Cps3Commands:
    """IAS-ECC as the Cryptolib drives a CPS3: absolute paths with P1=09, no FCP unless needed."""

    generation = "CPS3"
    supports_sfi = True

    def __init__(self, link: CardLink):
        self.s = CardSession(link, 0)

    def start(self) -> None:
        # Another program sharing the card may have left another DF current.
        self.s.check("SELECT MF", 0xA4, 0x09, 0x0C, bytes.fromhex("3F00"))

    def select_path(self, path: bytes) -> None:
        if path[:2] != b"\x3f\x00":
            path = b"\x3f\x00" + path
        self.s.check(f"SELECT {path.hex().upper()}", 0xA4, 0x09, 0x0C, path)

    def read_pin_status(self, reference: int, path: bytes | None):
        from cpsdiag.card.pin import parse_pin_sdo

        # The PIN object lives where the AODF's PIN path says (the MF on a CPS3).
        self.select_path(path or b"\x3f\x00")
        sdo = bytes([0xBF, 0x81, reference & 0x3F])
        request = bytes([0x4D, 0x08, 0x70, 0x06]) + sdo + bytes([0x02, 0xA0, 0x80])
        data = self.s.check("GET DATA PIN", 0xCB, 0x3F, 0xFF, request)
        return parse_pin_sdo(data, reference, where=f"GET DATA {sdo.hex().upper()}")


class Cps4Commands:
    """ChipDoc as the Cryptolib drives a CPS4: logical channel 1, paths from the MF with P1=08."""

    generation = "CPS4"
    supports_sfi = False
    assumed_max_tries = 3      # the CPS4 does not tell (card.md §3.3)

    def __init__(self, link: CardLink):
        self.s = CardSession(link, 1)

    def start(self) -> None:
        self.s.check("SELECT ChipDoc", 0xA4, 0x04, 0x0C, CHIPDOC_AID)

    def select_path(self, path: bytes) -> None:
        if path[:2] == b"\x3f\x00":
            path = path[2:]
        if not path:
            self.s.check("SELECT MF", 0xA4, 0x00, 0x0C, b"\x3f\x00")
        else:
            self.s.check(f"SELECT {path.hex().upper()}", 0xA4, 0x08, 0x0C, path)

    def read_pin_status(self, reference: int, path: bytes | None):
        from cpsdiag.card.pin import status_from_verify_sw

        _, sw = self.s.send(0x20, 0x00, reference)
        status = status_from_verify_sw(sw, self.assumed_max_tries)
        if status is None:
            raise ApduError("VERIFY (status)", sw)
        return status


def commands_for(generation: str, link: CardLink):
    return Cps4Commands(link) if generation == "CPS4" else Cps3Commands(link)
