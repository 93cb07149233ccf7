"""What every virtual CPS card shares: its file system, its security state and the common ISO 7816-4 commands.

``CardBase.process`` takes a command APDU and returns the response APDU (data
+ SW1 SW2). It never raises: a command the card does not understand gets the
status word a card would return. What a CPS3 or a CPS4 does differently is in
their classes (cps3.py, cps4.py), which add commands and override the hooks
named here; no method of this class asks which generation it is.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Callable

from cpsdiag.iso7816.sw import SW

from .apdu import CardStatus, Command, parse_command
from .filesystem import DF, EF, NEVER, PIN, Node, fcp
from .generations import GenerationFacts
from .keys import CardKey
from .layout import KeySlot, build
from .profile import KeyPair, Profile

log = logging.getLogger("cpsdiag.emulator")

PIN_REFERENCE = 0x01
PUK_MAX_TRIES = 10   # UNCERTAIN: the real unblock-code counter is not documented.
FILE_FULL = 0x6A84   # not enough memory space in the file

# Instructions whose response data a T=0 card sends at once (case 2 with the
# exact P3); every other command with response data answers 61xx.
DIRECT = {0xB0, 0xC0, 0x84}


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


Handler = Callable[[Command], bytes]


class CardBase:
    facts: GenerationFacts
    response_chunk: int                    # largest chunk one GET RESPONSE returns
    channels_allowed: tuple[int, ...]

    def __init__(self, profile: Profile):
        self.profile = profile
        self.generation = profile.generation
        self.atr = profile.atr
        image = build(profile, self.facts)
        self.mf, self.app = image.mf, image.app
        self.data_objects = image.data_objects
        # Keys by reference & 0x7F, as MSE names them.
        self.keys = {slot.reference & 0x7F: self.make_key(slot, pair) for slot, pair in image.keys}
        self.key_slots = [slot for slot, _pair in image.keys]
        self.values = image.values
        self.has_pin = profile.interface == "contact"
        self.pin = PinState(profile.pin.encode(), profile.pin_max_tries, profile.pin_tries_left)
        self.puk = PinState(profile.puk.encode(), PUK_MAX_TRIES, PUK_MAX_TRIES)
        self.counters = Counters()
        self.handlers: dict[int, Handler] = {
            0xA4: self.select, 0xB0: self.read_binary, 0xD6: self.update_binary, 0xC0: self.get_response,
            0x20: self.verify, 0x2C: self.reset_retry_counter, 0x22: self.manage_security_environment,
            0x2A: self.perform_security_operation,
        }
        # MSE templates by P2, PSO operations by P1-P2: each generation adds its own.
        self.mse_templates: dict[int, Callable[[dict[int, bytes]], None]] = {0xB8: self._mse_ct}
        self.pso_operations: dict[tuple[int, int], Handler] = {(0x9E, 0x9A): self._pso_sign,
                                                                (0x80, 0x86): self._pso_decipher}
        self.power_on()

    def make_key(self, slot: KeySlot, pair: KeyPair) -> CardKey:
        """The key as this generation uses it (which operations reach it)."""
        raise NotImplementedError

    # -- power and state ---------------------------------------------------

    def power_on(self) -> None:
        self.channels: dict[int, Channel] = {ch: Channel(self.mf) for ch in self.channels_allowed}
        self.pending = b""
        self.chain_buffer = b""
        self.env = SecurityEnvironment()
        self.pin.verified = False
        self.puk.verified = False

    def reset(self) -> None:
        self.power_on()

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
            forced = self.profile.faults.status_words.get(cmd.ins)
            if forced is not None:
                raise CardStatus(forced)
            return self.dispatch(cmd, pending)
        except CardStatus as status:
            return status.sw.to_bytes(2, "big")
        except Exception:  # a bug in a handler must not take the card off the reader
            log.exception("internal error on APDU %s", raw[:5].hex())
            return SW.NO_PRECISE_DIAGNOSIS.to_bytes(2, "big")

    def dispatch(self, cmd: Command, pending: bytes) -> bytes:
        """An ISO command (``pending``: response data a GET RESPONSE may still collect)."""
        self._check_class(cmd)
        if cmd.ins != 0x2A and self.chain_buffer:
            self.chain_buffer = b""
        handler = self.handlers.get(cmd.ins)
        if handler is None:
            raise CardStatus(SW.INS_NOT_SUPPORTED)
        if cmd.ins == 0xC0:
            self.pending = pending
        return self._shape(cmd, handler(cmd))

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
        if cmd.ins in DIRECT:
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

    def select_answer(self, node: Node, p2: int) -> bytes:
        """What SELECT returns: P2=04 the FCP, 0C nothing; P2=00 (FCI) is each generation's own."""
        if p2 == 0x0C:
            return b""
        if p2 == 0x04:
            return fcp(node)
        raise CardStatus(SW.INCORRECT_P1P2)

    def select(self, cmd: Command) -> bytes:
        ch = self._channel(cmd)
        p1, p2, data = cmd.p1, cmd.p2, cmd.data
        if p2 not in (0x00, 0x04, 0x0C):
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
        answer = self.select_answer(node, p2)
        if isinstance(node, DF):
            ch.df, ch.ef = node, None
        else:
            assert isinstance(node, EF) and node.parent is not None
            ch.df, ch.ef = node.parent, node
        return answer

    def _find_aid(self, aid: bytes) -> DF:
        if not aid:
            raise CardStatus(SW.WRONG_LENGTH)
        for node in self.mf.walk():
            if isinstance(node, DF) and node.aid == aid:
                return node
        raise CardStatus(SW.FILE_NOT_FOUND)

    def _target_ef(self, cmd: Command) -> tuple[EF, int]:
        """The EF a READ or UPDATE BINARY acts on (current EF, or short EF identifier in P1) and the offset."""
        ch = self._channel(cmd)
        if cmd.p1 & 0x80:
            if cmd.p1 & 0x60:
                raise CardStatus(SW.INCORRECT_P1P2)
            ef = ch.df.by_sfi(cmd.p1 & 0x1F) or self.mf.by_sfi(cmd.p1 & 0x1F)
            if ef is None:
                raise CardStatus(SW.FILE_NOT_FOUND)
            assert ef.parent is not None
            ch.df, ch.ef = ef.parent, ef
            return ef, cmd.p2
        if ch.ef is None:
            raise CardStatus(SW.COMMAND_NOT_ALLOWED_NO_EF)
        return ch.ef, (cmd.p1 << 8) | cmd.p2

    def _allowed(self, rule: str) -> None:
        if rule == NEVER:
            raise CardStatus(SW.SECURITY_STATUS_NOT_SATISFIED)
        if rule == PIN:
            self._require_pin()

    def read_binary(self, cmd: Command) -> bytes:
        if cmd.data:
            raise CardStatus(SW.WRONG_LENGTH)
        ef, offset = self._target_ef(cmd)
        self._allowed(ef.read)
        available = len(ef.data) - offset
        if available <= 0:
            raise CardStatus(SW.WRONG_P1P2)
        wanted = cmd.le or 256   # on T=0 a missing Le goes out as P3=00
        if wanted > available:
            # T=0 cards cannot send fewer bytes than P3: they ask for the exact length.
            raise CardStatus(0x6C00 | (available & 0xFF))
        return ef.data[offset:offset + wanted] + b"\x90\x00"

    def update_binary(self, cmd: Command) -> bytes:
        """UPDATE BINARY: the file keeps its size; what was written lasts as long as the emulator runs."""
        if not cmd.data or cmd.le is not None:
            raise CardStatus(SW.WRONG_LENGTH)
        ef, offset = self._target_ef(cmd)
        self._allowed(ef.update)
        if offset >= len(ef.data):
            raise CardStatus(SW.WRONG_P1P2)
        if offset + len(cmd.data) > len(ef.data):
            raise CardStatus(FILE_FULL)
        ef.data = ef.data[:offset] + cmd.data + ef.data[offset + len(cmd.data):]
        return b""

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

    @property
    def pin_verified(self) -> bool:
        return self.pin.verified

    def _require_pin(self) -> None:
        if self.has_pin and not self.pin.verified:
            raise CardStatus(SW.SECURITY_STATUS_NOT_SATISFIED)

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
        template = self.mse_templates.get(cmd.p2)
        if template is None:
            raise CardStatus(SW.INCORRECT_P1P2)
        template(simple_tlvs(cmd.data))
        return b""

    @staticmethod
    def _reference(fields: dict[int, bytes]) -> int | None:
        ref_field = fields.get(0x84) or fields.get(0x83)
        return ref_field[0] if ref_field else None

    def _mse_ct(self, fields: dict[int, bytes]) -> None:
        self.env.ct_key = self._key(self._reference(fields)).reference

    def perform_security_operation(self, cmd: Command) -> bytes:
        operation = self.pso_operations.get((cmd.p1, cmd.p2))
        if operation is None:
            raise CardStatus(SW.INCORRECT_P1P2)
        return operation(cmd)

    def _pso_sign(self, cmd: Command) -> bytes:
        from . import sharesume

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
        return self.decipher(key, block)

    def decipher(self, key: CardKey, block: bytes) -> bytes:
        """The private-key operation of PSO DECIPHER on the whole (unchained) cryptogram."""
        raise NotImplementedError


def simple_tlvs(data: bytes) -> dict[int, bytes]:
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
