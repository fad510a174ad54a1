"""Zoho CRM → Adobe Experience Platform: create (or reuse) the Zoho CRM base connection and explore it.

Trigger it by hand from the Airflow UI (the Params form asks for the base connection's name and description),
or run it end to end on the built-in emulator with ``make demo``.

Airflow Connections used: ``aep_default`` (Adobe Experience Platform) and ``zoho_crm_default`` (Zoho CRM).
"""

from __future__ import annotations

import pendulum
from airflow.sdk import DAG, Param, task

from airflow_provider_zoho_aep.operators.base_connection import AEPCreateZohoCRMBaseConnectionOperator

with DAG(
    dag_id="zoho_crm_to_aep",
    description="Create the Zoho CRM base connection in AEP and list the tables it exposes",
    schedule=None,
    start_date=pendulum.datetime(2025, 1, 1, tz="UTC"),
    catchup=False,
    tags=["aep", "zoho", "example"],
    params={
        "base_connection_name": Param(
            "Zoho CRM base connection", type="string", minLength=1, maxLength=255,
            title="Base connection name", description="Re-runs with the same name reuse the same base connection.",
        ),
        "description": Param(
            "Base Connection for Zoho CRM", type=["null", "string"], title="Description",
        ),
    },
) as dag:
    create_base_connection = AEPCreateZohoCRMBaseConnectionOperator(
        task_id="create_base_connection",
        name="{{ params.base_connection_name }}",
        description="{{ params.description or '' }}",
    )

    @task
    def list_tables(base_connection_id: str) -> list[str]:
        """The Zoho CRM modules the base connection can see; their paths become source connections later."""
        from airflow_provider_zoho_aep.hooks.aep import AdobeExperiencePlatformHook

        tables = AdobeExperiencePlatformHook().list_tables(base_connection_id)
        paths = [table["path"] for table in tables]
        print(f"Base connection {base_connection_id} exposes {len(paths)} tables: {', '.join(paths)}")
        return paths

    list_tables(create_base_connection.output)


if __name__ == "__main__":
    dag.test()
