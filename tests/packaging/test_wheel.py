"""The wheel builds with the oldest setuptools pyproject.toml admits, and carries the licence.

Needs PyPI (the one registry these machines reach) to install that setuptools in a venv of its own.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
import zipfile

from tests.support.paths import ROOT


def test_the_wheel_builds_with_the_oldest_admitted_setuptools_and_carries_the_licence(tmp_path):
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    [setuptools] = [r for r in project["build-system"]["requires"] if r.startswith("setuptools")]
    floor = re.fullmatch(r"setuptools>=(\d+)(?:\.\d+)*", setuptools)
    assert floor, f"build requirement {setuptools!r}: expected setuptools>=N"
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = str(venv / "bin" / "python")
    # The oldest release line `requires` lets pip choose (its latest patch release).
    subprocess.run([python, "-m", "pip", "install", "-q", "--disable-pip-version-check",
                    f"setuptools=={floor.group(1)}.*"], check=True, timeout=300)
    built = subprocess.run([python, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation",
                            "-w", str(tmp_path / "dist"), str(ROOT)], capture_output=True, text=True, timeout=300)
    assert built.returncode == 0, built.stdout + built.stderr
    [wheel] = (tmp_path / "dist").glob("cpsdiag-*.whl")
    with zipfile.ZipFile(wheel) as z:
        names = z.namelist()
        licence = next(n for n in names if re.fullmatch(r"cpsdiag-[^/]+\.dist-info/licenses/LICENSE", n))
        assert "Apache License" in z.read(licence).decode() and "Version 2.0" in z.read(licence).decode()
        metadata = z.read(next(n for n in names if n.endswith(".dist-info/METADATA"))).decode()
    assert "License-Expression: Apache-2.0" in metadata
    assert "License-File: LICENSE" in metadata
