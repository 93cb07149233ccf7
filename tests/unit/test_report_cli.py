"""``cpsdiag report`` without a card: bad input, a light command module.

With a card, through pcscd and the emulator: tests/stack/test_report_cli_stack.py."""

from __future__ import annotations

import subprocess
import sys

from click.testing import CliRunner

from cpsdiag.cli import main


def test_show_refuses_what_is_not_a_report(tmp_path):
    (tmp_path / "x.json").write_text("{}")
    result = CliRunner().invoke(main, ["report", "show", str(tmp_path / "x.json")])
    assert result.exit_code == 2 and "not a cpsdiag report" in result.stderr and "Traceback" not in result.output


def test_the_command_module_imports_nothing_heavy():
    heavy = "('rich', 'cryptography', 'smartcard', 'cpsdiag.report.html')"
    code = f"import sys, cpsdiag.cli.report; print(sorted(m for m in {heavy} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
    help_text = subprocess.run([sys.executable, "-m", "cpsdiag", "--help"], capture_output=True, text=True).stdout
    assert "report" in help_text
