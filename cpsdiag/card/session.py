"""APDU exchange on one logical channel, with T=0 handling (61xx, 6Cxx) and command chaining."""

from __future__ import annotations

from cpsdiag.errors import ApduError, CardProtocolError
from cpsdiag.iso7816.sw import SW, describe
from cpsdiag.iso7816.tlv import der_total_length
from cpsdiag.transport.base import CardLink


MAX_CHUNKS = 64            # 16 KB: more is a card looping on 61xx, not data


def refused(command: str, sw: int) -> ApduError:
    """The card's refusal of ``command``, its message saying what the status word means."""
    return ApduError(command, int(sw), describe(sw))


class CardSession:
    """Sends APDUs on one logical channel and collects T=0 61xx/6Cxx answers."""

    def __init__(self, link: CardLink, channel: int = 0):
        self.link = link
        self.cla = channel & 0x03

    def send(self, ins: int, p1: int, p2: int, data: bytes = b"", le: int | None = None,
             chained: bool = False, channel: int | None = None) -> tuple[bytes, int]:
        cla = (self.cla if channel is None else channel & 0x03) | (0x10 if chained else 0)
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
            more, sw = self.link.transmit(bytes([cla & 0x03, 0xC0, 0, 0, sw & 0xFF]))
            if sw >> 8 == 0x6C:
                more, sw = self.link.transmit(bytes([cla & 0x03, 0xC0, 0, 0, sw & 0xFF]))
            out += more
        return out, sw

    def check(self, name: str, ins: int, p1: int, p2: int, data: bytes = b"", le: int | None = None) -> bytes:
        out, sw = self.send(ins, p1, p2, data, le)
        if sw != SW.OK:
            raise refused(name, sw)
        return out

    def check_chained(self, name: str, ins: int, p1: int, p2: int, data: bytes, block: int = 255) -> bytes:
        """Send data longer than one short APDU with command chaining (CLA b5 on all but the last block)."""
        blocks = [data[i:i + block] for i in range(0, len(data), block)]
        for part in blocks[:-1]:
            _, sw = self.send(ins, p1, p2, part, chained=True)
            if sw != SW.OK:
                raise refused(name, sw)
        return self.check(name, ins, p1, p2, blocks[-1])

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
            if sw != SW.OK:
                raise refused("READ BINARY", sw)
            return data, True
        if sw == SW.END_OF_FILE:
            return data, True
        if sw == SW.WRONG_P1P2 and offset > 0:
            return b"", True
        if sw != SW.OK:
            raise refused("READ BINARY", sw)
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
