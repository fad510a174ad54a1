"""Flow Service over HTTP: headers, the IMS token, paging and the resource calls.

Resources are addressed by their Flow Service collection, the path segment of their URL: base connections live
in ``connections``, then ``sourceConnections``, ``targetConnections``, ``flows`` and
``runs``. The name-based idempotency on top of
these calls lives in :mod:`airflow_provider_zoho_aep.client.idempotent`.
"""

from __future__ import annotations

import builtins
from collections.abc import Iterable, Mapping, Sequence
from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit

import requests

from airflow_provider_zoho_aep import BASE_CONNECTIONS, FLOWS, RUNS, SOURCE_CONNECTIONS, TARGET_CONNECTIONS
from airflow_provider_zoho_aep.client.errors import AEPAPIError
from airflow_provider_zoho_aep.client.http import HttpTransport
from airflow_provider_zoho_aep.client.ims import IMSTokenProvider
from airflow_provider_zoho_aep.client.settings import AEPSettings

SERVICE = "Flow Service"
COLLECTIONS = frozenset({BASE_CONNECTIONS, SOURCE_CONNECTIONS, TARGET_CONNECTIONS, FLOWS, RUNS})
MAX_PAGES = 100
#: Flow Service splits a filter value on commas (OR); such a value cannot be filtered on server-side.
_UNFILTERABLE = ","


def property_filters(filters: Mapping[str, str]) -> list[tuple[str, str]]:
    """``{"name": "x", "connectionSpec.id": "y"}`` → repeated ``property=name==x`` query parameters (AND)."""
    return [("property", f"{key}=={value}") for key, value in filters.items() if _UNFILTERABLE not in value]


def flow_service_headers(
    settings: AEPSettings, token: str, *, body: bool = False, if_match: str | None = None
) -> dict[str, str]:
    """The headers every Flow Service call carries (Adobe's "getting started with Platform APIs")."""
    headers = {
        "Authorization": f"Bearer {token}",
        "x-api-key": settings.client_id,
        "x-gw-ims-org-id": settings.ims_org_id,
        "x-sandbox-name": settings.sandbox_name,
        "Accept": "application/json",
    }
    if body:
        headers["Content-Type"] = "application/json"
    if if_match is not None:
        headers["If-Match"] = if_match
    return headers


