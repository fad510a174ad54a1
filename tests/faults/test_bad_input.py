"""Bad input, in every operator and both connection types, fails before any request with the field named.

Each case runs the operator's ``execute`` against the emulator and checks that the emulator saw no request
at all: nothing is created half-way.
"""

from __future__ import annotations

import importlib
import pkgutil
from typing import Any

import pytest

from airflow_provider_zoho_aep.client.errors import ConfigurationError
from airflow_provider_zoho_aep.operators.base_connection import (
    AEPCreateBaseConnectionOperator,
    AEPCreateZohoCRMBaseConnectionOperator,
)
from airflow_provider_zoho_aep.operators.data_landing_zone import AEPCreateDataLandingZoneSourceConnectionOperator
from airflow_provider_zoho_aep.operators.dataflow import AEPCreateDataflowOperator
from airflow_provider_zoho_aep.operators.dataflow_run import AEPRunDataflowOperator
from airflow_provider_zoho_aep.operators.delete_dataflow import AEPDeleteDataflowOperator
from airflow_provider_zoho_aep.operators.list_tables import AEPListTablesOperator
from airflow_provider_zoho_aep.operators.mapping import AEPCreateMappingSetOperator
from airflow_provider_zoho_aep.operators.source_connection import AEPCreateSourceConnectionOperator
from airflow_provider_zoho_aep.operators.target_connection import AEPCreateTargetConnectionOperator
from airflow_provider_zoho_aep.operators.zoho_export import ZohoCRMExportOperator
from airflow_provider_zoho_aep.sensors.dataflow_run import AEPDataflowRunSensor
from airflow_provider_zoho_aep.transfers.zoho_crm_to_aep_dlz import ZohoCRMToAEPDataLandingZoneOperator
from airflow_provider_zoho_aep.version_compat import AIRFLOW_V_3_2_PLUS, AirflowNotFoundException
from tests.conftest import aep_connection, set_connection, zoho_connection
from tests.integration.test_pipeline import context

SCHEMA = "https://ns.adobe.com/tenant/schemas/abc"
#: A window in the past, for the operators that take one.
WINDOW = {"window_start": "2026-01-01T00:00:00+00:00", "window_end": "2026-01-01T01:00:00+00:00"}
FLOW = {"name": "f", "source_connection_id": "s", "target_connection_id": "t", "delta_column": "Modified_Time"}


def zoho_base(**kw: Any) -> AEPCreateZohoCRMBaseConnectionOperator:
    return AEPCreateZohoCRMBaseConnectionOperator(task_id="t", **{"name": "n", **kw})


def any_base(**kw: Any) -> AEPCreateBaseConnectionOperator:
    return AEPCreateBaseConnectionOperator(
        task_id="t", **{"name": "n", "connection_spec_id": "spec", "auth_params": {"a": "b"}, **kw})


def source(**kw: Any) -> AEPCreateSourceConnectionOperator:
    return AEPCreateSourceConnectionOperator(
        task_id="t", **{"name": "n", "base_connection_id": "b", "table_name": "Leads", **kw})


def target(**kw: Any) -> AEPCreateTargetConnectionOperator:
    return AEPCreateTargetConnectionOperator(task_id="t", **{"name": "n", "dataset_id": "d", "schema_id": SCHEMA,
                                                            **kw})


def flow(**kw: Any) -> AEPCreateDataflowOperator:
    return AEPCreateDataflowOperator(task_id="t", **{**FLOW, **kw})


OPERATOR_CASES = [
    ("zoho base: empty name", lambda: zoho_base(name=""), "name"),
    ("zoho base: name too long", lambda: zoho_base(name="x" * 256), "name"),
    ("zoho base: unknown if_exists", lambda: zoho_base(if_exists="overwrite"), "if_exists"),
    ("zoho base: description not text", lambda: zoho_base(description=["a"]), "description"),
    ("any base: empty spec", lambda: any_base(connection_spec_id=" "), "connection_spec_id"),
    ("any base: no auth params", lambda: any_base(auth_params=None), "auth_params"),
    ("any base: auth params not a dict", lambda: any_base(auth_params="user:pass"), "auth_params"),
    ("explore: empty base connection id", lambda: AEPListTablesOperator(task_id="t", base_connection_id=""),
     "base_connection_id"),
    ("source: empty name", lambda: source(name=" "), "name"),
    ("source: no base connection id", lambda: source(base_connection_id=""), "base_connection_id"),
    ("source: no table", lambda: source(table_name=""), "table_name"),
    ("source: unknown if_exists", lambda: source(if_exists="maybe"), "if_exists"),
    ("target: no dataset", lambda: target(dataset_id=""), "dataset_id"),
    ("target: schema not an XDM $id", lambda: target(schema_id="my-schema"), "schema_id"),
    ("flow: no delta column", lambda: flow(delta_column=""), "delta_column"),
    ("flow: unknown frequency", lambda: flow(frequency="fortnight"), "frequency"),
    ("flow: minute interval under 15", lambda: flow(frequency="minute", interval=5), "interval"),
    ("flow: interval with once", lambda: flow(frequency="once", interval=1), "interval"),
    ("flow: backfill with once", lambda: flow(frequency="once", backfill=True), "backfill"),
    ("flow: interval zero", lambda: flow(interval=0), "interval"),
    ("flow: start time in milliseconds", lambda: flow(start_time=1_700_000_000_000), "start_time"),
    ("flow: start time not a date", lambda: flow(start_time="tomorrow-ish"), "start_time"),
    ("flow: no source connection", lambda: flow(source_connection_id=""), "source_connection_id"),
    ("dlz source: empty name",
     lambda: AEPCreateDataLandingZoneSourceConnectionOperator(task_id="t", name=" ", path="zoho/leads"), "name"),
    ("mapping set: schema not an XDM $id",
     lambda: AEPCreateMappingSetOperator(task_id="t", schema_id="my-schema", mappings={"id": "_t.id"}), "schema_id"),
    ("teardown: empty flow id", lambda: AEPDeleteDataflowOperator(task_id="t", flow_id=""), "flow_id"),
    ("sensor: empty flow id", lambda: AEPDataflowRunSensor(task_id="t", flow_id="", poke_interval=1, timeout=5),
     "flow_id"),
    ("run: empty flow id", lambda: AEPRunDataflowOperator(task_id="t", flow_id="", **WINDOW), "flow_id"),
    ("run: naive window start",
     lambda: AEPRunDataflowOperator(task_id="t", flow_id="f", window_start="2026-01-01T00:00:00",
                                    window_end="2026-01-01T01:00:00+00:00"), "window_start"),
    ("run: window in the future",
     lambda: AEPRunDataflowOperator(task_id="t", flow_id="f", window_start="2026-01-01T00:00:00+00:00",
                                    window_end="2999-01-01T00:00:00+00:00"), "window_end"),
    ("export: only one window bound",
     lambda: ZohoCRMExportOperator(task_id="t", module="Leads", window_start="2026-01-01T00:00:00+00:00"),
     "window_end"),
    ("dlz transfer: empty flow id",
     lambda: ZohoCRMToAEPDataLandingZoneOperator(task_id="t", module="Leads", flow_id="", **WINDOW), "flow_id"),
    ("dlz transfer: empty module",
     lambda: ZohoCRMToAEPDataLandingZoneOperator(task_id="t", module="", flow_id="f", **WINDOW), "module"),
]


