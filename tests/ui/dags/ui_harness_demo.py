"""Provider-independent DAG used by the UI suite to prove the trigger/Params/XCom mechanics.

Loaded through a second LocalDagBundle ("ui-tests") that tests/ui/ui_harness.py configures; it is never
part of the provider's example DAGs.
"""

from __future__ import annotations

import uuid

from airflow.sdk import Param, dag, task


@dag(
    dag_id="ui_harness_demo",
    schedule=None,
    catchup=False,
    tags=["ui-tests"],
    params={"base_connection_name": Param("ui-demo", type="string", title="Base connection name")},
)
def ui_harness_demo():
    @task(task_id="create_base_connection")
    def create(params=None) -> str:
        return str(uuid.uuid5(uuid.NAMESPACE_URL, params["base_connection_name"]))

    create()


ui_harness_demo()
