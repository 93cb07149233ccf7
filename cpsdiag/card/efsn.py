"""EF.SN.ICC (3F00/D003): the card's serial number.

12 bytes: tag 5A, length 0A, then the PAN in BCD: the ANS issuer number
8025000001, the card number, a Luhn check digit over everything before it,
padded with F nibbles.
"""

from __future__ import annotations

from dataclasses import dataclass

from cpsdiag.errors import MalformedDataError

ANS_ISSUER = "8025000001"


def luhn_digit(digits: str) -> int:
    """The check digit that makes ``digits`` + digit pass the Luhn test."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch) * (2 if i % 2 == 0 else 1)
        total += d - 9 if d > 9 else d
    return (10 - total % 10) % 10


@dataclass(frozen=True)
class CardSerial:
    pan: str                 # all the digits, check digit included
    issuer: str
    card_number: str
    check_digit: int
    check_ok: bool

    @property
    def ans_issuer(self) -> bool:
        return self.issuer == ANS_ISSUER


def parse_ef_sn(data: bytes, where: str = "EF.SN.ICC") -> CardSerial:
    if len(data) < 3 or data[0] != 0x5A or data[1] != len(data) - 2:
        raise MalformedDataError("EF.SN.ICC", f"expected 5A <len> <PAN>, got {data[:4].hex(' ') or 'nothing'}",
                                 where=where, offset=0)
    nibbles = data[2:].hex().upper().rstrip("F")
    if not nibbles.isdigit() or len(nibbles) < len(ANS_ISSUER) + 2:
        raise MalformedDataError("EF.SN.ICC", f"PAN {data[2:].hex().upper()} is not BCD digits padded with F",
                                 where=where, offset=2)
    body, check = nibbles[:-1], int(nibbles[-1])
    return CardSerial(
        pan=nibbles, issuer=body[:len(ANS_ISSUER)], card_number=body[len(ANS_ISSUER):],
        check_digit=check, check_ok=luhn_digit(body) == check,
    )
