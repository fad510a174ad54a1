"""Benchmark: a landing-zone upload by the provider against the same upload by hand with Microsoft's SDK.

Ours: ``hook.upload_files_to_landing_zone`` (landing-zone credentials, existence check, 4 MiB blocks staged by 4
threads with per-block MD5, a conditional commit, verification of size and MD5). Raw: the IMS token and the SAS
with ``requests``, then ``ContainerClient.upload_blob(file, max_concurrency=4)`` (no check, no verification).
A third side, shown for information, is the same SDK call with the checks Adobe's landing-zone page shows (the
file's MD5 as ``content_md5``, ``validate_content=True``, ``overwrite=False``, ``get_blob_properties`` to
compare): the guarantees ours gives, by hand. Each sample runs in a fresh interpreter (``probes/upload_probe.py``)
against an emulator in another process, so the peak RSS is the uploader's alone. Goals: time within 1.10 x raw,
and peak RSS flat across file sizes (the file streams; it is never read whole).
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

from _common import BENCH, PYTHON, REPO, Row, clean_env, connect_to, median, run_json

PROBE = BENCH / "probes" / "upload_probe.py"
MiB = 1024 * 1024


def _write(path: Path, size: int) -> None:
    line = b"4876876000000001,O'Brien,ob@example.com,\"a, b\",2025-01-01T00:00:00+00:00\n"
    with open(path, "wb") as handle:
        handle.write(b"id,Last_Name,Email,Description,Modified_Time\n")
        chunk = line * (MiB // len(line))
        while handle.tell() < size:
            handle.write(chunk)


def _reset(url: str) -> None:
    request = urllib.request.Request(f"{url}/__emulator__/reset", data=b"{}", method="POST")
    urllib.request.urlopen(request, timeout=30).read()


def run(sizes_mib: tuple[int, ...] = (16, 128), reps: int = 3) -> list[Row]:
    ready = Path(tempfile.mkdtemp()) / "url"
    emulator = subprocess.Popen([PYTHON, "-m", "emulator", "--port", "0", "--ready-file", str(ready)], cwd=REPO,
                                env={**clean_env(), "PYTHONPATH": str(REPO)}, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
    try:
        for _ in range(300):
            if ready.exists() and ready.read_text().strip():
                break
            time.sleep(0.1)
        url = ready.read_text().strip()
        connect_to(url)
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        rows: list[Row] = []
        peaks: dict[int, float] = {}
        with tempfile.TemporaryDirectory() as folder:
            for size in sizes_mib:
                path = Path(folder) / f"{size}.csv"
                _write(path, size * MiB)
                ours_s, raw_s, checked_s, ours_rss, raw_rss = [], [], [], [], []
                for i in range(reps):
                    for mode in (("ours", "raw", "rawmd5") if i % 2 == 0 else ("rawmd5", "raw", "ours")):
                        _reset(url)
                        sample = run_json([PYTHON, str(PROBE), mode, str(path)], env=env)
                        {"ours": ours_s, "raw": raw_s, "rawmd5": checked_s}[mode].append(sample["seconds"])
                        if mode != "rawmd5":
                            (ours_rss if mode == "ours" else raw_rss).append(sample["peak_rss_mb"])
                ratio = median([o / r for o, r in zip(ours_s, raw_s, strict=True)])
                checked = median([o / r for o, r in zip(ours_s, checked_s, strict=True)])
                peaks[size] = max(ours_rss)
                rows.append(Row(f"DLZ upload {size} MiB: time", f"{median(ours_s):.2f} s", f"{median(raw_s):.2f} s",
                                ratio, "<= 1.10", ratio <= 1.10))
                rows.append(Row(f"DLZ upload {size} MiB: time vs raw with MD5 + verify", f"{median(ours_s):.2f} s",
                                f"{median(checked_s):.2f} s", checked))
                rows.append(Row(f"DLZ upload {size} MiB: peak RSS", f"{max(ours_rss):.0f} MB",
                                f"{max(raw_rss):.0f} MB", None))
        small, large = min(peaks), max(peaks)
        growth = peaks[large] - peaks[small]
        rows.append(Row(f"DLZ upload peak RSS growth {small}->{large} MiB", f"{growth:+.0f} MB", "-", None,
                        "<= 20 MB", growth <= 20))
        return rows
    finally:
        emulator.terminate()
        emulator.wait(10)


if __name__ == "__main__":
    print(json.dumps([r.__dict__ for r in run()], indent=1))
