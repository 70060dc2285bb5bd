"""The tree stays ruff clean: a lint finding fails the suite like any other defect."""

import shutil
import subprocess
from pathlib import Path

import pytest


@pytest.mark.skipif(shutil.which("ruff") is None, reason="ruff is installed with the test extra")
def test_ruff_clean() -> None:
    result = subprocess.run(["ruff", "check", "."], cwd=Path(__file__).resolve().parents[1], capture_output=True,
                            text=True)
    assert result.returncode == 0, result.stdout
