"""Zoho CRM → Adobe Experience Platform: base connection → source → target → dataflow → first run.

Every task is idempotent by name, so the daily run (and any manual run) reuses what the first run created and
only waits for the dataflow's latest run. Trigger it by hand from the Airflow UI (the Params form asks for the
names, the Zoho module, the dataset and schema, and the schedule), or run it end to end on the built-in emulator
with ``make demo``. The defaults work against the emulator.

Airflow Connections used: ``aep_default`` (Adobe Experience Platform) and ``zoho_crm_default`` (Zoho CRM).
"""

from __future__ import annotations

import pendulum
from airflow.sdk import DAG, Param

from airflow_provider_zoho_aep.operators.base_connection import AEPCreateZohoCRMBaseConnectionOperator
from airflow_provider_zoho_aep.operators.dataflow import AEPCreateDataflowOperator
from airflow_provider_zoho_aep.operators.list_tables import AEPListTablesOperator
from airflow_provider_zoho_aep.operators.source_connection import AEPCreateSourceConnectionOperator
from airflow_provider_zoho_aep.operators.target_connection import AEPCreateTargetConnectionOperator
from airflow_provider_zoho_aep.sensors.dataflow_run import AEPDataflowRunSensor

with DAG(
    dag_id="zoho_crm_to_aep",
    description="Ingest a Zoho CRM module into an AEP dataset through a Flow Service dataflow",
    schedule="@daily",
    start_date=pendulum.datetime(2025, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    tags=["aep", "zoho", "example"],
    params={
        "base_connection_name": Param(
            "Zoho CRM base connection", type="string", minLength=1, maxLength=255,
            title="Base connection name", description="Re-runs with the same name reuse the same base connection.",
        ),
        "description": Param(
            "Base Connection for Zoho CRM", type=["null", "string"], title="Description",
        ),
        "zoho_module": Param(
            "Leads", type="string", minLength=1, title="Zoho CRM module",
            description="The table to ingest, as explore lists it (Leads, Contacts, Accounts, Deals...).",
        ),
        "dataset_id": Param(
            "5f3c2bfc1a2b3c4d5e6f7a8b", type="string", minLength=1, title="Dataset ID",
            description="The AEP dataset the records land in (Catalog dataset ID).",
        ),
        "schema_id": Param(
            "https://ns.adobe.com/emulator/schemas/zoho-crm-leads", type="string", pattern="^https://ns\\.adobe\\.com/",
            title="XDM schema ID", description="The dataset's schema $id.",
        ),
        "mapping_id": Param(
            None, type=["null", "string"], title="Mapping set ID",
            description="Optional Data Prep mapping from the module's columns to the schema.",
        ),
        "delta_column": Param(
            "Modified_Time", type="string", minLength=1, title="Delta column",
            description="Date-time column Flow Service uses to pick up new and changed records.",
        ),
        "frequency": Param(
            "hour", type="string", enum=["once", "minute", "hour", "day", "week"], title="Dataflow frequency",
        ),
        "interval": Param(
            1, type=["null", "integer"], minimum=1, title="Dataflow interval",
            description="Run every <interval> <frequency>s; at least 15 for minutes; leave empty for 'once'.",
        ),
    },
) as dag:
    create_base_connection = AEPCreateZohoCRMBaseConnectionOperator(
        task_id="create_base_connection",
        name="{{ params.base_connection_name }}",
        description="{{ params.description or '' }}",
    )

    list_tables = AEPListTablesOperator(
        task_id="list_tables",
        base_connection_id=create_base_connection.output,
        required_table="{{ params.zoho_module }}",
    )

    create_source_connection = AEPCreateSourceConnectionOperator(
        task_id="create_source_connection",
        name="{{ params.base_connection_name }}: {{ params.zoho_module }}",
        base_connection_id=create_base_connection.output,
        table_name="{{ params.zoho_module }}",
    )

    create_target_connection = AEPCreateTargetConnectionOperator(
        task_id="create_target_connection",
        name="Zoho CRM {{ params.zoho_module }} to dataset {{ params.dataset_id }}",
        dataset_id="{{ params.dataset_id }}",
        schema_id="{{ params.schema_id }}",
    )

    create_dataflow = AEPCreateDataflowOperator(
        task_id="create_dataflow",
        name="Zoho CRM {{ params.zoho_module }} to AEP",
        source_connection_id=create_source_connection.output,
        target_connection_id=create_target_connection.output,
        delta_column="{{ params.delta_column }}",
        mapping_id="{{ params.mapping_id or '' }}",
        frequency="{{ params.frequency }}",
        interval="{{ '' if params.frequency == 'once' else (params.interval or '') }}",
    )

    wait_for_run = AEPDataflowRunSensor(
        task_id="wait_for_run",
        flow_id=create_dataflow.output,
        deferrable=True,
        poke_interval=60,
        timeout=6 * 60 * 60,
    )

    list_tables >> create_source_connection
    create_dataflow >> wait_for_run


if __name__ == "__main__":
    dag.test()
