"""On-demand dataflow runs, one per window: part of
:class:`~airflow_provider_zoho_aep.hooks.aep.AdobeExperiencePlatformHook`.

A dataflow scheduled ``once`` runs only when asked (``POST /runs``), for a window; these methods start such a
run at most once per window and read runs back, from a worker or (``a…`` methods) from the triggerer.
"""

from __future__ import annotations

from typing import Any

from airflow_provider_zoho_aep import RUNS
from airflow_provider_zoho_aep.client.windows import check_time_unit, check_window, run_params, same_window
from airflow_provider_zoho_aep.hooks.aep_base import AdobeExperiencePlatformBaseHook
from airflow_provider_zoho_aep.validation import check_if_run_exists, check_required


class DataflowRunsMixin(AdobeExperiencePlatformBaseHook):
    """The runs of a dataflow: read them, find the ones of a window, start one per window."""

    def list_runs(self, flow_id: str, limit: int | None = None) -> list[dict[str, Any]]:
        """The dataflow's runs, newest first (all of them, or the newest ``limit``)."""
        check_required(flow_id, "flow_id")
        items = self.client.list(RUNS, {"flowId": flow_id}, orderby="-createdAt", limit=limit, max_items=limit)
        return [item for item in items if item.get("flowId") in (None, flow_id)]

    def get_run(self, run_id: str) -> dict[str, Any]:
        """One run (``GET /runs/{id}``): status, record counts and errors in ``metrics``."""
        return self.client.get(RUNS, check_required(run_id, "run_id"))

    def find_runs_for_window(self, flow_id: str, window_start: Any, window_end: Any) -> list[dict[str, Any]]:
        """The dataflow's runs started for exactly the window ``[window_start, window_end)``, newest first."""
        from airflow_provider_zoho_aep.client.ondemand import runs_for_window

        check_required(flow_id, "flow_id")
        window = check_window(window_start, window_end)
        return runs_for_window(self.client, flow_id, window)

    def start_dataflow_run(
        self,
        flow_id: str,
        window_start: Any,
        window_end: Any,
        *,
        delta_column: str | None = None,
        if_run_exists: str = "reuse",
        time_unit: str = "seconds",
    ) -> dict[str, Any]:
        """Start an on-demand run of a dataflow scheduled ``once`` for one window, at most once per window.

        :param flow_id: the dataflow (its schedule must be ``once``)
        :param window_start: start of the window, timezone-aware (datetime or ISO 8601 with offset), inclusive
        :param window_end: end of the window, exclusive; not in the future
        :param delta_column: ``params.deltaColumn.name``; Adobe accepts it only on the flow's first run
        :param if_run_exists: ``reuse`` (default: adopt a running or succeeded run of the same window), ``rerun``
            (always post a new one) or ``fail``
        :param time_unit: unit of the run's epoch params, ``seconds`` (Adobe's tutorial) or ``milliseconds``
            (Adobe's OpenAPI file); Adobe's documents disagree, so confirm it against your sandbox
        :return: ``{"run_id", "created"}`` (``created`` False when a run of the window was adopted)
        """
        from airflow_provider_zoho_aep.client.ondemand import start_run

        check_required(flow_id, "flow_id")
        window = check_window(window_start, window_end)
        choice = check_if_run_exists(if_run_exists)
        unit = check_time_unit(time_unit)
        if delta_column is not None:
            check_required(delta_column, "delta_column", "pass the flow's delta column, e.g. 'Modified_Time'")
        self.validate_connection()
        started = start_run(self.client, flow_id, window,
                            run_params(window, unit=unit, delta_column=delta_column), choice)  # type: ignore[arg-type]
        return {"run_id": started.id, "created": started.created}

    async def aget_run(self, run_id: str) -> dict[str, Any]:
        """:meth:`get_run` for coroutines (the triggerer)."""
        client = await self.aget_async_client()
        return await client.get(RUNS, check_required(run_id, "run_id"))

    async def alist_runs(self, flow_id: str, limit: int = 5) -> list[dict[str, Any]]:
        """The dataflow's newest ``limit`` runs, newest first, for coroutines (one page)."""
        check_required(flow_id, "flow_id")
        client = await self.aget_async_client()
        items = await client.list(RUNS, {"flowId": flow_id}, orderby="-createdAt", limit=limit)
        return [item for item in items if item.get("flowId") in (None, flow_id)]

    async def afind_runs_for_window(
        self, flow_id: str, window_start: Any, window_end: Any, limit: int = 100
    ) -> list[dict[str, Any]]:
        """:meth:`find_runs_for_window` for coroutines, over the newest ``limit`` runs."""
        window = check_window(window_start, window_end)
        found = [item for item in await self.alist_runs(flow_id, limit) if same_window(item, window)]
        return sorted(found, key=lambda item: item.get("createdAt") or 0, reverse=True)
