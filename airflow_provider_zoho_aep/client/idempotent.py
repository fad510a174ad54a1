"""Create-or-reuse by name, for every Flow Service resource.

Flow Service does not make names unique, and a POST is not idempotent. So a create here is:

1. look up by exact name (and parent/spec filters): none → create; one → ``reuse`` it, ``update`` it with
   ``If-Match``, or ``fail``; several → look again a few times (a concurrent race settles within moments),
   then refuse to guess;
2. POST once; after an ambiguous failure (timeout, reset, 5xx) look up again and adopt what the server made,
   and only when nothing is there send the POST again (bounded). After a timeout the look-up first waits one
   client timeout, since the server may still be making the resource;
3. after a successful POST look up once more: if a concurrent caller created the same name, keep the oldest
   (``createdAt``, then ID) and delete our own, so every caller returns the same ID.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from airflow_provider_zoho_aep.client.errors import (
    AEPAPIError,
    AmbiguousWriteError,
    DuplicateResourcesError,
    ResourceExistsError,
)
from airflow_provider_zoho_aep.client.flow_service import FlowServiceClient
from airflow_provider_zoho_aep.validation import IfExists

log = logging.getLogger(__name__)

MAX_CREATE_ATTEMPTS = 3
#: Pauses before looking again when a name is taken several times (a race that is still converging).
DUPLICATE_RECHECK_PAUSES = (0.2, 0.5, 1.0)

_NOUN = {
    "connections": "base connection",
    "sourceConnections": "source connection",
    "targetConnections": "target connection",
    "flows": "dataflow",
}


@dataclass(frozen=True)
class EnsureResult:
    """Outcome of :func:`ensure`: the resource's ID and etag, and whether this call created or updated it."""

    id: str
    etag: str | None
    created: bool
    updated: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "etag": self.etag, "created": self.created, "updated": self.updated}


def find_by_name(
    client: FlowServiceClient, collection: str, name: str, filters: Mapping[str, str] | None = None
) -> list[dict[str, Any]]:
    """Resources of ``collection`` whose name is exactly ``name`` (the server filter is only a first cut)."""
    found = client.list(collection, {"name": name, **(filters or {})})
    return [item for item in found if item.get("name") == name]


def _oldest(items: Sequence[Mapping[str, Any]]) -> Mapping[str, Any]:
    return min(items, key=lambda item: (item.get("createdAt") or 0, str(item.get("id"))))


def ensure(
    client: FlowServiceClient,
    collection: str,
    *,
    name: str,
    filters: Mapping[str, str] | None,
    build_body: Callable[[], Mapping[str, Any]],
    if_exists: IfExists = "reuse",
    build_patch: Callable[[Mapping[str, Any]], list[dict[str, Any]]] | None = None,
    description: str | None = None,
) -> EnsureResult:
    """Make sure exactly one ``collection`` named ``name`` exists; see the module docstring for the rules.

    Every Flow Service resource has a name and an optional description, so they are handled here: the POST body
    starts with ``name`` (and ``description`` when given), and an update replaces the description when it changed.

    :param build_body: returns the rest of the POST body; called only when a create is needed (so a Zoho token
        is minted only when it will be used)
    :param build_patch: returns the JSON-Patch operations for ``if_exists="update"``, given the existing item
    :param description: the resource's description, if any
    """

    def full_body() -> dict[str, Any]:
        head: dict[str, Any] = {"name": name, "description": description} if description else {"name": name}
        return {**head, **build_body()}

    def full_patch(existing: Mapping[str, Any]) -> list[dict[str, Any]]:
        assert build_patch is not None
        operations = build_patch(existing)
        if description and description != existing.get("description"):
            operations.append({"op": "replace", "path": "/description", "value": description})
        return operations

    noun = _NOUN.get(collection, collection)
    matches = find_by_name(client, collection, name, filters)
    for pause in DUPLICATE_RECHECK_PAUSES:
        if len(matches) <= 1:
            break
        # Concurrent creators delete their extra copies within moments (see _converge): look again.
        client.transport.sleep(pause)
        matches = find_by_name(client, collection, name, filters)
    if len(matches) > 1:
        ids = ", ".join(sorted(str(m.get("id")) for m in matches))
        raise DuplicateResourcesError(
            f"{len(matches)} {noun}s are already named {name!r} ({ids}); delete the extra ones or choose "
            "another name", service="Flow Service",
        )
    if matches:
        existing = matches[0]
        if if_exists == "fail":
            raise ResourceExistsError(
                f"a {noun} named {name!r} already exists ({existing.get('id')}) and if_exists='fail'",
                service="Flow Service",
            )
        if if_exists == "update":
            if build_patch is None:
                raise ValueError(f"if_exists='update' is not supported for a {noun}")
            return update(client, collection, existing, full_patch)
        log.info("Reusing the existing %s %r: %s", noun, name, existing.get("id"))
        return EnsureResult(str(existing["id"]), existing.get("etag"), created=False)
    return _create(client, collection, name, filters, full_body(), noun)


