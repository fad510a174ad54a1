"""What the probes' ``raw`` sides share: Zoho's Bulk Read by hand with ``requests``, and a peak-RSS reading.

A probe runs as a script (``python bench/probes/<probe>.py``), so this module beside it imports as ``by_hand``.
"""

from __future__ import annotations

import io
import math
import os
import resource
import time
import zipfile
from datetime import datetime, timezone
from typing import Any

import requests


def bulk_read_by_hand(session: requests.Session, *, accounts_url: str, api_url: str, client_id: str,
                      client_secret: str, refresh_token: str, module: str, start: datetime, end: datetime,
                      out: str) -> list[str]:
    """One window of ``module`` the way a script would fetch it: a token, the fields, the same Bulk Read queries
    as the provider (so the same jobs and zips), each zip downloaded whole into memory and unzipped to ``out``.
    No filter, no hash, no check. Returns the CSV files written."""
    token = session.post(f"{accounts_url}/oauth/v2/token", data={
        "grant_type": "refresh_token", "client_id": client_id, "client_secret": client_secret,
        "refresh_token": refresh_token}, timeout=30).json()["access_token"]
    headers = {"Authorization": f"Zoho-oauthtoken {token}"}
    names = [f["api_name"] for f in session.get(f"{api_url}/crm/v8/settings/fields", params={"module": module},
                                                headers=headers, timeout=30).json()["fields"]]
    fields = ["Modified_Time", "id", *(n for n in names if n not in ("id", "Modified_Time"))]  # the provider's
    lower, upper = query_bounds(start, end)
    query: dict[str, Any] = {"module": {"api_name": module}, "fields": fields, "criteria": {
        "group_operator": "and", "group": [
            {"field": {"api_name": "Modified_Time"}, "comparator": "greater_equal", "value": lower},
            {"field": {"api_name": "Modified_Time"}, "comparator": "less_equal", "value": upper}]}}
    files: list[str] = []
    while True:
        job_id = session.post(f"{api_url}/crm/bulk/v8/read", json={"query": query, "file_type": "csv"},
                              headers=headers, timeout=30).json()["data"][0]["details"]["id"]
        delay = 0.2
        while True:  # the provider's polling schedule
            job = session.get(f"{api_url}/crm/bulk/v8/read/{job_id}", headers=headers, timeout=30).json()["data"][0]
            if job["state"] == "COMPLETED":
                break
            time.sleep(delay)
            delay = min(10.0, delay * 2)
        result = job["result"]
        if result["count"]:
            body = session.get(api_url + result["download_url"], headers=headers, timeout=120).content
            with zipfile.ZipFile(io.BytesIO(body)) as archive, archive.open(archive.namelist()[0]) as src:
                target = os.path.join(out, f"part-{len(files) + 1:04d}.csv")
                with open(target, "wb") as dst:
                    while chunk := src.read(1 << 20):
                        dst.write(chunk)
            del body
            files.append(target)
        if not result["more_records"]:
            return files
        query = {**query, "page_token": result["next_page_token"]}


def query_bounds(start: datetime, end: datetime) -> tuple[str, str]:
    """The provider's criteria values (``client/zoho_bulk_read.py``), restated so that a baseline loads none of the
    provider's export code (numpy and zlib-ng among it); ``tests/bench`` checks that the two agree. The same
    bounds make the same Bulk Read jobs, and so the same zips, on both sides."""
    lower = datetime.fromtimestamp(math.floor(start.timestamp()) - 1, timezone.utc)
    upper = datetime.fromtimestamp(math.ceil(end.timestamp()), timezone.utc)
    return lower.isoformat(), upper.isoformat()


def peak_rss_mb() -> float:
    """This process's peak RSS: VmHWM of its own memory map. (``ru_maxrss`` can carry the high-water mark of the
    process it was forked from across the exec: here, the benchmark's, which holds the emulator.)"""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024  # kB
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
