"""An integrator's tests against a virtual CPS card: `pip install cpsdiag pytest`, then `pytest`.

The program under test here is a few lines of pyscard and a subprocess; yours is whatever reads the card
through PC/SC (the Cryptolib CPS, OpenSC, your own code).
"""

import json
import os
import subprocess
import sys

import pytest
from smartcard.System import readers


def card_atr(reader_name):
    """What a PC/SC client of this process reads: the ATR of the card in that reader."""
    reader = next(r for r in readers() if str(r) == reader_name)
    connection = reader.createConnection()
    connection.connect()
    try:
        return bytes(connection.getATR())
    finally:
        connection.disconnect()


def test_the_default_card_is_a_doctors_cps3(virtual_card):
    assert virtual_card.generation == "CPS3"
    assert card_atr(virtual_card.reader) == virtual_card.atr
    subject = virtual_card.certificates["authentication"].subject.rfc4514_string()
    assert "Médecin" in subject


@pytest.mark.virtual_card("cps4-infirmier")
def test_a_program_in_a_subprocess_sees_the_cps4(virtual_card):
    # Any program works; here cpsdiag itself. virtual_card.env carries the PC/SC socket, the reader and the
    # trust anchors, for a subprocess given an environment of its own.
    proc = subprocess.run([sys.executable, "-m", "cpsdiag", "check", "--json", "--no-env"],
                          capture_output=True, text=True, env=dict(os.environ, **virtual_card.env))
    report = json.loads(proc.stdout)
    assert report["card"]["generation"] == "CPS4"
    # card_number is the number printed on the card (10 digits); EF.SN.ICC, which the report shows, holds its
    # last 8: serial_number.
    assert report["card"]["card_number"] == virtual_card.serial_number


@pytest.mark.virtual_card("cps3-pin-blocked")
def test_a_blocked_card_is_still_readable(virtual_card):
    assert card_atr(virtual_card.reader) == virtual_card.atr


def test_a_card_pulled_out_and_put_back(virtual_card):
    virtual_card.remove()
    assert virtual_card.reader in [str(r) for r in readers()]      # the reader stays, empty
    virtual_card.insert()
    assert card_atr(virtual_card.reader) == virtual_card.atr


def test_two_cards_in_two_readers(virtual_card, virtual_card_factory):
    staff = virtual_card_factory("cpe-etablissement")
    assert staff.reader != virtual_card.reader
    assert card_atr(staff.reader) == staff.atr
