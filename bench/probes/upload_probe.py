"""One landing-zone upload in a fresh interpreter, for ``bench/dlz_upload.py``; prints one JSON line.

    upload_probe.py ours <file>   the provider: hook.upload_files_to_landing_zone (credentials, blocks, verify)
    upload_probe.py raw <file>    by hand: requests for the IMS token and the SAS, then the SDK's upload_blob

Both talk to the emulator named by AIRFLOW_CONN_AEP_DEFAULT. Reports wall seconds of the upload (from the first
request; both import their modules and read the Connection before the clock starts) and the process's peak RSS.
"""

from __future__ import annotations

import json
import os
import resource
import sys
import time
from datetime import datetime, timedelta, timezone


def ours(path: str) -> float:
    import airflow_provider_zoho_aep.client.flow_service  # noqa: F401 - imported before the clock, as raw's are
    from airflow_provider_zoho_aep.client import azure_blob_upload
    from airflow_provider_zoho_aep.hooks.aep import AdobeExperiencePlatformHook

    azure_blob_upload._sdk()
    hook = AdobeExperiencePlatformHook()
    hook.validate_connection()
    start = datetime(2025, 1, 1, tzinfo=timezone.utc)
    began = time.perf_counter()
    hook.upload_files_to_landing_zone([path], module="Leads", flow_id="bench", window_start=start,
                                      window_end=start + timedelta(hours=1))
    return time.perf_counter() - began


def raw(path: str) -> float:
    import requests
    from azure.storage.blob import ContainerClient

    conn = json.loads(os.environ["AIRFLOW_CONN_AEP_DEFAULT"])
    url, extra = conn["host"], conn["extra"]
    began = time.perf_counter()
    session = requests.Session()
    token = session.post(extra["ims_token_url"], data={
        "grant_type": "client_credentials", "client_id": conn["login"], "client_secret": conn["password"],
        "scope": "openid,session,AdobeID,read_organizations,additional_info.projectedProductContext"},
        timeout=30).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}", "x-api-key": conn["login"], "x-gw-ims-org-id": extra["ims_org_id"],
               "x-sandbox-name": "prod"}
    sas_uri = session.get(f"{url}/data/foundation/connectors/landingzone/credentials",
                          params={"type": "user_drop_zone"}, headers=headers, timeout=30).json()["SASUri"]
    with open(path, "rb") as handle:
        ContainerClient.from_container_url(sas_uri).upload_blob("zoho/Leads/raw/part-0001.csv", handle,
                                                                 max_concurrency=4, overwrite=True)
    return time.perf_counter() - began


if __name__ == "__main__":
    mode, file = sys.argv[1], sys.argv[2]
    seconds = ours(file) if mode == "ours" else raw(file)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "peak_rss_mb": peak_mb}))
