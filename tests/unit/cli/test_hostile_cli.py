"""Every command and option that takes a file, a date, a URL, a hex string, a host, a port or a number, fed
empty, binary, huge, out-of-range, wrong-type and control-character input.

Each run must end in a usage error (exit 2) whose message names the option or argument, or in a finding
(exit 1, the finding in the output); never in a traceback or an "unexpected" error, and no control
character it was given may reach the terminal raw. Runs are real processes (``python -m cpsdiag``); none
needs a card: the bad value is refused before one would be touched.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from tests.support.cli import clean_environ
from tests.support.paths import ROOT

ROOT = ROOT
GOOD_PEM = ROOT / "cpsdiag" / "pki" / "anchors" / "acr-el.pem"
ESC = "\x1b[31m"            # an escape sequence (red), the classic terminal injection
# What must never reach the terminal raw: C0/C1 controls other than newline and tab, and bidi overrides.
RAW_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
HUGE = "9" * 100_000         # under Linux's 128 kB limit for one argument


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """Hostile files: empty, binary, huge (sparse, 3 GB), a folder, a device, a control character in the name."""
    d = tmp_path_factory.mktemp("hostile")
    (d / "empty").write_bytes(b"")
    (d / "binary").write_bytes(bytes(range(256)) * 64)
    (d / "text").write_text("hello, not what you expect\n")
    with open(d / "huge", "wb") as f:
        f.truncate(3 * 1024 ** 3)
    (d / "folder").mkdir()
    (d / f"name{ESC}.pem").write_bytes(b"\x00\x1b[2J junk")
    (d / f"inside{ESC}").mkdir()
    return d


def run(*args: str | bytes, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "cpsdiag", *args], capture_output=True, timeout=timeout,
                          env=clean_environ(), stdin=subprocess.DEVNULL)


# (command line, expectation): "usage:TOKEN" = exit 2 and TOKEN in the error; "finding:TOKEN" = exit 1 and
# TOKEN in the output; "ok" = exit 0. "{f}" is the folder of hostile files.
DATES = {"empty": "", "binary": b"\xff\xfe", "huge": HUGE, "out-of-range-late": "9999-12-31T23:00-05:00",
         "out-of-range-early": "0001-01-01T00:00+05:00", "out-of-range-month": "2027-13-45",
         "wrong-type": "tomorrow", "control": f"{ESC}2027-01-31"}
DATE_COMMANDS = {"cert": ["cert", str(GOOD_PEM)], "check": ["check", "--no-env"], "report": ["report", "--no-env"],
                 "summarize": ["report", "summarize", "{f}/folder"]}

CASES: list[tuple[str, list, str]] = []
for command, argv in DATE_COMMANDS.items():
    for kind, value in DATES.items():
        CASES.append((f"{command}--at-{kind}", [*argv, "--at", value], "usage:'--at'"))

URLS = {"empty": "", "binary": b"https://\xff/", "huge": "https://" + "a" * 100_000 + "/",
        "out-of-range-port": "https://localhost:99999/", "port-zero": "https://localhost:0/",
        "wrong-type": "ftp://localhost/", "not-a-url": "https://[::1/", "space": "https://a b/",
        "control": f"https://local{ESC}host/"}
URLS.update({"ipv6-without-brackets": "https://::1:8443/", "ipv6-bad-address": "https://[1::2::3]:8443/",
             "ipv6-junk-after-bracket": "https://[::1]x:8443/", "idn-label-too-long": "https://" + "é" * 64 + ".fr/",
             "idn-empty-label": "https://santé..fr/", "credentials": "https://alice:secret@localhost/"})
for kind, value in URLS.items():
    CASES.append((f"check--tls-{kind}", ["check", "--no-env", "--pin-stdin", "--tls", value], "usage:'--tls'"))
CASES.append(("report--tls-ipv6-without-brackets", ["report", "--no-env", "--pin-stdin", "--tls", "https://::1/"],
              "usage:'--tls'"))

# --proxy: an http:// proxy, [USER:PASSWORD@]HOST[:PORT]; anything else is refused before the card is touched.
PROXIES = {"empty": "", "binary": b"http://\xff/", "huge": "http://" + "a" * 100_000 + ":3128",
           "out-of-range-port": "http://proxy.test:99999", "port-zero": "http://proxy.test:0",
           "wrong-type": "socks5://proxy.test:1080", "tls-proxy": "https://proxy.test:3128",
           "not-a-url": "http://[::1:3128", "ipv6-bad-address": "http://[1::2::3]:3128", "no-host": "http://:3128",
           "control": f"http://prox{ESC}y.test:3128", "idn-label-too-long": "http://" + "é" * 64 + ".fr:3128"}
for kind, value in PROXIES.items():
    for command in ("check", "report"):
        CASES.append((f"{command}--proxy-{kind}", [command, "--no-env", "--pin-stdin", "--tls", "https://localhost/",
                                                   "--proxy", value], "usage:'--proxy'"))
CASES += [("check--proxy-and--no-proxy", ["check", "--no-env", "--pin-stdin", "--tls", "https://localhost/", "--proxy",
                                          "http://proxy.test:3128", "--no-proxy"], "usage:--no-proxy"),
          ("check--proxy-without--tls", ["check", "--no-env", "--proxy", "ftp://proxy.test/"], "usage:'--proxy'")]

HEX = {"empty": "", "binary": b"\xff\xfe", "huge": "3B" * 50_000, "odd": "3B0", "letters": "3BZZ00",
       "wrong-structure": "00 11", "truncated": "3B 8A", "control": f"3B{ESC}"}
for kind, value in HEX.items():
    CASES.append((f"atr-{kind}", ["atr", value], "usage:HEX"))

NUMBERS = {"--card-timeout": ["check", "--no-env"], "--tls-timeout": ["check", "--no-env"],
           "--duration": ["watch"], "--count": ["watch"], "--port": ["testssl-server"]}
for option, argv in NUMBERS.items():
    for kind, value in {"empty": "", "binary": b"\xff", "huge": HUGE, "negative": "-1", "nan": "nan",
                        "wrong-type": "abc", "control": f"1{ESC}"}.items():
        CASES.append((f"{argv[0]}{option}-{kind}", [*argv, option, value], f"usage:'{option}'"))
CASES += [("check--card-timeout-inf", ["check", "--no-env", "--card-timeout", "inf"], "usage:'--card-timeout'"),
          ("testssl-server--port-out-of-range", ["testssl-server", "--port", "65536"], "usage:'--port'"),
          ("watch--count-zero", ["watch", "--count", "0"], "usage:'--count'")]

HOSTS = {"empty": "", "binary": b"\xff\xfe", "huge": "a" * 100_000, "unresolvable": "bad.invalid",
         "not-here": "192.0.2.1", "control": f"local{ESC}host", "wrong-type": "http://localhost/",
         "international": "xn--nicht-hier-q9a.invalid", "unicode": "münchen.invalid"}
for kind, value in HOSTS.items():
    CASES.append((f"testssl-server--host-{kind}", ["testssl-server", "--port", "0", "--host", value], "usage:--host"))

# Files to read: each option, each hostile file.
FILE_OPTIONS = {
    "cert": (["cert"], None), "cert--anchors": (["cert", str(GOOD_PEM), "--anchors"], "--anchors"),
    "check--anchors": (["check", "--no-env", "--anchors"], "--anchors"),
    "check--tls-ca": (["check", "--no-env", "--tls-ca"], "--tls-ca"),
    "check--module": (["check", "--no-env", "--via", "pkcs11", "--module"], "--module"),
    "report--anchors": (["report", "--no-env", "--anchors"], "--anchors"),
    "testssl--anchors": (["testssl-server", "--port", "0", "--anchors"], "--anchors"),
    "testssl--cert": (["testssl-server", "--port", "0", "--key", str(GOOD_PEM), "--cert"], "--cert"),
    "testssl--key": (["testssl-server", "--port", "0", "--cert", str(GOOD_PEM), "--key"], "--key"),
    "report-show": (["report", "show"], "FILE"),
}
for name, (argv, option) in FILE_OPTIONS.items():
    for kind in ("missing", "folder", "device", "huge", "empty-name"):
        CASES.append((f"{name}-{kind}", [*argv, {"missing": "{f}/absent", "folder": "{f}/folder", "device": "/dev/zero",
                                                   "huge": "{f}/huge", "empty-name": ""}[kind]],
                      f"usage:{option or 'FILES'}"))
# Files whose content is wrong: a usage error naming the option, or (cert, whose files are the subject) a finding.
for kind in ("empty", "binary", "text", f"name{ESC}.pem"):
    CASES += [(f"cert-content-{kind[:6]}", ["cert", f"{{f}}/{kind}"], "finding:is not a certificate"),
              (f"check--anchors-content-{kind[:6]}", ["check", "--no-env", "--anchors", f"{{f}}/{kind}"],
               "usage:--anchors"),
              (f"check--tls-ca-content-{kind[:6]}", ["check", "--no-env", "--pin-stdin", "--tls", "https://localhost/",
                                                   "--tls-ca", f"{{f}}/{kind}"], "usage:--tls-ca"),
              (f"testssl--cert-content-{kind[:6]}", ["testssl-server", "--port", "0", "--key", str(GOOD_PEM), "--cert",
                                                   f"{{f}}/{kind}"], "usage:--cert"),
              (f"testssl--key-content-{kind[:6]}", ["testssl-server", "--port", "0", "--cert", str(GOOD_PEM), "--key",
                                                  f"{{f}}/{kind}"], "usage:--key"),
              (f"report-show-content-{kind[:6]}", ["report", "show", f"{{f}}/{kind}"], "usage:"),
              (f"summarize-content-{kind[:6]}", ["report", "summarize", f"{{f}}/{kind}"], "finding:skipped")]
# report summarize at the file level: a missing path, a device, a huge file, an empty folder.
CASES += [("summarize-missing", ["report", "summarize", "{f}/absent"], "usage:PATHS"),
          ("summarize-device", ["report", "summarize", "/dev/zero"], "usage:PATHS"),
          ("summarize-huge", ["report", "summarize", "{f}/huge"], "usage:PATHS"),
          ("summarize-empty-folder", ["report", "summarize", "{f}/folder"], "ok"),
          ("summarize-control-folder", ["report", "summarize", f"{{f}}/inside{ESC}"], "ok")]
# Files to write.
CASES += [("testssl--ca-out-no-folder", ["testssl-server", "--port", "0", "--ca-out", "{f}/absent/ca.pem"],
           "usage:--ca-out"),
          ("testssl--ca-out-folder", ["testssl-server", "--port", "0", "--ca-out", "{f}/folder"], "usage:--ca-out"),
          ("testssl--ca-out-device", ["testssl-server", "--port", "0", "--ca-out", "/dev/full",
                                      "--host", "bad.invalid"], "usage:--"),
          ("report--output-no-folder", ["report", "--no-env", "--output", f"{{f}}/absent{ESC}/r.zip"],
           "usage:--output")]


@pytest.mark.parametrize("argv,expected", [pytest.param(argv, expected, id=name) for name, argv, expected in CASES])
def test_hostile_input_ends_in_a_usage_error_or_a_finding(files, argv, expected):
    args = [a.replace("{f}", str(files)) if isinstance(a, str) else a for a in argv]
    proc = run(*args)
    out, err = proc.stdout.decode("utf-8"), proc.stderr.decode("utf-8")   # output stays valid UTF-8
    assert "Traceback" not in err and "failed unexpectedly" not in err, err
    kind, _, token = expected.partition(":")
    if kind == "usage":
        assert proc.returncode == 2, (proc.returncode, out, err)
        assert err.rstrip().splitlines()[-1].startswith("Error: "), err
        assert token in err, err
    elif kind == "finding":
        assert proc.returncode == 1, (proc.returncode, out, err)
        assert token in " ".join((out + err).split()), (out, err)
    else:
        assert proc.returncode == 0, (out, err)
    assert not RAW_CONTROL.search(err), err
    if kind != "finding":
        assert not RAW_CONTROL.search(out), out


@pytest.mark.parametrize("value", ["http://alice:Pw-9xQ7@proxy host:3128", "http://alice:Pw-9xQ7@proxy.test:0",
                                   "socks5://alice:Pw-9xQ7@proxy.test:1080", "http://alice:Pw-9xQ7@[::1:3128"])
def test_a_refused_proxy_never_shows_its_password(value):
    """The message names what is wrong with --proxy; its user name and password are masked, even with --debug."""
    proc = run("check", "--no-env", "--pin-stdin", "--debug", "--tls", "https://localhost/", "--proxy", value)
    out, err = proc.stdout.decode(), proc.stderr.decode()
    assert proc.returncode == 2 and "'--proxy'" in err, err
    assert "Pw-9xQ7" not in out + err and "alice" not in out + err, err


def test_control_characters_in_a_file_name_are_escaped_in_the_console_view(files):
    """The finding about a file names it; its escape sequence must not reach the terminal (the console view)."""
    proc = run("cert", str(files / f"name{ESC}.pem"))
    out = proc.stdout.decode()
    assert proc.returncode == 1 and "is not a certificate" in " ".join(out.split())
    assert not RAW_CONTROL.search(out), out


def test_an_unknown_option_with_an_escape_sequence_is_shown_escaped():
    proc = run("cert", f"--{ESC}x")
    err = proc.stderr.decode()
    assert proc.returncode == 2 and "No such option" in err and "\\x1b[31m" in err
    assert not RAW_CONTROL.search(err)


def test_debug_keeps_the_traceback_of_an_unexpected_error():
    """A bug: one line without --debug, the traceback with it (the command here fails on purpose)."""
    import click
    from click.testing import CliRunner

    from cpsdiag.cli.common import debug_option, guarded

    @click.command()
    @debug_option
    @guarded
    def broken(debug: bool) -> int:
        raise RuntimeError("a bug")

    plain = CliRunner().invoke(broken, [])
    assert plain.exit_code == 1 and "Traceback" not in plain.output
    assert "cpsdiag failed unexpectedly (RuntimeError: a bug)" in plain.output and "--debug" in plain.output
    debug = CliRunner().invoke(broken, ["--debug"])
    assert debug.exit_code == 1 and "Traceback (most recent call last)" in debug.output


@pytest.mark.parametrize("args,message", [
    (["--host", "bad.invalid"], "Error: --host 'bad.invalid': cannot be resolved"),
    (["--cert", "{f}/text", "--key", "{f}/text"], "Error: --cert '{f}/text': no PEM certificate in it"),
    (["--cert", str(GOOD_PEM), "--key", "{f}/binary"], "Error: --key '{f}/binary': no PEM private key in it"),
], ids=["unresolvable-host", "garbage-certificate", "garbage-key"])
def test_testssl_server_fails_in_one_line(files, args, message):
    proc = run("testssl-server", "--port", "0", *[a.replace("{f}", str(files)) for a in args])
    err = proc.stderr.decode()
    assert proc.returncode == 2 and err.startswith(message.replace("{f}", str(files))), err
    assert len(err.strip().splitlines()) == 1, err


def test_testssl_server_on_a_port_in_use_fails_in_one_line():
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        proc = run("testssl-server", "--port", str(port))
    err = proc.stderr.decode()
    assert proc.returncode == 2 and len(err.strip().splitlines()) == 1, err
    assert err.startswith(f"Error: --port {port}: already in use"), err


def test_a_key_that_is_not_the_certificates_is_named(files, tmp_path):
    from cpsdiag.tls.server import make_server_certificate

    cert, _key, _ = make_server_certificate(["localhost"], tmp_path / "a")
    _, other_key, _ = make_server_certificate(["localhost"], tmp_path / "b")
    proc = run("testssl-server", "--port", "0", "--cert", str(cert), "--key", str(other_key))
    err = proc.stderr.decode()
    assert proc.returncode == 2 and "does not belong to the certificate" in err and len(err.strip().splitlines()) == 1


def test_an_atr_typed_right_is_still_decoded():
    """The usage errors above are about typing: a good ATR, with spaces, colons or no-break spaces, decodes."""
    for text in ("3BAC00402A001225006480000310009000", "3B:AC:00:40:2A:00:12:25:00:64:80:00:03:10:00:90:00",
                 "3B\u00a0AC 00 40 2A 00 12 25 00 64 80 00 03 10 00 90 00"):
        proc = run("atr", text)
        assert proc.returncode == 0 and "CPS3" in proc.stdout.decode(), proc.stderr.decode()


def test_dates_at_the_edges_of_the_range_work(files):
    for value in ("1950-01-01", "9998-12-31T00:00:00Z", "2027-01-31T12:00+05:00"):
        proc = run("cert", str(GOOD_PEM), "--at", value, "--json")
        assert proc.returncode in (0, 1) and not proc.stderr, (value, proc.stderr.decode())
        proc = run("report", "summarize", str(files / "folder"), "--at", value)
        assert proc.returncode == 0, (value, proc.stderr.decode())
    assert os.path.exists(GOOD_PEM)
