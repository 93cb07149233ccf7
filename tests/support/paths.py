"""Where the tests find their data and the project's files, whatever folder of tests/ a module sits in.

Through this module rather than ``Path(__file__).parents[N]`` in each test, so that moving a test to another
folder changes nothing. ROOT is the checkout the tests belong to (docs/, scripts/, the cpsdiag sources), also
when scripts/test-pythons runs them against an installed wheel.
"""

from __future__ import annotations

from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]
ROOT = TESTS.parent
DATA = TESTS / "data"
