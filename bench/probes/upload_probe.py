"""One landing-zone upload in a fresh interpreter, for ``bench/dlz_upload.py``; prints one JSON line.

    upload_probe.py ours <file>   the provider: hook.upload_files_to_landing_zone (credentials, blocks, verify)
    upload_probe.py raw <file>    by hand: requests for the IMS token and the SAS, then the SDK's upload_blob
    upload_probe.py rawmd5 <file> the same with the checks Adobe's landing-zone page shows for the SDK: the file's
                                  MD5 as content_md5, validate_content=True (a Content-MD5 per request, checked by
                                  the store), overwrite=False, then get_blob_properties to compare size and MD5

Both talk to the emulator named by AIRFLOW_CONN_AEP_DEFAULT. Reports wall seconds of the upload (from the first
request; both import their modules and read the Connection before the clock starts) and the process's peak RSS.
"""

from __future__ import annotations

import json
import os
import sys
import time
from datetime import datetime, timedelta, timezone

from by_hand import peak_rss_mb


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


def raw(path: str, checked: bool = False) -> float:
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
    container = ContainerClient.from_container_url(sas_uri)
    if not checked:
        with open(path, "rb") as handle:
            container.upload_blob("zoho/Leads/raw/part-0001.csv", handle, max_concurrency=4, overwrite=True)
        return time.perf_counter() - began
    import hashlib

    from azure.storage.blob import ContentSettings

    digest = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    blob = container.get_blob_client("zoho/Leads/raw/part-0001.csv")
    with open(path, "rb") as handle:
        blob.upload_blob(handle, max_concurrency=4, overwrite=False, validate_content=True,
                         content_settings=ContentSettings(content_type="text/csv",
                                                          content_md5=bytearray(digest.digest())))
    props = blob.get_blob_properties()
    if props.size != os.path.getsize(path) or bytes(props.content_settings.content_md5) != digest.digest():
        raise RuntimeError("verification failed")
    return time.perf_counter() - began


if __name__ == "__main__":
    mode, file = sys.argv[1], sys.argv[2]
    seconds = ours(file) if mode == "ours" else raw(file, checked=mode == "rawmd5")
    peak_mb = peak_rss_mb()
    print(json.dumps({"seconds": seconds, "peak_rss_mb": peak_mb}))
