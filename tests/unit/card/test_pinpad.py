"""PC/SC part 10 (PIN pad) structures, worked out from the specification's layout."""

from __future__ import annotations

from cpsdiag.card.pinpad import reader_features, verify_structure


class Reader:
    """A reader answering GET_FEATURE_REQUEST with fixed bytes (the parsing is what is tested here)."""

    def __init__(self, answer: bytes):
        self.answer = answer

    def control_code(self, function: int) -> int:
        return 0x42000000 + function

    def control(self, code: int, data: bytes = b"") -> bytes:
        assert code == 0x42000D48          # SCARD_CTL_CODE(3400) on pcsc-lite
        return self.answer


def test_features_tlv():
    # tag 06 VERIFY_PIN_DIRECT, tag 0A IFD_PIN_PROPERTIES, each with a 4-byte big-endian control code.
    features = reader_features(Reader(bytes.fromhex("0604 42330D48 0A04 42330D4A".replace(" ", ""))))
    assert features.pin_pad
    assert features.controls == {"FEATURE_VERIFY_PIN_DIRECT": 0x42330D48, "FEATURE_IFD_PIN_PROPERTIES": 0x42330D4A}
    assert not reader_features(Reader(b"")).pin_pad
    assert not reader_features(Reader(bytes.fromhex("060342330D"))).pin_pad     # malformed: no pad assumed


def test_verify_structure_layout():
    s = verify_structure(cla=0x01, reference=0x01, min_len=4, max_len=8, timeout_s=30)
    assert len(s) == 19 + 5                                   # 19-byte header, then the APDU
    assert s[0] == s[1] == 30                                 # bTimerOut, bTimerOut2
    assert s[2] == 0x82                                       # ASCII, bytes, left-justified
    assert s[5:7] == bytes([8, 4])                            # wPINMaxExtraDigit = 0x0408, little-endian
    assert s[7] == 0x02                                       # validation key pressed
    assert s[9:11] == bytes([0x09, 0x04])                     # wLangId 0x0409, little-endian
    assert int.from_bytes(s[15:19], "little") == 5            # ulDataLength
    assert s[19:] == bytes.fromhex("0120000100")              # VERIFY on channel 1, Lc filled by the reader
