"""Benchmark 7: peak memory of the Data Landing Zone window task, per window size.

For each size (the emulator's ``CrmDataSet(records_per_module=N)``: the whole week as one window of Deals), a
fresh in-process emulator, a ``CloudStorageToAEP`` flow made by the operators a DAG would use, and one
``ZohoCRMToAEPDataLandingZoneOperator.execute`` in a process of its own (``probes/dlz_window_probe.py``), as a
worker runs the task: export, upload, run, wait. Printed per size: records, files, the task's peak RSS, its wall
seconds, and the CPU seconds its Zoho export spent per million records (measured in the same run, around
``ZohoCRMHook.export_modified_records``). Wall seconds include the emulator's own work (rendering Zoho's zips,
the run parsing every file), which shares the machine's CPUs with the task.

Goals: peak RSS <= 150 MB at every size, and flat: memory must not grow with the record count (the process
holds Airflow itself).

    .venv/bin/python bench/dlz_memory.py 100000 1000000
"""

from __future__ import annotations

import shutil
import tempfile
from datetime import datetime, timedelta, timezone
from typing import Any

from _common import BENCH, PYTHON, Row, child_env, connect_to, execute, markdown, run_json

PROBE = BENCH / "probes" / "dlz_window_probe.py"
T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)
MODULE = "Deals"
RSS_GOAL_MB = 150.0
FLAT_MB = 10.0
#: The Deals columns the benchmark's mapping set lands.
MAPPINGS = {"id": "_emulator.zohoId", "Deal_Name": "_emulator.dealName"}
DATASET_ID = "5f3c2bfc1a2b3c4d5e6f7a8b"
SCHEMA_ID = "https://ns.adobe.com/emulator/schemas/zoho-crm-deals"


def _flow(size: int) -> str:
    """A once-scheduled CloudStorageToAEP flow over the module's folder of the landing zone."""
    from airflow_provider_zoho_aep.operators.data_landing_zone import (
        AEPCreateDataLandingZoneSourceConnectionOperator,
    )
    from airflow_provider_zoho_aep.operators.dataflow import AEPCreateDataflowOperator
    from airflow_provider_zoho_aep.operators.mapping import AEPCreateMappingSetOperator
    from airflow_provider_zoho_aep.operators.target_connection import AEPCreateTargetConnectionOperator

    target = execute(AEPCreateTargetConnectionOperator(task_id="target", name=f"bench target {size}",
                                                       dataset_id=DATASET_ID, schema_id=SCHEMA_ID))
    mapping = execute(AEPCreateMappingSetOperator(task_id="mapping", schema_id=SCHEMA_ID, mappings=MAPPINGS))
    source = execute(AEPCreateDataLandingZoneSourceConnectionOperator(
        task_id="source", name=f"bench {MODULE} files", path=f"dlz-user-container/zoho/{MODULE}/"))
    return str(execute(AEPCreateDataflowOperator(
        task_id="flow", name=f"bench {MODULE} via the landing zone {size}", source_connection_id=source,
        target_connection_id=target, mapping_id=mapping, flow_spec_name="CloudStorageToAEP", frequency="once")))


def measure(size: int) -> dict[str, Any]:
    """One window task over ``size`` records; what the probe measured."""
    from emulator import Emulator
    from emulator.crm_data import CrmDataSet

    tmp = tempfile.mkdtemp(prefix="dlz-memory-bench-")
    try:
        with Emulator(crm_data=CrmDataSet(records_per_module=size), crm_settings={"job_seconds": 0.0},
                      run_duration=0.2) as emu:
            connect_to(emu.url)
            flow = _flow(size)
            result = run_json([PYTHON, str(PROBE), MODULE, T0.isoformat(), (T0 + timedelta(days=7)).isoformat(),
                               flow], env={**child_env(), "TMPDIR": tmp}, timeout=3600)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if result["landed"] != size or result["records"] != size:
        raise RuntimeError(f"{size:,} records: exported {result['records']}, landed {result['landed']}")
    return result


def summary(results: dict[int, dict[str, Any]]) -> str:
    """The table this benchmark prints: one line per window size."""
    lines = [("records", "files", "peak RSS (MB)", "wall (s)", "export CPU (s per 1M records)")]
    for size, r in results.items():
        cpu = "not measured" if r["export_cpu"] is None else f"{r['export_cpu'] * 1_000_000 / size:.1f}"
        lines.append((f"{size:,}", str(r["files"]), f"{r['peak_rss_mb']:.0f}", f"{r['wall']:.1f}", cpu))
    return markdown(lines)


def run(sizes: tuple[int, ...] = (100_000, 1_000_000)) -> tuple[list[Row], str]:
    """The goal rows for the main table, and this benchmark's own table."""
    results = {size: measure(size) for size in sizes}
    rows = [Row(f"DLZ window task {size:,} records: peak RSS", f"{r['peak_rss_mb']:.0f} MB", "-", None,
                f"<= {RSS_GOAL_MB:.0f} MB", r["peak_rss_mb"] <= RSS_GOAL_MB,
                [] if r["export_cpu"] is not None else
                ["the export's CPU was not measured: the task did not call ZohoCRMHook.export_modified_records"])
            for size, r in results.items()]
    if len(sizes) > 1:
        growth = results[sizes[-1]]["peak_rss_mb"] - results[sizes[0]]["peak_rss_mb"]
        rows.append(Row(f"DLZ window task: RSS growth, {sizes[0]:,} to {sizes[-1]:,} records", f"{growth:+.1f} MB",
                        "-", None, f"flat (< {FLAT_MB:.0f} MB)", abs(growth) < FLAT_MB))
    return rows, summary(results)


if __name__ == "__main__":
    import sys

    from _common import setup_environment, table

    setup_environment()
    found, text = run(tuple(int(a) for a in sys.argv[1:]) or (100_000,))
    print(text + "\n\n" + table(found))
