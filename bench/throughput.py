"""Benchmark 3: base-connection creates per second at the gateway's rate limit, against the ceiling.

The emulator's token bucket limits Flow Service to ``rate`` requests/s (burst ``burst``) and answers 429 with
``Retry-After`` beyond it, in whole seconds (at least 1) as HTTP allows and Adobe's gateway sends. ``threads``
workers, each with its own hook (as parallel tasks would have), create ``creates`` base connections with
distinct names. A create through the hook is 3 Flow Service requests (look-up, POST, converge look-up), so the
best the limit allows is ``T_min = (3 * creates - burst) / rate`` seconds; the ratio is ``T_min`` over the
time taken (= achieved creates/s over the ceiling, with the initial burst credited).
"""

from __future__ import annotations

import re
import threading
import time
from collections import Counter
from typing import Any

from _common import FLOW_PREFIX, Row, connect_to

REQUESTS_PER_CREATE = 3


def _auth_params() -> dict[str, str]:
    from emulator import EmulatorCredentials

    creds = EmulatorCredentials()
    return {"endpoint": "", "accountsUrl": "", "clientId": creds.zoho_client_id,
            "clientSecret": creds.zoho_client_secret, "accessToken": "bench", "refreshToken": creds.zoho_refresh_token}


def _worker(names: list[str], lock: threading.Lock, results: list[Any], params: dict[str, str]) -> None:
    from airflow_provider_zoho_aep import ZOHO_CRM_CONNECTION_SPEC_ID
    from airflow_provider_zoho_aep.hooks.aep import AdobeExperiencePlatformHook

    hook = AdobeExperiencePlatformHook()
    while True:
        with lock:
            if not names:
                return
            name = names.pop()
        try:
            hook.create_base_connection(name, ZOHO_CRM_CONNECTION_SPEC_ID, params)
            results.append((name, None, time.monotonic()))
        except Exception as err:  # counted as a failure, shown in the notes
            results.append((name, err, time.monotonic()))


def _why(err: Exception) -> str:
    """``GET /connections gave up: retry limit reached (HTTP 429)``: one failure, without its request ID."""
    found = re.search(r"(GET|POST|PATCH|DELETE) (\S+) failed; gave up: ([^|]+)", str(err))
    if not found:
        return f"{type(err).__name__}: {str(err)[:200]}"
    status = getattr(err, "status", None)
    return f"{found[1]} {found[2].removeprefix(FLOW_PREFIX)} gave up: {found[3].strip()} (HTTP {status})"


def run(threads: int, creates: int, rate: float, burst: int | None = None, informational: bool = False) -> list[Row]:
    from emulator import Emulator

    burst = burst or max(1, int(rate))
    with Emulator() as emu:
        connect_to(emu.url)
        params = _auth_params()
        params.update(endpoint=emu.url, accountsUrl=emu.url)
        emu.set_rate_limit(rate, burst)
        names = [f"bench throughput {i:04d}" for i in range(creates)]
        lock = threading.Lock()
        results: list[Any] = []
        args = (names, lock, results, params)
        workers = [threading.Thread(target=_worker, args=args) for _ in range(threads)]
        start = time.monotonic()
        for w in workers:
            w.start()
        for w in workers:
            w.join()
        elapsed = max(t for _, _, t in results) - start
        sent = emu.requests
        stored = Counter(c["name"] for c in emu.store.connections.values())

    failures = [err for _, err, _ in results if err is not None]
    duplicates = sum(n - 1 for n in stored.values() if n > 1)
    flow = [r for r in sent if r.path.startswith(FLOW_PREFIX)]
    throttled = sum(r.status == 429 for r in flow)
    tokens = sum(r.path.startswith("/ims/") for r in sent)
    done = creates - len(failures)
    t_min = max(REQUESTS_PER_CREATE * done - burst, 1) / rate
    ratio = t_min / elapsed
    ok = ratio >= 0.90 and not failures and not duplicates and len(stored) == creates
    achieved = done / elapsed
    return [Row(
        f"throughput: {creates} creates, {threads} threads, limit {rate:g} req/s, burst {burst}",
        f"{achieved:.2f} creates/s",
        f"{done / t_min:.2f} creates/s",
        ratio,
        ">= 0.90, 0 failures, 0 duplicates",
        None if informational else ok,
        [
            f"{elapsed:.1f} s (best possible {t_min:.1f} s; sustained ceiling {rate / REQUESTS_PER_CREATE:.2f} "
            f"creates/s, plus the initial burst); failures {len(failures)}, duplicates "
            f"{duplicates}; Flow Service requests {len(flow)} of which {throttled} answered 429",
            f"IMS token requests with {threads} threads starting together: {tokens}",
            *(f"{n} failed: {why}" for why, n in Counter(_why(e) for e in failures).most_common()),
        ],
    )]
