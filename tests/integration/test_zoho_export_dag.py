"""ZohoCRMExportOperator under a real ``dag.test()`` (SQLite metadata DB): window = the run's data interval,
manifest through XCom to a downstream task, exact files, no secret anywhere."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from emulator import Emulator
from tests.integration.zoho_export_helpers import HOUR, T0, assert_exact, expected

pytestmark = pytest.mark.e2e

DAG_FILE = '''
from datetime import datetime, timedelta, timezone
import json
from airflow.sdk import DAG, task
from airflow_provider_zoho_aep.operators.zoho_export import ZohoCRMExportOperator

with DAG("zoho_export_test", schedule=timedelta(hours=1), start_date=datetime(2026, 1, 1, tzinfo=timezone.utc),
         catchup=False) as dag:
    export = ZohoCRMExportOperator(task_id="export", module="Leads", base_dir=BASE_DIR)

    @task
    def keep(manifest: dict) -> None:
        with open(RESULT, "w") as f:
            json.dump(manifest, f)

    keep(export.output)
'''


@pytest.fixture(scope="module")
def airflow_db() -> None:
    done = subprocess.run([sys.executable, "-m", "airflow", "db", "migrate"], capture_output=True, text=True,
                          timeout=300, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]


def test_operator_in_dag_test_exports_the_data_interval(
    emulator: Emulator, airflow_db: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
) -> None:
    dags = tmp_path / "dags"
    dags.mkdir()
    result = tmp_path / "manifest.json"
    base = tmp_path / "exports"
    (dags / "zoho_export_test.py").write_text(
        f"BASE_DIR = {str(base)!r}\nRESULT = {str(result)!r}\n" + DAG_FILE, encoding="utf-8"
    )
    bundle = {"name": "dags-folder", "classpath": "airflow.dag_processing.bundles.local.LocalDagBundle",
              "kwargs": {"path": str(dags)}}  # fmt: skip
    monkeypatch.setenv("AIRFLOW__DAG_PROCESSOR__DAG_BUNDLE_CONFIG_LIST", json.dumps([bundle]))
    spec = importlib.util.spec_from_file_location("zoho_export_test_dag", dags / "zoho_export_test.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)

    run = module.dag.test(logical_date=T0 + 5 * HOUR)
    states = {ti.task_id: str(ti.state) for ti in run.get_task_instances()}
    assert str(run.state) == "success", states

    start, end = run.data_interval_start, run.data_interval_end
    assert end - start == timedelta(hours=1) and T0 <= start <= T0 + 6 * HOUR
    manifest = json.loads(result.read_text())
    assert manifest["window_start"] == start.isoformat() and manifest["window_end"] == end.isoformat()
    assert_exact(manifest, expected(emulator, "Leads", start, end))
    folder = Path(manifest["files"][0]["path"]).parent
    assert folder.parent.parent.parent == base and folder.name == "export"

    creds = emulator.credentials
    secrets = [creds.zoho_client_secret, creds.zoho_refresh_token, *emulator.store.zoho_tokens]
    logs = capfd.readouterr()
    # Airflow 3.0's in-process test supervisor (dag.test only) debug-logs each request a task sends it, including
    # the MaskSecret requests that ask it to mask these very values: that line is Airflow's, not the task's.
    console = "\n".join(line for line in (logs.out + logs.err).splitlines()
                         if not ("Sending request" in line and "type='MaskSecret'" in line))
    haystack = console + result.read_text() + "".join(str(p) for p in base.rglob("*"))
    for secret in secrets:
        assert secret not in haystack