class FlowServiceClient:
    """Calls Flow Service for one organization and sandbox.

    :param settings: validated AEP settings (client ID, org, sandbox, URLs, timeout)
    :param transport: the HTTP transport (retries, timeouts, errors)
    :param tokens: the IMS token provider
    """

    def __init__(self, settings: AEPSettings, transport: HttpTransport, tokens: IMSTokenProvider) -> None:
        self.settings = settings
        self.transport = transport
        self.tokens = tokens
        self.base_url = settings.flow_service_url

    # -- plumbing ---------------------------------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Any = None,
        json: Any = None,
        idempotent: bool = True,
        if_match: str | None = None,
        ok: tuple[int, ...] = (200, 201, 204),
        base_url: str | None = None,
        service: str = SERVICE,
    ) -> requests.Response:
        """One Flow Service call. A 401 for an expired token refreshes the token once and retries once.

        ``base_url`` and ``service`` let the other Platform APIs that take the same headers (the Data Landing
        Zone, Data Prep) use this one path for token, headers and retries.
        """
        token = self.tokens.get_token()
        url = (base_url or self.base_url) + path
        headers = flow_service_headers(self.settings, token, body=json is not None, if_match=if_match)
        try:
            return self.transport.request(
                method, url, service=service, idempotent=idempotent, headers=headers, params=params,
                json=json, ok=ok,
            )
        except AEPAPIError as err:
            if err.status != 401:
                raise
        # The gateway refused the token before doing anything, so even a create is safe to send again.
        self.tokens.invalidate(token)
        headers["Authorization"] = f"Bearer {self.tokens.get_token()}"
        return self.transport.request(
            method, url, service=service, idempotent=idempotent, headers=headers, params=params, json=json, ok=ok
        )

    # -- generic resource calls ---------------------------------------------------------------------------

    def list(
        self,
        collection: str,
        filters: Mapping[str, str] | None = None,
        *,
        orderby: str | None = None,
        limit: int | None = None,
        max_items: int | None = None,
    ) -> list[dict[str, Any]]:
        """All items of ``collection`` matching the ``property`` filters, following ``_links.next`` pages."""
        _check_collection(collection)
        params: list[tuple[str, str]] = property_filters(filters or {})
        if orderby:
            params.append(("orderby", orderby))
        if limit:
            params.append(("limit", str(limit)))
        items: list[dict[str, Any]] = []
        for _ in range(MAX_PAGES):
            body = self.request("GET", f"/{collection}", params=params, ok=(200,)).json()
            items.extend(body.get("items") or [])
            if max_items is not None and len(items) >= max_items:
                return items[:max_items]
            next_href = ((body.get("_links") or {}).get("next") or {}).get("href")
            if not next_href:
                return items
            # Parse the continuation token out of the href's query; never split on '='.
            params = parse_qsl(urlsplit(next_href).query, keep_blank_values=True)
        raise AEPAPIError(f"Flow Service GET /{collection}: more than {MAX_PAGES} pages", service=SERVICE)

    def get(self, collection: str, resource_id: str) -> dict[str, Any]:
        """One resource; Flow Service wraps it as ``{"items": [...]}``."""
        _check_collection(collection)
        body = self.request("GET", f"/{collection}/{segment(resource_id)}", ok=(200,)).json()
        items = body.get("items") if isinstance(body, dict) else None
        if not items:
            raise AEPAPIError(f"Flow Service GET /{collection}/{resource_id} returned no item", status=200,
                              service=SERVICE)
        return items[0]

    def create(self, collection: str, body: Mapping[str, Any]) -> dict[str, Any]:
        """POST a new resource; returns ``{"id", "etag"}``. Never retried once it may have reached the server."""
        _check_collection(collection)
        return self.request("POST", f"/{collection}", json=dict(body), idempotent=False, ok=(200, 201)).json()

    def patch(
        self, collection: str, resource_id: str, operations: Sequence[Mapping[str, Any]], etag: str | None
    ) -> dict[str, Any]:
        """PATCH with ``If-Match`` (the etag exactly as received, quotes included); returns the new etag."""
        _check_collection(collection)
        return self.request(
            "PATCH", f"/{collection}/{segment(resource_id)}", json=[dict(op) for op in operations], if_match=etag,
            ok=(200,),
        ).json()

    def delete(self, collection: str, resource_id: str) -> bool:
        """DELETE; True when deleted, False when it was already gone.

        Gone is a 404, or a 400 with ``FLOW-1439-400``: Adobe's error catalogue calls 1439 "Resource not found"
        and Flow Service answers it with either status.
        """
        _check_collection(collection)
        try:
            self.request("DELETE", f"/{collection}/{segment(resource_id)}", ok=(200, 202, 204))
        except AEPAPIError as err:
            if err.status == 404 or (err.status == 400 and bool(err.code) and "-1439-" in f"-{err.code}"):
                return False
            raise
        return True

    # -- specific calls -------------------------------------------------------------------------------------

    def get_connection_spec(self, spec_id: str) -> dict[str, Any]:
        body = self.request("GET", f"/connectionSpecs/{segment(spec_id)}", ok=(200,)).json()
        items = body.get("items") if isinstance(body, dict) else None
        if not items:
            raise AEPAPIError(f"connection spec {spec_id} not found", status=404, service=SERVICE)
        return items[0]

    def find_flow_spec(self, name: str) -> builtins.list[dict[str, Any]]:
        body = self.request("GET", "/flowSpecs", params=[("property", f'name=="{name}"')], ok=(200,)).json()
        return [item for item in body.get("items") or [] if item.get("name") == name]

    def test_connection(self, connection_id: str) -> bool:
        body = self.request("GET", f"/connections/{segment(connection_id)}/test", ok=(200,)).json()
        return bool(body.get("result"))

    def explore(self, connection_id: str, params: Iterable[tuple[str, str]]) -> Any:
        return self.request("GET", f"/connections/{segment(connection_id)}/explore", params=list(params),
                            ok=(200,)).json()


def _check_collection(collection: str) -> None:
    if collection not in COLLECTIONS:
        raise ValueError(f"unknown Flow Service collection {collection!r}")


def segment(value: str) -> str:
    """An ID as one URL path segment, so a stray '/' or '?' in a templated ID cannot change the call."""
    return quote(str(value), safe="")
