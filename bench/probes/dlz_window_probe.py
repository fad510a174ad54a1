"""One Data Landing Zone window task in a process of its own, as an Airflow worker runs it; prints one JSON line.

``ZohoCRMToAEPDataLandingZoneOperator.execute`` over one window: the Zoho export, the upload, the run and the
wait for it. Measured: the task's wall seconds, the CPU seconds (user + system, every thread of the process) spent
inside ``ZohoCRMHook.export_modified_records``, and the process's peak RSS at the end.

argv: module, window start, window end (ISO 8601), flow ID. The Connections come from the AIRFLOW_CONN_*
variables the benchmark sets; the export's files go under ``$TMPDIR``.
"""

from __future__ import annotations

import json
import resource
import sys
import time
from datetime import datetime
from typing import Any

POLL_SECONDS = 0.05


class _TI:
    """What the operator uses of a task instance: identity for its folder, XCom push and pull."""

    dag_id, run_id, task_id, map_index = "dlz_window_bench", "bench", "ingest", -1

    def __init__(self) -> None:
        self.xcom: dict[str, Any] = {}

    def xcom_push(self, key: str, value: Any) -> None:
        self.xcom[key] = value

    def xcom_pull(self, task_ids: str | None = None, key: str = "return_value", **_: Any) -> Any:
        return self.xcom.get(key)


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


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _measure_export(spent: list[float]) -> None:
    """Add the CPU seconds of every call of the hook's export to ``spent``."""
    from airflow_provider_zoho_aep.hooks.zoho_crm import ZohoCRMHook

    real = ZohoCRMHook.export_modified_records

    def measured(*args: Any, **kwargs: Any) -> Any:
        began = _cpu_seconds()
        try:
            return real(*args, **kwargs)
        finally:
            spent.append(_cpu_seconds() - began)

    ZohoCRMHook.export_modified_records = measured  # type: ignore[method-assign]


def main() -> None:
    module, start, end, flow_id = sys.argv[1:5]
    from airflow.sdk.bases.operator import ExecutorSafeguard

    from airflow_provider_zoho_aep.transfers.zoho_crm_to_aep_dlz import ZohoCRMToAEPDataLandingZoneOperator

    ExecutorSafeguard.test_mode = True  # execute() outside a task runner, on purpose
    export_cpu: list[float] = []
    _measure_export(export_cpu)
    window = (datetime.fromisoformat(start), datetime.fromisoformat(end))
    op = ZohoCRMToAEPDataLandingZoneOperator(task_id="ingest", module=module, flow_id=flow_id,
                                             window_start=window[0], window_end=window[1], deferrable=False,
                                             poll_interval=POLL_SECONDS, timeout=1800)
    began = time.perf_counter()
    result = op.execute({"ti": _TI(), "data_interval_start": window[0], "data_interval_end": window[1]})
    wall = time.perf_counter() - began
    files = result["files"]
    print(json.dumps({
        "wall": wall, "records": result["records_exported"], "landed": result["output_record_count"],
        "files": len(files) if isinstance(files, list) else int(files),
        "export_cpu": sum(export_cpu) if export_cpu else None, "peak_rss_mb": peak_rss_mb(),
    }))


if __name__ == "__main__":
    main()
