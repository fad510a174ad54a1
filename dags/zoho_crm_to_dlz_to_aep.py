"""Zoho CRM → Data Landing Zone → Adobe Experience Platform: the path that works after the Zoho CRM source retired.

Adobe retired its native Zoho CRM source at the end of June 2025 and names the Data Landing Zone in its place.
Every hour this DAG:

1. makes sure the pipeline exists (all four tasks are idempotent, so each run passes through them cheaply):
   the Data Lake target connection, a Data Prep mapping set (Zoho columns → XDM), the Data Landing Zone source
   connection (the module's folder) and a ``CloudStorageToAEP`` dataflow scheduled ``once``;
2. ingests its own data interval: the records of the Zoho CRM module modified in it are exported with Zoho's
   Bulk Read API, uploaded to the landing zone, and an on-demand run of the dataflow ingests exactly those
   files. A window that already landed is never ingested twice; a failed one lands once on retry.

Trigger it by hand from the Airflow UI (the Params form asks for the module, dataset, schema and window), set
``catchup=True`` to backfill, or run it end to end on the built-in emulator with ``make demo``. The defaults work
against the emulator, whose Zoho CRM records were modified between 2026-01-01 and 2026-01-08 (UTC).

Airflow Connections used: ``aep_default`` (Adobe Experience Platform) and ``zoho_crm_default`` (Zoho CRM). Needs
the ``dlz`` extra: ``pip install "airflow-provider-zoho-aep[dlz]"``.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import DAG, Param
from airflow.timetables.interval import CronDataIntervalTimetable

from airflow_provider_zoho_aep.operators.data_landing_zone import AEPCreateDataLandingZoneSourceConnectionOperator
from airflow_provider_zoho_aep.operators.dataflow import AEPCreateDataflowOperator
from airflow_provider_zoho_aep.operators.mapping import AEPCreateMappingSetOperator
from airflow_provider_zoho_aep.operators.target_connection import AEPCreateTargetConnectionOperator
from airflow_provider_zoho_aep.transfers.zoho_crm_to_aep_dlz import ZohoCRMToAEPDataLandingZoneOperator

#: Zoho CRM column (the field's API name, as the export's header row has it) → XDM path in the dataset's schema.
#: Edit to your schema; the export always includes ``id`` and ``Modified_Time``.
LEADS_TO_XDM = {
    "id": "_emulator.zohoId",
    "Modified_Time": "_emulator.modifiedTime",
    "First_Name": "person.name.firstName",
    "Last_Name": "person.name.lastName",
    "Email": "personalEmail.address",
    "Company": "_emulator.company",
}

with DAG(
    dag_id="zoho_crm_to_dlz_to_aep",
    description="Ingest a Zoho CRM module into an AEP dataset through the Data Landing Zone, one hour at a time",
    # A data interval per hour ([10:00, 11:00) for the run after 11:00); Airflow 3's plain "@hourly" gives runs a
    # zero-length interval, which names no window.
    schedule=CronDataIntervalTimetable("0 * * * *", timezone="UTC"),
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    # One window uploads at a time: a run picks files by their upload time, so two windows uploading together
    # would share a run window (the window task refuses to start such a run).
    max_active_runs=1,
    tags=["aep", "zoho", "data-landing-zone", "example"],
    params={
        "zoho_module": Param(
            "Leads", type="string", minLength=1, title="Zoho CRM module",
            description="The module's API name (Leads, Contacts, Accounts, Deals, a custom module).",
        ),
        "dataset_id": Param(
            "5f3c2bfc1a2b3c4d5e6f7a8b", type="string", minLength=1, title="Dataset ID",
            description="The AEP dataset the records land in (Catalog dataset ID).",
        ),
        "schema_id": Param(
            "https://ns.adobe.com/emulator/schemas/zoho-crm-leads", type="string", pattern="^https://ns\\.adobe\\.com/",
            title="XDM schema ID", description="The dataset's schema $id.",
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
    create_target_connection = AEPCreateTargetConnectionOperator(
        task_id="create_target_connection",
        name="Zoho CRM {{ params.zoho_module }} files to dataset {{ params.dataset_id }}",
        dataset_id="{{ params.dataset_id }}",
        schema_id="{{ params.schema_id }}",
    )

    create_mapping_set = AEPCreateMappingSetOperator(
        task_id="create_mapping_set",
        schema_id="{{ params.schema_id }}",
        mappings=LEADS_TO_XDM,
    )

    create_source_connection = AEPCreateDataLandingZoneSourceConnectionOperator(
        task_id="create_source_connection",
        name="Zoho CRM {{ params.zoho_module }} files",
        path="dlz-user-container/zoho/{{ params.zoho_module }}/",
        data_format="delimited",
        column_delimiter=",",
    )

    create_dataflow = AEPCreateDataflowOperator(
        task_id="create_dataflow",
        name="Zoho CRM {{ params.zoho_module }} to AEP through the Data Landing Zone",
        source_connection_id=create_source_connection.output,
        target_connection_id=create_target_connection.output,
        mapping_id=create_mapping_set.output,
        mapping_version="{{ ti.xcom_pull(task_ids='create_mapping_set', key='mapping_version') }}",
        flow_spec_name="CloudStorageToAEP",
        frequency="once",
    )

    ingest_window = ZohoCRMToAEPDataLandingZoneOperator(
        task_id="ingest_window",
        module="{{ params.zoho_module }}",
        flow_id=create_dataflow.output,
        window_start="{{ params.window_start or '' }}",
        window_end="{{ params.window_end or '' }}",
        deferrable=True,
        poll_interval=60,
        timeout=6 * 60 * 60,
    )


if __name__ == "__main__":
    dag.test()
