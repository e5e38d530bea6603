"""The suite's own rules: under CI nothing may skip."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.conftest import REPO

SKIPPING = """
import pytest

def test_needs_a_missing_tool():
    pytest.skip("the tool is not installed")
"""


def _run(tmp_path, ci: str) -> subprocess.CompletedProcess:
    test = REPO / "tests" / f"test_zz_skip_probe_{os.getpid()}.py"
    test.write_text(SKIPPING)
    try:
        env = {**os.environ, "CI": ci}
        return subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(test)],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
    finally:
        test.unlink()


def test_a_skip_fails_under_ci_and_says_why(tmp_path):
    run = _run(tmp_path, "true")
    assert run.returncode == 1, run.stdout
    assert "skipped in CI, which must run everything: Skipped: the tool is not installed" in run.stdout


def test_a_skip_outside_ci_stays_a_skip_with_its_reason(tmp_path):
    run = _run(tmp_path, "")
    assert run.returncode == 0, run.stdout
    assert "SKIPPED" in run.stdout and "the tool is not installed" in run.stdout
