"""The Data Landing Zone operators and the generalized dataflow operator: templating and own arguments, no network.

(One file for the three, beside each other: each operator is a few lines over its hook method.)
"""

from __future__ import annotations

import pytest

from airflow_provider_zoho_aep.client.errors import ConfigurationError
from airflow_provider_zoho_aep.operators.data_landing_zone import AEPCreateDataLandingZoneSourceConnectionOperator
from airflow_provider_zoho_aep.operators.dataflow import AEPCreateDataflowOperator
from airflow_provider_zoho_aep.operators.mapping import AEPCreateMappingSetOperator


def test_dlz_source_connection_operator_keeps_arguments_verbatim_for_templating() -> None:
    operator = AEPCreateDataLandingZoneSourceConnectionOperator(
        task_id="s", name="{{ params.name }}", path="dlz-user-container/zoho/{{ params.module }}/",
        compression_type="{{ params.compression }}")
    assert operator.path == "dlz-user-container/zoho/{{ params.module }}/"
    assert {"name", "path", "data_format", "column_delimiter", "compression_type", "if_exists",
            "aep_conn_id"} <= set(operator.template_fields)


def test_mapping_set_operator_templates_its_arguments() -> None:
    operator = AEPCreateMappingSetOperator(task_id="m", schema_id="{{ params.schema }}", mappings={"a": "{{ x }}"})
    assert operator.mappings == {"a": "{{ x }}"}
    assert set(operator.template_fields) == {"schema_id", "mappings", "schema_version", "aep_conn_id"}


@pytest.mark.parametrize(
    ("flow_spec_name", "frequency", "expected"),
    [("CloudStorageToAEP", None, "once"), ("CRMToAEP", None, "hour"), ("CRMToAEP", "day", "day"),
     ("CloudStorageToAEP", "None", "once")],
)
def test_dataflow_frequency_defaults_to_the_flow_specs_own(flow_spec_name: str, frequency: str | None,
                                                           expected: str) -> None:
    operator = AEPCreateDataflowOperator(task_id="f", name="n", source_connection_id="s", target_connection_id="t",
                                         flow_spec_name=flow_spec_name, frequency=frequency, start_time=1735689600)
    assert operator.resolved_frequency() == expected
    assert operator.schedule_params()["frequency"] == expected


def test_dataflow_delta_column_is_optional_now() -> None:
    operator = AEPCreateDataflowOperator(task_id="f", name="n", source_connection_id="s", target_connection_id="t")
    assert operator.delta_column is None
    with pytest.raises(ConfigurationError, match="interval"):
        AEPCreateDataflowOperator(task_id="f", name="n", source_connection_id="s", target_connection_id="t",
                                  flow_spec_name="CloudStorageToAEP", interval=2).validate()
