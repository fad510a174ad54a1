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
import sys
import time
from datetime import datetime, timezone
from typing import Any

from by_hand import peak_rss_mb

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
    """Seconds spent in the hook's export and upload, and waiting for the second of the last upload to end (the
    rest is listing, the run and its polling)."""
    from airflow_provider_zoho_aep.hooks.aep import AdobeExperiencePlatformHook
    from airflow_provider_zoho_aep.hooks.zoho_crm import ZohoCRMHook
    from airflow_provider_zoho_aep.transfers.zoho_crm_to_aep_dlz import ZohoCRMToAEPDataLandingZoneOperator as Op

    phases = {"export": 0.0, "upload": 0.0, "clock": 0.0}
    for cls, name, phase in ((ZohoCRMHook, "export_modified_records", "export"),
                             (AdobeExperiencePlatformHook, "upload_export_to_landing_zone", "upload"),
                             (Op, "_wait_for_the_clock", "clock")):
        real = getattr(cls, name)

        def timed(*args: Any, _real: Any = real, _phase: str = phase, **kwargs: Any) -> Any:
            began = time.perf_counter()
            try:
                return _real(*args, **kwargs)
            finally:
                phases[_phase] += time.perf_counter() - began

        static = isinstance(cls.__dict__.get(name), staticmethod)
        setattr(cls, name, staticmethod(timed) if static else timed)
    return phases


def raw(module: str, start: datetime, end: datetime, flow_id: str, out: str) -> dict:
    import requests
    from azure.storage.blob import ContainerClient
    from by_hand import bulk_read_by_hand

    aep = json.loads(os.environ["AIRFLOW_CONN_AEP_DEFAULT"])
    zoho = json.loads(os.environ["AIRFLOW_CONN_ZOHO_CRM_DEFAULT"])
    url = aep["host"]
    began = time.perf_counter()
    session = requests.Session()

    # Zoho: token, the module's fields, Bulk Read jobs; each zip downloaded and unzipped to disk.
    files = bulk_read_by_hand(session, accounts_url=zoho["extra"]["accounts_url"], api_url=zoho["host"],
                              client_id=zoho["login"], client_secret=zoho["password"],
                              refresh_token=zoho["extra"]["refresh_token"], module=module, start=start, end=end,
                              out=out)

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
    clock = time.perf_counter()
    while (ahead := window_end - time.time()) > 0:
        time.sleep(ahead + 0.05)
    clock = time.perf_counter() - clock
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
            "export": exported - began, "upload": uploaded - exported, "clock": clock}


def main() -> None:
    side, _url, module, start, end, flow_id, out = sys.argv[1:8]
    run = ours if side == "ours" else raw
    window = (datetime.fromisoformat(start).astimezone(timezone.utc), datetime.fromisoformat(end))
    result = run(module, *window, flow_id, out)
    result["peak_rss_mb"] = peak_rss_mb()
    print(json.dumps(result))


if __name__ == "__main__":
    main()
