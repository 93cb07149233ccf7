"""A virtual CPS4 (ChipDoc).

What it adds to the shared card: logical channel 1, FCI (6F) on SELECT with
P2=00 (the Cryptolib's CPS4 driver asks for it), GET RESPONSE in chunks of
256, MSE SET DST with the algorithm and key in tag 91 (PKCS#1 or PSS), a raw
RSA PSO DECIPHER on a block the host padded (how a CPS4 signs for TLS 1.2),
no card-side hashing, and the 69 85 fault of release note #1722.
"""

from __future__ import annotations

from cpsdiag.iso7816.sw import SW

from .apdu import CardStatus, Command
from .cardbase import CardBase
from .filesystem import Node, fci
from .generations import CPS4
from .keys import CardKey
from .layout import KeySlot
from .profile import KeyPair, Profile

# MSE SET DST algorithm identifiers (Cryptolib cards.h): (hash, PSS).
DST_ALGS = {0x0A: ("sha1", False), 0x28: ("sha256", False), 0x15: ("sha1", True), 0x2C: ("sha256", True)}


class Cps4Card(CardBase):
    facts = CPS4
    response_chunk = 0x100
    channels_allowed = (0, 1)      # channel 0 sees ChipDoc too; the CPS2ter applet is not emulated

    def __init__(self, profile: Profile) -> None:
        super().__init__(profile)
        self.mse_templates[0xB6] = self._mse_dst

    def make_key(self, slot: KeySlot, pair: KeyPair) -> CardKey:
        auth = slot.role == "auth"
        # No INTERNAL AUTHENTICATE: the authentication key signs by raw RSA (decipher) and, for TLS 1.3, by PSO CDS.
        return CardKey(reference=slot.reference, key=pair.key, can_internal_auth=False, can_decipher=auth,
                       can_sign=True)

    def power_on(self) -> None:
        super().power_on()
        self.pending_6985 = self.profile.faults.cps4_6985_once

    def dispatch(self, cmd: Command, pending: bytes) -> bytes:
        if self.pending_6985 and cmd.channel == 1 and not cmd.cla & 0x80:
            # Cryptolib 5.2.1 release note #1722: a CPS4 may answer 69 85 after a card change.
            self.pending_6985 = False
            raise CardStatus(SW.CONDITIONS_NOT_SATISFIED)
        return super().dispatch(cmd, pending)

    def select_answer(self, node: Node, p2: int) -> bytes:
        if p2 == 0x00:
            return fci(node)
        return super().select_answer(node, p2)

    def _mse_dst(self, fields: dict[int, bytes]) -> None:
        spec = fields.get(0x91)                       # 91 02 <alg> <key ref | 80>
        if spec is None or len(spec) != 2 or spec[0] not in DST_ALGS:
            raise CardStatus(SW.WRONG_DATA)
        self.env.dst_alg, self.env.dst_key = DST_ALGS[spec[0]], self._key(spec[1]).reference

    def decipher(self, key: CardKey, block: bytes) -> bytes:
        # The result is returned unchanged (no padding check): the host padded the block itself.
        try:
            return key.raw(block)
        except ValueError:
            raise CardStatus(SW.WRONG_LENGTH) from None
