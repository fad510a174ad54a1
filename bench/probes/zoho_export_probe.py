"""One side of the Zoho export benchmark, in its own process: ``ours`` or ``raw``; prints one JSON line.

``ours``: the provider's Bulk Read client (the code under ``ZohoCRMHook.export_modified_records``, without
Airflow's import): fields metadata, jobs, polls, downloads, exact window filter, CSV rewrite with SHA-256.
``raw``: the same protocol written by hand with ``requests``: one token, the same jobs and polls, each zip
downloaded whole into memory and unzipped to disk; no filtering, no hashing, no checks.

argv: side, emulator URL, module, window start, window end (ISO 8601), output folder.
"""

from __future__ import annotations

import json
import resource
import sys
import time
from datetime import datetime


def ours(url: str, module: str, start: datetime, end: datetime, out: str) -> dict:
    from airflow_provider_zoho_aep.client.http import HttpTransport
    from airflow_provider_zoho_aep.client.settings import ZohoSettings
    from airflow_provider_zoho_aep.client.zoho import ZohoClient
    from airflow_provider_zoho_aep.client.zoho_bulk_read import ZohoBulkReadClient
    from airflow_provider_zoho_aep.validation import check_export_arguments
    from emulator import EmulatorCredentials

    creds = EmulatorCredentials()
    settings = ZohoSettings.from_connection_fields(
        login=creds.zoho_client_id, password=creds.zoho_client_secret, host=url,
        extra={"accounts_url": url, "refresh_token": creds.zoho_refresh_token},
    )
    began = time.perf_counter()
    window = check_export_arguments(module, start, end, None, out)
    transport = HttpTransport()
    bulk = ZohoBulkReadClient(ZohoClient(settings, transport), transport)
    manifest = bulk.export(module, window, bulk.resolve_fields(module, None), out)
    return {"wall": time.perf_counter() - began, "records": manifest["records"], "bytes": manifest["bytes"]}


def raw(url: str, module: str, start: datetime, end: datetime, out: str) -> dict:
    import io
    import os
    import zipfile

    import requests

    from airflow_provider_zoho_aep.client.windows import Window
    from airflow_provider_zoho_aep.client.zoho_bulk_read import query_bounds
    from emulator import EmulatorCredentials

    creds = EmulatorCredentials()
    began = time.perf_counter()
    session = requests.Session()
    token = session.post(f"{url}/oauth/v2/token", data={
        "grant_type": "refresh_token", "client_id": creds.zoho_client_id,
        "client_secret": creds.zoho_client_secret, "refresh_token": creds.zoho_refresh_token,
    }, timeout=30).json()["access_token"]
    headers = {"Authorization": f"Zoho-oauthtoken {token}"}
    names = [f["api_name"] for f in session.get(
        f"{url}/crm/v8/settings/fields", params={"module": module}, headers=headers, timeout=30).json()["fields"]]
    fields = ["Modified_Time", "id", *(n for n in names if n not in ("id", "Modified_Time"))]  # ours' columns
    lower, upper = query_bounds(Window(start, end))  # the same query, so the same jobs
    query = {"module": {"api_name": module}, "fields": fields, "criteria": {"group_operator": "and", "group": [
        {"field": {"api_name": "Modified_Time"}, "comparator": "greater_equal", "value": lower},
        {"field": {"api_name": "Modified_Time"}, "comparator": "less_equal", "value": upper}]}}
    written = 0
    page = 0
    while True:
        page += 1
        job_id = session.post(f"{url}/crm/bulk/v8/read", json={"query": query, "file_type": "csv"},
                              headers=headers, timeout=30).json()["data"][0]["details"]["id"]
        delay = 0.2
        while True:  # the same polling schedule as ours
            job = session.get(f"{url}/crm/bulk/v8/read/{job_id}", headers=headers, timeout=30).json()["data"][0]
            if job["state"] == "COMPLETED":
                break
            time.sleep(delay)
            delay = min(10.0, delay * 2)
        result = job["result"]
        if result["count"]:
            body = session.get(url + result["download_url"], headers=headers, timeout=30).content
            with zipfile.ZipFile(io.BytesIO(body)) as archive:
                name = archive.namelist()[0]
                target = os.path.join(out, f"page{page}.csv")
                with archive.open(name) as src, open(target, "wb") as dst:
                    while chunk := src.read(1 << 20):
                        dst.write(chunk)
                written += os.path.getsize(target)
        if not result["more_records"]:
            break
        query = {**query, "page_token": result["next_page_token"]}
    return {"wall": time.perf_counter() - began, "records": None, "bytes": written}


def main() -> None:
    side, url, module, start, end, out = sys.argv[1:7]
    run = ours if side == "ours" else raw
    result = run(url, module, datetime.fromisoformat(start), datetime.fromisoformat(end), out)
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    print(json.dumps(result))


if __name__ == "__main__":
    main()
