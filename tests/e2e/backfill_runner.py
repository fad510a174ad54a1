"""Run the example DAG with ``dag.test()`` for consecutive hourly logical dates, in this process.

Called by ``test_backfill_windows.py`` in a fresh interpreter (Airflow reads AIRFLOW_HOME and the Connections
from the environment at import): ``python backfill_runner.py <first logical date> <count>``. Prints one JSON line
per DAG run: its state, data interval and the ``ingest_window`` task's return value.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pendulum

try:
    from airflow.dag_processing.dagbag import DagBag
except ImportError:  # Airflow < 3.1
    from airflow.models.dagbag import DagBag

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
from tests.dag_test_speedup import reuse_in_process_execution_api  # noqa: E402


def main() -> int:
    first, count = pendulum.parse(sys.argv[1]), int(sys.argv[2])
    reuse_in_process_execution_api()
    dag = DagBag(dag_folder=str(REPO / "dags")).get_dag("zoho_crm_to_aep")
    for hour in range(count):
        run = dag.test(logical_date=first.add(hours=hour))
        ti = next(t for t in run.get_task_instances() if t.task_id == "ingest_window")
        from airflow.models.xcom import XComModel
        from airflow.utils.session import create_session

        with create_session() as session:
            value = session.query(XComModel.value).filter_by(
                dag_id=run.dag_id, run_id=run.run_id, task_id=ti.task_id, key="return_value").scalar()
        print(json.dumps({"state": str(run.state), "start": run.data_interval_start.isoformat(),
                          "end": run.data_interval_end.isoformat(), "result": value}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
