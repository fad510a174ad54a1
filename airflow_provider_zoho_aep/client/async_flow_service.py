"""Flow Service reads for coroutines: the async twin of :class:`~.flow_service.FlowServiceClient`'s reads.

The IMS token comes from the same :class:`~.ims.IMSTokenProvider` (one cache per process, shared with sync
callers), the headers from the same :func:`~.flow_service.flow_service_headers`, and a 401 takes the same path
as in the sync client: drop that token from the shared cache, ask for a new one, retry once.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from airflow_provider_zoho_aep.client.errors import AEPAPIError
from airflow_provider_zoho_aep.client.flow_service import SERVICE, flow_service_headers, property_filters, segment
from airflow_provider_zoho_aep.client.http import AsyncHttpTransport
from airflow_provider_zoho_aep.client.ims import IMSTokenProvider
from airflow_provider_zoho_aep.client.settings import AEPSettings


class AsyncFlowServiceClient:
    """Reads Flow Service without blocking the event loop.

    :param settings: validated AEP settings
    :param transport: the async transport (retries, timeouts, errors)
    :param tokens: the IMS token provider (its ``aget_token``)
    """

    def __init__(self, settings: AEPSettings, transport: AsyncHttpTransport, tokens: IMSTokenProvider) -> None:
        self.settings = settings
        self.transport = transport
        self.tokens = tokens
        self.base_url = settings.flow_service_url

    async def get_json(self, path: str, params: Any = None) -> Any:
        """GET a Flow Service path. A 401 for an expired token refreshes the token once and retries once."""
        url = self.base_url + path
        token = await self.tokens.aget_token()
        try:
            response = await self.transport.request(
                "GET", url, service=SERVICE, headers=flow_service_headers(self.settings, token), params=params
            )
        except AEPAPIError as err:
            if err.status != 401:
                raise
            self.tokens.invalidate(token)
            token = await self.tokens.aget_token()
            response = await self.transport.request(
                "GET", url, service=SERVICE, headers=flow_service_headers(self.settings, token), params=params
            )
        return response.json()

    async def list(
        self, collection: str, filters: Mapping[str, str], *, orderby: str | None = None, limit: int | None = None
    ) -> list[dict[str, Any]]:
        """One page of ``collection`` (``limit`` items at most), filtered with ``property``."""
        params = property_filters(filters)
        if orderby:
            params.append(("orderby", orderby))
        if limit:
            params.append(("limit", str(limit)))
        body = await self.get_json(f"/{collection}", params)
        items = body.get("items") if isinstance(body, Mapping) else None
        return [item for item in items or [] if isinstance(item, dict)]

    async def get(self, collection: str, resource_id: str) -> dict[str, Any]:
        """One resource; Flow Service wraps it as ``{"items": [...]}``."""
        body = await self.get_json(f"/{collection}/{segment(resource_id)}")
        items = body.get("items") if isinstance(body, Mapping) else None
        if not items or not isinstance(items[0], dict):
            raise AEPAPIError(f"Flow Service GET /{collection}/{resource_id} returned no item", status=200,
                              service=SERVICE)
        return items[0]
