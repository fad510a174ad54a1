"""The Data Landing Zone building blocks against the emulator: landing-zone credentials, uploads with Microsoft's
SDK to the emulator's blob endpoint (faults included), mapping sets, DLZ source connections, CloudStorageToAEP
dataflows, and runs that land the uploaded rows in the emulated dataset, record for record."""

from __future__ import annotations

import base64
import csv
import hashlib
import json
import logging
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote

import pytest

import airflow_provider_zoho_aep.hooks.aep as landing_zone_hook_module
from airflow_provider_zoho_aep import DATA_LANDING_ZONE_CONNECTION_SPEC_ID
from airflow_provider_zoho_aep.client.errors import AEPAPIError, ConfigurationError
from airflow_provider_zoho_aep.client.landing_zone import LandingZoneError, UploadedFile
from airflow_provider_zoho_aep.client.schedule import schedule_params
from airflow_provider_zoho_aep.client.windows import covering
from airflow_provider_zoho_aep.hooks.aep import AdobeExperiencePlatformHook
from airflow_provider_zoho_aep.operators.data_landing_zone import AEPCreateDataLandingZoneSourceConnectionOperator
from airflow_provider_zoho_aep.operators.dataflow import AEPCreateDataflowOperator
from airflow_provider_zoho_aep.operators.mapping import AEPCreateMappingSetOperator
from emulator import Emulator, Fault
from tests.integration.test_pipeline import DATASET_ID, SCHEMA_ID, context

WINDOW_START = datetime(2025, 1, 1, tzinfo=timezone.utc)
WINDOW_END = WINDOW_START + timedelta(hours=1)
MAPPINGS = {"id": "_emulator.zohoId", "Last_Name": "person.name.lastName", "Email": "personalEmail.address",
            "Description": "_emulator.description"}
#: Records that a careless CSV writer or reader would break: commas, quotes, newlines, non-ASCII.
RECORDS = [
    {"id": "4876876000000001", "Last_Name": "O'Brien, Jr.", "Email": "ob@example.com", "Description": 'said "hi"'},
    {"id": "4876876000000002", "Last_Name": "Zoë Ñúñez", "Email": "zn@example.com", "Description": "line 1\nline 2"},
    {"id": "4876876000000003", "Last_Name": "李", "Email": "li@example.com", "Description": ""},
]



def covering_of(uploaded: list[UploadedFile]) -> tuple[datetime, datetime]:
    """The run window of these uploads, as the transfer starts it."""
    run = covering(u.last_modified for u in uploaded)
    return run.start, run.end


def write_csv(path: Path, records: list[dict[str, str]]) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(records[0]))
        writer.writeheader()
        writer.writerows(records)
    return path


def landed(record: dict[str, str]) -> dict[str, Any]:
    """What the mapping makes of a CSV record."""
    return {"_emulator": {"zohoId": record["id"], "description": record["Description"]},
            "person": {"name": {"lastName": record["Last_Name"]}}, "personalEmail": {"address": record["Email"]}}


def file_pipeline(hook: AdobeExperiencePlatformHook, module: str = "Leads") -> dict[str, str]:
    target = hook.create_target_connection("dlz target", DATASET_ID, SCHEMA_ID)["id"]
    mapping = hook.create_mapping_set(SCHEMA_ID, MAPPINGS)["id"]
    source = hook.create_data_landing_zone_source_connection("dlz source", f"dlz-user-container/zoho/{module}/")["id"]
    flow = hook.create_dataflow("dlz flow", source, target, schedule_params=schedule_params("once", None, None, None),
                                mapping_id=mapping, flow_spec_name="CloudStorageToAEP")["id"]
    return {"target": target, "mapping": mapping, "source": source, "flow": flow}


def start_run(hook: AdobeExperiencePlatformHook, flow_id: str, start: datetime, end: datetime,
              unit: int = 1) -> str:
    """``POST /runs`` as the on-demand runs use it; ``unit`` 1000 sends milliseconds."""
    params = {"startTime": int(time.time()), "windowStartTime": int(start.timestamp()) * unit,
              "windowEndTime": int(end.timestamp()) * unit}
    body = {"flowId": flow_id, "params": params}
    answer = hook.client.request("POST", "/runs", json=body, idempotent=False).json()
    return str((answer.get("items") or [answer])[0]["id"])


