"""A virtual CPS3 (IAS-ECC), with its CPS2ter side on the contact interface.

What it adds to the shared card: GET DATA of the IAS-ECC security data objects,
INTERNAL AUTHENTICATE, PSO HASH resumed from the host's intermediate state,
PSO DECIPHER with the padding-indicator byte, MSE SET AT/HT/DST with the
algorithm in tag 80, GET RESPONSE in chunks of 0xE7, FCI requests refused as
a real CPS3 refuses them, channel 0 only, and the CPS2ter commands (CLA A0).
"""

from __future__ import annotations

from cpsdiag.iso7816.sw import SW

from . import der, sharesume
from .apdu import CardStatus, Command
from .cardbase import CardBase, simple_tlvs
from .cps2ter import CLA as CPS2TER_CLA, Cps2terSide
from .dataobjects import cps2ter_files
from .generations import CPS3
from .keys import CardKey
from .layout import KEY_DOCP, PIN_ACL, PIN_POLICY_7F41, KeySlot
from .profile import KeyPair, Profile

DST_ALGS = {0x12: "sha1", 0x42: "sha256"}
HT_ALGS = {0x10: "sha1", 0x40: "sha256"}


class Cps3Card(CardBase):
    facts = CPS3
    response_chunk = 0xE7          # what the real card and the Cryptolib use
    channels_allowed = (0,)

    def __init__(self, profile: Profile):
        super().__init__(profile)
        self.handlers.update({0x88: self.internal_authenticate, 0xCB: self.get_data})
        self.mse_templates.update({0xA4: self._mse_at, 0xAA: self._mse_ht, 0xB6: self._mse_dst})
        self.pso_operations[(0x90, 0xA0)] = self._pso_hash
        for slot in self.key_slots:
            sdo_tag = bytes([0xBF, 0x90, slot.reference & 0x7F])
            self.app.sdos[sdo_tag] = {b"\xa0": der.tlv(0xA0, KEY_DOCP[slot.role])}
        # The contactless face has no CPS2ter side (the Cryptolib builds its objects for contact cards only).
        self.cps2ter = (Cps2terSide(cps2ter_files(profile, self.values), lambda: self.pin.verified)
                        if self.has_pin else None)

    def make_key(self, slot: KeySlot, pair: KeyPair) -> CardKey:
        auth = slot.role == "auth"
        # Authentication by INTERNAL AUTHENTICATE (the card pads), non-repudiation by PSO CDS.
        return CardKey(reference=slot.reference, key=pair.key, can_internal_auth=auth, can_decipher=auth,
                       can_sign=not auth)

    def power_on(self) -> None:
        super().power_on()
        cps2ter = getattr(self, "cps2ter", None)
        if cps2ter is not None:
            cps2ter.reset()

    def dispatch(self, cmd: Command, pending: bytes) -> bytes:
        if cmd.cla == CPS2TER_CLA and self.cps2ter is not None:
            return self.cps2ter.process(cmd)
        if self.cps2ter is not None:
            self.cps2ter.pending = b""
        return super().dispatch(cmd, pending)

    def select(self, cmd: Command) -> bytes:
        if cmd.p2 == 0x00:
            # A real CPS3 refuses FCI requests (6A 86), only FCP (04) and none (0C).
            raise CardStatus(SW.INCORRECT_P1P2)
        return super().select(cmd)

    # -- security data objects (IAS-ECC GET DATA) -------------------------------

    def get_data(self, cmd: Command) -> bytes:
        if (cmd.p1, cmd.p2) != (0x3F, 0xFF):
            raise CardStatus(SW.REFERENCED_DATA_NOT_FOUND)
        # 4D L 70 L BF cc rr L <tag> 80
        d = cmd.data
        if len(d) < 9 or d[0] != 0x4D or d[2] != 0x70 or d[4] != 0xBF:
            raise CardStatus(SW.WRONG_DATA)
        sdo_tag, inner = d[4:7], d[8:-1]
        if not inner:
            raise CardStatus(SW.WRONG_DATA)
        df = self._channel(cmd).df
        objects: dict[bytes, bytes] | None
        if sdo_tag == b"\xbf\x81\x01" and df is self.mf and self.has_pin:
            objects = {
                b"\xa0": der.tlv(0xA0, der.tlv(0x9A, bytes([self.pin.max_tries])),
                                 der.tlv(0x9B, bytes([self.pin.tries_left])), PIN_ACL),
                b"\x7f\x41": PIN_POLICY_7F41,
            }
        else:
            objects = df.sdos.get(sdo_tag)
            if objects is None:
                raise CardStatus(SW.REFERENCED_DATA_NOT_FOUND)
        value = objects.get(inner)
        if value is None:
            raise CardStatus(SW.INCORRECT_P1P2)
        return der.tlv(0x70, der.tlv(int.from_bytes(sdo_tag, "big"), value))

    # -- cryptography ---------------------------------------------------------

    def _mse_at(self, fields: dict[int, bytes]) -> None:
        if fields.get(0x80) not in (None, b"\x02"):
            raise CardStatus(SW.WRONG_DATA)
        self.env.at_key = self._key(self._reference(fields)).reference

    def _mse_ht(self, fields: dict[int, bytes]) -> None:
        alg = fields.get(0x80)
        if not alg or alg[0] not in HT_ALGS:
            raise CardStatus(SW.WRONG_DATA)
        self.env.ht_alg, self.env.digest = HT_ALGS[alg[0]], None

    def _mse_dst(self, fields: dict[int, bytes]) -> None:
        alg = fields.get(0x80)
        if not alg or alg[0] not in DST_ALGS:
            raise CardStatus(SW.WRONG_DATA)
        self.env.dst_alg, self.env.dst_key = (DST_ALGS[alg[0]], False), self._key(self._reference(fields)).reference

    def internal_authenticate(self, cmd: Command) -> bytes:
        if (cmd.p1, cmd.p2) != (0, 0):
            raise CardStatus(SW.INCORRECT_P1P2)
        key = self._key(self.env.at_key) if self.env.at_key is not None else None
        if key is None or not key.can_internal_auth:
            raise CardStatus(SW.CONDITIONS_NOT_SATISFIED)
        self._require_pin()
        # IAS-ECC accepts at most 40 % of the modulus as INTERNAL AUTHENTICATE input.
        if not cmd.data or len(cmd.data) > key.size * 40 // 100:
            raise CardStatus(SW.WRONG_LENGTH)
        return key.pkcs1_pad_and_sign(cmd.data)

    def _pso_hash(self, cmd: Command) -> bytes:
        alg = self.env.ht_alg
        if alg is None:
            raise CardStatus(SW.CONDITIONS_NOT_SATISFIED)
        fields = simple_tlvs(cmd.data)
        if 0x80 not in fields or 0x90 not in fields:
            raise CardStatus(SW.WRONG_DATA)
        intermediate = fields[0x90]
        size = sharesume.digest_size(alg)
        if intermediate:
            if len(intermediate) != size + 8:
                raise CardStatus(SW.WRONG_DATA)
            state, bits_done = intermediate[:size], int.from_bytes(intermediate[size:], "big")
        else:
            state, bits_done = None, 0
        try:
            digest = sharesume.finish(alg, fields[0x80], state, bits_done)
        except ValueError:
            raise CardStatus(SW.WRONG_DATA) from None
        self.env.digest = (alg, digest)
        return b""

    def decipher(self, key: CardKey, block: bytes) -> bytes:
        # The ISO padding-indicator byte 81, then the cryptogram; PKCS#1 type-2 padding removed.
        if not block or block[0] != 0x81:
            raise CardStatus(SW.WRONG_DATA)
        try:
            plain = key.raw(block[1:])
        except ValueError:
            raise CardStatus(SW.WRONG_LENGTH) from None
        if plain[:2] != b"\x00\x02" or b"\x00" not in plain[2:]:
            raise CardStatus(SW.WRONG_DATA)
        return plain[plain.index(b"\x00", 2) + 1:]

