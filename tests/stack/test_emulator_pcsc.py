"""The emulated card through the real stack (pyscard -> pcscd -> vpcd -> emulator), APDU by APDU.

Commands and expected answers come from the real-card and middleware traces of
../shared/research/card.md, not from cpsdiag's own card layer, so that a
misreading shared by the emulator and the client cannot hide here.
"""

from __future__ import annotations

import hashlib
import sys

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, utils

pytestmark = pytest.mark.stack

SHA256_PREFIX = bytes.fromhex("3031300d060960864801650304020105000420")


class Conn:
    def __init__(self, reader: str):
        from smartcard.System import readers

        matches = [r for r in readers() if str(r) == reader]
        assert matches, f"reader {reader} not listed"
        self.conn = matches[0].createConnection()
        self.conn.connect()

    def tx(self, hexstr: str | bytes) -> tuple[bytes, int]:
        apdu = bytes.fromhex(hexstr) if isinstance(hexstr, str) else hexstr
        data, sw1, sw2 = self.conn.transmit(list(apdu))
        return bytes(data), (sw1 << 8) | sw2

    def tx_full(self, apdu: str | bytes, cla: int = 0x00) -> tuple[bytes, int]:
        """Send and collect a T=0 61xx answer with GET RESPONSE, as middleware does."""
        data, sw = self.tx(apdu)
        out = data
        while sw >> 8 == 0x61:
            le = sw & 0xFF
            data, sw = self.tx(bytes([cla, 0xC0, 0, 0, le]))
            if sw >> 8 == 0x6C:
                data, sw = self.tx(bytes([cla, 0xC0, 0, 0, sw & 0xFF]))
            out += data
        return out, sw

    def close(self):
        self.conn.disconnect()


def _pub(pem_path):
    return x509.load_pem_x509_certificate(pem_path.read_bytes()).public_key()


def test_cps3_atr_and_real_card_sequence(insert_card, stack, pki):
    insert_card("cps3-medecin")
    c = Conn(stack.reader)
    assert bytes(c.conn.getATR()) == bytes.fromhex("3BAC00402A001225006480000310009000")
    # Exactly the exchange ANS's Cryptolib had with a real CPS3 (card.md §3.1).
    data, sw = c.tx("00A40904043F00D003")
    assert sw == 0x6127
    data, sw = c.tx("00C0000027")
    # The FCP of EF.SN.ICC, byte for byte as the real card sent it.
    assert sw == 0x9000 and data == bytes.fromhex(
        "6225 8002000C 820101 8302D003 8801E0 A112 8C077BFFFFFFFFFF00 9C077BFFFFFFFFFF00 8A0105".replace(" ", ""))
    data, sw = c.tx("00B000000C")
    # PAN = issuer 8025000001, card number 90000001, Luhn digit 6, F pad.
    assert sw == 0x9000 and data == bytes.fromhex("5A0A 8025000001 90000001 6F".replace(" ", ""))
    assert c.tx("00A40904043F00D010")[1] == 0x6A82          # EF_ACTUA absent, as on the traced card
    assert c.tx("00A4090C043F000001")[1] == 0x9000
    assert c.tx("00A4090C023F00")[1] == 0x9000
    data, sw = c.tx("00CB3FFF0A4D087006BF810102A080")
    assert sw == 0x6118
    data, sw = c.tx("00C0000018")
    # Byte-identical to the real card's answer for a fresh PIN (3 tries of 3).
    assert data == bytes.fromhex("7016BF810112A0109A01039B0103A1088C06F3000013FF00") and sw == 0x9000
    # FCI requests are refused by a real CPS3 (card.md §3.1).
    assert c.tx("00A404000DE828BD080F8025000001FF0010")[1] == 0x6A86
    c.close()


def test_cps3_read_certificate_in_e7_chunks(insert_card, stack, pki):
    insert_card("cps3-medecin")
    c = Conn(stack.reader)
    fcp, sw = c.tx_full("00A40904063F000001A001")
    assert sw == 0x9000 and fcp[0] == 0x62
    size = int.from_bytes(fcp[fcp.index(b"\x80\x02") + 2:][:2], "big")
    der = b""
    while len(der) < size:
        n = min(0xE7, size - len(der))
        data, sw = c.tx(bytes([0, 0xB0, len(der) >> 8, len(der) & 0xFF, n]))
        assert sw == 0x9000
        der += data
    expected = x509.load_pem_x509_certificate((pki.cards / "cps3-medecin" / "auth.pem").read_bytes())
    assert x509.load_der_x509_certificate(der) == expected
    # Asking for more than is left gets 6Cxx with the exact length, as on T=0.
    data, sw = c.tx(bytes([0, 0xB0, (size - 5) >> 8, (size - 5) & 0xFF, 0x10]))
    assert sw == 0x6C05
    c.close()