@pytest.mark.parametrize(("case", "build", "field"), OPERATOR_CASES, ids=[c[0] for c in OPERATOR_CASES])
def test_bad_operator_argument_fails_before_any_request(emulator, case, build, field):
    op = build()
    with pytest.raises(ConfigurationError) as info:
        op.poke(context()) if isinstance(op, AEPDataflowRunSensor) else op.execute(context())
    assert info.value.field == field, str(info.value)
    assert "Fix:" in str(info.value)
    assert emulator.requests == []


CONNECTION_CASES = [
    ("aep: no client secret", "aep_default", {"password": None}, "password (Client Secret)"),
    ("aep: org id without @AdobeOrg", "aep_default", {"extra": {"ims_org_id": "1234"}}, "extra.ims_org_id"),
    ("aep: plain http gateway", "aep_default", {"host": "http://platform.adobe.io"}, "host (Platform gateway URL)"),
    ("aep: malformed extra", "aep_default", {"extra": "{not json"}, "extra"),
    ("zoho: no refresh token", "zoho_crm_default", {"extra": {"region": "us"}}, "extra.refresh_token"),
    ("zoho: unknown region", "zoho_crm_default", {"host": None, "extra": {"region": "mars", "refresh_token": "r"}},
     "extra.region"),
    ("zoho: data centres differ", "zoho_crm_default",
     {"host": "https://www.zohoapis.com", "extra": {"accounts_url": "https://accounts.zoho.eu",
                                                     "refresh_token": "r"}}, "extra.accounts_url"),
    ("zoho: plain http accounts", "zoho_crm_default",
     {"host": "https://www.zohoapis.com", "extra": {"accounts_url": "http://accounts.zoho.com",
                                                     "refresh_token": "r"}}, "extra.accounts_url"),
]


@pytest.mark.parametrize(("case", "conn_id", "change", "field"), CONNECTION_CASES, ids=[c[0] for c in CONNECTION_CASES])
def test_bad_connection_field_fails_the_operator_before_any_request(emulator, monkeypatch, case, conn_id, change,
                                                                     field):
    base = aep_connection(emulator.url) if conn_id == "aep_default" else zoho_connection(emulator.url)
    set_connection(monkeypatch, conn_id, {**base, **change})
    if case == "aep: malformed extra" and not AIRFLOW_V_3_2_PLUS:
        # Airflow 3.0/3.1 cannot build a Connection whose extra is not JSON, so the hook never sees it: Airflow
        # itself reports the Connection as missing (still before any request).
        with pytest.raises(AirflowNotFoundException, match=conn_id):
            zoho_base().execute(context())
        assert emulator.requests == []
        return
    with pytest.raises(ConfigurationError) as info:
        zoho_base().execute(context())
    assert info.value.field == field and conn_id in str(info.value)
    assert emulator.requests == []


def test_every_operator_and_both_connection_types_have_bad_input_cases():
    """A new operator, sensor or Connection type of the package must come with its own bad-input cases here."""
    import inspect

    import airflow_provider_zoho_aep.operators as operators
    import airflow_provider_zoho_aep.sensors as sensors
    import airflow_provider_zoho_aep.transfers as transfers
    from airflow_provider_zoho_aep.version_compat import BaseOperator

    classes: set[type] = set()
    for package in (operators, sensors, transfers):
        for info in pkgutil.iter_modules(package.__path__):
            module = importlib.import_module(f"{package.__name__}.{info.name}")
            classes |= {c for _, c in inspect.getmembers(module, inspect.isclass)
                        if issubclass(c, BaseOperator) and c.__module__ == module.__name__}
    from airflow_provider_zoho_aep.operators.create_resource import AEPCreateResourceOperator

    classes.discard(AEPCreateResourceOperator)  # the shared skeleton of the create operators, not used directly
    covered = {type(build()) for _, build, _ in OPERATOR_CASES}
    assert len(classes) >= 8 and sorted(c.__name__ for c in classes - covered) == []
    assert {conn_id for _, conn_id, _, _ in CONNECTION_CASES} == {"aep_default", "zoho_crm_default"}
