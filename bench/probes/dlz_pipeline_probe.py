"""One side of the Zoho CRM → Data Landing Zone → run benchmark, in its own process; prints one JSON line.

``ours``: ``ZohoCRMToAEPDataLandingZoneOperator.execute`` (the transfer's code path: hook export, hook upload,
an on-demand run over exactly the uploads, waiting for it). ``raw``: the same work by hand with the vendors'
tools: ``requests`` for Zoho's token, fields and Bulk Read jobs, each result zip downloaded and unzipped to disk;
``requests`` for the IMS token and the landing zone's SAS; ``azure-storage-blob``'s ``upload_blob`` of each CSV;
``requests`` to start the same on-demand run (the same window rule: the uploads' Last-Modified seconds) and poll
it until it ends.

argv: side, emulator URL, module, window start, window end (ISO 8601), flow ID, output folder. The Connections
come from AIRFLOW_CONN_AEP_DEFAULT / AIRFLOW_CONN_ZOHO_CRM_DEFAULT. Both sides import their modules before the
clock starts; wall time runs from the first request to the run's end.
"""

from __future__ import annotations

import json
import os
import resource
import sys
import time
from datetime import datetime, timezone
from typing import Any

POLL_SECONDS = 0.05


class _TI:
    """What the operator uses of a task instance: identity for its folder, XCom push and pull."""

    dag_id, run_id, task_id, map_index = "dlz_pipeline_bench", "bench", "ingest", -1

    def __init__(self) -> None:
        self.xcom: dict[str, Any] = {}

    def xcom_push(self, key: str, value: Any) -> None:
        self.xcom[key] = value

    def xcom_pull(self, task_ids: str, key: str, **_: Any) -> Any:
        return self.xcom.get(key)


def ours(module: str, start: datetime, end: datetime, flow_id: str, out: str) -> dict:
    import requests  # noqa: F401 - imported before the clock, as raw's are
    from airflow.sdk.bases.operator import ExecutorSafeguard

    from airflow_provider_zoho_aep.client import azure_blob_upload
    from airflow_provider_zoho_aep.transfers.zoho_crm_to_aep_dlz import ZohoCRMToAEPDataLandingZoneOperator

    ExecutorSafeguard.test_mode = True  # execute() outside a task runner, on purpose
    azure_blob_upload._sdk()
    phases = _time_phases()
    op = ZohoCRMToAEPDataLandingZoneOperator(task_id="ingest", module=module, flow_id=flow_id, window_start=start,
                                             window_end=end, base_dir=out, poll_interval=POLL_SECONDS, timeout=900)
    began = time.perf_counter()
    result = op.execute({"ti": _TI(), "data_interval_start": start, "data_interval_end": end})
    wall = time.perf_counter() - began
    return {"wall": wall, "records": result["records_exported"], "landed": result["output_record_count"],
            "status": result["status"], "files": len(result["files"]), **phases}


def _time_phases() -> dict[str, float]:
    """Seconds spent in the hook's export and upload (the rest is listing, the clock, the run and its polling)."""
    from airflow_provider_zoho_aep.hooks.aep import AdobeExperiencePlatformHook
    from airflow_provider_zoho_aep.hooks.zoho_crm import ZohoCRMHook

    phases = {"export": 0.0, "upload": 0.0}
    for cls, name, phase in ((ZohoCRMHook, "export_modified_records", "export"),
                             (AdobeExperiencePlatformHook, "upload_export_to_landing_zone", "upload")):
        real = getattr(cls, name)

        def timed(*args: Any, _real: Any = real, _phase: str = phase, **kwargs: Any) -> Any:
            began = time.perf_counter()
            try:
                return _real(*args, **kwargs)
            finally:
                phases[_phase] += time.perf_counter() - began

        setattr(cls, name, timed)
    return phases


