"""Zoho CRM window → files → Data Landing Zone → CloudStorageToAEP run → the AEP dataset, record for record.

Everything runs against the emulator over loopback: its seeded Zoho CRM data set, Bulk Read, the landing zone's
blob endpoint (Microsoft's SDK uploads to it), and runs that land the mapped rows in an emulated dataset.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_zoho_aep.client.errors import AEPAPIError
from airflow_provider_zoho_aep.client.schedule import schedule_params
from airflow_provider_zoho_aep.hooks.aep import AdobeExperiencePlatformHook
from airflow_provider_zoho_aep.transfers.zoho_crm_to_aep_dlz import ZohoCRMToAEPDataLandingZoneOperator
from airflow_provider_zoho_aep.version_compat import AirflowException
from emulator import Emulator
from tests.integration.test_pipeline import DATASET_ID, SCHEMA_ID

DAY = datetime(2026, 1, 2, tzinfo=timezone.utc)
#: The Zoho Leads columns the test's mapping set lands, and where.
MAPPINGS = {"id": "_emulator.zohoId", "Last_Name": "person.name.lastName", "Email": "personalEmail.address"}
MAPPED = tuple(MAPPINGS)


class TI:
    """The task instance parts the operator uses: identity for its folder, XCom push and pull."""

    def __init__(self, run_id: str) -> None:
        self.dag_id, self.run_id, self.task_id, self.map_index = "zoho_crm_to_dlz_to_aep", run_id, "ingest", -1
        self.xcom: dict[str, Any] = {}

    def xcom_push(self, key: str, value: Any) -> None:
        json.dumps(value)
        self.xcom[key] = value

    def xcom_pull(self, task_ids: str, key: str, **_: Any) -> Any:
        return self.xcom.get(key)


def run_window(start: datetime, hours: int = 1, try_: str = "1", **kwargs: Any) -> tuple[dict[str, Any], TI]:
    end = start + timedelta(hours=hours)
    ti = TI(f"scheduled__{start.isoformat()}__{try_}")
    op = ZohoCRMToAEPDataLandingZoneOperator(
        task_id="ingest", module="Leads", flow_id=kwargs.pop("flow_id"), poll_interval=0.05, timeout=60, **kwargs)
    result = op.execute({"ti": ti, "data_interval_start": start, "data_interval_end": end})
    return result, ti


def expected(emulator: Emulator, start: datetime, end: datetime) -> list[tuple[str, ...]]:
    """The seeded Leads modified in ``[start, end)``, as the mapped columns."""
    return sorted(tuple(r[c] for c in MAPPED) for r in emulator.crm.data.modified_in("Leads", start, end))


def landed(emulator: Emulator, dataset_id: str) -> list[tuple[str, ...]]:
    return sorted((row["_emulator"]["zohoId"], row["person"]["name"]["lastName"], row["personalEmail"]["address"])
                  for row in emulator.dataset_rows(dataset_id))


@pytest.fixture
def pipeline(emulator: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    monkeypatch.setenv("ZOHO_AEP_EXPORT_DIR", str(tmp_path))
    hook = AdobeExperiencePlatformHook()
    target = hook.create_target_connection("dlz target", DATASET_ID, SCHEMA_ID)["id"]
    mapping = hook.create_mapping_set(SCHEMA_ID, MAPPINGS)["id"]
    source = hook.create_data_landing_zone_source_connection("Zoho CRM Leads files", "dlz-user-container/zoho/Leads/")
    flow = hook.create_dataflow("Zoho CRM Leads via the landing zone", source["id"], target,
                                schedule_params=schedule_params("once", None, None, None), mapping_id=mapping,
                                flow_spec_name="CloudStorageToAEP")["id"]
    return {"flow": flow}


def test_24_hourly_windows_land_every_modification_exactly_once(emulator: Emulator, pipeline: dict[str, str]) -> None:
    totals = 0
    for hour in range(24):
        start = DAY + timedelta(hours=hour)
        before = len(emulator.dataset_rows(DATASET_ID))
        result, ti = run_window(start, flow_id=pipeline["flow"])
        want = expected(emulator, start, start + timedelta(hours=1))
        assert result["records_exported"] == len(want)
        assert ti.xcom["run_id"] == result["run_id"]
        assert result["output_record_count"] == len(want)
        assert len(emulator.dataset_rows(DATASET_ID)) - before == len(want)
        totals += len(want)
    assert totals > 200
    # Record for record: the dataset holds exactly the day's modifications, each once, content included.
    assert landed(emulator, DATASET_ID) == expected(emulator, DAY, DAY + timedelta(days=1))


def test_rerunning_a_succeeded_window_lands_nothing_more(emulator: Emulator, pipeline: dict[str, str]) -> None:
    first, _ = run_window(DAY, flow_id=pipeline["flow"])
    rows = landed(emulator, DATASET_ID)
    exports = sum(1 for r in emulator.requests if r.method == "POST" and r.path.endswith("/crm/bulk/v8/read"))
    again, _ = run_window(DAY, try_="2", flow_id=pipeline["flow"])
    assert again["run_id"] == first["run_id"]
    assert again["records_exported"] is None
    assert landed(emulator, DATASET_ID) == rows == expected(emulator, DAY, DAY + timedelta(hours=1))
    # Nothing was exported again either: no Bulk Read job, no Zoho credits spent.
    assert sum(1 for r in emulator.requests if r.method == "POST" and r.path.endswith("/crm/bulk/v8/read")) == exports


def test_a_failed_window_is_retried_and_lands_once(emulator: Emulator, pipeline: dict[str, str]) -> None:
    emulator.inject_mapping_errors(1)
    with pytest.raises(AirflowException, match="MAPPER"):
        run_window(DAY, flow_id=pipeline["flow"])
    assert landed(emulator, DATASET_ID) == []
    result, _ = run_window(DAY, try_="2", flow_id=pipeline["flow"])
    assert result["status"] and result["output_record_count"] == len(expected(emulator, DAY, DAY + timedelta(hours=1)))
    assert landed(emulator, DATASET_ID) == expected(emulator, DAY, DAY + timedelta(hours=1))


def test_a_record_modified_after_its_window_landed_lands_again_in_its_new_window(
    emulator: Emulator, pipeline: dict[str, str]
) -> None:
    run_window(DAY, flow_id=pipeline["flow"])
    record = next(iter(emulator.crm.data.modified_in("Leads", DAY, DAY + timedelta(hours=1))))
    later = DAY + timedelta(hours=2, minutes=7)
    emulator.modify_record("Leads", record["id"], {"Last_Name": "Renamed"}, modified_time=later)
    run_window(DAY + timedelta(hours=1), flow_id=pipeline["flow"])
    run_window(DAY + timedelta(hours=2), flow_id=pipeline["flow"])
    rows = [r for r in landed(emulator, DATASET_ID) if r[0] == record["id"]]
    # Once as it was in its first window, once as modified: each modification exactly once, never lost.
    assert sorted(r[1] for r in rows) == sorted([record["Last_Name"], "Renamed"])


def test_an_empty_window_uploads_nothing_and_starts_no_run(emulator: Emulator, pipeline: dict[str, str]) -> None:
    empty = datetime(2025, 6, 1, tzinfo=timezone.utc)  # before the data set's first record
    result, ti = run_window(empty, flow_id=pipeline["flow"])
    assert result["run_id"] is None and result["files"] == [] and result["records_exported"] == 0
    assert "run_id" not in ti.xcom
    assert not [r for r in emulator.requests if r.method == "POST" and r.path.endswith("/runs")]
    assert not [r for r in emulator.requests if r.method == "PUT"]


def test_credits_exhausted_is_a_clear_error_and_nothing_is_uploaded(
    emulator: Emulator, pipeline: dict[str, str]
) -> None:
    emulator.configure_crm(credit_limit=0)
    with pytest.raises(AEPAPIError, match=r"(?i)credit"):
        run_window(DAY, flow_id=pipeline["flow"])
    assert not [r for r in emulator.requests if r.method == "PUT"]
    assert not [r for r in emulator.requests if r.method == "POST" and r.path.endswith("/runs")]


def test_files_of_another_upload_in_the_run_window_stop_the_run(
    emulator: Emulator, pipeline: dict[str, str], tmp_path: Path
) -> None:
    hook = AdobeExperiencePlatformHook()
    foreign = tmp_path / "foreign.csv"
    foreign.write_text("id,Last_Name,Email\n1,x,y\n", encoding="utf-8")
    real_upload = AdobeExperiencePlatformHook.upload_export_to_landing_zone

    def upload_beside_another(self: AdobeExperiencePlatformHook, manifest: dict[str, Any], flow_id: str) -> Any:
        uploaded = real_upload(self, manifest, flow_id)
        hook.landing_zone_uploader().upload(foreign, "zoho/Leads/other-flow/foreign.csv")
        return uploaded

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(AdobeExperiencePlatformHook, "upload_export_to_landing_zone", upload_beside_another)
        with pytest.raises(AirflowException, match="another upload"):
            run_window(DAY, flow_id=pipeline["flow"])
    assert not [r for r in emulator.requests if r.method == "POST" and r.path.endswith("/runs")]
