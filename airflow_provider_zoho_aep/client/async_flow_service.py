"""Read-only async Flow Service access for the trigger: an IMS token and a flow's runs.

Kept to the two reads the trigger needs. The token lives only as long as this object (a trigger polls for
minutes, an IMS token lasts a day); an expired-token 401 asks IMS again once, like the sync client.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from airflow_provider_zoho_aep.client.async_http import AsyncHttpTransport
from airflow_provider_zoho_aep.client.errors import AEPAPIError
from airflow_provider_zoho_aep.client.flow_service import flow_service_headers
from airflow_provider_zoho_aep.client.ims import read_token_answer, token_form
from airflow_provider_zoho_aep.client.settings import AEPSettings

SERVICE = "Flow Service"


class AsyncFlowServiceReader:
    """Reads runs from Flow Service without blocking the event loop.

    :param settings: validated AEP settings
    :param transport: the async transport (retries, timeouts, errors)
    :param on_token: awaited with every new IMS token before it is used (Airflow's ``amask_secret``)
    """

    def __init__(
        self,
        settings: AEPSettings,
        transport: AsyncHttpTransport,
        on_token: Callable[[str], Awaitable[None]] | None = None,
    ) -> None:
        self.settings = settings
        self.transport = transport
        self.on_token = on_token
        self._token: str | None = None
        transport.add_secret(settings.client_secret)

    async def get_token(self) -> str:
        if self._token is None:
            response = await self.transport.request(
                "POST",
                self.settings.ims_token_url,
                service="IMS",
                data=token_form(self.settings.client_id, self.settings.client_secret, self.settings.scopes),
                headers={"Content-Type": "application/x-www-form-urlencoded"},
            )
            token, _ = read_token_answer(response)
            if self.on_token is not None:
                await self.on_token(token)
            self.transport.add_secret(token)
            self._token = token
        return self._token

    async def get(self, path: str, params: Any = None) -> Any:
        """GET a Flow Service path; a 401 refreshes the IMS token once."""
        url = self.settings.flow_service_url + path
        for attempt in (1, 2):
            token = await self.get_token()
            try:
                response = await self.transport.request(
                    "GET", url, service=SERVICE, headers=flow_service_headers(self.settings, token), params=params
                )
            except AEPAPIError as err:
                if err.status != 401 or attempt == 2:
                    raise
                self._token = None
                continue
            return response.json()
        raise AssertionError("unreachable")

    async def list_runs(self, flow_id: str, limit: int = 5) -> list[Mapping[str, Any]]:
        """The flow's newest runs, newest first (one page is enough to find the latest)."""
        body = await self.get(
            "/runs", [("property", f"flowId=={flow_id}"), ("orderby", "-createdAt"), ("limit", str(limit))]
        )
        items = body.get("items") if isinstance(body, Mapping) else None
        return [item for item in items or [] if isinstance(item, Mapping)]
