"""Live progress of ``check`` and ``report`` on a real terminal (a pseudo-terminal), on the real stack.

The steps appear on stderr while they run when both outputs are terminals; with --json, --quiet or an
output piped, stderr stays empty and stdout is the JSON document, byte for byte.
"""

from __future__ import annotations

import json
import os
import pty
import select
import subprocess
import sys
import time

import pytest

from tests.support.cli import TERMINAL, clean_environ, run_on_terminal
from tests.support.net import running_testssl_server

pytestmark = pytest.mark.stack

def test_check_shows_each_step_on_a_terminal(insert_card, pki):
    insert_card("cps3-medecin")
    status, out, err = run_on_terminal("check", "--no-env", "--anchors", str(pki.anchors))
    progress = err.decode()
    for step in ("Connecting to the smart-card service", "Listing the card readers", "Connecting to the card in",
                 "Reading the card: EF.SN.ICC 3F00/D003", "Reading the card: EF.DIR 3F00/2F00", "Reading the card: ODF",
                 "Reading the card: CDF", "Reading the PIN counter (PIN"):
        assert step in progress, (step, progress)
    # In the order they ran, and erased at the end: the report on stdout is what a pipe would get.
    assert progress.index("Listing the card readers") < progress.index("Reading the card: EF.DIR") \
        < progress.index("Reading the PIN counter")
    assert status == 0 and "OK: the card and the workstation are ready" in out.decode()
    assert "Reading the card" not in out.decode()


def test_key_steps_and_the_tls_handshake_are_shown(insert_card, pki, tmp_path):
    insert_card("cps3-medecin")
    with running_testssl_server(pki.anchors, tmp_path) as (port, ca):
        status, out, err = run_on_terminal("check", "--no-env", "--anchors", str(pki.anchors), "--pin-stdin",
                                           "--sign", "--tls", f"https://localhost:{port}/", "--tls-ca", str(ca),
                                           stdin="1234\n")
    progress = err.decode()
    for step in ("Presenting the PIN", "Signature self-test with the authentication key",
                 f"TLS handshake with localhost:{port} (TLS 1.3)", f"TLS handshake with localhost:{port} (TLS 1.2)"):
        assert step in progress, (step, progress)
    assert status == 0, out.decode()


def test_report_shows_its_steps_on_a_terminal(insert_card, pki, tmp_path):
    insert_card("cps4-infirmier")
    status, out, err = run_on_terminal("report", "--no-env", "--anchors", str(pki.anchors), "--output",
                                       str(tmp_path / "r.zip"))
    assert "Reading the card: EF.DIR" in err.decode() and "Reading the PIN counter" in err.decode()
    assert status == 0 and (tmp_path / "r.zip").exists() and "Report written" in out.decode()


@pytest.mark.parametrize("how", ["json-on-terminals", "stdout-piped", "stderr-piped", "quiet"])
def test_no_progress_in_json_piped_or_quiet_runs(insert_card, pki, how):
    insert_card("cps3-medecin")
    args = ["check", "--no-env", "--anchors", str(pki.anchors)]
    if how == "json-on-terminals":
        status, out, err = run_on_terminal(*args, "--json")
        # Exactly the JSON document: nothing before, after or inside it.
        assert out == (json.dumps(json.loads(out), ensure_ascii=False, indent=2) + "\n").encode()
    elif how == "stdout-piped":
        status, out, err = run_on_terminal(*args, "--json", stdout_tty=False)
        assert out == (json.dumps(json.loads(out), ensure_ascii=False, indent=2) + "\n").encode()
    elif how == "stderr-piped":
        status, out, err = run_on_terminal(*args, stderr_tty=False)
        assert "OK: the card and the workstation are ready" in out.decode()
    else:
        status, out, err = run_on_terminal(*args, "--quiet")
        assert "OK: the card and the workstation are ready" in out.decode()
    assert status == 0 and err == b""


def test_the_pin_prompt_is_not_drawn_over(insert_card, pki):
    """The PIN typed at the prompt: the live display pauses while the terminal asks, then the steps go on."""
    insert_card("cps3-medecin")
    master, slave = pty.openpty()

    def controlling_terminal() -> None:        # the child's /dev/tty, where getpass asks
        import fcntl
        import termios

        os.setsid()
        fcntl.ioctl(slave, termios.TIOCSCTTY, 0)

    proc = subprocess.Popen([sys.executable, "-m", "cpsdiag", "check", "--no-env", "--anchors", str(pki.anchors),
                             "--sign"], env=clean_environ(TERMINAL), stdin=slave, stdout=slave, stderr=slave,
                            preexec_fn=controlling_terminal, pass_fds=(slave,))
    os.close(slave)
    seen = bytearray()
    deadline = time.monotonic() + 120
    answered = False
    while time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], deadline - time.monotonic())
        if not ready:
            break
        try:
            chunk = os.read(master, 65536)
        except OSError:
            break
        if not chunk:
            break
        seen += chunk
        if not answered and b"PIN of the CPS card (not shown): " in seen:
            os.write(master, b"1234\n")
            answered = True
    proc.wait(30)
    os.close(master)
    text = seen.decode(errors="replace")
    assert answered, text
    prompt = text.index("PIN of the CPS card (not shown): ")
    # The spinner line was erased before the prompt and nothing was drawn while the user typed.
    assert "Reading the PIN counter" in text[:prompt]
    typed = text[prompt:].split("\n", 1)[0]
    assert "Presenting" not in typed and "\x1b[2K" not in typed
    assert "Signature self-test with the authentication key" in text[prompt:]
    assert proc.returncode == 0, text
    assert "1234" not in text
