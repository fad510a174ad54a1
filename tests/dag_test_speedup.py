"""One in-process Execution API per process for ``dag.test()``, as Airflow 3.3 builds it.

``dag.test()`` runs each task against an in-process Execution API app. Airflow 3.3 builds that app once per
process (``functools.lru_cache`` on ``airflow.sdk.execution_time.supervisor.in_process_api_server``); 3.0 to
3.2 build it, with all its versioned routes, again for every task: 1.5 to 3 seconds a task, which makes a
24-interval backfill take minutes there instead of seconds. Tests that run many DAG runs in one process call
:func:`reuse_in_process_execution_api` first. It changes nothing on 3.3, where the function is cached already.
"""

from __future__ import annotations

import functools


def reuse_in_process_execution_api() -> None:
    try:
        from airflow.sdk.execution_time import supervisor
    except ImportError:  # no task SDK: nothing to speed up
        return
    build = getattr(supervisor, "in_process_api_server", None)
    if build is not None and not hasattr(build, "cache_info"):
        supervisor.in_process_api_server = functools.lru_cache(maxsize=1)(build)
