"""16 mapped task instances create the same base connection at the same instant (a test DAG).

Each instance waits in ``pre_execute`` at a barrier: it leaves a marker file in the run's ``barrier_dir`` and
waits until all ``parties`` markers are there, so all of them send their look-up and create together, however
long their processes took to start. The provider must converge on one base connection.
"""

from __future__ import annotations

import time
from pathlib import Path

import pendulum
from airflow.sdk import DAG, Param

from airflow_provider_zoho_aep.operators.base_connection import AEPCreateZohoCRMBaseConnectionOperator


def _wait_for_start(context) -> None:  # type: ignore[no-untyped-def]
    barrier = Path(context["params"]["barrier_dir"])
    barrier.mkdir(parents=True, exist_ok=True)
    (barrier / str(context["ti"].map_index)).touch()
    deadline = time.monotonic() + 180
    while len(list(barrier.iterdir())) < int(context["params"]["parties"]) and time.monotonic() < deadline:
        time.sleep(0.005)


with DAG(
    dag_id="mapped_base_connection_race",
    schedule=None,
    start_date=pendulum.datetime(2025, 1, 1, tz="UTC"),
    catchup=False,
    max_active_tasks=16,
    params={
        "name": Param("mapped race", type="string"),
        "barrier_dir": Param("/tmp/mapped-race-barrier", type="string"),
        "parties": Param(16, type="integer"),
    },
) as dag:
    AEPCreateZohoCRMBaseConnectionOperator.partial(
        task_id="create_base_connection",
        name="{{ params.name }}",
        pre_execute=_wait_for_start,
        max_active_tis_per_dagrun=16,
    ).expand(description=[f"mapped instance {i}" for i in range(16)])
