"""The helpdesk bundle from reports written by hand: masking, environment text, output files, loading.

Bundles of real checks are in tests/stack/test_report_contents.py and test_report_cli_stack.py."""

from __future__ import annotations

import json
import os
import zipfile

import pytest

from cpsdiag.report.bundle import (BundleError, BundleSource, build_bundle, default_output, environment_from_report,
                                   load_report, write_bundle)
from cpsdiag.report.trace import trace_text
from cpsdiag.report.redact import Salt
from tests.support.report import as_report, certificate_doc, holder_doc, report_doc
from tests.support.paths import DATA

SALT = Salt(b"\x01" * 32, "installation", "/nowhere/redaction-salt")


def test_pin_data_stays_masked_in_the_trace():
    from cpsdiag.report.redact import Redactor
    from cpsdiag.report.trace import redact_trace
    from cpsdiag.transport.base import ApduTrace

    trace = ApduTrace()
    trace.add(bytes.fromhex("0020000108") + b"1234\xff\xff\xff\xff", b"", 0x9000, 0.01)
    for redactor in (Redactor(SALT, [("card_number", "90000001")]), None):
        text = trace_text(redact_trace(trace.records, redactor), as_report(report_doc()))
        assert "> 00 20 00 01 08 ** ** ** ** ** ** ** **" in text and "31 32 33 34" not in text
        assert "VERIFY" in text and "90 00  ok" in text


def test_environment_text_is_the_sections_rows_redacted():
    from cpsdiag.env import collect_environment, environment_dict, environment_text, load_layout

    facts = collect_environment(load_layout(DATA / "env" / "linux"),
                                card_serial="899900000011")
    holder = holder_doc(given_name="CAMILLE", surname="DUPONT-ESSAI", national_id="899900000011")
    report = report_doc(certificates=[certificate_doc(holder=holder)], environment=environment_dict(facts))
    env = dict((f.name, f.data) for f in build_bundle(BundleSource(as_report(report)), salt=SALT).files)[
        "environment.txt"].decode()
    assert "899900000011" in environment_text(facts) and "899900000011" not in env
    # The same rows as `cpsdiag env` shows, the card numbers masked (the reader's and those of the Cryptolib's cache).
    from cpsdiag.report.redact import mask

    expected = environment_text(facts)
    for number in [*facts.cryptolib.cache_serials, "899900000011"]:
        expected = expected.replace(number, mask(number, "card_number"))
    assert env == expected
    assert "not collected" in environment_from_report(as_report(report_doc()))


def test_default_output_never_overwrites(tmp_path):
    from datetime import datetime

    moment = datetime(2026, 11, 23, 21, 42, 6)
    first = default_output(tmp_path, moment)
    assert first.name == "cpsdiag-report-20261123-214206.zip"
    first.write_bytes(b"")
    assert default_output(tmp_path, moment).name == "cpsdiag-report-20261123-214206-2.zip"


def test_write_is_atomic(tmp_path, monkeypatch):
    source = BundleSource(as_report(report_doc()))
    bundle = build_bundle(source, salt=SALT)
    target = tmp_path / "out.zip"

    def boom(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OSError):
        write_bundle(bundle, target)
    assert list(tmp_path.iterdir()) == []


def test_load_report_from_bundle_json_and_bad_files(tmp_path):
    source = BundleSource(as_report(report_doc()))
    write_bundle(build_bundle(source, salt=SALT), tmp_path / "b.zip")
    assert load_report(tmp_path / "b.zip").verdict == "ok"
    (tmp_path / "r.json").write_text(json.dumps(report_doc(verdict="error")))
    assert load_report(tmp_path / "r.json").verdict == "error"
    cases = {"other.json": (b'{"schema": "cpsdiag.readers/1"}', "not a cpsdiag report"),
             "broken.json": (b"{", "not JSON"), "list.json": (b"[]", "not a cpsdiag report"),
             "binary.json": (b"\xff\xfe\x00", "not JSON")}
    for name, (data, message) in cases.items():
        (tmp_path / name).write_bytes(data)
        with pytest.raises(BundleError, match=message):
            load_report(tmp_path / name)
    with zipfile.ZipFile(tmp_path / "empty.zip", "w") as zf:
        zf.writestr("hello.txt", "hi")
    with pytest.raises(BundleError, match="no report.json"):
        load_report(tmp_path / "empty.zip")
    (tmp_path / "cut.zip").write_bytes((tmp_path / "b.zip").read_bytes()[:200])
    with pytest.raises(BundleError):
        load_report(tmp_path / "cut.zip")
