"""PC/SC part 10 (PIN pad) structures, worked out from the specification's layout."""

from __future__ import annotations

import pytest

from cpsdiag.card.pinpad import parse_features, verify_structure
from cpsdiag.errors import MalformedDataError


def test_features_tlv():
    # tag 06 VERIFY_PIN_DIRECT, tag 0A IFD_PIN_PROPERTIES, each with a 4-byte big-endian control code.
    features = parse_features(bytes.fromhex("0604 42330D48 0A04 42330D4A".replace(" ", "")))
    assert features.pin_pad
    assert features.controls == {"VERIFY_PIN_DIRECT": 0x42330D48, "IFD_PIN_PROPERTIES": 0x42330D4A}
    assert not parse_features(b"").pin_pad
    with pytest.raises(MalformedDataError):
        parse_features(bytes.fromhex("060342330D"))


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
