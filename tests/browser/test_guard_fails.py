"""The `page` fixture must turn an unexpected third-party request into a test error; run a tiny
suite in a subprocess to see that happen."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.support.browser import ROOT

INNER = """
pytest_plugins = ["tests.support.browser"]

def test_calls_home(page):
    page.set_content('<img src="https://tracker.example.net/p.gif" alt="">')
    page.wait_for_load_state("load")
"""


def test_unexpected_third_party_request_errors_the_test(tmp_path: Path) -> None:
    (tmp_path / "conftest.py").write_text(INNER.split("def test")[0])
    (tmp_path / "test_inner.py").write_text("def test" + INNER.split("def test", 1)[1])
    # No third-party plugin autoload (schemathesis, hypothesis): only ours, via the conftest.
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "--rootdir",
            str(tmp_path),
            "-c",
            os.devnull,
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        cwd=tmp_path,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert "tracker.example.net" in output, output
    assert "1 passed, 1 error" in output, output
