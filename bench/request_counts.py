"""Benchmark 2: HTTP requests per operation, from the emulator's request log, against the API's minimum.

Each operation runs through the operators in an interpreter of its own (``bench/probes/task_probe.py``), as
every Airflow task is a process of its own: it starts with no token cached. Flow Service requests are the ones
the gateway rate-limits, so the ratio is theirs; IMS and Zoho token requests are listed beside them.

What we count as the minimum for each operation (Flow Service requests):

* create, first run: look-up by name + POST = 2, plus the pre-flight spec read (``check_connection_spec=True``,
  the default) = 3. A create that stays idempotent by name cannot skip the look-up.
* reuse, second run: spec read + look-up = 2.
* update: spec read + look-up + PATCH = 3 (the look-up's item carries the etag for ``If-Match``).
* pipeline: base connection 3, explore 1, source and target connections 2 each (look-up + POST), dataflow 3
  (the CRMToAEP flow spec's ID must be looked up by name, then look-up + POST), one read of the runs once the
  run is over = 12.

What the provider adds on purpose: one look-up after every create, to converge concurrent duplicates (two
tasks racing on one name both end with the oldest), and, for the dataflow, one read each of the source and the
target connection to check that the flow spec accepts them before anything is written.
"""

from __future__ import annotations

import json
import re
import time
from typing import Any

from _common import BENCH, FLOW_PREFIX, PYTHON, Row, child_env, connect_to, run_json

DATASET_ID = "5f3c2bfc1a2b3c4d5e6f7a8b"
SCHEMA_ID = "https://ns.adobe.com/emulator/schemas/zoho-crm-leads"
PROBE = BENCH / "probes" / "task_probe.py"
_ID = re.compile(r"/[0-9a-f]{8}-[0-9a-f-]{27}")


def _describe(requests: list[Any]) -> str:
    def one(r: Any) -> str:
        path = _ID.sub("/{id}", r.path[len(FLOW_PREFIX):])
        return f"{r.method} {path}{'?name' if any('name==' in p for p in r.query.get('property', [])) else ''}"

    return ", ".join(one(r) for r in requests)


class Counter:
    """Runs one task in a new process and splits the requests it sent by service."""

    def __init__(self, emulator: Any) -> None:
        self.emulator = emulator

    def __call__(self, *argv: str) -> tuple[Any, dict[str, Any]]:
        self.emulator.clear_requests()
        result = run_json([PYTHON, str(PROBE), *argv], env=child_env())["result"]
        sent = self.emulator.requests
        flow = [r for r in sent if r.path.startswith(FLOW_PREFIX)]
        return result, {
            "flow": len(flow),
            "ims": sum(r.path.startswith("/ims/") for r in sent),
            "zoho": sum(r.path.startswith(("/oauth/", "/crm/")) for r in sent),
            "detail": _describe(flow),
        }


def task(path: str, **kwargs: Any) -> tuple[str, str]:
    """The probe's arguments for the operator at ``path`` (under the package) with ``kwargs``."""
    return path, json.dumps(kwargs)


BASE = "operators.base_connection.AEPCreateZohoCRMBaseConnectionOperator"


def _row(name: str, counts: dict[str, Any], minimum: int, allowed_extra: int, extra_why: str) -> Row:
    ours = f"{counts['flow']} FS + {counts['ims']} IMS + {counts['zoho']} Zoho"
    base = f"{minimum} FS + {counts['ims']} IMS + {counts['zoho']} Zoho"
    goal = "= min" if not allowed_extra else f"min + {allowed_extra}"
    notes = [f"sent: {counts['detail']}"]
    if allowed_extra:
        notes.append(f"the {allowed_extra} above the minimum: {extra_why}")
    return Row(name, ours, base, counts["flow"] / minimum, goal, counts["flow"] <= minimum + allowed_extra, notes)


def run() -> list[Row]:
    from emulator import Emulator

    rows: list[Row] = []
    converge = "the look-up after the POST that converges concurrent duplicates"
    with Emulator(run_duration=0.3) as emu:
        connect_to(emu.url)
        counted = Counter(emu)
        base = task(BASE, name="Zoho CRM base connection")
        _, created = counted(*base)
        _, reused = counted(*base)
        _, updated = counted(*task(BASE, name="Zoho CRM base connection", if_exists="update"))
        rows += [
            _row("requests: create (first run)", created, 3, 1, converge),
            _row("requests: reuse (second run)", reused, 2, 0, ""),
            _row("requests: update (if_exists='update')", updated, 3, 0, ""),
        ]

        emu.reset()
        ids: dict[str, Any] = {}
        steps: dict[str, dict[str, Any]] = {}

        def step(name: str, *argv: str) -> None:
            ids[name], steps[name] = counted(*argv)

        step("base", *base)
        step("explore", *task("operators.list_tables.AEPListTablesOperator", base_connection_id=ids["base"],
                              required_table="Leads"))
        step("source", *task("operators.source_connection.AEPCreateSourceConnectionOperator", name="Zoho CRM Leads",
                             base_connection_id=ids["base"], table_name="Leads"))
        step("target", *task("operators.target_connection.AEPCreateTargetConnectionOperator", name="Leads dataset",
                             dataset_id=DATASET_ID, schema_id=SCHEMA_ID))
        step("flow", *task("operators.dataflow.AEPCreateDataflowOperator", name="Zoho CRM Leads to AEP",
                           source_connection_id=ids["source"], target_connection_id=ids["target"],
                           delta_column="Modified_Time"))
        time.sleep(emu.run_duration + 0.2)  # the run is over before the sensor's first look
        step("run", *task("sensors.dataflow_run.AEPDataflowRunSensor", flow_id=ids["flow"], deferrable=False),
             "poke")
        assert ids["run"]["is_done"], ids["run"]
        total = {
            "flow": sum(s["flow"] for s in steps.values()),
            "ims": sum(s["ims"] for s in steps.values()),
            "zoho": sum(s["zoho"] for s in steps.values()),
            "detail": "; ".join(f"{name} {s['flow']}" for name, s in steps.items()),
        }
        rows.append(_row(
            "requests: whole pipeline (6 tasks)", total, 12, 6,
            "4 converge look-ups (one per create) + the dataflow task's reads of its source and target connections "
            "(pre-flight: the flow spec must accept their connection specs). IMS: one token per task, since every "
            "task is a new process and the cache is per process",
        ))

        hooks = 10
        _, shared = counted("hooks", str(hooks))
        rows.append(Row(
            f"IMS token requests: {hooks} hooks, one process", f"{shared['ims']}", "1", shared["ims"] / 1, "= 1",
            shared["ims"] == 1,
        ))
    return rows
