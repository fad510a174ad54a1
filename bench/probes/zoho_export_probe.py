"""One side of the Zoho export benchmark, in its own process: ``ours`` or ``raw``; prints one JSON line.

``ours``: the provider's Bulk Read client (the code under ``ZohoCRMHook.export_modified_records``, without
Airflow's import): fields metadata, jobs, polls, downloads, exact window filter, CSV rewrite with SHA-256.
``raw``: the same protocol written by hand with ``requests``: one token, the same jobs and polls, each zip
downloaded whole into memory and unzipped to disk; no filtering, no hashing, no checks.

argv: side, emulator URL, module, window start, window end (ISO 8601), output folder. Besides the wall time,
each side reports the CPU seconds its process spent (all threads): unlike the wall time, it hardly moves
with the load other work puts on the machine, so it shows what each side costs.
"""

from __future__ import annotations

import json
import sys
import time
from datetime import datetime

from by_hand import peak_rss_mb


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
    began, cpu_began = time.perf_counter(), time.process_time()
    window = check_export_arguments(module, start, end, None, out)
    transport = HttpTransport()
    bulk = ZohoBulkReadClient(ZohoClient(settings, transport), transport)
    manifest = bulk.export(module, window, bulk.resolve_fields(module, None), out)
    return {"wall": time.perf_counter() - began, "cpu": time.process_time() - cpu_began,
            "records": manifest["records"], "bytes": manifest["bytes"]}


def raw(url: str, module: str, start: datetime, end: datetime, out: str) -> dict:
    import os

    import requests
    from by_hand import bulk_read_by_hand

    from emulator import EmulatorCredentials

    creds = EmulatorCredentials()
    began, cpu_began = time.perf_counter(), time.process_time()
    files = bulk_read_by_hand(requests.Session(), accounts_url=url, api_url=url, client_id=creds.zoho_client_id,
                              client_secret=creds.zoho_client_secret, refresh_token=creds.zoho_refresh_token,
                              module=module, start=start, end=end, out=out)
    return {"wall": time.perf_counter() - began, "cpu": time.process_time() - cpu_began, "records": None,
            "bytes": sum(os.path.getsize(f) for f in files)}


def main() -> None:
    side, url, module, start, end, out = sys.argv[1:7]
    run = ours if side == "ours" else raw
    result = run(url, module, datetime.fromisoformat(start), datetime.fromisoformat(end), out)
    result["peak_rss_mb"] = peak_rss_mb()
    print(json.dumps(result))


if __name__ == "__main__":
    main()
