"""The wheel that Airflow workers install holds the provider and nothing else: no emulator, tests, bench or DAG."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.conftest import REPO


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    uv = Path(sys.executable).with_name("uv")
    command = [str(uv), "build", "--wheel", "--out-dir", str(out), str(REPO)] if uv.exists() else [
        sys.executable, "-m", "pip", "wheel", "--no-deps", "--wheel-dir", str(out), str(REPO)]
    subprocess.run(command, check=True, capture_output=True, timeout=300)
    (built,) = out.glob("airflow_provider_zoho_aep-*.whl")
    return built


def test_the_wheel_holds_only_what_runs_in_airflow(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    top_level = {name.split("/", 1)[0] for name in names}
    dist_info = {name for name in top_level if name.endswith(".dist-info")}
    assert top_level - dist_info == {"airflow_provider_zoho_aep"}
    assert "airflow_provider_zoho_aep/py.typed" in names
    assert "airflow_provider_zoho_aep/get_provider_info.py" in names
    for unwanted in ("emulator", "tests", "bench", "dags", "scripts"):
        assert not [name for name in names if f"/{unwanted}/" in f"/{name}"], unwanted


def test_the_wheel_registers_the_provider_with_airflow(wheel: Path) -> None:
    archive = zipfile.ZipFile(wheel)
    (entry_points,) = [name for name in archive.namelist() if name.endswith(".dist-info/entry_points.txt")]
    text = archive.read(entry_points).decode()
    assert "[apache_airflow_provider]" in text
    assert "provider_info = airflow_provider_zoho_aep.get_provider_info:get_provider_info" in text
