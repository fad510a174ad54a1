"""How many records a run of a Zoho CRM flow reads: those of its module whose Modified_Time is in the window.

An on-demand run (``POST /runs`` with ``params.windowStartTime`` / ``windowEndTime``) counts the records of the
emulated CRM data set modified in ``[start, end)``; a scheduled run (no window) counts every record modified
before it started. Flows of other sources keep the fixed count of :data:`~.runs.RUN_RECORDS`.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from .crm_data import MODULES
from .runs import RUN_RECORDS
from .state import Store
from .validation import epoch_seconds


def _utc(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, tz=timezone.utc)


def module_of(store: Store, flow: dict[str, Any]) -> str | None:
    """The Zoho CRM module (``params.tableName`` of the flow's source connection), or None."""
    for source_id in flow.get("sourceConnectionIds") or []:
        source = store.source_connections.get(source_id) or {}
        table = (source.get("params") or {}).get("tableName")
        if table in MODULES:
            return str(table)
    return None


def run_records(store: Store, flow: dict[str, Any], params: dict[str, Any] | None) -> int:
    """The number of records a run of ``flow`` with ``params`` reads (its input record count)."""
    module = module_of(store, flow)
    if module is None:
        return RUN_RECORDS
    data = store.crm_data
    if params and "windowStartTime" in params:
        start = _utc(epoch_seconds(params["windowStartTime"]))
        end = _utc(epoch_seconds(params["windowEndTime"]))
    else:
        start, end = data.start, datetime.now(timezone.utc)
    return data.count_modified_in(module, start, end)