def raw(module: str, start: datetime, end: datetime, flow_id: str, out: str) -> dict:
    import io
    import zipfile

    import requests
    from azure.storage.blob import ContainerClient

    from airflow_provider_zoho_aep.client.windows import Window
    from airflow_provider_zoho_aep.client.zoho_bulk_read import query_bounds

    aep = json.loads(os.environ["AIRFLOW_CONN_AEP_DEFAULT"])
    zoho = json.loads(os.environ["AIRFLOW_CONN_ZOHO_CRM_DEFAULT"])
    lower, upper = query_bounds(Window(start, end))  # the same Bulk Read query as ours, so the same jobs
    url = aep["host"]
    began = time.perf_counter()
    session = requests.Session()

    # Zoho: token, the module's fields, Bulk Read jobs; each zip downloaded and unzipped to disk.
    token = session.post(f"{zoho['extra']['accounts_url']}/oauth/v2/token", data={
        "grant_type": "refresh_token", "client_id": zoho["login"], "client_secret": zoho["password"],
        "refresh_token": zoho["extra"]["refresh_token"]}, timeout=30).json()["access_token"]
    zh = {"Authorization": f"Zoho-oauthtoken {token}"}
    names = [f["api_name"] for f in session.get(f"{zoho['host']}/crm/v8/settings/fields", params={"module": module},
                                                headers=zh, timeout=30).json()["fields"]]
    fields = ["Modified_Time", "id", *(n for n in names if n not in ("id", "Modified_Time"))]
    query: dict[str, Any] = {"module": {"api_name": module}, "fields": fields, "criteria": {
        "group_operator": "and", "group": [
            {"field": {"api_name": "Modified_Time"}, "comparator": "greater_equal", "value": lower},
            {"field": {"api_name": "Modified_Time"}, "comparator": "less_equal", "value": upper}]}}
    files: list[str] = []
    while True:
        job_id = session.post(f"{zoho['host']}/crm/bulk/v8/read", json={"query": query, "file_type": "csv"},
                              headers=zh, timeout=30).json()["data"][0]["details"]["id"]
        delay = 0.2
        while True:
            job = session.get(f"{zoho['host']}/crm/bulk/v8/read/{job_id}", headers=zh, timeout=30).json()["data"][0]
            if job["state"] == "COMPLETED":
                break
            time.sleep(delay)
            delay = min(10.0, delay * 2)
        result = job["result"]
        if result["count"]:
            body = session.get(zoho["host"] + result["download_url"], headers=zh, timeout=120).content
            with zipfile.ZipFile(io.BytesIO(body)) as archive, archive.open(archive.namelist()[0]) as src:
                target = os.path.join(out, f"part-{len(files) + 1:04d}.csv")
                with open(target, "wb") as dst:
                    while chunk := src.read(1 << 20):
                        dst.write(chunk)
            del body
            files.append(target)
        if not result["more_records"]:
            break
        query = {**query, "page_token": result["next_page_token"]}

    exported = time.perf_counter()

    # AEP: IMS token, the landing zone's SAS, one upload_blob per file.
    ims = session.post(aep["extra"]["ims_token_url"], data={
        "grant_type": "client_credentials", "client_id": aep["login"], "client_secret": aep["password"],
        "scope": "openid,session,AdobeID,read_organizations,additional_info.projectedProductContext"},
        timeout=30).json()["access_token"]
    ah = {"Authorization": f"Bearer {ims}", "x-api-key": aep["login"], "x-gw-ims-org-id": aep["extra"]["ims_org_id"],
          "x-sandbox-name": "prod"}
    sas_uri = session.get(f"{url}/data/foundation/connectors/landingzone/credentials",
                          params={"type": "user_drop_zone"}, headers=ah, timeout=30).json()["SASUri"]
    container = ContainerClient.from_container_url(sas_uri)
    stamps = []
    for path in files:
        with open(path, "rb") as handle:
            blob = container.get_blob_client(f"zoho/{module}/{flow_id}/raw-{os.path.basename(path)}")
            answer = blob.upload_blob(handle, max_concurrency=4, overwrite=True)
        stamps.append(answer["last_modified"])

    uploaded = time.perf_counter()

    # The same on-demand run: [oldest upload second, newest + 1 s), started once that second is over.
    window_start = int(min(stamps).timestamp())
    window_end = int(max(stamps).timestamp()) + 1
    while (ahead := window_end - time.time()) > 0:
        time.sleep(ahead + 0.05)
    posted = session.post(f"{url}/data/foundation/flowservice/runs", headers=ah, timeout=30, json={
        "flowId": flow_id, "params": {"startTime": int(time.time()), "windowStartTime": window_start,
                                      "windowEndTime": window_end}}).json()
    run_id = posted.get("id") or posted["items"][0]["id"]
    while True:
        run = session.get(f"{url}/data/foundation/flowservice/runs/{run_id}", headers=ah,
                          timeout=30).json()["items"][0]
        status = ((run.get("metrics") or {}).get("statusSummary") or {}).get("status")
        if status and status.lower() not in ("queued", "inprogress", "pending", "running"):
            break
        time.sleep(POLL_SECONDS)
    wall = time.perf_counter() - began
    landed = ((run.get("metrics") or {}).get("recordSummary") or {}).get("outputRecordCount")
    return {"wall": wall, "records": None, "landed": landed, "status": status, "files": len(files),
            "export": exported - began, "upload": uploaded - exported}


def _peak_rss_mb() -> float:
    """This process's peak RSS: VmHWM of its own memory map (``ru_maxrss`` can carry the high-water mark of the
    process it was forked from across the exec: here, the benchmark's, which holds the emulator)."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024  # kB
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def main() -> None:
    side, _url, module, start, end, flow_id, out = sys.argv[1:8]
    run = ours if side == "ours" else raw
    window = (datetime.fromisoformat(start).astimezone(timezone.utc), datetime.fromisoformat(end))
    result = run(module, *window, flow_id, out)
    result["peak_rss_mb"] = _peak_rss_mb()
    print(json.dumps(result))


if __name__ == "__main__":
    main()
