"""``make demo``: run the example DAG end to end on the emulator with an embedded SQLite Airflow.

1. starts the emulator on a free loopback port (its state is kept in ``.airflow/emulator-state.json``, so a
   second run finds the base connection of the first and reuses it);
2. points the two Airflow Connections at it through ``AIRFLOW_CONN_*`` environment variables;
3. runs ``airflow db migrate`` and ``airflow dags test zoho_crm_to_aep <logical date>`` for three consecutive
   hourly data intervals inside the emulator's CRM data (2026-01-02, 00:00 to 03:00 UTC), with
   ``AIRFLOW_HOME=.airflow``;
4. prints every ID the DAG pushed to XCom and, per DAG run, its window and its run's record counts (each equal
   to the emulator's records modified in that window);
5. does the same with ``zoho_crm_to_dlz_to_aep`` (Zoho CRM export → Data Landing Zone → AEP) and prints, per
   window, the records exported, the files uploaded and the records landed in the dataset; then stops the
   emulator.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

from emulator import Emulator, EmulatorCredentials

REPO = Path(__file__).resolve().parent.parent
DAG_ID = "zoho_crm_to_aep"
DLZ_DAG_ID = "zoho_crm_to_dlz_to_aep"
#: Logical dates of the demo's DAG runs: each one ingests the hour before it (the @hourly data interval).
DEMO_DATES = ("2026-01-02T01:00:00+00:00", "2026-01-02T02:00:00+00:00", "2026-01-02T03:00:00+00:00")


def airflow_env(emulator_url: str, airflow_home: Path, creds: EmulatorCredentials) -> dict[str, str]:
    """Environment for an embedded Airflow whose two Connections point at the emulator."""
    aep = {
        "conn_type": "adobe_experience_platform",
        "login": creds.ims_client_id,
        "password": creds.ims_client_secret,
        "host": emulator_url,
        "extra": {
            "ims_org_id": creds.ims_org_id,
            "sandbox_name": "prod",
            "ims_token_url": f"{emulator_url}/ims/token/v3",
            "timeout": 10,
        },
    }
    zoho = {
        "conn_type": "zoho_crm",
        "login": creds.zoho_client_id,
        "password": creds.zoho_client_secret,
        "host": emulator_url,
        "extra": {"accounts_url": emulator_url, "refresh_token": creds.zoho_refresh_token},
    }
    env = dict(os.environ)
    env.update(
        {
            "AIRFLOW_HOME": str(airflow_home),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__DAGS_FOLDER": str(REPO / "dags"),
            "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
            "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",
            "AIRFLOW_CONN_AEP_DEFAULT": json.dumps(aep),
            "AIRFLOW_CONN_ZOHO_CRM_DEFAULT": json.dumps(zoho),
        }
    )
    return env


def xcom_values(airflow_home: Path, dag_id: str) -> dict[str, object]:
    """``return_value`` of every task of the latest run of ``dag_id``, read from the SQLite metadata DB."""
    with sqlite3.connect(airflow_home / "airflow.db") as db:
        run_id = db.execute(
            "SELECT run_id FROM dag_run WHERE dag_id = ? ORDER BY id DESC LIMIT 1", (dag_id,)
        ).fetchone()
        if not run_id:
            return {}
        rows = db.execute(
            "SELECT task_id, value FROM xcom WHERE dag_id = ? AND run_id = ? AND key = 'return_value'",
            (dag_id, run_id[0]),
        ).fetchall()
    return {task_id: json.loads(value) for task_id, value in rows}


def run_dag(airflow: list[str], env: dict[str, str], airflow_home: Path, dag_id: str, log_path: Path
            ) -> list[object] | None:
    """``airflow dags test`` for each demo date; the window task's result per run, or None when a run failed."""
    windows = []
    for logical_date in DEMO_DATES:
        run = subprocess.run([*airflow, "dags", "test", dag_id, logical_date], env=env, capture_output=True,
                             text=True)
        log_path.write_text(run.stdout + run.stderr)
        if run.returncode != 0:
            print(run.stdout[-4000:], run.stderr[-4000:], sep="\n", file=sys.stderr)
            print(f"The {dag_id} run of {logical_date} failed; full output in {log_path}", file=sys.stderr)
            return None
        windows.append(xcom_values(airflow_home, dag_id).get("ingest_window"))
    return windows