def finished(hook: AdobeExperiencePlatformHook, run_id: str) -> dict[str, Any]:
    for _ in range(100):
        run = hook.client.get("runs", run_id)
        if run["metrics"]["statusSummary"]["status"] not in ("queued", "inProgress"):
            return run
        time.sleep(0.05)
    raise AssertionError("the run did not finish")


def block_puts(emulator: Emulator) -> int:
    return sum(1 for r in emulator.requests if r.method == "PUT" and r.query.get("comp") == ["block"])


# -- landing-zone access ---------------------------------------------------------------------------------------


def test_landing_zone_and_credentials_are_read_and_the_token_is_masked(
    emulator: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    masked: list[str] = []
    monkeypatch.setattr("airflow_provider_zoho_aep.hooks.aep.mask", masked.append)
    hook = AdobeExperiencePlatformHook()
    zone = hook.get_landing_zone()
    assert (zone.container_name, zone.ttl_days, zone.provider) == ("dlz-user-container", 7, "Azure")
    credentials = hook.get_landing_zone_credentials()
    assert credentials.sas_uri.startswith(f"{emulator.url}/blob/dlz-user-container?sv=")
    assert credentials.sas_token in masked and credentials.sas_token in hook.client.transport.secrets
    assert credentials.sas_token not in repr(credentials) and credentials.sas_token not in str(credentials)
    assert "sig=" not in repr(credentials) + str(credentials)
    hook.get_landing_zone_credentials()
    assert masked.count(credentials.sas_token) == 1  # once per token, not per read
    assert emulator.store.dlz.credential_calls == ["get", "get"]  # no refresh without a refusal


def test_an_aws_hosted_landing_zone_is_refused_clearly_and_its_keys_are_masked(
    emulator: Emulator, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    masked: list[str] = []
    monkeypatch.setattr("airflow_provider_zoho_aep.hooks.aep.mask", masked.append)
    emulator.set_landing_zone_provider("Amazon S3")
    hook = AdobeExperiencePlatformHook()
    with pytest.raises(ConfigurationError, match=r"Amazon S3.*not upload to yet") as caught:
        hook.upload_files_to_landing_zone([write_csv(tmp_path / "a.csv", RECORDS)], module="Leads", flow_id="f",
                                          window_start=WINDOW_START, window_end=WINDOW_END)
    assert "boto3" in str(caught.value)
    with pytest.raises(ConfigurationError):
        hook.get_landing_zone_credentials()
    assert "emulated-secret-key" in masked and "emulated-session-token" in masked


# -- uploads to the emulator's blob endpoint with the SDK -----------------------------------------------------


def test_upload_verifies_and_a_second_upload_of_the_same_file_sends_nothing(emulator: Emulator,
                                                                            tmp_path: Path) -> None:
    hook = AdobeExperiencePlatformHook()
    path = write_csv(tmp_path / "leads.csv", RECORDS)
    first = hook.upload_files_to_landing_zone([path], module="Leads", flow_id="flow-1", window_start=WINDOW_START,
                                              window_end=WINDOW_END)
    (result,) = first
    name = "zoho/Leads/flow-1/20250101T000000Z_20250101T010000Z_part-0001.csv"
    data = path.read_bytes()
    assert (result.blob_name, result.size, result.md5, result.uploaded) == (
        name, len(data), hashlib.md5(data).hexdigest(), True)
    blob = emulator.blob_store.blobs[name]
    assert blob.data == data and blob.content_md5 == hashlib.md5(data).digest()
    assert result.last_modified.timestamp() == blob.last_modified_seconds
    emulator.clear_requests()
    (again,) = hook.upload_files_to_landing_zone([path], module="Leads", flow_id="flow-1",
                                                 window_start=WINDOW_START, window_end=WINDOW_END)
    assert not again.uploaded and again.last_modified == result.last_modified
    assert [r.method for r in emulator.requests if r.path.startswith("/blob/")] == ["HEAD"]


def test_other_content_under_the_same_name_is_replaced_with_a_condition(emulator: Emulator, tmp_path: Path) -> None:
    hook = AdobeExperiencePlatformHook()
    kwargs = {"module": "Leads", "flow_id": "f", "window_start": WINDOW_START, "window_end": WINDOW_END}
    hook.upload_files_to_landing_zone([write_csv(tmp_path / "a.csv", RECORDS)], **kwargs)
    old_etag = next(iter(emulator.blob_store.blobs.values())).etag
    emulator.clear_requests()
    (replaced,) = hook.upload_files_to_landing_zone([write_csv(tmp_path / "b.csv", RECORDS[:1])], **kwargs)
    assert replaced.uploaded and replaced.replaced
    # The write (one Put Blob for a file of one block, else the commit of its blocks) carries the condition.
    commit = next(r for r in emulator.requests if r.method == "PUT" and r.query.get("comp") != ["block"])
    assert {k.lower(): v for k, v in commit.headers.items()}["if-match"] == old_etag
    assert next(iter(emulator.blob_store.blobs.values())).data == (tmp_path / "b.csv").read_bytes()


def test_a_file_of_one_block_goes_in_one_put_whose_md5_the_store_checks(emulator: Emulator, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "a.csv", RECORDS)
    (result,) = AdobeExperiencePlatformHook().upload_files_to_landing_zone(
        [path], module="Leads", flow_id="f", window_start=WINDOW_START, window_end=WINDOW_END)
    puts = [r for r in emulator.requests if r.method == "PUT" and r.path.startswith("/blob/")]
    assert len(puts) == 1 and "comp" not in puts[0].query
    md5 = hashlib.md5(path.read_bytes(), usedforsecurity=False)
    headers = {k.lower(): v for k, v in puts[0].headers.items()}
    # Content-MD5 is what the store checks against the bytes it received (a mismatch is a 400, never a blob).
    assert base64.b64decode(headers["content-md5"]) == md5.digest() and result.md5 == md5.hexdigest()
    assert emulator.blob_store.blobs[result.blob_name].data == path.read_bytes()


def test_a_large_file_goes_in_blocks_with_bounded_concurrency(emulator: Emulator, tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    path.write_bytes(b"id,Last_Name\n" + b"".join(b"%d,name %d\n" % (i, i) for i in range(20000)))
    hook = AdobeExperiencePlatformHook()
    uploader = hook.landing_zone_uploader(max_concurrency=3, block_size=16 * 1024)
    (result,) = hook.upload_files_to_landing_zone([path], module="Leads", flow_id="f", window_start=WINDOW_START,
                                                  window_end=WINDOW_END, uploader=uploader)
    blocks = -(-path.stat().st_size // (16 * 1024))
    assert block_puts(emulator) == blocks > 10
    assert emulator.blob_store.blobs[result.blob_name].data == path.read_bytes()


def test_a_reset_in_a_block_is_retried_and_the_blob_is_whole(emulator: Emulator, tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    path.write_bytes(b"id\n" + b"\n".join(b"%d" % i for i in range(5000)) + b"\n")
    emulator.add_fault(Fault(method="PUT", path="^/blob/", kind="reset", count=2))
    hook = AdobeExperiencePlatformHook()
    uploader = hook.landing_zone_uploader(block_size=4096, sdk_backoff=0.05)
    (result,) = hook.upload_files_to_landing_zone([path], module="Leads", flow_id="f", window_start=WINDOW_START,
                                                  window_end=WINDOW_END, uploader=uploader)
    assert emulator.blob_store.blobs[result.blob_name].data == path.read_bytes()
    assert block_puts(emulator) >= -(-path.stat().st_size // 4096) + 2


def test_an_expired_sas_mid_upload_gets_fresh_credentials_and_the_file_is_sent_again_whole(
    emulator: Emulator, tmp_path: Path
) -> None:
    path = tmp_path / "a.csv"
    path.write_bytes(b"id\n" + b"\n".join(b"%06d" % i for i in range(10000)) + b"\n")
    blocks = -(-path.stat().st_size // 8192)
    hook = AdobeExperiencePlatformHook()
    uploader = hook.landing_zone_uploader(max_concurrency=1, block_size=8192)
    emulator.expire_sas_tokens(after_blocks=3)
    (result,) = hook.upload_files_to_landing_zone([path], module="Leads", flow_id="f", window_start=WINDOW_START,
                                                  window_end=WINDOW_END, uploader=uploader)
    assert emulator.blob_store.blobs[result.blob_name].data == path.read_bytes()
    # Three blocks went with the first token, the fourth was refused; then every block again with the fresh token
    # (a file is at most one Bulk Read page), and one commit, with the fresh token.
    puts = [r for r in emulator.requests if r.method == "PUT" and r.path.startswith("/blob/")]
    first, fresh = puts[0].query["sig"], puts[-1].query["sig"]
    assert first != fresh and puts[-1].query.get("comp") == ["blocklist"]
    assert sum(1 for r in puts if r.query.get("comp") == ["blocklist"]) == 1
    again = [r for r in puts if r.query.get("comp") == ["block"] and r.query["sig"] == fresh]
    assert sum(1 for r in puts if r.query["sig"] == first) >= 4 and len(again) >= blocks
    # An expired token is replaced by a GET (Adobe hands out a fresh one); no refresh was needed.
    assert emulator.store.dlz.credential_calls == ["get", "get"]


def test_a_refused_token_that_has_not_expired_is_refreshed(emulator: Emulator, tmp_path: Path) -> None:
    emulator.add_fault(Fault(method="HEAD", path="^/blob/", status=403, count=1))
    hook = AdobeExperiencePlatformHook()
    hook.upload_files_to_landing_zone([write_csv(tmp_path / "a.csv", RECORDS)], module="Leads", flow_id="f",
                                      window_start=WINDOW_START, window_end=WINDOW_END)
    assert emulator.store.dlz.credential_calls == ["get", "get", "refresh"]


def test_a_landing_zone_that_keeps_refusing_fails_clearly_without_the_token(emulator: Emulator,
                                                                             tmp_path: Path) -> None:
    emulator.add_fault(Fault(method="*", path="^/blob/", status=403, count=-1))
    hook = AdobeExperiencePlatformHook()
    with pytest.raises(LandingZoneError, match=r"refused.*403.*Manage Sources") as caught:
        hook.upload_files_to_landing_zone([write_csv(tmp_path / "a.csv", RECORDS)], module="Leads", flow_id="f",
                                          window_start=WINDOW_START, window_end=WINDOW_END)
    tokens = [t.token for t in emulator.blob_store.tokens.values()]
    text = str(caught.value) + repr(caught.value) + repr(caught.value.__cause__) + repr(caught.value.__context__)
    assert tokens and not any(token in text or token.split("sig=")[1] in text for token in tokens)
    assert emulator.blob_store.blobs == {}
    # One refresh at most: each one revokes the token other tools of the organization hold.
    assert emulator.store.dlz.credential_calls == ["get", "get", "refresh", "get"]


def test_empty_files_are_not_uploaded(emulator: Emulator, tmp_path: Path) -> None:
    (tmp_path / "empty.csv").write_bytes(b"")
    with pytest.raises(LandingZoneError, match="empty"):
        AdobeExperiencePlatformHook().upload_files_to_landing_zone(
            [tmp_path / "empty.csv"], module="Leads", flow_id="f", window_start=WINDOW_START, window_end=WINDOW_END)
    assert emulator.blob_store.blobs == {}


def test_a_zoho_export_manifest_uploads_and_names_its_run_window(emulator: Emulator, tmp_path: Path) -> None:
    hook = AdobeExperiencePlatformHook()
    files = [write_csv(tmp_path / "p1.csv", RECORDS[:2]), write_csv(tmp_path / "p2.csv", RECORDS[2:])]
    manifest = {"module": "Leads", "window_start": WINDOW_START.isoformat(), "window_end": WINDOW_END.isoformat(),
                "fields": list(RECORDS[0]), "records": 3, "bytes": 0,
                "files": [{"path": str(f), "records": 1, "bytes": f.stat().st_size, "sha256": ""} for f in files]}
    answer = hook.upload_export_to_landing_zone(manifest, "flow-9")
    json.dumps(answer)
    assert [f["blob_name"].rsplit("_", 1)[1] for f in answer["files"]] == ["part-0001.csv", "part-0002.csv"]
    start, end = datetime.fromisoformat(answer["run_window_start"]), datetime.fromisoformat(answer["run_window_end"])
    # Exactly the seconds of the uploads' stamps: [oldest second, newest second + 1 s), the transfer's rule.
    stamps = [datetime.fromisoformat(f["last_modified"]) for f in answer["files"]]
    assert start == min(stamps).replace(microsecond=0)
    assert end == max(stamps).replace(microsecond=0) + timedelta(seconds=1)
    empty = {**manifest, "records": 0, "files": []}
    assert hook.upload_export_to_landing_zone(empty, "flow-9") == {"files": [], "run_window_start": None,
                                                                    "run_window_end": None}


# -- Flow Service and Data Prep for files ------------------------------------------------------------------------


def test_mapping_sets_are_reused_by_content_whatever_the_order(emulator: Emulator) -> None:
    ti_context = context()
    first = AEPCreateMappingSetOperator(task_id="m", schema_id=SCHEMA_ID, mappings=MAPPINGS).execute(ti_context)
    assert ti_context["ti"].xcom["mapping_version"] == 0
    reordered = dict(reversed(list(MAPPINGS.items())))
    again = AEPCreateMappingSetOperator(task_id="m", schema_id=SCHEMA_ID, mappings=reordered).execute(context())
    other = AEPCreateMappingSetOperator(task_id="m", schema_id=SCHEMA_ID, mappings={"id": "_emulator.zohoId"}
                                        ).execute(context())
    assert first == again != other
    assert len(emulator.store.dlz.mapping_sets) == 2
    stored = AdobeExperiencePlatformHook().get_mapping_set(first)
    assert {(m["source"], m["destination"]) for m in stored["mappings"]} == set(MAPPINGS.items())


def test_a_mapping_set_create_whose_answer_is_lost_is_adopted_not_doubled(emulator: Emulator) -> None:
    emulator.add_fault(Fault(method="POST", path="/mappingSets$", kind="commit_then_drop"))
    made = AdobeExperiencePlatformHook().create_mapping_set(SCHEMA_ID, MAPPINGS)
    assert made["created"] and list(emulator.store.dlz.mapping_sets) == [made["id"]]


def test_dlz_source_connection_has_no_base_connection_and_is_reused(emulator: Emulator) -> None:
    operator = AEPCreateDataLandingZoneSourceConnectionOperator(task_id="s", name="zoho leads dlz",
                                                                path="dlz-user-container/zoho/Leads/")
    first = operator.execute(context())
    assert operator.execute(context()) == first
    (stored,) = emulator.store.source_connections.values()
    assert "baseConnectionId" not in stored
    assert stored["data"] == {"format": "delimited", "properties": {"encoding": "UTF-8", "columnDelimiter": ","}}
    assert stored["params"] == {"path": "dlz-user-container/zoho/Leads/", "type": "folder", "recursive": True}
    assert stored["connectionSpec"]["id"] == DATA_LANDING_ZONE_CONNECTION_SPEC_ID
    updated = AEPCreateDataLandingZoneSourceConnectionOperator(
        task_id="s", name="zoho leads dlz", path="dlz-user-container/zoho/Leads/", compression_type="gzip",
        if_exists="update").execute(context())
    assert updated == first and stored["data"]["properties"]["compressionType"] == "gzip"


def test_cloud_storage_dataflow_is_mapping_only_and_once(emulator: Emulator) -> None:
    hook = AdobeExperiencePlatformHook()
    target = hook.create_target_connection("t", DATASET_ID, SCHEMA_ID)["id"]
    mapping = hook.create_mapping_set(SCHEMA_ID, MAPPINGS)["id"]
    source = hook.create_data_landing_zone_source_connection("s", "dlz-user-container/zoho/Leads/")["id"]
    operator = AEPCreateDataflowOperator(task_id="f", name="dlz flow", source_connection_id=source,
                                         target_connection_id=target, mapping_id=mapping,
                                         flow_spec_name="CloudStorageToAEP", start_time=1735689600)
    flow_id = operator.execute(context())
    assert operator.execute(context()) == flow_id
    flow = emulator.store.flows[flow_id]
    assert flow["transformations"] == [{"name": "Mapping", "params": {"mappingId": mapping, "mappingVersion": 0}}]
    assert flow["scheduleParams"] == {"startTime": 1735689600, "frequency": "once"}
    assert flow["flowSpec"]["id"] == "9753525b-82c7-4dce-8a9b-5ccfce2b9876"


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"flow_spec_name": "CloudStorageToAEP", "delta_column": "Modified_Time", "mapping_id": "m"}, "delta_column"),
        ({"flow_spec_name": "CloudStorageToAEP"}, "mapping_id"),
        ({"flow_spec_name": "CloudStorageToAEP", "mapping_id": "m", "frequency": "hour"}, "frequency"),
        ({"flow_spec_name": "CRMToAEP"}, "delta_column"),
    ],
)
def test_dataflow_arguments_that_do_not_fit_the_flow_spec_fail_before_any_request(
    emulator: Emulator, kwargs: dict[str, Any], field: str
) -> None:
    emulator.clear_requests()
    with pytest.raises(ConfigurationError, match=field):
        AEPCreateDataflowOperator(task_id="f", name="n", source_connection_id="s", target_connection_id="t",
                                  **kwargs).execute(context())
    assert emulator.requests == []


# -- runs land the uploaded rows ------------------------------------------------------------------------------


@pytest.mark.parametrize("unit", [1, 1000], ids=["seconds", "milliseconds"])
def test_a_run_over_the_upload_window_lands_every_record_once(emulator: Emulator, tmp_path: Path, unit: int) -> None:
    hook = AdobeExperiencePlatformHook()
    ids = file_pipeline(hook)
    assert emulator.dataset_batches(DATASET_ID) == []  # the flow's first run found no files
    uploaded = hook.upload_files_to_landing_zone(
        [write_csv(tmp_path / "p1.csv", RECORDS[:2]), write_csv(tmp_path / "p2.csv", RECORDS[2:])],
        module="Leads", flow_id=ids["flow"], window_start=WINDOW_START, window_end=WINDOW_END)
    start, end = covering_of(uploaded)
    run = finished(hook, start_run(hook, ids["flow"], start, end, unit))
    assert run["metrics"]["statusSummary"]["status"] == "success"
    assert run["metrics"]["recordSummary"] == {"inputRecordCount": 3, "outputRecordCount": 3, "failedRecordCount": 0}
    assert run["metrics"]["fileSummary"] == {"inputFileCount": 2, "outputFileCount": 1}
    (batch,) = emulator.dataset_batches(DATASET_ID)
    assert batch["rows"] == [landed(r) for r in RECORDS] and batch["recordCount"] == 3
    assert batch["files"] == [u.blob_name for u in uploaded]
    # A run over a later window finds nothing new: nothing lands twice.
    later = finished(hook, start_run(hook, ids["flow"], end, end + timedelta(minutes=5), unit))
    assert later["metrics"]["recordSummary"]["inputRecordCount"] == 0
    assert emulator.dataset_rows(DATASET_ID) == [landed(r) for r in RECORDS]


def test_a_mapping_error_fails_the_run_with_adobes_error_and_lands_nothing(emulator: Emulator,
                                                                            tmp_path: Path) -> None:
    hook = AdobeExperiencePlatformHook()
    ids = file_pipeline(hook)
    uploaded = hook.upload_files_to_landing_zone([write_csv(tmp_path / "a.csv", RECORDS)], module="Leads",
                                                 flow_id=ids["flow"], window_start=WINDOW_START,
                                                 window_end=WINDOW_END)
    emulator.inject_mapping_errors(1)
    run = finished(hook, start_run(hook, ids["flow"], *covering_of(uploaded)))
    assert run["metrics"]["statusSummary"]["status"] == "Failed"
    assert run["metrics"]["statusSummary"]["extensions"]["errors"][0]["code"] == "MAPPER-3700-400"
    assert emulator.dataset_rows(DATASET_ID) == []
    # Fixed and retried over the same window: lands once.
    retry = finished(hook, start_run(hook, ids["flow"], *covering_of(uploaded)))
    assert retry["metrics"]["statusSummary"]["status"] == "success"
    assert emulator.dataset_rows(DATASET_ID) == [landed(r) for r in RECORDS]


def test_a_file_without_a_mapped_column_fails_the_run(emulator: Emulator, tmp_path: Path) -> None:
    hook = AdobeExperiencePlatformHook()
    ids = file_pipeline(hook)
    bad = [{k: v for k, v in r.items() if k != "Email"} for r in RECORDS]
    uploaded = hook.upload_files_to_landing_zone([write_csv(tmp_path / "a.csv", bad)], module="Leads",
                                                 flow_id=ids["flow"], window_start=WINDOW_START,
                                                 window_end=WINDOW_END)
    run = finished(hook, start_run(hook, ids["flow"], *covering_of(uploaded)))
    (error,) = run["metrics"]["statusSummary"]["extensions"]["errors"]
    assert error["code"] == "MAPPER-3700-400" and "Email" in error["message"]
    assert run["metrics"]["recordSummary"]["outputRecordCount"] == 0


def test_explore_lists_the_landing_zone_and_previews_a_file(emulator: Emulator, tmp_path: Path) -> None:
    hook = AdobeExperiencePlatformHook()
    (uploaded,) = hook.upload_files_to_landing_zone([write_csv(tmp_path / "a.csv", RECORDS)], module="Leads",
                                                    flow_id="f", window_start=WINDOW_START, window_end=WINDOW_END)
    path = f"/connectionSpecs/{DATA_LANDING_ZONE_CONNECTION_SPEC_ID}/explore"
    root = hook.client.request("GET", path, params=[("objectType", "root")]).json()
    assert root == [{"type": "folder", "name": "zoho", "path": "dlz-user-container/zoho/", "canPreview": False,
                     "canFetchSchema": False}]
    preview = hook.client.request("GET", path, params=[
        ("objectType", "file"), ("object", f"dlz-user-container/{uploaded.blob_name}"), ("fileType", "delimited"),
        ("preview", "true")]).json()
    assert [c["name"] for c in preview["schema"]["columns"]] == list(RECORDS[0])
    assert preview["data"] == RECORDS
    with pytest.raises(AEPAPIError):
        hook.client.request("GET", path, params=[("objectType", "file"), ("object", "dlz-user-container/x.csv")])


def test_no_sas_token_in_any_log_line_or_result(emulator: Emulator, tmp_path: Path,
                                               caplog: pytest.LogCaptureFixture,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    caplog.set_level(logging.DEBUG)
    emulator.add_fault(Fault(method="HEAD", path="^/blob/", status=403, count=1))  # refusal, then a refresh
    emulator.add_fault(Fault(method="PUT", path="^/blob/", kind="reset", count=1))
    masked: list[str] = []
    monkeypatch.setattr(landing_zone_hook_module, "mask", masked.append)
    hook = AdobeExperiencePlatformHook()
    manifest = {"module": "Leads", "window_start": WINDOW_START.isoformat(), "window_end": WINDOW_END.isoformat(),
                "files": [{"path": str(write_csv(tmp_path / "a.csv", RECORDS)), "records": 3, "bytes": 1}]}
    answer = json.dumps(hook.upload_export_to_landing_zone(manifest, "flow-1"))
    issued = [r for r in emulator.requests if r.path.endswith("/landingzone/credentials")]
    assert len(issued) == 3  # get, get, refresh: two different tokens were handed out
    secrets = {v for r in emulator.requests if r.path.startswith("/blob/") for v in r.query.get("sig", [])}
    assert len(secrets) == 2
    # What a task log shows: Airflow's masker replaces every value given to mask_secret. urllib3 logs each URL at
    # DEBUG with the signature percent-encoded, so that form has to be among the masked values too.
    text = caplog.text + answer
    for value in sorted(masked, key=len, reverse=True):
        text = text.replace(value, "***")
    assert not any(form in text for sig in secrets for form in (sig, sig.replace("+", "%2B"), quote(sig, safe="")))
    # Each SAS token handed out went through Airflow's mask_secret, once.
    tokens = [t for t in masked if t.startswith("sv=")]  # the SASToken; its SASUri is masked as well
    assert len(tokens) == len(set(tokens)) == 2
    assert {parse_qs(t)["sig"][0] for t in tokens} == secrets
