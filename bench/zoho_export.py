"""Benchmark: exporting a Zoho CRM window (10,000 / 100,000 / 1,000,000 records) against a raw download + unzip.

Both sides run in a child process of their own against the same in-process emulator, alternating pair by pair,
and report their wall time (from the first request to the last byte written) and their peak RSS. They send the
same Bulk Read queries, so they download the same zips: the emulator renders each page once (a warm-up run)
and serves it from disk after that.

* ours: the provider's Bulk Read client (``bench/probes/zoho_export_probe.py ours``): fields metadata, jobs,
  polls, each zip streamed to a temporary file, the exact window filter, the CSV written with its SHA-256.
* raw: the same requests by hand with ``requests`` (``... raw``): each zip read whole into memory and unzipped
  to disk; no filter, no hash, no check.

Goals: wall <= 1.10 x raw; peak RSS <= 150 MB at every size (flat: it must not grow with the record count).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from datetime import datetime, timedelta, timezone

from _common import BENCH, PYTHON, REPO, Row, clean_env, median, paired, paired_ratio, run_json

PROBE = BENCH / "probes" / "zoho_export_probe.py"
T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)
WALL_GOAL = 1.10
RSS_GOAL_MB = 150.0
#: Pairs at least, below 100,000 records: a run of ~25 ms scatters by a third from one process to the next here,
#: and a pair costs well under a second.
SMALL_PAIRS = 60


def _side(side: str, url: str, samples: dict[str, list[dict]]) -> float:
    out = tempfile.mkdtemp(prefix=f"zoho-export-bench-{side}-")
    env = clean_env()
    env["PYTHONPATH"] = str(REPO)
    try:
        result = run_json([PYTHON, str(PROBE), side, url, "Deals", T0.isoformat(),
                           (T0 + timedelta(days=7)).isoformat(), out], env=env, timeout=900)
    finally:
        shutil.rmtree(out, ignore_errors=True)
    samples[side].append(result)
    return float(result["wall"])


def run(sizes: tuple[int, ...], reps: int) -> list[Row]:
    from emulator import Emulator
    from emulator.crm_data import CrmDataSet

    rows: list[Row] = []
    peaks: list[float] = []
    for size in sizes:
        with Emulator(crm_data=CrmDataSet(records_per_module=size), crm_settings={"job_seconds": 0.0}) as emu:
            samples: dict[str, list[dict]] = {"ours": [], "raw": []}
            _side("ours", emu.url, {"ours": [], "raw": []})  # warm-up: the emulator renders every page once
            url = emu.url
            pairs = max(reps, SMALL_PAIRS) if size < 100_000 else reps
            ours, raw = paired(
                pairs, lambda s=samples, u=url: _side("ours", u, s), lambda s=samples, u=url: _side("raw", u, s)
            )
        records = samples["ours"][0]["records"]
        if records != size:
            raise RuntimeError(f"the export of {size} records exported {records}")
        ratio = paired_ratio(ours, raw)
        rss = max(s["peak_rss_mb"] for s in samples["ours"])
        raw_rss = max(s["peak_rss_mb"] for s in samples["raw"])
        peaks.append(rss)
        label = f"zoho export {size:,} records"
        cpu = paired_ratio([s["cpu"] for s in samples["ours"]], [s["cpu"] for s in samples["raw"]])
        notes = [f"{pairs} pairs; median of per-pair ratios"]
        notes.append(f"CPU seconds (all threads): {median([s['cpu'] for s in samples['ours']]):.3f} ours, "
                     f"{median([s['cpu'] for s in samples['raw']]):.3f} raw, {cpu:.2f}x")
        rows.append(Row(f"{label}: wall", f"{median(ours):.2f} s", f"{median(raw):.2f} s (raw)", ratio,
                        f"<= {WALL_GOAL:.2f}x raw", ratio <= WALL_GOAL, notes=notes))
        rows.append(Row(f"{label}: peak RSS", f"{rss:.0f} MB", f"{raw_rss:.0f} MB (raw)", rss / raw_rss,
                        f"<= {RSS_GOAL_MB:.0f} MB", rss <= RSS_GOAL_MB))
    if len(peaks) > 2:
        # The first size fits in one read block; from the second on every buffer is in use, so what grows
        # from there to the largest (10x the records) would be memory that scales with the record count.
        growth = peaks[-1] - peaks[1]
        rows.append(Row(f"zoho export: RSS growth, {sizes[1]:,} to {sizes[-1]:,} records", f"{growth:+.1f} MB", "-",
                        None, "flat (< 10 MB)", abs(growth) < 10.0,
                        notes=[f"peak RSS at {', '.join(f'{s:,}' for s in sizes)} records: "
                               f"{', '.join(f'{p:.0f}' for p in peaks)} MB"]))
    return rows


if __name__ == "__main__":
    import sys

    sys.path.insert(0, str(REPO))
    from run import table

    result = run(tuple(int(a) for a in sys.argv[1:]) or (10_000,), int(os.environ.get("REPS", "3")))
    print(table(result))
    print("\n".join(f"- {r.benchmark}: {note}" for r in result for note in r.notes))