def main() -> int:
    airflow_home = Path(os.environ.get("ZOHO_AEP_DEMO_HOME", REPO / ".airflow"))
    airflow_home.mkdir(parents=True, exist_ok=True)
    creds = EmulatorCredentials()
    airflow = [str(Path(sys.executable).parent / "airflow")]
    # Runs finish in 50 ms, so the operator sees its run done at its first look instead of deferring for its
    # 60-second poll interval (the deferrable path is covered by the tests).
    state_file = str(airflow_home / "emulator-state.json")
    log_path = airflow_home / "demo-last-run.log"
    with Emulator(credentials=creds, state_file=state_file, run_duration=0.05) as emulator:
        print(f"Emulator listening on {emulator.url}", flush=True)
        env = airflow_env(emulator.url, airflow_home, creds)
        env["ZOHO_AEP_EXPORT_DIR"] = str(airflow_home / "exports")
        subprocess.run([*airflow, "db", "migrate"], env=env, check=True, stdout=subprocess.DEVNULL)
        windows = run_dag(airflow, env, airflow_home, DAG_ID, log_path)
        if windows is None:
            return 1
        values = xcom_values(airflow_home, DAG_ID)
        dlz_windows = run_dag(airflow, env, airflow_home, DLZ_DAG_ID, log_path)
        if dlz_windows is None:
            return 1
        dlz_values = xcom_values(airflow_home, DLZ_DAG_ID)
    print(f"DAG {DAG_ID} succeeded for {len(DEMO_DATES)} hourly data intervals (last output in {log_path})")
    labels = {
        "create_base_connection": "Base connection ID",
        "list_tables": "Tables it exposes",
        "create_source_connection": "Source connection ID",
        "create_target_connection": "Target connection ID",
        "create_dataflow": "Dataflow (flow) ID",
    }
    for task_id, label in labels.items():
        if task_id in values:
            shown = ", ".join(values[task_id]) if isinstance(values[task_id], list) else values[task_id]
            print(f"  {label + ':':24} {shown}")
    print("  One dataflow run per data interval:")
    for run in windows:
        if isinstance(run, dict):
            print(f"    [{run.get('window_start')}, {run.get('window_end')}) run {run.get('run_id')} "
                  f"({run.get('status')}): {run.get('input_record_count')} read, "
                  f"{run.get('output_record_count')} written, {run.get('failed_record_count')} failed")
    print(f"DAG {DLZ_DAG_ID} (Zoho CRM → Data Landing Zone → AEP) succeeded for {len(DEMO_DATES)} hourly data "
          "intervals")
    dlz_labels = {
        "create_target_connection": "Target connection ID",
        "create_mapping_set": "Mapping set ID",
        "create_source_connection": "DLZ source connection ID",
        "create_dataflow": "Dataflow (flow) ID",
    }
    for task_id, label in dlz_labels.items():
        if task_id in dlz_values:
            print(f"  {label + ':':26} {dlz_values[task_id]}")
    print("  Per window: records exported from Zoho CRM, files uploaded, records landed in the dataset:")
    for run in dlz_windows:
        if isinstance(run, dict):
            print(f"    [{run.get('window_start')}, {run.get('window_end')}) {run.get('records_exported')} exported, "
                  f"{len(run.get('files') or [])} file(s), {run.get('output_record_count')} landed, "
                  f"run {run.get('run_id')}")
    if not values.get("create_base_connection") or not dlz_values.get("create_dataflow"):
        print("No base connection or DLZ dataflow ID found in XCom", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
