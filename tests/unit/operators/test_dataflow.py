"""AEPCreateDataflowOperator against a mocked hook: its own checks (schedule, mapping version) come first."""

from __future__ import annotations

import time
from datetime import datetime, timezone
from typing import Any
from unittest import mock

import pytest

from airflow_provider_zoho_aep.client.errors import AEPAPIError, ConfigurationError
from airflow_provider_zoho_aep.hooks.aep import AdobeExperiencePlatformHook
from airflow_provider_zoho_aep.operators.dataflow import AEPCreateDataflowOperator
from tests.unit.conftest import CREATE_OUTCOMES, messages, patched_hook

AEP_HOOK = "airflow_provider_zoho_aep.operators.create_resource.AdobeExperiencePlatformHook"
JAN_1_2027 = 1798761600  # 2027-01-01T00:00:00Z


@pytest.fixture
def hook_cls() -> Any:
    with patched_hook(AEP_HOOK, AdobeExperiencePlatformHook) as hook_cls:
        hook_cls.return_value.create_dataflow.return_value = {
            "id": "flow-1", "etag": '"e1"', "created": True, "updated": False}
        yield hook_cls


def dataflow(**overrides: Any) -> AEPCreateDataflowOperator:
    kwargs: dict[str, Any] = {"task_id": "dataflow", "name": "leads-flow", "source_connection_id": "sc-1",
                              "target_connection_id": "tc-1", "delta_column": "Modified_Time",
                              "start_time": JAN_1_2027}
    return AEPCreateDataflowOperator(**{**kwargs, **overrides})


def test_renders_its_fields_and_passes_them_to_the_hook(hook_cls: Any, context: Any) -> None:
    names = AEPCreateDataflowOperator.template_fields
    op = dataflow(**{field: f"{{{{ params.{field} }}}}" for field in names})
    op.render_template_fields({"params": {
        "name": "leads-flow-r", "description": "hourly Leads", "source_connection_id": "sc-r",
        "target_connection_id": "tc-r", "delta_column": "Created_Time", "mapping_id": "map-r",
        "mapping_version": "3", "flow_spec_name": "CRMToAEP2", "start_time": "2027-01-01T00:00:00+00:00",
        "frequency": "day", "interval": "2", "backfill": "false", "if_exists": "update", "aep_conn_id": "aep_r",
    }})

    assert op.execute(context) == "flow-1"

    hook_cls.assert_called_once_with(aep_conn_id="aep_r")
    hook_cls.return_value.create_dataflow.assert_called_once_with(
        "leads-flow-r", "sc-r", "tc-r", "Created_Time",
        schedule_params={"startTime": JAN_1_2027, "frequency": "day", "interval": 2, "backfill": False},
        mapping_id="map-r", mapping_version=3, flow_spec_name="CRMToAEP2", description="hourly Leads",
        if_exists="update",
    )


def test_defaults_reach_the_hook(hook_cls: Any, context: Any) -> None:
    before = int(time.time())
    dataflow(start_time=None).execute(context)
    after = int(time.time())

    hook_cls.assert_called_once_with(aep_conn_id="aep_default")
    call = hook_cls.return_value.create_dataflow.call_args
    assert call.args == ("leads-flow", "sc-1", "tc-1", "Modified_Time")
    schedule = call.kwargs.pop("schedule_params")
    assert schedule.keys() == {"startTime", "frequency", "interval"}
    assert (schedule["frequency"], schedule["interval"]) == ("hour", 1)
    assert before <= schedule["startTime"] <= after  # None means now
    assert call.kwargs == {"mapping_id": None, "mapping_version": 0, "flow_spec_name": "CRMToAEP",
                           "description": None, "if_exists": "reuse"}


def test_a_datetime_start_and_a_once_schedule(hook_cls: Any, context: Any) -> None:
    dataflow(start_time=datetime(2027, 1, 1, tzinfo=timezone.utc), frequency="once").execute(context)
    schedule = hook_cls.return_value.create_dataflow.call_args.kwargs["schedule_params"]
    assert schedule == {"startTime": JAN_1_2027, "frequency": "once"}


