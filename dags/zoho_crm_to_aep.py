"""Zoho CRM → Adobe Experience Platform, driven by Airflow: one ingestion run per data interval.

base connection → source → target → dataflow (scheduled ``once``: AEP does not schedule it, Airflow does) →
an on-demand run for this DAG run's own data interval. Every task is idempotent (resources by name, the run by
window), so each hourly DAG run reuses what the first one created and ingests exactly its hour; a backfill over
N hours makes N runs with N distinct windows, and clearing a run ingests the same window again only if its run
did not succeed.

Trigger it by hand from the Airflow UI: the Params form asks for the names, the Zoho module, the dataset and
schema, and the window (``window_start`` / ``window_end``, ISO 8601 with an offset; empty means the run's data
interval). Or run it end to end on the built-in emulator with ``make demo``. The defaults work against the
emulator, whose Zoho CRM records were modified between 2026-01-01 and 2026-01-08 (UTC).

Airflow Connections used: ``aep_default`` (Adobe Experience Platform) and ``zoho_crm_default`` (Zoho CRM).
"""

from __future__ import annotations

import pendulum
from airflow.sdk import DAG, Param
from airflow.timetables.interval import CronDataIntervalTimetable

from airflow_provider_zoho_aep.operators.base_connection import AEPCreateZohoCRMBaseConnectionOperator
from airflow_provider_zoho_aep.operators.dataflow import AEPCreateDataflowOperator
from airflow_provider_zoho_aep.operators.dataflow_run import AEPRunDataflowOperator
from airflow_provider_zoho_aep.operators.list_tables import AEPListTablesOperator
from airflow_provider_zoho_aep.operators.source_connection import AEPCreateSourceConnectionOperator
from airflow_provider_zoho_aep.operators.target_connection import AEPCreateTargetConnectionOperator

with DAG(
    dag_id="zoho_crm_to_aep",
    description="Ingest a Zoho CRM module into an AEP dataset through a Flow Service dataflow",
    # A data interval per hour ([10:00, 11:00) for the run after 11:00). Airflow 3's plain "@hourly" gives runs a
    # zero-length interval (CronTriggerTimetable), which names no window to ingest.
    schedule=CronDataIntervalTimetable("0 * * * *", timezone="UTC"),
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
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
        "window_start": Param(
            None, type=["null", "string"], format="date-time", title="Window start",
            description="Ingest the records modified from this moment (ISO 8601 with an offset, e.g. "
            "2026-01-02T00:00:00+00:00). Empty: the start of the DAG run's data interval.",
        ),
        "window_end": Param(
            None, type=["null", "string"], format="date-time", title="Window end",
            description="... up to this moment, excluded; not in the future. Empty: the end of the data interval.",
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
        # One-time ingestion: Flow Service runs the flow only when asked (POST /runs), once per window.
        frequency="once",
    )

    ingest_window = AEPRunDataflowOperator(
        task_id="ingest_window",
        flow_id=create_dataflow.output,
        window_start="{{ params.window_start or '' }}",
        window_end="{{ params.window_end or '' }}",
        deferrable=True,
        poll_interval=60,
        timeout=6 * 60 * 60,
    )

    list_tables >> create_source_connection
    create_dataflow >> ingest_window


if __name__ == "__main__":
    dag.test()
