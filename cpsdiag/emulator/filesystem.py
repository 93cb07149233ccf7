"""The virtual card's ISO 7816-4 file tree and its FCP/FCI templates."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from .der import tlv

# IAS-ECC access rules as a real CPS3 returns them: contact ACL (8C) and
# contactless ACL (9C) inside an A1 template. OpenSC's iasecc driver refuses
# any FCP that has no 8C, so every file carries one. The access mode byte 7B
# announces six security condition bytes: delete, terminate, activate,
# deactivate, update, read (b7..b1 without b3).
_ACL_DF = bytes.fromhex("A1128C077BFFFFFFFFFFFF9C077BFFFFFFFFFFFF")
_LIFE_CYCLE = bytes.fromhex("8A0105")  # operational, activated

# Who may read or update an EF: anyone, the holder once the PIN is verified, no one.
ALWAYS, PIN, NEVER = "always", "pin", "never"
# Security condition bytes: 00 always, FF never, 11 user authentication under
# security environment #1 (whose AT template names PIN 1, layout.SE_1).
_SCB = {ALWAYS: 0x00, PIN: 0x11, NEVER: 0xFF}


def _ef_acl(read: str, update: str) -> bytes:
    rules = bytes([0x7B, 0xFF, 0xFF, 0xFF, 0xFF, _SCB[update], _SCB[read]])
    return tlv(0xA1, tlv(0x8C, rules), tlv(0x9C, rules))


@dataclass(eq=False)
class Node:
    fid: int
    parent: DF | None = field(default=None, repr=False)

    def path(self) -> list[Node]:
        nodes: list[Node] = []
        node: Node | None = self
        while node is not None:
            nodes.append(node)
            node = node.parent
        return list(reversed(nodes))


@dataclass(eq=False)
class EF(Node):
    data: bytes = b""
    sfi: int | None = None
    read: str = ALWAYS
    update: str = NEVER

    def fcp_body(self) -> bytes:
        body = tlv(0x80, len(self.data).to_bytes(2, "big")) + bytes.fromhex("820101") + tlv(0x83, self.fid.to_bytes(2, "big"))
        if self.sfi is not None:
            body += tlv(0x88, bytes([self.sfi << 3]))
        return body + _ef_acl(self.read, self.update) + _LIFE_CYCLE


@dataclass(eq=False)
class DF(Node):
    aid: bytes | None = None
    children: dict[int, Node] = field(default_factory=dict)
    # Security data objects (IAS-ECC SDOs) visible from this DF, keyed by their
    # 3-byte tag (BF 81 01 = PIN 1, BF 90 02 = private key 2...).
    sdos: dict[bytes, dict[bytes, bytes]] = field(default_factory=dict)

    def add(self, node: Node) -> Node:
        node.parent = self
        self.children[node.fid] = node
        return node

    def child(self, fid: int) -> Node | None:
        return self.children.get(fid)

    def by_sfi(self, sfi: int) -> EF | None:
        for node in self.children.values():
            if isinstance(node, EF) and node.sfi == sfi:
                return node
        return None

    def walk(self) -> Iterator[Node]:
        yield self
        for node in self.children.values():
            if isinstance(node, DF):
                yield from node.walk()
            else:
                yield node

    def fcp_body(self) -> bytes:
        body = bytes.fromhex("820138") + tlv(0x83, self.fid.to_bytes(2, "big"))
        if self.aid:
            body += tlv(0x84, self.aid)
        return body + _ACL_DF + _LIFE_CYCLE


def fcp(node: Node) -> bytes:
    """File control parameters, as a CPS3 answers SELECT with P2=04."""
    return tlv(0x62, node.fcp_body())  # type: ignore[attr-defined]


def fci(node: Node) -> bytes:
    """File control information, as a CPS4 answers SELECT with P2=00.

    The Cryptolib's CPS4 driver insists on a 6F template; its content is the
    same set of tags (UNCERTAIN for a real CPS4, see docs/emulator.md).
    """
    return tlv(0x6F, node.fcp_body())  # type: ignore[attr-defined]
