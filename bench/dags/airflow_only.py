"""The baseline for the DAG-parse benchmark: the shape of ``dags/zoho_crm_to_aep.py`` from Airflow's own operators.

Same DAG arguments, timetable and Params, six tasks, the same dependencies (four of them through ``.output``
XComArgs and templated arguments, two explicit), but only ``PythonOperator`` from the standard provider, which ships
with Airflow.
"""

from __future__ import annotations

import pendulum
from airflow.providers.standard.operators.python import PythonOperator
from airflow.sdk import DAG, Param
from airflow.timetables.interval import CronDataIntervalTimetable


def _noop(**_: object) -> None:
    return None


with DAG(
    dag_id="airflow_only_baseline",
    description="Ingest a Zoho CRM module into an AEP dataset through a Flow Service dataflow",
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
        "description": Param("Base Connection for Zoho CRM", type=["null", "string"], title="Description"),
        "zoho_module": Param("Leads", type="string", minLength=1, title="Zoho CRM module"),
        "dataset_id": Param("5f3c2bfc1a2b3c4d5e6f7a8b", type="string", minLength=1, title="Dataset ID"),
        "schema_id": Param(
            "https://ns.adobe.com/emulator/schemas/zoho-crm-leads", type="string", pattern="^https://ns\\.adobe\\.com/",
            title="XDM schema ID",
        ),
        "mapping_id": Param(None, type=["null", "string"], title="Mapping set ID"),
        "delta_column": Param("Modified_Time", type="string", minLength=1, title="Delta column"),
        "window_start": Param(None, type=["null", "string"], format="date-time", title="Window start"),
        "window_end": Param(None, type=["null", "string"], format="date-time", title="Window end"),
    },
) as dag:
    create_base_connection = PythonOperator(
        task_id="create_base_connection", python_callable=_noop,
        op_kwargs={"name": "{{ params.base_connection_name }}", "description": "{{ params.description or '' }}"},
    )
    list_tables = PythonOperator(
        task_id="list_tables", python_callable=_noop,
        op_kwargs={"base_connection_id": create_base_connection.output, "required_table": "{{ params.zoho_module }}"},
    )
    create_source_connection = PythonOperator(
        task_id="create_source_connection", python_callable=_noop,
        op_kwargs={
            "name": "{{ params.base_connection_name }}: {{ params.zoho_module }}",
            "base_connection_id": create_base_connection.output,
            "table_name": "{{ params.zoho_module }}",
        },
    )
    create_target_connection = PythonOperator(
        task_id="create_target_connection", python_callable=_noop,
        op_kwargs={"dataset_id": "{{ params.dataset_id }}", "schema_id": "{{ params.schema_id }}"},
    )
    create_dataflow = PythonOperator(
        task_id="create_dataflow", python_callable=_noop,
        op_kwargs={
            "source_connection_id": create_source_connection.output,
            "target_connection_id": create_target_connection.output,
            "delta_column": "{{ params.delta_column }}",
            "mapping_id": "{{ params.mapping_id or '' }}",
        },
    )
    ingest_window = PythonOperator(
        task_id="ingest_window", python_callable=_noop,
        op_kwargs={"flow_id": create_dataflow.output, "window_start": "{{ params.window_start or '' }}",
                   "window_end": "{{ params.window_end or '' }}"},
    )

    list_tables >> create_source_connection
    create_dataflow >> ingest_window
