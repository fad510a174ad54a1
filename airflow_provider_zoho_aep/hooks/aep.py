"""Hook for the ``adobe_experience_platform`` connection type, read top to bottom: 1. the Connection as settings
and the Flow Service clients (IMS token cached per process, masked once per mint); 2. the pipeline's Flow Service
resources, each created idempotently by name (:meth:`~AdobeExperiencePlatformHook._ensure`); 3. on-demand runs, at
most one per window (the ``a…`` methods serve the triggerer); 4. Data Prep mapping sets, reused by content; 5. the
Data Landing Zone. A POST is never retried blindly: after an ambiguous failure the resource is looked up first.
"""

from __future__ import annotations

import asyncio
import logging
import time
import weakref
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from airflow_provider_zoho_aep import (
    BASE_CONNECTIONS,
    DATA_LAKE_CONNECTION_SPEC_ID,
    DATA_LANDING_ZONE_CONNECTION_SPEC_ID,
    DEFAULT_SCHEMA_VERSION,
    FLOWS,
    RUNS,
    SOURCE_CONNECTIONS,
    TARGET_CONNECTIONS,
    ZOHO_CRM_CONNECTION_SPEC_ID,
)
from airflow_provider_zoho_aep.client import runs
from airflow_provider_zoho_aep.client.errors import (
    AEPAPIError,
    AmbiguousWriteError,
    ConfigurationError,
    DuplicateResourcesError,
    ResourceExistsError,
)
from airflow_provider_zoho_aep.client.settings import AEPSettings
from airflow_provider_zoho_aep.client.windows import (
    Window,
    check_time_unit,
    check_window,
    covering,
    parse_moment,
    run_params,
    same_window,
)
from airflow_provider_zoho_aep.hooks._connection_form import field_behaviour, form_widgets
from airflow_provider_zoho_aep.validation import (
    IfExists,
    IfRunExists,
    check_description,
    check_file_format,
    check_flow_spec_arguments,
    check_if_exists,
    check_if_run_exists,
    check_landing_zone_path,
    check_name,
    check_required,
    check_row_count,
    check_schema_id,
)
from airflow_provider_zoho_aep.version_compat import BaseHook, aget_connection, mask_secret

# The HTTP stack imports ``requests`` and ``httpx``; DAG files import the hooks through the operators and are parsed
# again and again, so it is imported where a hook first talks to AEP (bench/parse_overhead.py measures the cost).
if TYPE_CHECKING:
    from airflow_provider_zoho_aep.client.flow_service import (
        AsyncFlowServiceClient,
        FlowServiceClient,
        IMSTokenProvider,
    )
    from airflow_provider_zoho_aep.client.http import RetryPolicy
    from airflow_provider_zoho_aep.client.landing_zone import (
        LandingZone,
        LandingZoneClient,
        LandingZoneCredentials,
        LandingZoneUploader,
        UploadedFile,
    )

log = logging.getLogger(__name__)
_T = TypeVar("_T")

#: ``auth.params`` as a dict, or a callable returning them: it is called only when they will be sent, so a
#: reused base connection costs no Zoho token.
AuthParams = Mapping[str, Any] | Callable[[], Mapping[str, Any]]

_NOUNS = {BASE_CONNECTIONS: "base connection", SOURCE_CONNECTIONS: "source connection",
          TARGET_CONNECTIONS: "target connection", FLOWS: "dataflow"}

#: Why a missing Zoho CRM connection spec is expected, and what replaces it.
ZOHO_CRM_RETIREMENT = (
    "Adobe deprecated the Zoho CRM source at the end of June 2025; its connection spec may be gone from your "
    "organization. Adobe names the Data Landing Zone source as the replacement (export from Zoho to files)."
)

#: POSTs of one create (a resource, a mapping set, a run) when each answer is lost and nothing was made.
MAX_CREATE_ATTEMPTS = 3
#: Pauses before looking again when a name is taken several times (a race that is still converging).
DUPLICATE_RECHECK_PAUSES = (0.2, 0.5, 1.0)
#: Data Prep's mapping sets: where they live, and how many per page when listing them.
CONVERSION_PATH = "/data/foundation/conversion"
MAPPING_SETS_PAGE_SIZE = 100
MAPPING_SETS_MAX_PAGES = 100

#: Values already handed to Airflow's masker in this process. Its cost grows with every secret it holds (it
#: recompiles one pattern over all of them), so a thousand triggers must not mask the same token a thousand times.
_masked: set[str] = set()


def mask(value: str) -> None:
    """Hide ``value`` in every log line Airflow writes from now on (once per process)."""
    if value in _masked:
        return
    mask_secret(value)
    _masked.add(value)


async def amask(value: str) -> None:
    """:func:`mask` for coroutines (Airflow's ``amask_secret``), sharing its once-per-process memory."""
    if value in _masked:
        return
    from airflow_provider_zoho_aep.version_compat import amask_secret

    _masked.add(value)
    await amask_secret(value)


def forget_masked() -> None:
    """Forget which values were masked and which Connections were read (tests that count them)."""
    _masked.clear()
    _async_settings.clear()


#: How long coroutines of one process reuse a Connection they read (a rotated secret is seen within this time).
ASYNC_SETTINGS_TTL_SECONDS = 300.0
#: conn_id -> (settings, monotonic expiry). Airflow masks a Connection's password and extra on every read, and a
#: triggerer's thousand triggers all read the same Connection: one read per process and TTL keeps that O(1).
_async_settings: dict[str, tuple[AEPSettings, float]] = {}
_async_settings_locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, asyncio.Lock]] = (
    weakref.WeakKeyDictionary()
)