@pytest.mark.parametrize(("mapping_id", "sent"), [
    (None, None), ("", None), ("None", None), ("  ", None), (" map-1 ", "map-1"),
])
def test_a_rendered_empty_mapping_id_means_no_mapping(
    hook_cls: Any, context: Any, mapping_id: str | None, sent: str | None
) -> None:
    dataflow(mapping_id=mapping_id).execute(context)
    assert hook_cls.return_value.create_dataflow.call_args.kwargs["mapping_id"] == sent


@pytest.mark.parametrize(("version", "sent"), [(0, 0), (7, 7), ("12", 12), (" 4 ", 4)])
def test_the_mapping_version_is_sent_as_an_int(hook_cls: Any, context: Any, version: Any, sent: int) -> None:
    dataflow(mapping_id="m", mapping_version=version).execute(context)
    sent_version = hook_cls.return_value.create_dataflow.call_args.kwargs["mapping_version"]
    assert sent_version == sent
    assert type(sent_version) is int


@pytest.mark.parametrize(("overrides", "field"), [
    ({"mapping_version": "abc"}, "mapping_version"),
    ({"mapping_version": "-1"}, "mapping_version"),
    ({"mapping_version": -1}, "mapping_version"),
    ({"mapping_version": True}, "mapping_version"),
    ({"mapping_version": 1.5}, "mapping_version"),
    ({"frequency": "fortnight"}, "frequency"),
    ({"frequency": "minute", "interval": 10}, "interval"),
    ({"interval": "often"}, "interval"),
    ({"frequency": "once", "interval": 2}, "interval"),
    ({"frequency": "once", "backfill": True}, "backfill"),
    ({"backfill": "maybe"}, "backfill"),
    ({"start_time": "next tuesday"}, "start_time"),
])
def test_the_operators_own_arguments_fail_before_any_hook_is_built(
    hook_cls: Any, context: Any, ti: Any, overrides: dict[str, Any], field: str
) -> None:
    with pytest.raises(ConfigurationError) as raised:
        dataflow(**overrides).execute(context)
    assert raised.value.field == field
    hook_cls.assert_not_called()
    ti.xcom_push.assert_not_called()


def test_a_rendered_bad_mapping_version_fails_clearly(hook_cls: Any, context: Any) -> None:
    op = dataflow(mapping_version="{{ params.version }}")
    op.render_template_fields({"params": {"version": "v2"}})
    with pytest.raises(ConfigurationError, match=r"mapping_version: 'v2' is not a version number"):
        op.execute(context)
    hook_cls.assert_not_called()


@pytest.mark.parametrize(("result", "verb"), CREATE_OUTCOMES)
def test_if_exists_outcome_is_returned_pushed_and_logged(
    hook_cls: Any, context: Any, ti: Any, logs: Any, result: dict[str, Any], verb: str
) -> None:
    hook_cls.return_value.create_dataflow.return_value = result
    assert dataflow().execute(context) == result["id"]
    assert ti.xcom_push.call_args_list == [
        mock.call(key="etag", value=result["etag"]),
        mock.call(key="created", value=result["created"]),
    ]
    assert f"{verb} dataflow 'leads-flow': {result['id']}" in messages(logs)


@pytest.mark.parametrize("error", [
    AEPAPIError("flow spec 'CRMToAEP' is not available in this organization", service="Flow Service"),
    ConfigurationError("source_connection_id", "uses connection spec x, which flow spec 'CRMToAEP' does not "
                       "accept", "pick the flow spec made for this source"),
], ids=["api", "configuration"])
def test_a_hook_error_propagates_and_nothing_is_pushed(hook_cls: Any, context: Any, ti: Any, error: Exception) -> None:
    hook_cls.return_value.create_dataflow.side_effect = error
    with pytest.raises(type(error)) as raised:
        dataflow().execute(context)
    assert raised.value is error
    ti.xcom_push.assert_not_called()


# -- the two flow specs: CRMToAEP and CloudStorageToAEP --------------------------------------------------


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
