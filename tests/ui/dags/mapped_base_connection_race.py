"""16 mapped task instances create the same base connection at the same instant (a test DAG).

Each instance waits in ``pre_execute`` until the wall-clock time given in the run's conf (``start_at``), so
all of them send their look-up and create together: the provider must converge on one base connection.
"""

from __future__ import annotations

import time

import pendulum
from airflow.sdk import DAG, Param

from airflow_provider_zoho_aep.operators.base_connection import AEPCreateZohoCRMBaseConnectionOperator


def _wait_for_start(context) -> None:  # type: ignore[no-untyped-def]
    start_at = float(context["params"]["start_at"])
    while time.time() < start_at:
        time.sleep(0.005)


with DAG(
    dag_id="mapped_base_connection_race",
    schedule=None,
    start_date=pendulum.datetime(2025, 1, 1, tz="UTC"),
    catchup=False,
    max_active_tasks=16,
    params={"name": Param("mapped race", type="string"), "start_at": Param(0.0, type="number")},
) as dag:
    AEPCreateZohoCRMBaseConnectionOperator.partial(
        task_id="create_base_connection",
        name="{{ params.name }}",
        pre_execute=_wait_for_start,
        max_active_tis_per_dagrun=16,
    ).expand(description=[f"mapped instance {i}" for i in range(16)])
