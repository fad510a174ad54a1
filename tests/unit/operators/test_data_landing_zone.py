"""AEPCreateDataLandingZoneSourceConnectionOperator: templating, no network in __init__."""

from __future__ import annotations

from airflow_provider_zoho_aep.operators.data_landing_zone import AEPCreateDataLandingZoneSourceConnectionOperator


def test_dlz_source_connection_operator_keeps_arguments_verbatim_for_templating() -> None:
    operator = AEPCreateDataLandingZoneSourceConnectionOperator(
        task_id="s", name="{{ params.name }}", path="dlz-user-container/zoho/{{ params.module }}/",
        compression_type="{{ params.compression }}")
    assert operator.path == "dlz-user-container/zoho/{{ params.module }}/"
    assert {"name", "path", "data_format", "column_delimiter", "compression_type", "if_exists",
            "aep_conn_id"} <= set(operator.template_fields)