def test_cps3_pin_internal_authenticate_and_card_side_hash(insert_card, stack, pki):
    insert_card("cps3-medecin")
    c = Conn(stack.reader)
    assert c.tx("00200001")[1] == 0x63C3                      # counter without spending a try
    # No private-key operation before the PIN.
    assert c.tx("00A4090C043F000001")[1] == 0x9000
    assert c.tx("002241A406800102840182")[1] == 0x9000
    digest_info = SHA256_PREFIX + hashlib.sha256(b"cpsdiag").digest()
    assert c.tx(bytes([0, 0x88, 0, 0, len(digest_info)]) + digest_info)[1] == 0x6982
    assert c.tx("0020000104" + b"1234".hex())[1] == 0x9000
    assert c.tx("00200001")[1] == 0x9000                      # verified
    sig, sw = c.tx_full(bytes([0, 0x88, 0, 0, len(digest_info)]) + digest_info)
    assert sw == 0x9000 and len(sig) == 256
    _pub(pki.cards / "cps3-medecin" / "auth.pem").verify(sig, b"cpsdiag", padding.PKCS1v15(), hashes.SHA256())

    # Non-repudiation key, last block hashed by the card from the host's intermediate SHA-256 state.
    message = bytes(range(256)) * 3 + b"tail of the message"
    from cpsdiag.emulator.sharesume import _ALGS

    block_fn, iv = _ALGS["sha256"]
    done = (len(message) // 64) * 64
    state = list(iv)
    for off in range(0, done, 64):
        state = block_fn(state, message[off:off + 64])
    state_bytes = b"".join(x.to_bytes(4, "big") for x in state)
    tail = message[done:]
    assert c.tx("002241AA03800140")[1] == 0x9000
    body = b"\x90" + bytes([40]) + state_bytes + (done * 8).to_bytes(8, "big") + b"\x80" + bytes([len(tail)]) + tail
    assert c.tx(bytes([0, 0x2A, 0x90, 0xA0, len(body)]) + body)[1] == 0x9000
    assert c.tx("00A4090C043F000001")[1] == 0x9000          # the hash survives a SELECT...
    assert c.tx("002241B606800142840181")[1] == 0x9000      # ...and MSE SET DST
    sig, sw = c.tx_full("002A9E9A00")
    assert sw == 0x9000
    _pub(pki.cards / "cps3-medecin" / "signature.pem").verify(sig, message, padding.PKCS1v15(), hashes.SHA256())
    c.close()


def test_cps3_wrong_pin_counts_down_and_blocks(insert_card, stack):
    insert_card("cps3-pin-last-try")
    c = Conn(stack.reader)
    assert c.tx("00200001")[1] == 0x63C1
    assert c.tx("0020000104" + b"0000".hex())[1] == 0x63C0   # the last try, spent: blocked
    assert c.tx("00200001")[1] == 0x6983
    assert c.tx("0020000104" + b"1234".hex())[1] == 0x6983   # even the right PIN is refused now
    c.tx("00A4090C023F00")
    data, sw = c.tx_full("00CB3FFF0A4D087006BF810102A080")
    assert sw == 0x9000 and bytes.fromhex("9B0100") in data
    c.close()


@pytest.mark.parametrize("profile", ["cps4-infirmier", "cps4-t1-medecin"])
def test_cps4_channel1_pin_and_signatures(insert_card, stack, pki, profile):
    insert_card(profile)
    pin = {"cps4-infirmier": b"4321", "cps4-t1-medecin": b"1234"}[profile]
    c = Conn(stack.reader)
    atr = bytes(c.conn.getATR())
    assert atr == {"cps4-infirmier": bytes.fromhex("3BDC18FF000012250064800004010090 00".replace(" ", "")),
                   "cps4-t1-medecin": bytes.fromhex("3B9B18800100122500648004010000 9044".replace(" ", ""))}[profile]
    # Cryptolib's CPS4 sequence (card.md §3.3): ChipDoc on logical channel 1, ISO SELECT with FCI.
    assert c.tx("01A4040C088025000001FF0100")[1] == 0x9000
    fci, sw = c.tx_full("01A4080002D003", cla=0x01)
    assert sw == 0x9000 and fci[0] == 0x6F
    sn, sw = c.tx("01B000000C")
    assert sw == 0x9000 and sn[:7] == bytes.fromhex("5A0A8025000001")
    assert c.tx("03A4040C088025000001FF0100")[1] == 0x6881        # no channel 3
    assert c.tx("0120000100")[1] == 0x63C3                        # counter, T=0 case-1 form
    assert c.tx(bytes.fromhex("0120000104") + pin)[1] == 0x9000
    auth_pub = _pub(pki.cards / profile / "auth.pem")
    sign_pub = _pub(pki.cards / profile / "signature.pem")
    h = hashlib.sha256(b"challenge").digest()

    # Authentication by raw RSA on a block the host padded, sent with command chaining.
    block = b"\x00\x01" + b"\xff" * (256 - 3 - 51) + b"\x00" + SHA256_PREFIX + h
    assert c.tx("012241B803830120")[1] == 0x9000
    assert c.tx(bytes([0x11, 0x2A, 0x80, 0x86, 0xFF]) + block[:255])[1] == 0x9000
    sig, sw = c.tx_full(bytes([0x01, 0x2A, 0x80, 0x86, 0x01]) + block[255:], cla=0x01)
    assert sw == 0x9000
    auth_pub.verify(sig, b"challenge", padding.PKCS1v15(), hashes.SHA256())

    # RSA-PSS SHA-256 with the authentication key (what TLS 1.3 needs), through MSE SET DST.
    assert c.tx("012281B60491022CA0")[1] == 0x9000
    sig, sw = c.tx_full(bytes([0x01, 0x2A, 0x9E, 0x9A, 0x20]) + h, cla=0x01)
    assert sw == 0x9000
    auth_pub.verify(sig, h, padding.PSS(padding.MGF1(hashes.SHA256()), 32), utils.Prehashed(hashes.SHA256()))

    # PKCS#1 v1.5 SHA-256 with the signature key.
    assert c.tx("012281B604910228A1")[1] == 0x9000
    sig, sw = c.tx_full(bytes([0x01, 0x2A, 0x9E, 0x9A, 0x20]) + h, cla=0x01)
    assert sw == 0x9000
    sign_pub.verify(sig, b"challenge", padding.PKCS1v15(), hashes.SHA256())
    c.close()


def test_unknown_instructions_and_bad_lengths_get_status_words(insert_card, stack):
    insert_card("cps3-medecin")
    c = Conn(stack.reader)
    assert c.tx("00FE000000")[1] == 0x6D00          # unknown instruction
    assert c.tx("80A4000C023F00")[1] == 0x6E00      # proprietary class
    assert c.tx("01A4000C023F00")[1] == 0x6881      # a CPS3 has no logical channels
    assert c.tx("00A4")[1] == 0x6700                # truncated
    assert c.tx("00A4090C053F00")[1] == 0x6700      # Lc says 5, 2 bytes follow
    assert c.tx("00A4FF0C023F00")[1] == 0x6A86      # bad P1
    assert c.tx("00B0000010")[1] == 0x6986          # READ BINARY with no EF selected
    assert c.tx("00C0000010")[1] == 0x6985          # nothing to get
    assert c.tx("00A4090C023F00")[1] == 0x9000      # and the card still answers
    c.close()


def test_emulator_run_serves_a_profile_to_a_command_and_stops_everything(stack):
    """``cpsdiag emulator run``, as an integrator's CI uses it: its own pcscd (nested namespaces as root), the
    card, the command's exit status, the test anchors handed over; a command that cannot run is not a traceback."""
    import json

    from tests.support.cli import cpsdiag

    stack.require_managed()
    proc = cpsdiag("emulator", "run", "--profile", "cps4-infirmier", "--", sys.executable, "-m", "cpsdiag", "check",
                   "--json", "--no-env")
    report = json.loads(proc.stdout)
    assert proc.returncode == report["exit_status"] == 0, report["findings"]
    assert report["card"]["generation"] == "CPS4" and report["card"]["card_number"] == "90000002"
    # The generated test anchors were passed on: the chains are trusted.
    assert all(c["chain"]["trusted"] for c in report["certificates"])
    assert "pcscd stopped" in proc.stderr and "emulator stopped" in proc.stderr
    missing = cpsdiag("emulator", "run", "--", "/nonexistent/command")
    assert missing.returncode == 127 and "cannot run /nonexistent/command" in missing.stderr
