"""Benchmark 5: against aepp, Adobe's Python wrapper (PyPI ``aepp``), in its own venv under ``.bench/``.

aepp is installed into ``.bench/aepp-venv`` (git-ignored, created here with uv on first use), never into the
project's venv. Side by side: import time (fresh interpreters, interleaved), and the requests one base-connection
create sends, run twice with the same name as a retried task would be (``bench/probes/aepp_probe.py``).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from _common import (
    BENCH,
    FLOW_PREFIX,
    PYTHON,
    WORK,
    Row,
    clear_token_caches,
    connect_to,
    median,
    paired,
    paired_ratio,
    run_json,
)

VENV = WORK / "aepp-venv"
AEPP_PYTHON = VENV / "bin" / "python"
PROBE = BENCH / "probes" / "aepp_probe.py"
UV = Path(sys.executable).parent / "uv"


def ensure_aepp() -> str | None:
    """Install aepp into its own venv if needed; None when ready, else why it could not be."""
    check = [str(AEPP_PYTHON), "-c", "import aepp"]
    if AEPP_PYTHON.exists() and subprocess.run(check, capture_output=True).returncode == 0:
        return None
    steps = [[str(UV), "venv", "--quiet", "--python", PYTHON, str(VENV)],
             [str(UV), "pip", "install", "--quiet", "--python", str(AEPP_PYTHON), "aepp"]]
    for step in steps:
        proc = subprocess.run(step, capture_output=True, text=True)
        if proc.returncode != 0:
            return f"could not install aepp: {proc.stderr.strip()[-300:]}"
    return None


def _import_ours() -> float:
    code = ("import time; t = time.perf_counter(); "
            "import airflow_provider_zoho_aep.hooks.aep; "  # and the HTTP stack it loads on first use:
            "import airflow_provider_zoho_aep.client.idempotent, airflow_provider_zoho_aep.client.flow_service; "
            "import json; print(json.dumps({'seconds': time.perf_counter() - t}))")
    return float(run_json([PYTHON, "-c", code])["seconds"])


def _import_client_layer() -> float:
    code = ("import time; t = time.perf_counter(); "
            "import airflow_provider_zoho_aep.client.idempotent, airflow_provider_zoho_aep.client.flow_service; "
            "import json; print(json.dumps({'seconds': time.perf_counter() - t}))")
    return float(run_json([PYTHON, "-c", code])["seconds"])


def _import_aepp() -> float:
    return float(run_json([str(AEPP_PYTHON), str(PROBE), "import"])["seconds"])


def _creates(emu: Any, name: str, create: Any) -> dict[str, int]:
    emu.clear_requests()
    for _ in range(2):  # the task, then its retry
        clear_token_caches()
        create()
    sent = emu.requests
    return {
        "flow": sum(r.path.startswith(FLOW_PREFIX) for r in sent),
        "ims": sum(r.path.startswith("/ims/") for r in sent),
        "stored": sum(c["name"] == name for c in emu.store.connections.values()),
    }


def run(reps: int) -> list[Row]:
    problem = ensure_aepp()
    if problem:
        return [Row("vs aepp", "-", "-", None, notes=[problem])]
    from airflow_provider_zoho_aep import ZOHO_CRM_CONNECTION_SPEC_ID as SPEC
    from airflow_provider_zoho_aep.hooks.aep import AdobeExperiencePlatformHook
    from emulator import Emulator, EmulatorCredentials

    ours, theirs = paired(reps, _import_ours, _import_aepp)
    layer, theirs2 = paired(reps, _import_client_layer, _import_aepp)
    creds = EmulatorCredentials()
    with Emulator() as emu:
        connect_to(emu.url)
        params = {"endpoint": emu.url, "accountsUrl": emu.url, "clientId": creds.zoho_client_id,
                  "clientSecret": creds.zoho_client_secret, "accessToken": "bench",
                  "refreshToken": creds.zoho_refresh_token}
        probe_creds = json.dumps({**vars(creds), "auth_params": params})
        mine = _creates(emu, "ours", lambda: AdobeExperiencePlatformHook().create_base_connection("ours", SPEC, params))
        aepp = _creates(emu, "aepp", lambda: run_json(
            [str(AEPP_PYTHON), str(PROBE), "create", emu.url, "aepp", SPEC, probe_creds]))
    version = subprocess.run([str(AEPP_PYTHON), "-c", "import aepp; print(aepp.__version__)"],
                             capture_output=True, text=True).stdout.strip()
    return [
        Row(f"vs aepp {version}: import, hook (Airflow included)", f"{median(ours) * 1000:.0f} ms",
            f"{median(theirs) * 1000:.0f} ms", paired_ratio(ours, theirs),
            notes=["the hook needs Airflow (already loaded wherever a task runs); aepp needs only requests"]),
        Row(f"vs aepp {version}: import, client layer (no Airflow)", f"{median(layer) * 1000:.0f} ms",
            f"{median(theirs2) * 1000:.0f} ms", paired_ratio(layer, theirs2)),
        Row(
            f"vs aepp {version}: create run twice (task + retry)",
            f"{mine['flow']} FS + {mine['ims']} IMS, {mine['stored']} stored",
            f"{aepp['flow']} FS + {aepp['ims']} IMS, {aepp['stored']} stored",
            mine["flow"] / aepp["flow"],
            notes=[
                "aepp POSTs blindly: a retried task leaves a duplicate base connection; ours looks up by name first "
                "(and once more after its create) and reuses",
                "aepp was pointed at the emulator with environment='support', endpoint=<emulator> and its IMS token "
                "URL overwritten in aepp.config.config_object; it sends every request with verify=False (no TLS "
                "certificate check) and silences urllib3's warning about it",
            ],
        ),
    ]
