"""Data Prep mapping sets: ``{source column: XDM path}`` → a mapping set a dataflow's ``Mapping`` step uses.

A mapping set has no name, so it cannot be found by name like Flow Service resources. It is found by what it
is: the same output schema and the same mappings (each ``sourceType``/``source``/``destination``, order
ignored). Before a create, and after an ambiguous failure of one, the sandbox's mapping sets are listed and
compared; an equal one is reused, so re-runs and retries never make a second set.

Plain Python, no Airflow import; calls go through the Flow Service client's token, headers and retries.
"""

from __future__ import annotations

import builtins
import logging
from collections.abc import Iterable, Mapping
from typing import Any

from airflow_provider_zoho_aep.client.errors import AEPAPIError, AmbiguousWriteError, ConfigurationError
from airflow_provider_zoho_aep.client.flow_service import FlowServiceClient, segment

log = logging.getLogger(__name__)

SERVICE = "Data Prep"
CONVERSION_PATH = "/data/foundation/conversion"
DEFAULT_SCHEMA_CONTENT_TYPE = "application/vnd.adobe.xed-full+json;version=1"
PAGE_SIZE = 100
MAX_PAGES = 100
MAX_CREATE_ATTEMPTS = 3


def mapping_entries(mappings: Mapping[str, str]) -> list[dict[str, str]]:
    """``{"Email": "personalEmail.address"}`` → Data Prep's ``[{sourceType, source, destination}]``."""
    if not isinstance(mappings, Mapping) or not mappings:
        raise ConfigurationError("mappings", "is empty or not a dict",
                                 "pass {source column: XDM path}, e.g. {'Email': 'personalEmail.address'}")
    entries = []
    for source, destination in mappings.items():
        if not isinstance(source, str) or not source.strip():
            raise ConfigurationError("mappings", "has an empty source column", "name each CSV header column")
        if not isinstance(destination, str) or not destination.strip():
            raise ConfigurationError("mappings", f"maps {source!r} to an empty XDM path",
                                     "give an XDM path such as '_tenant.zohoId'")
        entries.append({"sourceType": "ATTRIBUTE", "source": source, "destination": destination})
    destinations = [e["destination"] for e in entries]
    doubled = sorted({d for d in destinations if destinations.count(d) > 1})
    if doubled:
        raise ConfigurationError("mappings", f"maps several columns to {', '.join(doubled)}",
                                 "map each XDM path from one column")
    return entries


def fingerprint(schema_id: str, entries: Iterable[Mapping[str, Any]]) -> tuple[str, frozenset[tuple[str, str, str]]]:
    """What makes two mapping sets the same; reads both of Data Prep's spellings (new and legacy)."""
    return schema_id, frozenset(
        (
            str(e.get("sourceType") or "ATTRIBUTE").upper(),
            str(e.get("source") if e.get("source") is not None else e.get("sourceAttribute")),
            str(e.get("destination") if e.get("destination") is not None else e.get("destinationXdmPath")),
        )
        for e in entries
    )


def _schema_of(item: Mapping[str, Any]) -> str | None:
    ref = ((item.get("outputSchema") or {}).get("schemaRef") or {}).get("id")
    if ref:
        return str(ref)
    legacy = (item.get("xdmSchema") or item.get("outputSchema") or "")
    return legacy if isinstance(legacy, str) and legacy else None


class MappingSetClient:
    """``/data/foundation/conversion/mappingSets`` through the Flow Service client's token and headers."""

    def __init__(self, flow: FlowServiceClient) -> None:
        self.flow = flow

    @property
    def base_url(self) -> str:
        return self.flow.settings.platform_url + CONVERSION_PATH

    def _request(self, method: str, path: str, **kwargs: Any) -> Any:
        return self.flow.request(method, path, base_url=self.base_url, service=SERVICE, **kwargs).json()

    def get(self, mapping_set_id: str, version: int | None = None) -> dict[str, Any]:
        params = [("version", str(version))] if version is not None else None
        body = self._request("GET", f"/mappingSets/{segment(mapping_set_id)}", params=params, ok=(200,))
        if not isinstance(body, dict):
            raise AEPAPIError(f"{SERVICE} GET /mappingSets/{mapping_set_id} answered no object", service=SERVICE)
        return body

    def list(self) -> list[dict[str, Any]]:
        """Every mapping set of the sandbox (Data Prep pages with ``limit`` and ``start``)."""
        items: list[dict[str, Any]] = []
        for page in range(MAX_PAGES):
            body = self._request("GET", "/mappingSets", params=[("limit", str(PAGE_SIZE)),
                                                                ("start", str(page * PAGE_SIZE))], ok=(200,))
            batch = (body.get("data") if "data" in body else body.get("items")) if isinstance(body, dict) else body
            batch = [item for item in batch or [] if isinstance(item, dict)]
            items.extend(batch)
            if len(batch) < PAGE_SIZE:
                return items
        raise AEPAPIError(f"{SERVICE} GET /mappingSets: more than {MAX_PAGES} pages", service=SERVICE)

    def find(self, schema_id: str, entries: builtins.list[dict[str, str]]) -> builtins.list[dict[str, Any]]:
        """Mapping sets with this output schema and exactly these mappings, oldest first."""
        wanted = fingerprint(schema_id, entries)
        found = [item for item in self.list()
                 if _schema_of(item) and fingerprint(str(_schema_of(item)), item.get("mappings") or []) == wanted]
        return sorted(found, key=lambda item: (item.get("createdDate") or 0, str(item.get("id"))))

    def ensure(self, schema_id: str, entries: builtins.list[dict[str, str]], *,
               schema_content_type: str = DEFAULT_SCHEMA_CONTENT_TYPE) -> dict[str, Any]:
        """The mapping set for (schema, mappings): reused when one exists, else created once.

        :return: ``{"id", "version", "created"}``
        """
        existing = self.find(schema_id, entries)
        if existing:
            log.info("Reusing mapping set %s (same schema and mappings)", existing[0].get("id"))
            return _result(existing[0], created=False)
        body = {"outputSchema": {"schemaRef": {"id": schema_id, "contentType": schema_content_type}},
                "mappings": entries}
        last: AEPAPIError | None = None
        for attempt in range(1, MAX_CREATE_ATTEMPTS + 1):
            try:
                made = self._request("POST", "/mappingSets", json=body, idempotent=False, ok=(200, 201))
            except AmbiguousWriteError as err:
                last = err
                log.warning("Creating the mapping set may or may not have worked (%s); looking for it first",
                            err.summary)
                if err.timed_out:
                    self.flow.transport.sleep(self.flow.transport.timeout)
                existing = self.find(schema_id, entries)
                if existing:
                    return _result(existing[0], created=True)
                log.info("No such mapping set exists; sending the create again (attempt %d)", attempt + 1)
                continue
            log.info("Created mapping set %s", made.get("id"))
            return _result(made, created=True)
        assert last is not None
        raise last


def _result(item: Mapping[str, Any], *, created: bool) -> dict[str, Any]:
    version = item.get("version")
    return {"id": str(item["id"]), "version": int(version) if isinstance(version, (int, str)) and str(version).isdigit()
            else 0, "created": created}