def _create(
    client: FlowServiceClient,
    collection: str,
    name: str,
    filters: Mapping[str, str] | None,
    body: dict[str, Any],
    noun: str,
) -> EnsureResult:
    last_error: AEPAPIError | None = None
    for attempt in range(1, MAX_CREATE_ATTEMPTS + 1):
        try:
            created = client.create(collection, body)
        except AmbiguousWriteError as err:
            last_error = err
            log.warning("Creating the %s %r may or may not have worked (%s); looking it up before any retry",
                        noun, name, err.summary)
            if err.timed_out:
                # The server may still be making it: give it one more client timeout before looking.
                client.transport.sleep(client.transport.timeout)
            matches = find_by_name(client, collection, name, filters)
            if matches:
                adopted = _oldest(matches)
                log.info("The %s %r exists after all: %s", noun, name, adopted.get("id"))
                return EnsureResult(str(adopted["id"]), adopted.get("etag"), created=True)
            log.info("No %s named %r exists; sending the create again (attempt %d)", noun, name, attempt + 1)
            continue
        new_id = str(created["id"])
        log.info("Created the %s %r: %s", noun, name, new_id)
        return _converge(client, collection, name, filters, new_id, created.get("etag"), noun)
    assert last_error is not None
    raise last_error


def _converge(
    client: FlowServiceClient,
    collection: str,
    name: str,
    filters: Mapping[str, str] | None,
    new_id: str,
    etag: str | None,
    noun: str,
) -> EnsureResult:
    """If a concurrent caller created the same name, keep the oldest and delete ours."""
    matches = find_by_name(client, collection, name, filters)
    if len(matches) <= 1:
        return EnsureResult(new_id, etag, created=True)
    keep = _oldest(matches)
    if str(keep["id"]) == new_id:
        return EnsureResult(new_id, etag, created=True)
    log.warning("Another task created the %s %r at the same time (%s); deleting ours (%s) and using that one",
                noun, name, keep["id"], new_id)
    client.delete(collection, new_id)
    return EnsureResult(str(keep["id"]), keep.get("etag"), created=False)


def update(
    client: FlowServiceClient,
    collection: str,
    existing: Mapping[str, Any],
    build_patch: Callable[[Mapping[str, Any]], list[dict[str, Any]]],
) -> EnsureResult:
    """PATCH with ``If-Match``; a stale etag (412 / 1404) re-reads the resource and retries once."""
    resource_id = str(existing["id"])
    operations = build_patch(existing)
    etag = existing.get("etag") or client.get(collection, resource_id).get("etag")
    try:
        answer = client.patch(collection, resource_id, operations, etag)
    except AEPAPIError as err:
        if not _stale_etag(err):
            raise
        log.info("The etag of %s changed under us; reading it again and retrying once", resource_id)
        fresh = client.get(collection, resource_id)
        answer = client.patch(collection, resource_id, build_patch(fresh), fresh.get("etag"))
    log.info("Updated %s %s", _NOUN.get(collection, collection), resource_id)
    return EnsureResult(resource_id, answer.get("etag"), created=False, updated=True)


def _stale_etag(err: AEPAPIError) -> bool:
    return err.status == 412 or bool(err.code and "1404" in err.code) or "does not match the current version" in (
        err.detail or ""
    )
