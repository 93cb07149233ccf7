"""ANS's Cryptolib judges the emulated cards' data objects: a local check, never run in CI.

The project neither ships nor fetches the Cryptolib, so no setup step
installs it and CI never has it: these tests run where CPSDIAG_CRYPTOLIB names a copy extracted
from ANS's Linux RPM (or where the RPM is installed), and are skipped
elsewhere, strict mode included (an *optional* prerequisite,
tests/support/prerequisites.py). docs/emulator.md says how to get the module and what
was observed.

Each card is replayed through the data-object cases of ANS's own test
campaign on real cards (cryptolib_replay.py); the expected rows are those of
the published results (ansforge/dops-cryptolib, Linux/5.2.1,
Resultats_*CPS3v3-2900995266.HTML and Resultats_*CPS4v1-3100603746.HTML):
the row numbers as the campaign's program prints them, each CKR_OK. The
CPS4's rows 904, 910 and 915 appear twice because the program found no
modifiable CPS_DATA and went on to the next case with its counter behind.
The Cryptolib caches card files under /etc/opt/santesocial/CPS/cache by card
serial: each run gets an empty /etc/opt and /var/opt of its own (a tmpfs in a
private mount namespace), so nothing is left on the machine.
"""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.prerequisites import require

pytestmark = [pytest.mark.stack, pytest.mark.peer]

REPLAY = Path(__file__).with_name("cryptolib_replay.py")
OK = "CKR_OK"


def rows(*numbers: int) -> list[list[object]]:
    return [[n, OK] for n in numbers]


FIND_PUBLIC = rows(307, 308, 311, 312)          # 309 and 310 do not depend on the card: not replayed
CPS3V3_2900995266 = FIND_PUBLIC + rows(*range(900, 909), 908, *range(909, 915), 914, *range(915, 920), 919,
                                      *range(920, 925))
CPS4V1_3100603746 = FIND_PUBLIC + rows(*range(900, 905), 904, *range(905, 911), 910, *range(911, 916), 915,
                                      *range(916, 921))


def replay(module: str, pin: str) -> dict:
    """The replay in a private mount namespace whose /etc/opt and /var/opt are empty tmpfs."""
    conf = Path(module).parents[3] / "etc/opt/santesocial/CPS/cps3_pkcs11.conf"
    copy_conf = f"cp {shlex.quote(str(conf))} /etc/opt/santesocial/CPS/ && " if conf.is_file() else ""
    script = ("mount -t tmpfs tmpfs /etc/opt && mount -t tmpfs tmpfs /var/opt && "
              "mkdir -p /etc/opt/santesocial/CPS/cache /var/opt/santesocial/CPS/log && " + copy_conf +
              "exec " + shlex.join([sys.executable, str(REPLAY), module, pin]))
    proc = subprocess.run([require("unshare"), "-m", "--propagation", "private", "sh", "-c", script],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.fixture
def cryptolib(stack, pykcs11):
    module = require("cryptolib")
    stack.require_managed()            # mounts in a mount namespace of the test session's own
    return module


def inventory(result: dict, state: str) -> dict[str, list]:
    return {label: [private, modifiable, application, size]
            for label, private, modifiable, application, size in result["inventory"][state]}


def test_cryptolib_cps3_as_ans_campaign_on_a_real_cps3v3(cryptolib, insert_card):
    insert_card("cps3-medecin")
    result = replay(cryptolib, "1234")
    assert result["rows"] == CPS3V3_2900995266
    assert re.fullmatch(r"CPS3v3-\d{10}", result["token"]["label"])
    assert result["found"]["CPS_DATA modifiable"] == 1 and result["found"]["CPS_DATA written and read back"]
    public, logged_in = inventory(result, "public"), inventory(result, "logged_in")
    assert public["CPS_DATA"] == [False, True, "CPS", 2048]
    assert not any(private for private, *_ in public.values())
    # After login: the situations of the DODF, and those the Cryptolib builds from the CPS2ter side, all readable.
    for label in ("CPS_ACTIVITY_01_PS", "CPS_ACTIVITY_02_PS", "CPS_SIT_FACT", "CPS2TER_ACTIVITY_01_PS",
                  "CPS2TER_ACTIVITY_02_PS"):
        private, modifiable, application, size = logged_in[label]
        assert (private, modifiable, application) == (True, False, "CPS") and isinstance(size, int), label


def test_cryptolib_cps4_as_ans_campaign_on_a_real_cps4v1(cryptolib, insert_card):
    insert_card("cps4-infirmier")
    result = replay(cryptolib, "4321")
    assert result["rows"] == CPS4V1_3100603746
    assert re.fullmatch(r"CPS4v1-\d{10}", result["token"]["label"])
    assert result["found"]["CPS_DATA modifiable"] == 0
    public, logged_in = inventory(result, "public"), inventory(result, "logged_in")
    assert public["CPS_NAME_PS"][:3] == [False, False, "CPS"] and "CPS_ACTIVITY_01_PS" not in public
    assert public["CPS_DATA"][:2] == [False, False]
    for label in ("CPS2TER_ATR", "CPS2TER_ID", "CPS2TER_ICC", "CPS2TER_NAME", "CPS2TER_LANG", "CPS2TER_PSINFO",
                  "CPS2TER_DIRAMO"):
        assert isinstance(public[label][3], int), label
    for label in ("CPS_ACTIVITY_01_PS", "CPS_SIT_FACT", "CPS2TER_ACTIVITY_01_PS"):
        assert logged_in[label][:2] == [True, False] and isinstance(logged_in[label][3], int), label


def test_cryptolib_contactless_face(cryptolib, insert_card):
    insert_card("cps3-sans-contact")
    result = replay(cryptolib, "")
    # Rows 307-312 search a public, non-modifiable CPS_DATA on the contactless face (the campaign's CPS3v3_CL).
    assert result["rows"] == FIND_PUBLIC and result["found"]["CPS_DATA"] == 1
    assert result["token"]["label"] == "CPS3v3_CL"
