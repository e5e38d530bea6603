"""`pip install .` (not editable) gives a working `playground` from any folder: presets ship inside."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx2 as httpx
import pytest

from playground.serving import free_port
from tests.conftest import REPO
from tests.support.app_process import wait_until_serving


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """The wheel built from this checkout, installed (without its dependencies) into a folder."""
    wheels, target = tmp_path_factory.mktemp("wheel"), tmp_path_factory.mktemp("site")
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, "wheel", "--no-deps", "-w", str(wheels), str(REPO)], check=True, capture_output=True)
    (wheel,) = wheels.glob("*.whl")
    subprocess.run([*pip, "install", "--no-deps", "--target", str(target), str(wheel)], check=True, capture_output=True)
    return target


def _env(site: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "PLAYGROUND_"))}
    env["PYTHONPATH"] = str(site)  # ahead of the checkout's editable install
    return env


def test_wheel_carries_the_catalog_and_vibes(installed, tmp_path):
    code = "import playground.core.catalog as c, playground; print(playground.__file__); print(c.presets_dir())"
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, env=_env(installed), capture_output=True, text=True, check=True
    ).stdout.split()
    assert out[0].startswith(str(installed)), "imported the checkout, not the installed wheel"
    presets = Path(out[1])
    assert presets == installed / "playground" / "presets"
    assert (presets / "catalog.yaml").is_file() and len(list((presets / "vibes").glob("*.yaml"))) >= 20


def test_installed_playground_runs_from_another_folder(installed, tmp_path):
    port = free_port()
    script = installed / "bin" / "playground"
    env = {**_env(installed), "PLAYGROUND_DATA_DIR": str(tmp_path / "data")}
    proc = subprocess.Popen(
        [sys.executable, str(script), "run", "--port", str(port)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        wait_until_serving(f"http://127.0.0.1:{port}/healthz", proc)
        page = httpx.get(f"http://127.0.0.1:{port}/config", timeout=10).text
        assert "Audio Playground" in page and "Evening Newsdesk" in page  # a built-in vibe, read from the wheel
    finally:
        proc.terminate()
        proc.wait(timeout=15)
