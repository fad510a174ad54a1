"""AEPCreateMappingSetOperator: templating, no network in __init__."""

from __future__ import annotations

from airflow_provider_zoho_aep.operators.mapping import AEPCreateMappingSetOperator


def test_mapping_set_operator_templates_its_arguments() -> None:
    operator = AEPCreateMappingSetOperator(task_id="m", schema_id="{{ params.schema }}", mappings={"a": "{{ x }}"})
    assert operator.mappings == {"a": "{{ x }}"}
    assert set(operator.template_fields) == {"schema_id", "mappings", "schema_version", "aep_conn_id"}
