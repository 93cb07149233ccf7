"""The virtual CPS card: ISO 7816-4 commands as a CPS3 or a CPS4 answers them.

``VirtualCard.process`` takes a command APDU and returns the response APDU
(data + SW1 SW2). It never raises: a command the card does not understand gets
the status word a card would return.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Callable

from cpsdiag.iso7816.sw import SW

from . import der, sharesume
from .apdu import CardStatus, Command, parse_command
from .filesystem import DF, EF, Node, fci, fcp
from .keys import CardKey
from .layout import PIN_ACL, PIN_POLICY_7F41, ROOT_AID, build
from .profile import Profile

log = logging.getLogger("cpsdiag.emulator")

CHIPDOC_AID = ROOT_AID
PIN_REFERENCE = 0x01
PUK_MAX_TRIES = 10   # UNCERTAIN: the real unblock-code counter is not documented.

# Instructions whose response data a T=0 card sends at once (case 2 with the
# exact P3); every other command with response data answers 61xx.
_DIRECT = {0xB0, 0xC0, 0x84}
# Command data that must never reach a log: PINs and unblock codes.
SECRET_INS = {0x20, 0x24, 0x2C}

# CPS4 MSE SET DST algorithm identifiers (Cryptolib cards.h).
CPS4_DST_ALGS = {0x0A: ("sha1", False), 0x28: ("sha256", False), 0x15: ("sha1", True), 0x2C: ("sha256", True)}
CPS3_DST_ALGS = {0x12: "sha1", 0x42: "sha256"}
CPS3_HT_ALGS = {0x10: "sha1", 0x40: "sha256"}


@dataclass
class Channel:
    df: DF
    ef: EF | None = None


@dataclass
class SecurityEnvironment:
    at_key: int | None = None          # MSE SET AT (CPS3 INTERNAL AUTHENTICATE)
    ht_alg: str | None = None          # MSE SET HT (CPS3 PSO HASH)
    dst_key: int | None = None         # MSE SET DST
    dst_alg: tuple[str, bool] | None = None   # (hash, pss)
    ct_key: int | None = None          # MSE SET CT (decipher)
    digest: tuple[str, bytes] | None = None   # PSO HASH result, kept until PSO CDS


@dataclass
class Counters:
    apdus: int = 0
    bytes_in: int = 0
    bytes_out: int = 0


@dataclass
class PinState:
    value: bytes
    max_tries: int
    tries_left: int
    verified: bool = False

    @property
    def blocked(self) -> bool:
        return self.tries_left == 0


class VirtualCard:
    def __init__(self, profile: Profile):
        self.profile = profile
        self.generation = profile.generation
        self.atr = profile.atr
        image = build(profile)
        self.mf, self.app, self.keys = image.mf, image.app, image.keys
        self.has_pin = profile.interface == "contact"
        self.pin = PinState(profile.pin.encode(), profile.pin_max_tries, profile.pin_tries_left)
        self.puk = PinState(profile.puk.encode(), PUK_MAX_TRIES, PUK_MAX_TRIES)
        # Largest chunk one GET RESPONSE returns: 0xE7 on a CPS3 (what the real
        # card and the Cryptolib use), 256 on a CPS4.
        self.response_chunk = 0xE7 if self.generation == "CPS3" else 0x100
        self.channels_allowed = (0,) if self.generation == "CPS3" else (0, 1)
        self.counters = Counters()
        self.handlers: dict[int, Callable[[Command], bytes]] = {
            0xA4: self.select, 0xB0: self.read_binary, 0xC0: self.get_response,
            0x20: self.verify, 0x2C: self.reset_retry_counter, 0x22: self.manage_security_environment,
            0x2A: self.perform_security_operation,
        }
        if self.generation == "CPS3":
            self.handlers[0x88] = self.internal_authenticate
            self.handlers[0xCB] = self.get_data
        self.power_on()

    # -- power and state ---------------------------------------------------

    def power_on(self) -> None:
        self.pending_6985 = self.profile.faults.cps4_6985_once and self.generation == "CPS4"
        self.channels: dict[int, Channel] = {ch: Channel(self.mf) for ch in self.channels_allowed}
        self.pending = b""
        self.chain_buffer = b""
        self.env = SecurityEnvironment()
        self.pin.verified = False
        self.puk.verified = False

    reset = power_on

    def power_off(self) -> None:
        self.power_on()

    # -- APDU entry point --------------------------------------------------

    def process(self, raw: bytes) -> bytes:
        self.counters.apdus += 1
        self.counters.bytes_in += len(raw)
        rsp = self._process(raw)
        self.counters.bytes_out += len(rsp)
        return rsp

    def _process(self, raw: bytes) -> bytes:
        try:
            cmd = parse_command(raw)
            pending, self.pending = self.pending, b""
            if cmd.extended:
                raise CardStatus(SW.WRONG_LENGTH)
            self._check_class(cmd)
            forced = self.profile.faults.status_words.get(cmd.ins)
            if forced is not None:
                raise CardStatus(forced)
            if self.pending_6985 and cmd.channel == 1:
                # Cryptolib 5.2.1 release note #1722: a CPS4 may answer 69 85 after a card change.
                self.pending_6985 = False
                raise CardStatus(SW.CONDITIONS_NOT_SATISFIED)
            if cmd.ins != 0x2A and self.chain_buffer:
                self.chain_buffer = b""
            handler = self.handlers.get(cmd.ins)
            if handler is None:
                raise CardStatus(SW.INS_NOT_SUPPORTED)
            if cmd.ins == 0xC0:
                self.pending = pending
            data = handler(cmd)
            return self._shape(cmd, data)
        except CardStatus as status:
            return status.sw.to_bytes(2, "big")
        except Exception:  # a bug in a handler must not take the card off the reader
            log.exception("internal error on APDU %s", raw[:5].hex())
            return SW.NO_PRECISE_DIAGNOSIS.to_bytes(2, "big")

    def _check_class(self, cmd: Command) -> None:
        if cmd.cla & 0x80 or cmd.cla == 0xFF:
            raise CardStatus(SW.CLA_NOT_SUPPORTED)
        if cmd.cla & 0x0C:
            raise CardStatus(0x6882)           # secure messaging not supported
        if cmd.channel not in self.channels_allowed:
            raise CardStatus(SW.LOGICAL_CHANNEL_NOT_SUPPORTED)
        if cmd.chained and not (cmd.ins == 0x2A and cmd.p1 == 0x80 and cmd.p2 == 0x86):
            raise CardStatus(SW.CHAINING_NOT_SUPPORTED)

    def _shape(self, cmd: Command, data: bytes) -> bytes:
        """T=0 delivery: data of case-4 commands only through GET RESPONSE."""
        if not data:
            return b"\x90\x00"
        if cmd.ins in _DIRECT:
            return data  # handler already appended its status word
        self.pending = data
        return bytes([0x61, len(data) & 0xFF])

    # -- files ---------------------------------------------------------------

    def _channel(self, cmd: Command) -> Channel:
        return self.channels[cmd.channel]

    def _find_path(self, start: DF, fids: list[int]) -> Node:
        node: Node = start
        for fid in fids:
            if not isinstance(node, DF):
                raise CardStatus(SW.FILE_NOT_FOUND)
            child = node.child(fid)
            if child is None:
                raise CardStatus(SW.FILE_NOT_FOUND)
            node = child
        return node

    def _find_fid(self, current: DF, fid: int) -> Node:
        # Lenient like the real card: "02" with 3F00 selects the MF (OpenSC and
        # the Cryptolib both do that), the current DF and its parent are reachable too.
        if fid == 0x3F00:
            return self.mf
        child = current.child(fid)
        if child is not None:
            return child
        if fid == current.fid:
            return current
        if current.parent is not None and fid == current.parent.fid:
            return current.parent
        raise CardStatus(SW.FILE_NOT_FOUND)

    def select(self, cmd: Command) -> bytes:
        ch = self._channel(cmd)
        p1, p2, data = cmd.p1, cmd.p2, cmd.data
        if p2 not in (0x00, 0x04, 0x0C):
            raise CardStatus(SW.INCORRECT_P1P2)
        if p2 == 0x00 and self.generation == "CPS3":
            # A real CPS3 refuses FCI requests (6A 86), only FCP (04) and none (0C).
            raise CardStatus(SW.INCORRECT_P1P2)
        if p1 in (0x00, 0x01, 0x02):
            if not data:
                if p1 != 0x00:
                    raise CardStatus(SW.WRONG_LENGTH)
                node: Node = self.mf
            elif len(data) != 2:
                raise CardStatus(SW.WRONG_LENGTH)
            else:
                node = self._find_fid(ch.df, int.from_bytes(data, "big"))
        elif p1 == 0x04:
            node = self._find_aid(data)
        elif p1 in (0x08, 0x09):
            if not data or len(data) % 2:
                raise CardStatus(SW.WRONG_LENGTH)
            fids = [int.from_bytes(data[i:i + 2], "big") for i in range(0, len(data), 2)]
            if fids[0] == 0x3F00:
                start, fids = self.mf, fids[1:]
            elif p1 == 0x08:
                start = self.mf
            else:
                start = ch.df
            node = self._find_path(start, fids) if fids else start
        else:
            raise CardStatus(SW.INCORRECT_P1P2)
        if isinstance(node, DF):
            ch.df, ch.ef = node, None
        else:
            assert isinstance(node, EF) and node.parent is not None
            ch.df, ch.ef = node.parent, node
        if p2 == 0x0C:
            return b""
        return fcp(node) if p2 == 0x04 else fci(node)

    def _find_aid(self, aid: bytes) -> DF:
        if not aid:
            raise CardStatus(SW.WRONG_LENGTH)
        for node in self.mf.walk():
            if isinstance(node, DF) and node.aid == aid:
                return node
        raise CardStatus(SW.FILE_NOT_FOUND)

    def read_binary(self, cmd: Command) -> bytes:
        ch = self._channel(cmd)
        if cmd.data:
            raise CardStatus(SW.WRONG_LENGTH)
        if cmd.p1 & 0x80:
            if cmd.p1 & 0x60:
                raise CardStatus(SW.INCORRECT_P1P2)
            ef = ch.df.by_sfi(cmd.p1 & 0x1F) or self.mf.by_sfi(cmd.p1 & 0x1F)
            if ef is None:
                raise CardStatus(SW.FILE_NOT_FOUND)
            assert ef.parent is not None
            ch.df, ch.ef = ef.parent, ef
            offset = cmd.p2
        else:
            ef = ch.ef
            if ef is None:
                raise CardStatus(SW.COMMAND_NOT_ALLOWED_NO_EF)
            offset = (cmd.p1 << 8) | cmd.p2
        available = len(ef.data) - offset
        if available <= 0:
            raise CardStatus(SW.WRONG_P1P2)
        wanted = cmd.le or 256   # on T=0 a missing Le goes out as P3=00
        if wanted > available:
            # T=0 cards cannot send fewer bytes than P3: they ask for the exact length.
            raise CardStatus(0x6C00 | (available & 0xFF))
        return ef.data[offset:offset + wanted] + b"\x90\x00"

    def get_response(self, cmd: Command) -> bytes:
        if not self.pending:
            raise CardStatus(SW.CONDITIONS_NOT_SATISFIED)
        wanted = cmd.le or 256
        limit = min(self.response_chunk, len(self.pending))
        if wanted > limit:
            raise CardStatus(0x6C00 | (limit & 0xFF))
        chunk, rest = self.pending[:wanted], self.pending[wanted:]
        self.pending = rest
        sw = bytes([0x61, len(rest) & 0xFF]) if rest else b"\x90\x00"
        return chunk + sw

    # -- PIN -------------------------------------------------------------------

    def verify(self, cmd: Command) -> bytes:
        if cmd.p1 != 0x00:
            raise CardStatus(SW.INCORRECT_P1P2)
        if not self.has_pin or cmd.p2 != PIN_REFERENCE:
            raise CardStatus(SW.REFERENCED_DATA_NOT_FOUND)
        pin = self.pin
        if not cmd.data:
            # Status query: costs no try (what the middleware uses to read the counter).
            if pin.blocked:
                raise CardStatus(SW.AUTH_METHOD_BLOCKED)
            if pin.verified:
                return b""
            raise CardStatus(0x63C0 | pin.tries_left)
        if pin.blocked:
            raise CardStatus(SW.AUTH_METHOD_BLOCKED)
        if not 4 <= len(cmd.data) <= 8:
            raise CardStatus(SW.WRONG_LENGTH)
        if cmd.data == pin.value:
            pin.tries_left, pin.verified = pin.max_tries, True
            return b""
        pin.tries_left -= 1
        pin.verified = False
        raise CardStatus(0x63C0 | pin.tries_left)

    def reset_retry_counter(self, cmd: Command) -> bytes:
        """ISO RESET RETRY COUNTER with the unblock code (P1=00: PUK + new PIN, P1=01: PUK only)."""
        if not self.has_pin or cmd.p2 != PIN_REFERENCE:
            raise CardStatus(SW.REFERENCED_DATA_NOT_FOUND)
        if cmd.p1 not in (0x00, 0x01):
            raise CardStatus(SW.INCORRECT_P1P2)
        if self.puk.blocked:
            raise CardStatus(SW.AUTH_METHOD_BLOCKED)
        n = len(self.puk.value)
        given, new_pin = cmd.data[:n], cmd.data[n:]
        if cmd.p1 == 0x00 and not 4 <= len(new_pin) <= 8 or cmd.p1 == 0x01 and new_pin:
            raise CardStatus(SW.WRONG_LENGTH)
        if given != self.puk.value:
            self.puk.tries_left -= 1
            raise CardStatus(0x63C0 | self.puk.tries_left)
        self.puk.tries_left = self.puk.max_tries
        if new_pin:
            self.pin.value = new_pin
        self.pin.tries_left, self.pin.verified = self.pin.max_tries, False
        return b""

    def _require_pin(self) -> None:
        if self.has_pin and not self.pin.verified:
            raise CardStatus(SW.SECURITY_STATUS_NOT_SATISFIED)

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

    def _key(self, ref: int | None) -> CardKey:
        key = self.keys.get((ref or 0) & 0x7F) if ref is not None else None
        if key is None:
            raise CardStatus(SW.REFERENCED_DATA_NOT_FOUND)
        return key

    def manage_security_environment(self, cmd: Command) -> bytes:
        if cmd.p1 == 0xF3:      # RESTORE SE: back to a clean environment
            self.env = SecurityEnvironment()
            return b""
        if cmd.p1 not in (0x41, 0x81):
            raise CardStatus(SW.INCORRECT_P1P2)
        fields = _simple_tlvs(cmd.data)
        alg = fields.get(0x80)
        ref_field = fields.get(0x84) or fields.get(0x83)
        ref = ref_field[0] if ref_field else None
        env = self.env
        if cmd.p2 == 0xA4:
            if alg not in (None, b"\x02"):
                raise CardStatus(SW.WRONG_DATA)
            env.at_key = self._key(ref).reference
        elif cmd.p2 == 0xAA:
            if not alg or alg[0] not in CPS3_HT_ALGS:
                raise CardStatus(SW.WRONG_DATA)
            env.ht_alg, env.digest = CPS3_HT_ALGS[alg[0]], None
        elif cmd.p2 == 0xB6:
            if 0x91 in fields:                      # CPS4: 91 02 <alg> <key ref | 80>
                spec = fields[0x91]
                if len(spec) != 2 or spec[0] not in CPS4_DST_ALGS:
                    raise CardStatus(SW.WRONG_DATA)
                env.dst_alg, env.dst_key = CPS4_DST_ALGS[spec[0]], self._key(spec[1]).reference
            else:
                if not alg or alg[0] not in CPS3_DST_ALGS:
                    raise CardStatus(SW.WRONG_DATA)
                env.dst_alg, env.dst_key = (CPS3_DST_ALGS[alg[0]], False), self._key(ref).reference
        elif cmd.p2 == 0xB8:
            env.ct_key = self._key(ref).reference
        else:
            raise CardStatus(SW.INCORRECT_P1P2)
        return b""

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

    def perform_security_operation(self, cmd: Command) -> bytes:
        op = (cmd.p1, cmd.p2)
        if op == (0x90, 0xA0):
            return self._pso_hash(cmd)
        if op == (0x9E, 0x9A):
            return self._pso_sign(cmd)
        if op == (0x80, 0x86):
            return self._pso_decipher(cmd)
        raise CardStatus(SW.INCORRECT_P1P2)

    def _pso_hash(self, cmd: Command) -> bytes:
        if self.generation != "CPS3":
            raise CardStatus(SW.INCORRECT_P1P2)     # a CPS4 hashes nothing: the host sends hashes
        alg = self.env.ht_alg
        if alg is None:
            raise CardStatus(SW.CONDITIONS_NOT_SATISFIED)
        fields = _simple_tlvs(cmd.data)
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

    def _pso_sign(self, cmd: Command) -> bytes:
        env = self.env
        if env.dst_alg is None or env.dst_key is None:
            raise CardStatus(SW.CONDITIONS_NOT_SATISFIED)
        key = self._key(env.dst_key)
        if not key.can_sign:
            raise CardStatus(SW.CONDITIONS_NOT_SATISFIED)
        alg, pss = env.dst_alg
        if cmd.data:
            digest = cmd.data
        elif env.digest is not None and env.digest[0] == alg:
            digest = env.digest[1]
        else:
            raise CardStatus(SW.CONDITIONS_NOT_SATISFIED)
        if len(digest) != sharesume.digest_size(alg):
            raise CardStatus(SW.WRONG_LENGTH)
        self._require_pin()
        env.digest = None
        return key.sign_digest(alg, digest, pss)

    def _pso_decipher(self, cmd: Command) -> bytes:
        if self.env.ct_key is None:
            raise CardStatus(SW.CONDITIONS_NOT_SATISFIED)
        key = self._key(self.env.ct_key)
        if not key.can_decipher:
            raise CardStatus(SW.CONDITIONS_NOT_SATISFIED)
        self.chain_buffer += cmd.data
        if cmd.chained:
            if len(self.chain_buffer) > 2 * key.size:
                self.chain_buffer = b""
                raise CardStatus(SW.WRONG_LENGTH)
            return b""
        block, self.chain_buffer = self.chain_buffer, b""
        self._require_pin()
        if self.generation == "CPS3":
            # CPS3 expects the ISO padding-indicator byte 81 and strips PKCS#1 type-2 padding.
            if not block or block[0] != 0x81:
                raise CardStatus(SW.WRONG_DATA)
            try:
                plain = key.raw(block[1:])
            except ValueError:
                raise CardStatus(SW.WRONG_LENGTH) from None
            if plain[:2] != b"\x00\x02" or b"\x00" not in plain[2:]:
                raise CardStatus(SW.WRONG_DATA)
            return plain[plain.index(b"\x00", 2) + 1:]
        # CPS4 signs by a raw RSA "decipher" of a block the host padded itself;
        # the result is returned unchanged (no padding check).
        try:
            return key.raw(block)
        except ValueError:
            raise CardStatus(SW.WRONG_LENGTH) from None


def _simple_tlvs(data: bytes) -> dict[int, bytes]:
    """One-byte-tag TLVs of an MSE or PSO HASH command."""
    out: dict[int, bytes] = {}
    i = 0
    while i < len(data):
        if i + 2 > len(data):
            raise CardStatus(SW.WRONG_DATA)
        tag, n = data[i], data[i + 1]
        if i + 2 + n > len(data):
            raise CardStatus(SW.WRONG_DATA)
        out[tag] = data[i + 2:i + 2 + n]
        i += 2 + n
    return out


def mask_secrets(raw: bytes) -> str:
    """Hex of an APDU for logs, with the data of PIN commands replaced by '**'."""
    if len(raw) > 5 and raw[1] in SECRET_INS:
        return raw[:5].hex(" ") + " " + " ".join(["**"] * (len(raw) - 5))
    return raw.hex(" ")