class AdobeExperiencePlatformHook(BaseHook):
    """The Flow Service resources of a pipeline, idempotent by name (``if_exists``: ``reuse`` returns the existing
    one, ``update`` PATCHes it with ``If-Match``, ``fail`` raises); its runs per window; mapping sets; the Data
    Landing Zone.

    :param aep_conn_id: the Airflow Connection ID (type ``adobe_experience_platform``)
    :param timeout: seconds per HTTP request; overrides the Connection's ``timeout`` extra
    :param retry_policy: retry bounds; the default retries up to 6 times within 120 s
    """

    conn_name_attr = "aep_conn_id"
    default_conn_name = "aep_default"
    conn_type = "adobe_experience_platform"
    hook_name = "Adobe Experience Platform"

    def __init__(
        self, aep_conn_id: str = default_conn_name, *, timeout: float | None = None,
        retry_policy: RetryPolicy | None = None, **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.aep_conn_id = aep_conn_id
        self.timeout = timeout
        self.retry_policy = retry_policy
        self._async_client: AsyncFlowServiceClient | None = None

    # -- 1. the Connection, the form, the clients, the Test button ---------------------------------------------

    @classmethod
    def get_connection_form_widgets(cls) -> dict[str, Any]:
        """The form's extra fields (Airflow 3.0/3.1; 3.2+ reads them from get_provider_info)."""
        from airflow_provider_zoho_aep.get_provider_info import AEP_CONN_FIELDS

        return form_widgets(AEP_CONN_FIELDS)

    @classmethod
    def get_ui_field_behaviour(cls) -> dict[str, Any]:
        from airflow_provider_zoho_aep.get_provider_info import AEP_UI_FIELD_BEHAVIOUR

        return field_behaviour(AEP_UI_FIELD_BEHAVIOUR)

    def _settings_of(self, conn: Any) -> AEPSettings:
        return AEPSettings.from_connection_fields(
            login=conn.login, password=conn.password, host=conn.host, extra=conn.extra,
            source=f"Airflow Connection '{self.aep_conn_id}' (Adobe Experience Platform)",
        )

    @cached_property
    def settings(self) -> AEPSettings:
        """The Connection's fields, validated (raises :class:`ConfigurationError` naming the field)."""
        return self._settings_of(self.get_connection(self.aep_conn_id))

    async def asettings(self) -> AEPSettings:
        """:attr:`settings` for coroutines, read with Airflow's async API once per process and TTL."""
        if "settings" in self.__dict__:
            return self.settings
        cached = _async_settings.get(self.aep_conn_id)
        if not cached or cached[1] <= time.monotonic():
            locks = _async_settings_locks.setdefault(asyncio.get_running_loop(), {})
            async with locks.setdefault(self.aep_conn_id, asyncio.Lock()):
                cached = _async_settings.get(self.aep_conn_id)
                if not cached or cached[1] <= time.monotonic():
                    settings = self._settings_of(await aget_connection(self.aep_conn_id))
                    cached = _async_settings[self.aep_conn_id] = (
                        settings, time.monotonic() + ASYNC_SETTINGS_TTL_SECONDS)
        self.__dict__["settings"] = cached[0]
        return cached[0]

    def validate_connection(self) -> AEPSettings:
        """Read and validate the Airflow Connection without any network call; operators call it first."""
        return self.settings

    def get_conn(self) -> FlowServiceClient:
        """The Flow Service client for this Connection (built once per hook)."""
        return self.client

    @cached_property
    def client(self) -> FlowServiceClient:
        """The Flow Service client (built once per hook)."""
        from airflow_provider_zoho_aep.client.flow_service import FlowServiceClient
        from airflow_provider_zoho_aep.client.http import HttpTransport, RetryPolicy

        settings = self.settings
        mask(settings.client_secret)
        transport = HttpTransport(timeout=self.timeout or settings.timeout, retry=self.retry_policy or RetryPolicy())
        return FlowServiceClient(settings, transport, _ims_tokens(settings, transport=transport, on_token=mask))

    async def aget_async_client(self) -> AsyncFlowServiceClient:
        """The async Flow Service client (built once per hook), sharing :attr:`client`'s token cache."""
        if self._async_client is None:
            from airflow_provider_zoho_aep.client.flow_service import AsyncFlowServiceClient
            from airflow_provider_zoho_aep.client.http import AsyncHttpTransport, RetryPolicy

            settings = await self.asettings()
            await amask(settings.client_secret)
            transport = AsyncHttpTransport(timeout=self.timeout or settings.timeout,
                                           retry=self.retry_policy or RetryPolicy())
            tokens = _ims_tokens(settings, async_transport=transport, on_token_async=amask)
            self._async_client = AsyncFlowServiceClient(settings, transport, tokens)
        return self._async_client

    def test_connection(self) -> tuple[bool, str]:
        """Airflow's Test button: get an IMS token and read the Zoho CRM connection spec."""
        if self.retry_policy is None:
            from airflow_provider_zoho_aep.client.http import RetryPolicy

            # A person is waiting on the Test button: fail within seconds, not minutes.
            self.retry_policy = RetryPolicy(max_attempts=2, max_total_seconds=10)
        try:
            settings = self.settings
            self.client.tokens.get_token()
            self.client.get_connection_spec(ZOHO_CRM_CONNECTION_SPEC_ID)
        except ConfigurationError as err:
            return False, str(err)
        except AEPAPIError as err:
            if err.status == 404 and err.service == "Flow Service":
                return True, (
                    f"Authenticated with IMS and reached Flow Service (sandbox '{settings.sandbox_name}'), but "
                    f"the Zoho CRM connection spec is not available. {ZOHO_CRM_RETIREMENT}"
                )
            return False, str(err)
        return True, (
            f"Authenticated with IMS and reached Flow Service in sandbox '{settings.sandbox_name}' of "
            f"{settings.ims_org_id}; the Zoho CRM connection spec is available."
        )

    # -- 2. Flow Service resources, idempotent by name ------------------------------------------------------------

    @staticmethod
    def _check_create(name: Any, if_exists: Any, description: Any) -> None:
        check_name(name)
        check_if_exists(if_exists)
        check_description(description)

    def find_base_connections(self, name: str, connection_spec_id: str | None = None) -> list[dict[str, Any]]:
        """Base connections named exactly ``name`` (optionally of one connection spec)."""
        check_name(name)
        return self._find_by_name(BASE_CONNECTIONS, name,
                                  {"connectionSpec.id": connection_spec_id} if connection_spec_id else None)

    def get_base_connection(self, base_connection_id: str) -> dict[str, Any]:
        """One base connection (secrets in ``auth.params`` come back as placeholders)."""
        return self.client.get(BASE_CONNECTIONS, check_required(base_connection_id, "base_connection_id"))

    def create_base_connection(
        self, name: str, connection_spec_id: str, auth_params: AuthParams, *,
        auth_spec_name: str = "Basic Authentication", connection_spec_version: str = "1.0",
        description: str | None = None, if_exists: IfExists = "reuse", check_connection_spec: bool = False,
    ) -> dict[str, Any]:
        """Create a base connection, or reuse/update the one with the same name and connection spec.

        :param name: base connection name; re-runs find the connection by it
        :param connection_spec_id: the source's connection spec
        :param auth_params: ``auth.params``, or a callable returning them (called only if they will be sent)
        :param auth_spec_name: ``auth.specName``
        :param connection_spec_version: ``connectionSpec.version``
        :param description: optional description
        :param if_exists: ``reuse``, ``update`` (PATCH the credentials with If-Match) or ``fail``
        :param check_connection_spec: fail before anything is written on a retired spec or a wrong auth spec
        :return: ``{"id", "etag", "created", "updated"}``
        """
        self._check_create(name, if_exists, description)
        check_required(connection_spec_id, "connection_spec_id", "pass the source's connection spec ID")
        if not callable(auth_params) and (not isinstance(auth_params, Mapping) or not auth_params):
            raise ConfigurationError("auth_params", "is missing or not a dict", "pass the source's auth params "
                                     "as a dict")
        self.validate_connection()
        known_names = None if callable(auth_params) else set(auth_params)
        spec = (self.check_connection_spec(connection_spec_id, auth_spec_name, known_names)
                if check_connection_spec else None)

        def params() -> dict[str, Any]:
            values = dict(auth_params() if callable(auth_params) else auth_params)
            if spec is not None and known_names is None:
                # Names known only now (the callable ran): check them before they are sent.
                _check_auth_params(spec, connection_spec_id, auth_spec_name, set(values))
            return values

        def body() -> dict[str, Any]:
            return {"auth": {"specName": auth_spec_name, "params": params()},
                    "connectionSpec": {"id": connection_spec_id, "version": connection_spec_version}}

        def patch(existing: Mapping[str, Any]) -> list[dict[str, Any]]:
            return [{"op": "replace", "path": "/auth/params", "value": params()}]

        return self._ensure(BASE_CONNECTIONS, name, {"connectionSpec.id": connection_spec_id}, body, patch,
                            if_exists, description)

    def delete_base_connection(self, base_connection_id: str) -> None:
        """Delete a base connection; one already gone is not an error. Delete its dataflows first (1418)."""
        self.delete_resource(BASE_CONNECTIONS, base_connection_id)

    def test_base_connection(self, base_connection_id: str) -> bool:
        """Ask Flow Service to test the stored credentials (``GET /connections/{id}/test``)."""
        return self.client.test_connection(check_required(base_connection_id, "base_connection_id"))

    def check_connection_spec(
        self, connection_spec_id: str, auth_spec_name: str | None = None, auth_param_names: set[str] | None = None,
    ) -> dict[str, Any]:
        """Pre-flight: the connection spec exists, offers ``auth_spec_name``, and ``auth_param_names`` cover
        its required auth params."""
        check_required(connection_spec_id, "connection_spec_id", "pass the source's connection spec ID")
        try:
            spec = self.client.get_connection_spec(connection_spec_id)
        except AEPAPIError as err:
            retired = err.status == 404 or (err.code is not None and ("1413" in err.code or "1100" in err.code))
            if not retired:
                raise
            why = f". {ZOHO_CRM_RETIREMENT}" if connection_spec_id == ZOHO_CRM_CONNECTION_SPEC_ID else ""
            raise err.restated(f"connection spec {connection_spec_id} is not available in this organization{why}",
                               AEPAPIError) from None
        if auth_spec_name is not None:
            _check_auth_params(spec, connection_spec_id, auth_spec_name, auth_param_names)
        return spec

    def list_tables(self, base_connection_id: str) -> list[dict[str, Any]]:
        """Tables the base connection exposes (``explore?objectType=root``); each ``path`` is a ``tableName``."""
        check_required(base_connection_id, "base_connection_id")
        items = self.client.explore(base_connection_id, [("objectType", "root")])
        return [item for item in items or [] if isinstance(item, dict) and item.get("type") == "table"]

    def get_table_columns(self, base_connection_id: str, table_path: str) -> list[dict[str, Any]]:
        """Columns of one table: ``name``, ``type`` and ``xdm`` type; pick the delta column from these."""
        check_required(base_connection_id, "base_connection_id")
        check_required(table_path, "table_path", "pass a table path from list_tables, e.g. 'Leads'")
        body = self.client.explore(base_connection_id, [("objectType", "table"), ("object", table_path)])
        return list(((body or {}).get("schema") or {}).get("columns") or [])

    def preview_table(self, base_connection_id: str, table_path: str, count: int = 10) -> list[dict[str, Any]]:
        """Up to ``count`` rows of a table, as ``{column: value}`` dicts."""
        check_required(base_connection_id, "base_connection_id")
        check_required(table_path, "table_path", "pass a table path from list_tables, e.g. 'Leads'")
        check_row_count(count)
        query = [("objectType", "table"), ("object", table_path), ("preview", "true"), ("previewCount", str(count))]
        return list((self.client.explore(base_connection_id, query) or {}).get("data") or [])

    # -- source and target connections -----------------------------------------------------------------------

    def get_source_connection(self, source_connection_id: str) -> dict[str, Any]:
        """One source connection (``GET /sourceConnections/{id}``)."""
        return self.client.get(SOURCE_CONNECTIONS, check_required(source_connection_id, "source_connection_id"))

    def get_target_connection(self, target_connection_id: str) -> dict[str, Any]:
        """One target connection (``GET /targetConnections/{id}``)."""
        return self.client.get(TARGET_CONNECTIONS, check_required(target_connection_id, "target_connection_id"))

    def create_source_connection(
        self, name: str, base_connection_id: str, table_name: str, *,
        connection_spec_id: str = ZOHO_CRM_CONNECTION_SPEC_ID, connection_spec_version: str = "1.0",
        description: str | None = None, if_exists: IfExists = "reuse",
    ) -> dict[str, Any]:
        """Create the source connection for one table of a base connection, or reuse the one with this name.

        :param name: source connection name; re-runs find it by name and base connection
        :param base_connection_id: the base connection the table belongs to
        :param table_name: the table's ``path`` from explore (``params.tableName``), e.g. ``Leads``
        :param connection_spec_id: the base connection's connection spec
        :param connection_spec_version: ``connectionSpec.version``
        :param description: optional description
        :param if_exists: ``reuse`` or ``fail`` (Adobe does not carry an ``update`` to the dataflows)
        :return: ``{"id", "etag", "created", "updated"}``
        """
        self._check_create(name, if_exists, description)
        _refuse_update_of_flow_part(if_exists, "source connection")
        check_required(base_connection_id, "base_connection_id")
        check_required(table_name, "table_name", "pass a table path from explore, e.g. 'Leads'")
        check_required(connection_spec_id, "connection_spec_id")
        self.validate_connection()
        body = {"baseConnectionId": base_connection_id, "data": {"format": "tabular"},
                "params": {"tableName": table_name},
                "connectionSpec": {"id": connection_spec_id, "version": connection_spec_version}}
        return self._ensure(SOURCE_CONNECTIONS, name, {"baseConnectionId": base_connection_id}, lambda: body, None,
                            if_exists, description)

    def create_target_connection(
        self, name: str, dataset_id: str, schema_id: str, *, schema_version: str = DEFAULT_SCHEMA_VERSION,
        description: str | None = None, if_exists: IfExists = "reuse",
    ) -> dict[str, Any]:
        """Create the Data Lake target connection for a dataset, or reuse the one with this name.

        :param name: target connection name; re-runs find it by name
        :param dataset_id: Catalog dataset ID (``params.dataSetId``)
        :param schema_id: the dataset's XDM schema ``$id``, ``https://ns.adobe.com/<tenant>/schemas/<id>``
        :param schema_version: ``data.schema.version``
        :param description: optional description
        :param if_exists: ``reuse`` or ``fail`` (Adobe does not carry an ``update`` to the dataflows)
        :return: ``{"id", "etag", "created", "updated"}``
        """
        self._check_create(name, if_exists, description)
        _refuse_update_of_flow_part(if_exists, "target connection")
        check_required(dataset_id, "dataset_id", "pass the Catalog dataset ID, e.g. '5f3c2bfc1a2b3c4d5e6f7a8b'")
        check_schema_id(schema_id)
        check_required(schema_version, "schema_version", f"use {DEFAULT_SCHEMA_VERSION!r}")
        self.validate_connection()
        body = {"data": {"schema": {"id": schema_id, "version": schema_version}}, "params": {"dataSetId": dataset_id},
                "connectionSpec": {"id": DATA_LAKE_CONNECTION_SPEC_ID, "version": "1.0"}}
        return self._ensure(TARGET_CONNECTIONS, name, {"connectionSpec.id": DATA_LAKE_CONNECTION_SPEC_ID},
                            lambda: body, None, if_exists, description)

    def find_flow_spec(self, name: str = "CRMToAEP") -> dict[str, Any]:
        """The flow spec called ``name`` (its ID is looked up, never hard-coded: it differs between sources)."""
        check_required(name, "flow_spec_name", "use 'CRMToAEP' for CRM sources")
        found = self.client.find_flow_spec(name)
        if len(found) != 1:
            problem = "is not available in this organization" if not found else f"matches {len(found)} flow specs"
            raise AEPAPIError(f"flow spec {name!r} {problem}", service="Flow Service")
        return found[0]

    def create_dataflow(
        self, name: str, source_connection_id: str, target_connection_id: str, delta_column: str | None = None, *,
        schedule_params: Mapping[str, Any], mapping_id: str | None = None, mapping_version: int = 0,
        flow_spec_name: str = "CRMToAEP", description: str | None = None, if_exists: IfExists = "reuse",
    ) -> dict[str, Any]:
        """Create the dataflow from a source connection to a target connection, or reuse the one with this name.

        The flow spec, resolved by name, must accept both connections' specs; ``state`` is never sent (Flow Service
        rejects it on create). ``CRMToAEP`` copies a table (``Copy`` with ``delta_column``; ``Mapping`` optional);
        ``CloudStorageToAEP`` reads landing-zone files (``Mapping`` only, scheduled ``once``, runs per window).

        :param name: dataflow name; re-runs find it by name and flow spec
        :param source_connection_id: the source connection
        :param target_connection_id: the Data Lake target connection
        :param delta_column: the column ``Copy`` picks up changed records by (``CRMToAEP`` only, required there)
        :param schedule_params: ``scheduleParams``, as :func:`~airflow_provider_zoho_aep.client.schedule.
            schedule_params` builds them
        :param mapping_id: optional Data Prep mapping set ID (``Mapping``)
        :param mapping_version: the mapping set's version
        :param flow_spec_name: the flow spec, ``CRMToAEP`` for CRM sources
        :param description: optional description
        :param if_exists: ``reuse``, ``update`` (PATCH only what changed, never a past ``startTime``) or ``fail``
        :return: ``{"id", "etag", "created", "updated"}``
        """
        self._check_create(name, if_exists, description)
        check_required(source_connection_id, "source_connection_id")
        check_required(target_connection_id, "target_connection_id")
        if delta_column is not None:
            check_required(delta_column, "delta_column", "pass a date-time column from explore, e.g. 'Modified_Time'")
        check_required(flow_spec_name, "flow_spec_name", "use 'CRMToAEP' for CRM sources")
        if mapping_id is not None:
            check_required(mapping_id, "mapping_id", "pass the mapping set ID, or None")
        if not isinstance(mapping_version, int) or isinstance(mapping_version, bool) or mapping_version < 0:
            raise ConfigurationError("mapping_version", f"{mapping_version!r} is not a version number",
                                     "pass an integer >= 0")
        if not isinstance(schedule_params, Mapping) or "frequency" not in schedule_params:
            raise ConfigurationError("schedule_params", "is not a scheduleParams dict",
                                     "build it with airflow_provider_zoho_aep.client.schedule.schedule_params")
        check_flow_spec_arguments(flow_spec_name, delta_column, mapping_id, schedule_params.get("frequency"))
        self.validate_connection()
        transformations: list[dict[str, Any]] = []
        if delta_column is not None:
            transformations.append({"name": "Copy", "params": {"deltaColumn": {"name": delta_column}}})
        if mapping_id:
            transformations.append(
                {"name": "Mapping", "params": {"mappingId": mapping_id, "mappingVersion": mapping_version}}
            )
        schedule = dict(schedule_params)

        spec = self.find_flow_spec(flow_spec_name)

        def check_connections_fit_the_flow_spec() -> None:
            source = self.get_source_connection(source_connection_id)
            target = self.get_target_connection(target_connection_id)
            for role, item in (("source", source), ("target", target)):
                spec_id = (item.get("connectionSpec") or {}).get("id")
                allowed = spec.get(f"{role}ConnectionSpecIds") or []
                if spec_id not in allowed:
                    raise ConfigurationError(
                        f"{role}_connection_id",
                        f"{role} connection {item.get('id')} uses connection spec {spec_id}, which flow spec "
                        f"{flow_spec_name!r} does not accept",
                        f"pick the flow spec made for this {role} (flow spec {flow_spec_name!r} takes "
                        f"{', '.join(allowed) or 'none'})",
                    )

        def body() -> dict[str, Any]:
            # Only a create needs the check (a reuse changes nothing), and it runs before the POST.
            check_connections_fit_the_flow_spec()
            return {
                "flowSpec": {"id": spec["id"], "version": spec.get("version") or "1.0"},
                "sourceConnectionIds": [source_connection_id],
                "targetConnectionIds": [target_connection_id],
                "transformations": transformations,
                "scheduleParams": schedule,
            }

        def patch(existing: Mapping[str, Any]) -> list[dict[str, Any]]:
            from airflow_provider_zoho_aep.client.schedule import schedule_patch

            operations = schedule_patch(existing.get("scheduleParams"), schedule)
            if existing.get("transformations") != transformations:
                operations.insert(0, {"op": "replace", "path": "/transformations", "value": transformations})
            return operations

        return self._ensure(FLOWS, name, {"flowSpec.id": str(spec["id"])}, body, patch, if_exists, description)

    def get_dataflow(self, flow_id: str) -> dict[str, Any]:
        """One dataflow, with ``state``, ``sourceConnectionIds``, ``targetConnectionIds`` and ``lastRunDetails``."""
        return self.client.get(FLOWS, check_required(flow_id, "flow_id"))

    # -- the Data Landing Zone source connection (files; no base connection) -------------------------------------

    def create_data_landing_zone_source_connection(
        self, name: str, path: str, *, data_format: str = "delimited", column_delimiter: str = ",",
        compression_type: str | None = None, encoding: str = "UTF-8", description: str | None = None,
        if_exists: IfExists = "reuse",
    ) -> dict[str, Any]:
        """Create the source connection that reads files from the Data Landing Zone, or reuse the one with this name.

        A landing-zone source connection has no base connection. A ``path`` ending in ``/`` is a folder read
        recursively (every window's files of a module), else one file.

        :param name: source connection name; re-runs find it by name and the landing zone's connection spec
        :param path: ``<container>/<folder>/``, e.g. ``dlz-user-container/zoho/Leads/``
        :param data_format: ``delimited`` (CSV), ``json`` or ``parquet``
        :param column_delimiter: one character, for ``delimited``
        :param compression_type: None, or one of ``bzip2``, ``gzip``, ``deflate``, ``zipDeflate``, ``tarGzip``, ``tar``
        :param encoding: ``UTF-8`` or ``ISO-8859-1``
        :param description: optional description
        :param if_exists: ``reuse`` (default), ``update`` (PATCH data and params with If-Match) or ``fail``
        :return: ``{"id", "etag", "created", "updated"}``
        """
        self._check_create(name, if_exists, description)
        check_landing_zone_path(path)
        check_file_format(data_format, column_delimiter, compression_type)
        if encoding not in ("UTF-8", "ISO-8859-1"):
            raise ConfigurationError("encoding", f"{encoding!r} is not UTF-8 or ISO-8859-1", "use 'UTF-8'")
        self.validate_connection()
        properties: dict[str, Any] = {"encoding": encoding}
        if data_format == "delimited":
            properties["columnDelimiter"] = column_delimiter
        if compression_type:
            properties["compressionType"] = compression_type
        data = {"format": data_format, "properties": properties}
        folder = path.endswith("/")
        params: dict[str, Any] = {"path": path, "type": "folder" if folder else "file"}
        if folder:
            params["recursive"] = True

        body = {"data": data, "params": params,
                "connectionSpec": {"id": DATA_LANDING_ZONE_CONNECTION_SPEC_ID, "version": "1.0"}}
        return self._ensure(
            SOURCE_CONNECTIONS, name, {"connectionSpec.id": DATA_LANDING_ZONE_CONNECTION_SPEC_ID}, lambda: body,
            lambda existing: [{"op": "replace", "path": "/data", "value": data},
                              {"op": "replace", "path": "/params", "value": params}],
            if_exists, description)

    # -- deletes (Adobe's order: dataflow, then source/target connections, then the base connection) ----------

    def delete_dataflow(self, flow_id: str) -> bool:
        """Delete a dataflow; True when deleted, False when it was already gone."""
        return self.delete_resource(FLOWS, flow_id)

    def delete_source_connection(self, source_connection_id: str) -> bool:
        """Delete a source connection (its dataflows first); True when deleted, False when already gone."""
        return self.delete_resource(SOURCE_CONNECTIONS, source_connection_id)

    def delete_target_connection(self, target_connection_id: str) -> bool:
        """Delete a target connection (its dataflows first); True when deleted, False when already gone."""
        return self.delete_resource(TARGET_CONNECTIONS, target_connection_id)

    def delete_resource(self, collection: str, resource_id: str) -> bool:
        """Delete one resource of a Flow Service collection; True when deleted, False when it was already gone."""
        noun = _NOUNS[collection]
        # The field as the public methods name it: a dataflow's ID is ``flow_id`` everywhere else.
        check_required(resource_id, "flow_id" if collection == FLOWS else f"{noun.replace(' ', '_')}_id")
        deleted = self.client.delete(collection, resource_id)
        self.log.info("%s %s %s", "Deleted" if deleted else "Already gone:", noun, resource_id)
        return deleted

    # -- how a create is made idempotent ---------------------------------------------------------------------------

    def _find_by_name(self, collection: str, name: str, filters: Mapping[str, str] | None = None
                      ) -> list[dict[str, Any]]:
        """Resources of ``collection`` named exactly ``name`` (the server's filter is only a first cut)."""
        found = self.client.list(collection, {"name": name, **(filters or {})})
        return [item for item in found if item.get("name") == name]

    def _ensure(
        self, collection: str, name: str, filters: Mapping[str, str], body: Callable[[], Mapping[str, Any]],
        patch: Callable[[Mapping[str, Any]], list[dict[str, Any]]] | None, if_exists: IfExists, description: str | None,
    ) -> dict[str, Any]:
        """Make sure exactly one ``collection`` item named ``name`` exists: ``{"id", "etag", "created", "updated"}``.

        Flow Service does not make names unique and a POST is not idempotent, so: look up by exact name (and
        ``filters``): one → reuse, update or fail; several → look again a few times while a race settles, then
        refuse to guess; none → POST once (:meth:`_create_once`), then look up again and, if a concurrent caller
        made the same name, keep the oldest and delete ours, so every caller returns the same ID.

        :param body: the rest of the POST body; called only when a create is needed (a Zoho token costs a request)
        :param patch: the JSON-Patch operations for ``if_exists="update"``, given the existing item
        """
        noun = _NOUNS[collection]
        matches = self._find_by_name(collection, name, filters)
        for pause in DUPLICATE_RECHECK_PAUSES:
            if len(matches) <= 1:
                break
            # Concurrent creators delete their extra copies within moments (below): look again.
            self.client.transport.sleep(pause)
            matches = self._find_by_name(collection, name, filters)
        if len(matches) > 1:
            ids = ", ".join(sorted(str(m.get("id")) for m in matches))
            raise DuplicateResourcesError(f"{len(matches)} {noun}s are already named {name!r} ({ids}); delete the "
                                          "extra ones or choose another name", service="Flow Service")
        if matches:
            existing = matches[0]
            if if_exists == "fail":
                raise ResourceExistsError(f"a {noun} named {name!r} already exists ({existing.get('id')}) and "
                                          "if_exists='fail'", service="Flow Service")
            if if_exists == "update" and patch is not None:

                def operations(item: Mapping[str, Any]) -> list[dict[str, Any]]:
                    ops = patch(item)
                    if description and description != item.get("description"):
                        ops.append({"op": "replace", "path": "/description", "value": description})
                    return ops

                return self._update(collection, existing, operations)
            log.info("Reusing the existing %s %r: %s", noun, name, existing.get("id"))
            return _result(existing, created=False)
        head: dict[str, Any] = {"name": name, "description": description} if description else {"name": name}
        full_body = {**head, **body()}
        made, adopted = self._create_once(
            lambda: self.client.create(collection, full_body),
            lambda: min(self._find_by_name(collection, name, filters), key=_age, default=None),
            f"the {noun} {name!r}",
        )
        if adopted is not None:
            return _result(adopted, created=True)
        new_id = str(made["id"])
        log.info("Created the %s %r: %s", noun, name, new_id)
        matches = self._find_by_name(collection, name, filters)
        keep = min(matches, key=_age) if len(matches) > 1 else None
        if keep is None or str(keep["id"]) == new_id:
            return _result(made, created=True)
        log.warning("Another task created the %s %r at the same time (%s); deleting ours (%s) and using that one",
                    noun, name, keep["id"], new_id)
        self.client.delete(collection, new_id)
        return _result(keep, created=False)

    def _create_once(self, post: Callable[[], Any], look_up: Callable[[], _T | None], what: str
                     ) -> tuple[Any, _T | None]:
        """``(answer, None)`` of a POST, or ``(None, found)`` when an ambiguous failure (timeout, reset, 5xx) had
        made it: ``look_up`` runs before any new POST, after a timeout only once one client timeout has passed
        (the server may still be making it). At most :data:`MAX_CREATE_ATTEMPTS` POSTs."""
        last: AmbiguousWriteError | None = None
        for attempt in range(1, MAX_CREATE_ATTEMPTS + 1):
            try:
                return post(), None
            except AmbiguousWriteError as err:
                last = err
                log.warning("Creating %s may or may not have worked (%s); looking it up before any retry", what,
                            err.summary)
                if err.timed_out:
                    self.client.transport.sleep(self.client.transport.timeout)
                found = look_up()
                if found is not None:
                    log.info("%s exists after all", what[0].upper() + what[1:])
                    return None, found
                log.info("Nothing was made by attempt %d to create %s", attempt, what)
        assert last is not None
        raise last

    def _update(
        self, collection: str, existing: Mapping[str, Any], operations: Callable[[Mapping[str, Any]], list[Any]]
    ) -> dict[str, Any]:
        """PATCH with ``If-Match``; a stale etag (412 / 1404) re-reads the resource and retries once."""
        resource_id = str(existing["id"])
        ops = operations(existing)
        if not ops:
            log.info("%s %s already matches; nothing to update", _NOUNS[collection], resource_id)
            return _result(existing, created=False)
        etag = existing.get("etag") or self.client.get(collection, resource_id).get("etag")
        try:
            answer = self.client.patch(collection, resource_id, ops, etag)
        except AEPAPIError as err:
            if not (err.status == 412 or "1404" in (err.code or "")
                    or "does not match the current version" in (err.detail or "")):
                raise
            log.info("The etag of %s changed under us; reading it again and retrying once", resource_id)
            fresh = self.client.get(collection, resource_id)
            answer = self.client.patch(collection, resource_id, operations(fresh), fresh.get("etag"))
        log.info("Updated %s %s", _NOUNS[collection], resource_id)
        return {"id": resource_id, "etag": answer.get("etag"), "created": False, "updated": True}

    # -- 3. on-demand runs, at most one per window -----------------------------------------------------------------

    def list_runs(self, flow_id: str, limit: int | None = None) -> list[dict[str, Any]]:
        """The dataflow's runs, newest first (all of them, or the newest ``limit``)."""
        return self._runs(check_required(flow_id, "flow_id"), limit)

    def _runs(self, flow_id: str, limit: int | None = None) -> list[dict[str, Any]]:
        items = self.client.list(RUNS, {"flowId": flow_id}, orderby="-createdAt", limit=limit, max_items=limit)
        # Runs of other flows are dropped, in case the server did not apply the filter.
        return [item for item in items if item.get("flowId") in (None, flow_id)]

    def get_run(self, run_id: str) -> dict[str, Any]:
        """One run (``GET /runs/{id}``): status, record counts and errors in ``metrics``."""
        return self.client.get(RUNS, check_required(run_id, "run_id"))

    def find_runs_for_window(self, flow_id: str, window_start: Any, window_end: Any) -> list[dict[str, Any]]:
        """The dataflow's runs started for exactly the window ``[window_start, window_end)``, newest first."""
        check_required(flow_id, "flow_id")
        window = check_window(window_start, window_end)
        return _of_window(self._runs(flow_id), window)

    def start_dataflow_run(
        self, flow_id: str, window_start: Any, window_end: Any, *, delta_column: str | None = None,
        if_run_exists: str = "reuse", time_unit: str = "seconds",
    ) -> dict[str, Any]:
        """Start an on-demand run of a dataflow scheduled ``once`` for one window, at most once per window.

        With ``reuse`` a running or succeeded run of exactly this window is adopted (a failed or cancelled one is
        not: a retry must ingest the window again); ``fail`` raises when any exists; ``rerun`` posts anyway. After
        an ambiguous failure of the POST, a run of this window that was not there before is adopted.

        :param flow_id: the dataflow (its schedule must be ``once``)
        :param window_start: start of the window, inclusive, timezone-aware (datetime or ISO 8601 with offset)
        :param window_end: end of the window, exclusive; not in the future
        :param delta_column: ``params.deltaColumn.name``; Adobe accepts it only on the flow's first run
        :param if_run_exists: ``reuse`` (default), ``rerun`` or ``fail``
        :param time_unit: unit of the run's epoch params, ``seconds`` (Adobe's tutorial) or ``milliseconds``
            (Adobe's OpenAPI file); confirm it against your sandbox
        :return: ``{"run_id", "created"}`` (``created`` False when a run of the window was adopted)
        """
        check_required(flow_id, "flow_id")
        window = check_window(window_start, window_end)
        choice: IfRunExists = check_if_run_exists(if_run_exists)
        unit = check_time_unit(time_unit)
        if delta_column is not None:
            check_required(delta_column, "delta_column", "pass the flow's delta column, e.g. 'Modified_Time'")
        self.validate_connection()
        existing = _of_window(self._runs(flow_id), window)
        if existing and choice == "fail":
            raise ResourceExistsError(f"dataflow {flow_id} already has run(s) for window {window} "
                                      f"({', '.join(str(i.get('id')) for i in existing)}) and if_run_exists='fail'",
                                      service="Flow Service")
        if choice == "reuse":
            adopted = next((i for i in existing if runs.outcome(i) in ("running", "success")), None)
            if adopted is not None:
                log.info("Dataflow %s: reusing run %s of window %s (%s)", flow_id, adopted.get("id"), window,
                         runs.run_status(adopted) or "no status yet")
                return {"run_id": str(adopted["id"]), "created": False}
            if existing:
                log.info("Dataflow %s: the run(s) of window %s did not succeed; starting a new one", flow_id, window)
        known = {str(item.get("id")) for item in existing}
        body = {"flowId": flow_id, "params": run_params(window, unit=unit, delta_column=delta_column)}
        answer, found = self._create_once(
            lambda: self.client.request("POST", f"/{RUNS}", json=body, idempotent=False, ok=(200, 201)).json(),
            lambda: next((i for i in _of_window(self._runs(flow_id), window) if str(i.get("id")) not in known), None),
            f"a run of dataflow {flow_id} for window {window}",
        )
        run_id = str(found["id"]) if found is not None else _posted_id(answer)
        log.info("Dataflow %s: started run %s for window %s", flow_id, run_id, window)
        return {"run_id": run_id, "created": True}

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

    # -- 4. Data Prep mapping sets, reused by content ------------------------------------------------------------

    def create_mapping_set(
        self, schema_id: str, mappings: Mapping[str, str], *, schema_version: str = DEFAULT_SCHEMA_VERSION
    ) -> dict[str, Any]:
        """The Data Prep mapping set for ``{source column: XDM path}`` into ``schema_id``; mapping sets have no
        name, so one with the same output schema and mappings (order ignored) is reused, also after an ambiguous
        failure of the create.

        :param schema_id: the target dataset's XDM schema ``$id``
        :param mappings: ``{CSV header column: XDM path}``, e.g. ``{"Email": "personalEmail.address"}``
        :param schema_version: the schema reference's content type
        :return: ``{"id", "version", "created"}``
        """
        check_schema_id(schema_id)
        check_required(schema_version, "schema_version", f"use {DEFAULT_SCHEMA_VERSION!r}")
        entries = mapping_entries(mappings)
        self.validate_connection()
        existing = self._find_mapping_sets(schema_id, entries)
        if existing:
            log.info("Reusing mapping set %s (same schema and mappings)", existing[0].get("id"))
            return _mapping_set_result(existing[0], created=False)
        body = {"outputSchema": {"schemaRef": {"id": schema_id, "contentType": schema_version}}, "mappings": entries}
        made, adopted = self._create_once(
            lambda: self._data_prep("POST", "/mappingSets", json=body, idempotent=False, ok=(200, 201)),
            lambda: next(iter(self._find_mapping_sets(schema_id, entries)), None),
            "the mapping set",
        )
        log.info("Created mapping set %s", (adopted or made).get("id"))
        return _mapping_set_result(adopted or made, created=True)

    def get_mapping_set(self, mapping_set_id: str, version: int | None = None) -> dict[str, Any]:
        """One mapping set (``GET /data/foundation/conversion/mappingSets/{id}``), optionally one version."""
        from airflow_provider_zoho_aep.client.flow_service import segment

        check_required(mapping_set_id, "mapping_set_id")
        body = self._data_prep("GET", f"/mappingSets/{segment(mapping_set_id)}", ok=(200,),
                               params=[("version", str(version))] if version is not None else None)
        if not isinstance(body, dict):
            raise AEPAPIError(f"Data Prep GET /mappingSets/{mapping_set_id} answered no object", service="Data Prep")
        return body

    def _data_prep(self, method: str, path: str, **kwargs: Any) -> Any:
        """A Data Prep call, through the Flow Service client's token, headers and retries."""
        return self.client.request(method, path, base_url=self.settings.platform_url + CONVERSION_PATH,
                                   service="Data Prep", **kwargs).json()

    def _find_mapping_sets(self, schema_id: str, entries: list[dict[str, str]]) -> list[dict[str, Any]]:
        """The sandbox's mapping sets with this output schema and exactly these mappings, oldest first."""
        wanted = fingerprint(schema_id, entries)
        found: list[dict[str, Any]] = []
        for page in range(MAPPING_SETS_MAX_PAGES):
            body = self._data_prep("GET", "/mappingSets", ok=(200,), params=[
                ("limit", str(MAPPING_SETS_PAGE_SIZE)), ("start", str(page * MAPPING_SETS_PAGE_SIZE))])
            batch = (body.get("data") if "data" in body else body.get("items")) if isinstance(body, dict) else body
            batch = [item for item in batch or [] if isinstance(item, dict)]
            found += [item for item in batch if _schema_of(item)
                      and fingerprint(str(_schema_of(item)), item.get("mappings") or []) == wanted]
            if len(batch) < MAPPING_SETS_PAGE_SIZE:
                return sorted(found, key=lambda item: (item.get("createdDate") or 0, str(item.get("id"))))
        raise AEPAPIError(f"Data Prep GET /mappingSets: more than {MAPPING_SETS_MAX_PAGES} pages", service="Data Prep")

    # -- 5. the Data Landing Zone --------------------------------------------------------------------------------

    @cached_property
    def landing_zone(self) -> LandingZoneClient:
        """The landing zone's container and SAS credentials; every SAS token is masked when it arrives."""
        from airflow_provider_zoho_aep.client.landing_zone import LandingZoneClient

        return LandingZoneClient(self.client, on_secret=mask)

    def get_landing_zone(self) -> LandingZone:
        """``GET …/landingzone?type=user_drop_zone``: container (or bucket), retention and provider."""
        self.validate_connection()
        return self.landing_zone.get_landing_zone()

    def get_landing_zone_credentials(self, refresh: bool = False) -> LandingZoneCredentials:
        """The SAS credentials (``GET …/landingzone/credentials``). ``refresh=True`` makes Adobe issue a new token,
        which likely revokes the one other tools hold: uploads refresh only after the store refused a token."""
        self.validate_connection()
        return self.landing_zone.get_credentials(refresh=refresh)

    def landing_zone_uploader(self, *, max_concurrency: int = 4, **options: Any) -> LandingZoneUploader:
        """The uploader for this organization's landing zone (Azure; an AWS-hosted one is refused clearly).

        :param max_concurrency: blocks in flight at once
        :param options: more :class:`~airflow_provider_zoho_aep.client.azure_blob_upload.AzureBlobUploader`
            options (``block_size``, ``timeout``, ``sdk_retries``)
        """
        from airflow_provider_zoho_aep.client.landing_zone import AMAZON_S3, not_supported

        if self.get_landing_zone().provider == AMAZON_S3:
            raise not_supported()
        from airflow_provider_zoho_aep.client.azure_blob_upload import AzureBlobUploader

        return AzureBlobUploader(self.landing_zone.credentials, max_concurrency=max_concurrency, **options)

    def upload_files_to_landing_zone(
        self, files: Sequence[str | Path], *, module: str, flow_id: str, window_start: datetime, window_end: datetime,
        uploader: LandingZoneUploader | None = None,
    ) -> list[UploadedFile]:
        """Upload one window's files as ``zoho/<module>/<flow_id>/<startZ>_<endZ>_part-000n.csv`` (*n* from 1) and
        verify each (size and MD5); a file already there with the same content is not sent again.

        :param files: local CSV files, in order (never empty files)
        :param module: the Zoho CRM module, e.g. ``Leads``
        :param flow_id: the CloudStorageToAEP dataflow that will ingest them
        :param window_start: the window's start (timezone-aware)
        :param window_end: the window's end, exclusive (timezone-aware)
        :param uploader: an uploader to reuse (default: :meth:`landing_zone_uploader`)
        """
        from airflow_provider_zoho_aep.client.landing_zone import blob_name

        check_required(module, "module", "pass the Zoho CRM module, e.g. 'Leads'")
        check_required(flow_id, "flow_id")
        names = [blob_name(module, flow_id, window_start, window_end, part) for part in range(1, len(files) + 1)]
        if not files:
            return []
        uploader = uploader or self.landing_zone_uploader()
        return [uploader.upload(path, name) for path, name in zip(files, names, strict=True)]

    def upload_export_to_landing_zone(self, manifest: Mapping[str, Any], flow_id: str) -> dict[str, Any]:
        """Upload the files of a Zoho export manifest (``ZohoCRMHook.export_modified_records``) for ``flow_id``.

        :return: JSON-only: ``files`` (each ``blob_name, size, md5, last_modified, uploaded, replaced``) and the run
            window covering them, ``run_window_start`` / ``run_window_end`` (ISO 8601), or None for both when the
            manifest has no records (nothing uploaded; an empty window starts no run)
        """
        start, end = (parse_moment(manifest.get(key), f"manifest.{key}") for key in ("window_start", "window_end"))
        paths = [f["path"] for f in manifest.get("files") or [] if f.get("records", 1) and f.get("bytes", 1)]
        uploaded = self.upload_files_to_landing_zone(paths, module=str(manifest.get("module") or ""),
                                                     flow_id=flow_id, window_start=start, window_end=end)
        run = covering(u.last_modified for u in uploaded) if uploaded else None
        return {"files": [u.as_dict() for u in uploaded],
                "run_window_start": run.start.isoformat() if run else None,
                "run_window_end": run.end.isoformat() if run else None}


def _ims_tokens(settings: AEPSettings, **transport: Any) -> IMSTokenProvider:
    """The IMS token provider for these settings, on ``transport`` (the sync or async one and its masker)."""
    from airflow_provider_zoho_aep.client.flow_service import IMSTokenProvider

    return IMSTokenProvider(token_url=settings.ims_token_url, client_id=settings.client_id,
                            client_secret=settings.client_secret, ims_org_id=settings.ims_org_id,
                            scopes=settings.scopes, **transport)


def _refuse_update_of_flow_part(if_exists: str, noun: str) -> None:
    """Adobe: a source or target connection changed on its own does not reach the dataflows that use it."""
    if if_exists == "update":
        raise ConfigurationError(
            "if_exists", f"'update' is not supported for a {noun}: Adobe does not carry a change of a {noun} to the "
            "dataflows that use it", f"create a {noun} under a new name (if_exists='reuse') and point the dataflow at "
            "it, or change the dataflow itself (AEPCreateDataflowOperator with if_exists='update' patches its mapping "
            "and schedule)")


def _check_auth_params(spec: Mapping[str, Any], connection_spec_id: str, auth_spec_name: str,
                       names: set[str] | None) -> None:
    """``auth_spec_name`` is an auth spec of ``spec`` and ``names`` (when known) cover its required params."""
    auth_specs = {a.get("name"): a for a in spec.get("authSpec") or []}
    if auth_spec_name not in auth_specs:
        raise ConfigurationError("auth_spec_name",
                                 f"{auth_spec_name!r} is not an auth spec of connection spec {connection_spec_id}",
                                 f"use one of {', '.join(repr(n) for n in auth_specs) or '(none)'}")
    required = set((auth_specs[auth_spec_name].get("spec") or {}).get("required") or [])
    missing = sorted(required - (names if names is not None else required))
    if missing:
        raise ConfigurationError("auth_params", f"lacks {', '.join(missing)}, required by {auth_spec_name!r}",
                                 "add the missing keys")


def _result(item: Mapping[str, Any], *, created: bool) -> dict[str, Any]:
    """What every create returns: ``{"id", "etag", "created", "updated"}``."""
    return {"id": str(item["id"]), "etag": item.get("etag"), "created": created, "updated": False}


def _age(item: Mapping[str, Any]) -> tuple[Any, str]:
    """Oldest first: ``createdAt``, then ID (so every concurrent creator keeps the same one)."""
    return item.get("createdAt") or 0, str(item.get("id"))


def _of_window(items: Iterable[dict[str, Any]], window: Window) -> list[dict[str, Any]]:
    """The runs of exactly ``window``, newest first."""
    return sorted((item for item in items if same_window(item, window)),
                  key=lambda item: item.get("createdAt") or 0, reverse=True)


def _posted_id(answer: Any) -> str:
    """The new run's ID from the POST answer: ``{id, etag}``, or ``{items: [{id, etag}]}`` as the tutorial shows."""
    if isinstance(answer, Mapping):
        if answer.get("id"):
            return str(answer["id"])
        items = answer.get("items")
        if isinstance(items, list) and items and isinstance(items[0], Mapping) and items[0].get("id"):
            return str(items[0]["id"])
    raise AEPAPIError("Flow Service POST /runs answered without a run ID", service="Flow Service")


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
    doubled = sorted(d for d, n in Counter(e["destination"] for e in entries).items() if n > 1)
    if doubled:
        raise ConfigurationError("mappings", f"maps several columns to {', '.join(doubled)}",
                                 "map each XDM path from one column")
    return entries


def fingerprint(schema_id: str, entries: Iterable[Mapping[str, Any]]) -> tuple[str, frozenset[tuple[str, str, str]]]:
    """What makes two mapping sets the same; reads both of Data Prep's spellings (new and legacy)."""
    return schema_id, frozenset((
        str(e.get("sourceType") or "ATTRIBUTE").upper(),
        str(e.get("source") if e.get("source") is not None else e.get("sourceAttribute")),
        str(e.get("destination") if e.get("destination") is not None else e.get("destinationXdmPath")),
    ) for e in entries)


def _schema_of(item: Mapping[str, Any]) -> str | None:
    ref = ((item.get("outputSchema") or {}).get("schemaRef") or {}).get("id")
    if ref:
        return str(ref)
    legacy = item.get("xdmSchema") or item.get("outputSchema") or ""
    return legacy if isinstance(legacy, str) and legacy else None


def _mapping_set_result(item: Mapping[str, Any], *, created: bool) -> dict[str, Any]:
    version = item.get("version")
    return {"id": str(item["id"]), "created": created,
            "version": int(version) if isinstance(version, (int, str)) and str(version).isdigit() else 0}
