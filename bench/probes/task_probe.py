"""One task in an interpreter of its own, as an Airflow worker runs every task; prints one JSON line.

``CLASS KWARGS [execute|poke]``: build ``airflow_provider_zoho_aep.CLASS`` (e.g.
``operators.base_connection.AEPCreateZohoCRMBaseConnectionOperator``) from the JSON object KWARGS and run its
``execute`` (or a sensor's ``poke``), printing the value it returns.
``hooks N``: N AEP hooks in this one process, one look-up each (they share one IMS token).

The Connections come from the AIRFLOW_CONN_* variables the benchmark sets.
"""

from __future__ import annotations

import importlib
import json
import sys
from typing import Any


class _TI:
    def xcom_push(self, key: str, value: Any) -> None:
        json.dumps(value)  # XCom takes JSON


def _task(path: str, kwargs: dict[str, Any], how: str) -> Any:
    from airflow.sdk.bases.operator import ExecutorSafeguard

    ExecutorSafeguard.test_mode = True  # execute() outside a task runner, on purpose
    module, _, name = path.rpartition(".")
    task = getattr(importlib.import_module(f"airflow_provider_zoho_aep.{module}"), name)(task_id="task", **kwargs)
    if how == "poke":
        poked = task.poke({"ti": _TI()})
        return {"is_done": bool(getattr(poked, "is_done", poked))}
    return task.execute({"ti": _TI()})


def _hooks(n: int) -> None:
    from airflow_provider_zoho_aep.hooks.aep import AdobeExperiencePlatformHook

    for _ in range(n):
        AdobeExperiencePlatformHook().find_base_connections("Zoho CRM base connection")


def main() -> None:
    if sys.argv[1] == "hooks":
        _hooks(int(sys.argv[2]))
        result = None
    else:
        result = _task(sys.argv[1], json.loads(sys.argv[2]), (sys.argv[3:] or ["execute"])[0])
    print(json.dumps({"result": result}, default=str))


if __name__ == "__main__":
    main()
