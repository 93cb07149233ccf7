"""The CPS2ter side of a CPS3: the legacy command set the Cryptolib still uses for two kinds of objects.

On a CPS3 contact card ANS's Cryptolib adds CPS_SIT_FACT (3F00/7F01/4000) and
one CPS2TER_ACTIVITY_nn_PS (3F00/40(0F+nn)) per situation of the DODF, and
reads them with the CPS2ter commands (research cryptolib-data-objects.md §1.4):
CLA A0; SELECT by file identifier, one level at a time, P1-P2 00 00, answered
``9F xx``; GET RESPONSE ``A0 C0`` returning a description starting with tag
85 (``85 L size(2) FID(2) type(1)``, type 01 MF, 02 DF, 04 EF); READ BINARY
``A0 B0`` with the offset in P1-P2; ``94 04`` for a file that is not there.

The status words follow the GSM 11.11 family the CPS2ter protocol belongs to
(the Cryptolib's table: 9404 file not found, 9804 access refused / wrong PIN);
those the Cryptolib never meets are a choice, listed in docs/emulator.md.
"""

from __future__ import annotations

from collections.abc import Callable

from .apdu import CardStatus, Command
from .filesystem import DF, EF, Node

CLA = 0xA0
NOT_FOUND = 0x9404
NO_EF_SELECTED = 0x9400
ACCESS_REFUSED = 0x9804            # GSM 11.11: access condition not fulfilled
WRONG_P3 = 0x6700
WRONG_P1P2 = 0x6B00
UNKNOWN_INS = 0x6D00
NO_DATA = 0x6F00
MORE_DATA = 0x9F00                 # | length of the description waiting for GET RESPONSE
TYPES = {"mf": 0x01, "df": 0x02, "ef": 0x04}


class Cps2terSide:
    """The CPS2ter file system of a CPS3, with its own current file; reading needs the holder's PIN.

    ``pin_verified`` tells whether the IAS PIN was verified: the Cryptolib never
    sends a CPS2ter VERIFY, so the IAS PIN must open these files (an inference of
    the research note; a real card may differ)."""

    def __init__(self, files: dict[tuple[int, ...], bytes], pin_verified: Callable[[], bool]):
        self.mf = DF(0x3F00)
        for path, data in files.items():
            parent = self.mf
            for fid in path[:-1]:
                child = parent.child(fid)
                if not isinstance(child, DF):
                    child = parent.add(DF(fid))
                assert isinstance(child, DF)
                parent = child
            parent.add(EF(path[-1], data=data))
        self.pin_verified = pin_verified
        self.reset()

    def reset(self) -> None:
        self.current: Node = self.mf
        self.pending = b""

    def process(self, cmd: Command) -> bytes:
        """A command with CLA A0: response data and status word."""
        pending, self.pending = self.pending, b""
        try:
            if cmd.ins == 0xA4:
                return self.select(cmd)
            if cmd.ins == 0xC0:
                return self.get_response(cmd, pending)
            if cmd.ins == 0xB0:
                return self.read_binary(cmd)
            raise CardStatus(UNKNOWN_INS)
        except CardStatus as status:
            return status.sw.to_bytes(2, "big")

    def _df(self) -> DF:
        node = self.current
        if isinstance(node, DF):
            return node
        assert node.parent is not None
        return node.parent

    def select(self, cmd: Command) -> bytes:
        if (cmd.p1, cmd.p2) != (0, 0):
            raise CardStatus(WRONG_P1P2)
        if len(cmd.data) != 2:
            raise CardStatus(WRONG_P3)
        fid = int.from_bytes(cmd.data, "big")
        df = self._df()
        if fid == 0x3F00:
            node: Node | None = self.mf
        elif fid == df.fid:
            node = df
        elif df.parent is not None and fid == df.parent.fid:
            node = df.parent
        else:
            node = df.child(fid)
        if node is None:
            raise CardStatus(NOT_FOUND)
        self.current = node
        self.pending = description(node)
        return (MORE_DATA | len(self.pending)).to_bytes(2, "big")

    def get_response(self, cmd: Command, pending: bytes) -> bytes:
        if not pending:
            raise CardStatus(NO_DATA)
        wanted = cmd.le or 256
        if wanted > len(pending):
            self.pending = pending
            raise CardStatus(WRONG_P3)
        return pending[:wanted] + b"\x90\x00"

    def read_binary(self, cmd: Command) -> bytes:
        ef = self.current
        if not isinstance(ef, EF):
            raise CardStatus(NO_EF_SELECTED)
        if not self.pin_verified():
            raise CardStatus(ACCESS_REFUSED)
        offset = (cmd.p1 << 8) | cmd.p2
        if offset >= len(ef.data):
            raise CardStatus(WRONG_P1P2)
        wanted = cmd.le or 256
        if offset + wanted > len(ef.data):
            raise CardStatus(WRONG_P3)
        return ef.data[offset:offset + wanted] + b"\x90\x00"


def description(node: Node) -> bytes:
    """What SELECT leaves for GET RESPONSE: 85 05, size, file identifier, type (all the Cryptolib reads)."""
    if isinstance(node, EF):
        size, kind = len(node.data), TYPES["ef"]
    else:
        size, kind = 0, TYPES["mf" if node.parent is None else "df"]
    body = size.to_bytes(2, "big") + node.fid.to_bytes(2, "big") + bytes([kind])
    return bytes([0x85, len(body)]) + body
