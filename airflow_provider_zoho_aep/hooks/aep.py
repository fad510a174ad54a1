"""Hook for the ``adobe_experience_platform`` connection type: Flow Service with an IMS token."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import cached_property
from typing import TYPE_CHECKING, Any

from airflow_provider_zoho_aep import DATA_LAKE_CONNECTION_SPEC_ID, ZOHO_CRM_CONNECTION_SPEC_ID
from airflow_provider_zoho_aep.client import runs
from airflow_provider_zoho_aep.client.errors import AEPAPIError, ConfigurationError
from airflow_provider_zoho_aep.client.settings import AEPSettings
from airflow_provider_zoho_aep.hooks._connection_form import field_behaviour, form_widgets
from airflow_provider_zoho_aep.version_compat import BaseHook, mask_secret

# The HTTP stack (client.http, client.flow_service, client.idempotent, client.ims) imports ``requests``, which
# takes ~0.3 s to import: DAG files import the operators, which import this module, and the DAG processor parses
# them again and again. So it is imported where a hook first talks to AEP, never at module level
# (bench/parse_overhead.py measures it).
if TYPE_CHECKING:
    from airflow_provider_zoho_aep.client.flow_service import FlowServiceClient
    from airflow_provider_zoho_aep.client.http import RetryPolicy
    from airflow_provider_zoho_aep.client.idempotent import IfExists

AuthParams = Mapping[str, Any] | Callable[[], Mapping[str, Any]]

_DEPRECATION = (
    "Adobe deprecated the Zoho CRM source at the end of June 2025; its connection spec may be gone from your "
    "organization. Adobe names the Data Landing Zone source as the replacement (export from Zoho to files)."
)

#: ``data.schema.version`` of a Data Lake target connection.
DEFAULT_SCHEMA_VERSION = "application/vnd.adobe.xed-full+json;version=1"


def _mask(value: str) -> None:
    mask_secret(value)


def check_if_exists(value: str) -> None:
    """Reject an unknown ``if_exists`` before any call."""
    from airflow_provider_zoho_aep.client.idempotent import IF_EXISTS_CHOICES

    if value not in IF_EXISTS_CHOICES:
        raise ConfigurationError("if_exists", f"{value!r} is not one of {', '.join(IF_EXISTS_CHOICES)}",
                                 "use 'reuse' (default), 'update' or 'fail'")


def check_name(value: Any, field: str = "name") -> str:
    """A resource name: a non-empty string of at most 255 characters."""
    if not isinstance(value, str) or not value.strip():
        raise ConfigurationError(field, "is empty", "give the resource a name; it is how re-runs find it again")
    if len(value) > 255:
        raise ConfigurationError(field, f"is {len(value)} characters long", "use at most 255 characters")
    return value


class AdobeExperiencePlatformHook(BaseHook):
    """Talks to AEP's Flow Service with the credentials of an ``adobe_experience_platform`` Airflow Connection.

    The IMS token is cached per process until five minutes before it expires and is masked in logs as soon as
    it arrives. Every request has a timeout; 429/5xx/network errors are retried with backoff; creates are
    idempotent by name (see :mod:`airflow_provider_zoho_aep.client.idempotent`).

    :param aep_conn_id: the Airflow Connection ID (type ``adobe_experience_platform``)
    :param timeout: seconds per HTTP request; overrides the Connection's ``timeout`` extra
    :param retry_policy: retry bounds; the default retries up to 6 times within 120 s
    """

    conn_name_attr = "aep_conn_id"
    default_conn_name = "aep_default"
    conn_type = "adobe_experience_platform"
    hook_name = "Adobe Experience Platform"

    def __init__(
        self,
        aep_conn_id: str = default_conn_name,
        *,
        timeout: float | None = None,
        retry_policy: RetryPolicy | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.aep_conn_id = aep_conn_id
        self.timeout = timeout
        self.retry_policy = retry_policy

    # -- connection form (Airflow 3.0/3.1; 3.2+ reads get_provider_info) -----------------------------------

    @classmethod
    def get_connection_form_widgets(cls) -> dict[str, Any]:
        from airflow_provider_zoho_aep.get_provider_info import AEP_CONN_FIELDS

        return form_widgets(AEP_CONN_FIELDS)

    @classmethod
    def get_ui_field_behaviour(cls) -> dict[str, Any]:
        from airflow_provider_zoho_aep.get_provider_info import AEP_UI_FIELD_BEHAVIOUR

        return field_behaviour(AEP_UI_FIELD_BEHAVIOUR)

    # -- configuration ---------------------------------------------------------------------------------------

    @cached_property
    def settings(self) -> AEPSettings:
        """The Connection's fields, validated (raises :class:`ConfigurationError` naming the field)."""
        conn = self.get_connection(self.aep_conn_id)
        return AEPSettings.from_connection_fields(
            login=conn.login,
            password=conn.password,
            host=conn.host,
            extra=conn.extra,
            source=f"Airflow Connection '{self.aep_conn_id}' (Adobe Experience Platform)",
        )

    def get_conn(self) -> FlowServiceClient:
        """The Flow Service client for this Connection (built once per hook)."""
        return self.client

    @cached_property
    def client(self) -> FlowServiceClient:
        from airflow_provider_zoho_aep.client.flow_service import FlowServiceClient
        from airflow_provider_zoho_aep.client.http import HttpTransport, RetryPolicy
        from airflow_provider_zoho_aep.client.ims import IMSTokenProvider

        settings = self.settings
        _mask(settings.client_secret)
        transport = HttpTransport(
            timeout=self.timeout or settings.timeout,
            retry=self.retry_policy or RetryPolicy(),
        )
        tokens = IMSTokenProvider(
            token_url=settings.ims_token_url,
            client_id=settings.client_id,
            client_secret=settings.client_secret,
            ims_org_id=settings.ims_org_id,
            scopes=settings.scopes,
            transport=transport,
            on_token=_mask,
        )
        return FlowServiceClient(settings, transport, tokens)

    # -- base connections --------------------------------------------------------------------------------

    def _ensure(
        self,
        kind: str,
        name: str,
        filters: Mapping[str, str],
        body: Callable[[], Mapping[str, Any]],
        patch: Callable[[Mapping[str, Any]], list[dict[str, Any]]],
        if_exists: IfExists,
        description: str | None,
    ) -> dict[str, Any]:
        """Create-or-reuse by name (:func:`..client.idempotent.ensure`) as the public methods return it."""
        from airflow_provider_zoho_aep.client.idempotent import ensure

        return ensure(self.client, kind, name=name, filters=filters, build_body=body, if_exists=if_exists,
                      build_patch=patch, description=description).as_dict()

    def find_base_connections(self, name: str, connection_spec_id: str | None = None) -> list[dict[str, Any]]:
        """Base connections named exactly ``name`` (optionally of one connection spec)."""
        from airflow_provider_zoho_aep.client.idempotent import find_by_name

        filters = {"connectionSpec.id": connection_spec_id} if connection_spec_id else None
        return find_by_name(self.client, "connections", name, filters)

    def get_base_connection(self, base_connection_id: str) -> dict[str, Any]:
        """One base connection (secrets in ``auth.params`` come back as placeholders)."""
        return self.client.get("connections", base_connection_id)

    def create_base_connection(
        self,
        name: str,
        connection_spec_id: str,
        auth_params: AuthParams,
        *,
        auth_spec_name: str = "Basic Authentication",
        connection_spec_version: str = "1.0",
        description: str | None = None,
        if_exists: IfExists = "reuse",
    ) -> dict[str, Any]:
        """Create a base connection, or reuse/update the one with the same name and connection spec.

        :param name: base connection name; re-runs find the connection by it
        :param connection_spec_id: the source's connection spec
        :param auth_params: ``auth.params``, or a callable returning them (called only if they will be sent)
        :param auth_spec_name: ``auth.specName``
        :param connection_spec_version: ``connectionSpec.version``
        :param description: optional description
        :param if_exists: ``reuse`` (default), ``update`` (PATCH the credentials with If-Match) or ``fail``
        :return: ``{"id", "etag", "created", "updated"}``
        """
        check_name(name)
        check_if_exists(if_exists)
        if not isinstance(connection_spec_id, str) or not connection_spec_id.strip():
            raise ConfigurationError("connection_spec_id", "is empty", "pass the source's connection spec ID")
        self.settings  # noqa: B018 - validate the Airflow Connection before any call

        def params() -> dict[str, Any]:
            return dict(auth_params() if callable(auth_params) else auth_params)

        def body() -> dict[str, Any]:
            return {
                "auth": {"specName": auth_spec_name, "params": params()},
                "connectionSpec": {"id": connection_spec_id, "version": connection_spec_version},
            }

        def patch(existing: Mapping[str, Any]) -> list[dict[str, Any]]:
            return [{"op": "replace", "path": "/auth/params", "value": params()}]

        return self._ensure("connections", name, {"connectionSpec.id": connection_spec_id}, body, patch,
                            if_exists, description)

    def delete_base_connection(self, base_connection_id: str) -> None:
        """Delete a base connection; one already gone is not an error. Delete its dataflows first (1418)."""
        if self.client.delete("connections", base_connection_id):
            self.log.info("Deleted base connection %s", base_connection_id)
        else:
            self.log.info("Base connection %s was already gone", base_connection_id)

    def test_base_connection(self, base_connection_id: str) -> bool:
        """Ask Flow Service to test the stored credentials (``GET /connections/{id}/test``)."""
        return self.client.test_connection(base_connection_id)

    # -- explore ------------------------------------------------------------------------------------------

    def list_tables(self, base_connection_id: str) -> list[dict[str, Any]]:
        """Tables the base connection exposes (``explore?objectType=root``); each ``path`` is a ``tableName``."""
        items = self.client.explore(base_connection_id, [("objectType", "root")])
        return [item for item in items or [] if isinstance(item, dict) and item.get("type") == "table"]

    def get_table_columns(self, base_connection_id: str, table_path: str) -> list[dict[str, Any]]:
        """Columns of one table: ``name``, ``type`` and ``xdm`` type; pick the delta column from these."""
        body = self.client.explore(base_connection_id, [("objectType", "table"), ("object", table_path)])
        return list(((body or {}).get("schema") or {}).get("columns") or [])

    def preview_table(self, base_connection_id: str, table_path: str, count: int = 10) -> list[dict[str, Any]]:
        """Up to ``count`` rows of a table, as ``{column: value}`` dicts."""
        if not isinstance(count, int) or not 1 <= count <= 100:
            raise ConfigurationError("count", f"{count!r} is not between 1 and 100", "ask for 1 to 100 rows")
        body = self.client.explore(
            base_connection_id,
            [("objectType", "table"), ("object", table_path), ("preview", "true"), ("previewCount", str(count))],
        )
        return list((body or {}).get("data") or [])

    def check_connection_spec(
        self,
        connection_spec_id: str,
        auth_spec_name: str | None = None,
        auth_param_names: set[str] | None = None,
    ) -> dict[str, Any]:
        """Pre-flight: the connection spec exists, offers ``auth_spec_name``, and ``auth_param_names`` cover
        its required auth params. Raises :class:`AEPAPIError` with a clear message otherwise.
        """
        zoho = connection_spec_id == ZOHO_CRM_CONNECTION_SPEC_ID
        try:
            spec = self.client.get_connection_spec(connection_spec_id)
        except AEPAPIError as err:
            retired = err.status == 404 or (err.code is not None and ("1413" in err.code or "1100" in err.code))
            if not retired:
                raise
            raise AEPAPIError(
                f"connection spec {connection_spec_id} is not available in this organization"
                + (f". {_DEPRECATION}" if zoho else ""),
                status=err.status, code=err.code, title=err.title, detail=err.detail,
                request_id=err.request_id, service=err.service,
            ) from None
        if auth_spec_name is not None:
            auth_specs = {a.get("name"): a for a in spec.get("authSpec") or []}
            if auth_spec_name not in auth_specs:
                raise ConfigurationError(
                    "auth_spec_name", f"{auth_spec_name!r} is not an auth spec of connection spec "
                    f"{connection_spec_id}", f"use one of {', '.join(repr(n) for n in auth_specs) or '(none)'}",
                )
            required = set((auth_specs[auth_spec_name].get("spec") or {}).get("required") or [])
            missing = sorted(required - (auth_param_names or required))
            if missing:
                raise ConfigurationError(
                    "auth_params", f"lacks {', '.join(missing)}, required by {auth_spec_name!r}",
                    "add the missing keys",
                )
        return spec

    # -- Airflow's "Test" button ----------------------------------------------------------------------------

    def test_connection(self) -> tuple[bool, str]:
        """Get an IMS token and read the Zoho CRM connection spec: proves credentials, org and sandbox."""
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
                    f"the Zoho CRM connection spec is not available. {_DEPRECATION}"
                )
            return False, str(err)
        return True, (
            f"Authenticated with IMS and reached Flow Service in sandbox '{settings.sandbox_name}' of "
            f"{settings.ims_org_id}; the Zoho CRM connection spec is available."
        )

    # =========================================================================================================
    # Source connection → target connection → dataflow → runs (issue 3)
    # =========================================================================================================

    def get_source_connection(self, source_connection_id: str) -> dict[str, Any]:
        """One source connection (``GET /sourceConnections/{id}``)."""
        return self.client.get("sourceConnections", source_connection_id)

    def get_target_connection(self, target_connection_id: str) -> dict[str, Any]:
        """One target connection (``GET /targetConnections/{id}``)."""
        return self.client.get("targetConnections", target_connection_id)

    def create_source_connection(
        self,
        name: str,
        base_connection_id: str,
        table_name: str,
        *,
        connection_spec_id: str = ZOHO_CRM_CONNECTION_SPEC_ID,
        connection_spec_version: str = "1.0",
        description: str | None = None,
        if_exists: IfExists = "reuse",
    ) -> dict[str, Any]:
        """Create the source connection for one table of a base connection, or reuse the one with this name.

        :param name: source connection name; re-runs find it by name and base connection
        :param base_connection_id: the base connection the table belongs to
        :param table_name: the table's ``path`` from explore (``params.tableName``), e.g. ``Leads``
        :param connection_spec_id: the base connection's connection spec
        :param connection_spec_version: ``connectionSpec.version``
        :param description: optional description
        :param if_exists: ``reuse`` (default), ``update`` (PATCH table and description with If-Match) or ``fail``
        :return: ``{"id", "etag", "created", "updated"}``
        """
        check_name(name)
        check_if_exists(if_exists)
        check_id(base_connection_id, "base_connection_id")
        check_id(table_name, "table_name", "pass a table path from explore, e.g. 'Leads'")
        check_id(connection_spec_id, "connection_spec_id")

        def body() -> dict[str, Any]:
            return {
                "baseConnectionId": base_connection_id,
                "data": {"format": "tabular"},
                "params": {"tableName": table_name},
                "connectionSpec": {"id": connection_spec_id, "version": connection_spec_version},
            }

        def patch(existing: Mapping[str, Any]) -> list[dict[str, Any]]:
            params = {**(existing.get("params") or {}), "tableName": table_name}
            return [{"op": "replace", "path": "/params", "value": params}]

        return self._ensure("sourceConnections", name, {"baseConnectionId": base_connection_id}, body, patch,
                            if_exists, description)

    def create_target_connection(
        self,
        name: str,
        dataset_id: str,
        schema_id: str,
        *,
        schema_version: str = DEFAULT_SCHEMA_VERSION,
        description: str | None = None,
        if_exists: IfExists = "reuse",
    ) -> dict[str, Any]:
        """Create the Data Lake target connection for a dataset, or reuse the one with this name.

        :param name: target connection name; re-runs find it by name
        :param dataset_id: Catalog dataset ID (``params.dataSetId``)
        :param schema_id: the dataset's XDM schema ``$id``, ``https://ns.adobe.com/<tenant>/schemas/<id>``
        :param schema_version: ``data.schema.version``
        :param description: optional description
        :param if_exists: ``reuse`` (default), ``update`` (PATCH dataset and schema with If-Match) or ``fail``
        :return: ``{"id", "etag", "created", "updated"}``
        """
        check_name(name)
        check_if_exists(if_exists)
        check_target(dataset_id, schema_id)
        data = {"schema": {"id": schema_id, "version": schema_version}}

        def body() -> dict[str, Any]:
            return {
                "data": data,
                "params": {"dataSetId": dataset_id},
                "connectionSpec": {"id": DATA_LAKE_CONNECTION_SPEC_ID, "version": "1.0"},
            }

        def patch(existing: Mapping[str, Any]) -> list[dict[str, Any]]:
            return [
                {"op": "replace", "path": "/data", "value": data},
                {"op": "replace", "path": "/params", "value": {**(existing.get("params") or {}),
                                                              "dataSetId": dataset_id}},
            ]

        return self._ensure("targetConnections", name, {"connectionSpec.id": DATA_LAKE_CONNECTION_SPEC_ID},
                            body, patch, if_exists, description)

    def find_flow_spec(self, name: str = "CRMToAEP") -> dict[str, Any]:
        """The flow spec called ``name`` (its ID is looked up, never hard-coded: it differs between sources)."""
        check_id(name, "flow_spec_name", "use 'CRMToAEP' for CRM sources")
        found = self.client.find_flow_spec(name)
        if len(found) != 1:
            problem = "is not available in this organization" if not found else f"matches {len(found)} flow specs"
            raise AEPAPIError(f"flow spec {name!r} {problem}", service="Flow Service")
        return found[0]

    def create_dataflow(
        self,
        name: str,
        source_connection_id: str,
        target_connection_id: str,
        delta_column: str,
        *,
        schedule_params: Mapping[str, Any],
        mapping_id: str | None = None,
        mapping_version: int = 0,
        flow_spec_name: str = "CRMToAEP",
        description: str | None = None,
        if_exists: IfExists = "reuse",
    ) -> dict[str, Any]:
        """Create the dataflow from a source connection to a target connection, or reuse the one with this name.

        The flow spec is resolved by name and must list the source and target connections' specs. ``state`` is
        never sent (Flow Service rejects it on create); a new dataflow starts enabled.

        :param name: dataflow name; re-runs find it by name and flow spec
        :param source_connection_id: the source connection (one table)
        :param target_connection_id: the Data Lake target connection
        :param delta_column: the column Flow Service uses to pick up new and changed records (``Copy``)
        :param schedule_params: ``scheduleParams``, as :func:`~airflow_provider_zoho_aep.client.schedule.
            schedule_params` builds them
        :param mapping_id: optional Data Prep mapping set ID (``Mapping``)
        :param mapping_version: the mapping set's version
        :param flow_spec_name: the flow spec, ``CRMToAEP`` for CRM sources
        :param description: optional description
        :param if_exists: ``reuse`` (default), ``update`` (PATCH transformations and schedule) or ``fail``
        :return: ``{"id", "etag", "created", "updated"}``
        """
        check_name(name)
        check_if_exists(if_exists)
        check_id(source_connection_id, "source_connection_id")
        check_id(target_connection_id, "target_connection_id")
        check_id(delta_column, "delta_column", "pass a date-time column from explore, e.g. 'Modified_Time'")
        transformations: list[dict[str, Any]] = [{"name": "Copy", "params": {"deltaColumn": {"name": delta_column}}}]
        if mapping_id:
            transformations.append(
                {"name": "Mapping", "params": {"mappingId": mapping_id, "mappingVersion": int(mapping_version)}}
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
            return [
                {"op": "replace", "path": "/transformations", "value": transformations},
                {"op": "replace", "path": "/scheduleParams", "value": schedule},
            ]

        return self._ensure("flows", name, {"flowSpec.id": str(spec["id"])}, body, patch, if_exists, description)

    def get_dataflow(self, flow_id: str) -> dict[str, Any]:
        """One dataflow, with ``state``, ``sourceConnectionIds``, ``targetConnectionIds`` and ``lastRunDetails``."""
        return self.client.get("flows", flow_id)

    def list_runs(self, flow_id: str, limit: int | None = None) -> list[dict[str, Any]]:
        """The dataflow's runs, newest first (all of them, or the newest ``limit``)."""
        check_id(flow_id, "flow_id")
        items = self.client.list(
            "runs", {"flowId": flow_id}, orderby="-createdAt", limit=limit, max_items=limit
        )
        return [item for item in items if item.get("flowId") in (None, flow_id)]

    def get_latest_run(self, flow_id: str) -> dict[str, Any] | None:
        """The dataflow's newest run, or None before its first run."""
        found = runs.check(self.list_runs(flow_id, limit=5), flow_id)
        return dict(found.run) if found.run is not None else None

    def delete_dataflow(self, flow_id: str) -> bool:
        """Delete a dataflow; True when deleted, False when it was already gone."""
        return self._delete("flows", flow_id, "dataflow")

    def delete_source_connection(self, source_connection_id: str) -> bool:
        """Delete a source connection (its dataflows first); True when deleted, False when already gone."""
        return self._delete("sourceConnections", source_connection_id, "source connection")

    def delete_target_connection(self, target_connection_id: str) -> bool:
        """Delete a target connection (its dataflows first); True when deleted, False when already gone."""
        return self._delete("targetConnections", target_connection_id, "target connection")

    def _delete(self, kind: str, resource_id: str, noun: str) -> bool:
        check_id(resource_id, f"{noun.replace(' ', '_')}_id")
        deleted = self.client.delete(kind, resource_id)
        self.log.info("%s %s %s", "Deleted" if deleted else "Already gone:", noun, resource_id)
        return deleted


_SCHEMA_PREFIX = "https://ns.adobe.com/"


def check_id(value: Any, field: str, fix: str | None = None) -> str:
    """An ID-like argument: a non-empty string (templated IDs render to '' or 'None' when upstream failed)."""
    if not isinstance(value, str) or not value.strip() or value.strip() == "None":
        raise ConfigurationError(field, "is empty", fix or f"pass the {field.replace('_', ' ')}, e.g. from upstream "
                                 "XCom")
    return value


def check_target(dataset_id: Any, schema_id: Any) -> None:
    """A Data Lake target: a dataset ID and an XDM schema URI, checked before any call."""
    check_id(dataset_id, "dataset_id", "pass the Catalog dataset ID, e.g. '5f3c2bfc1a2b3c4d5e6f7a8b'")
    if not isinstance(schema_id, str) or not schema_id.startswith(_SCHEMA_PREFIX) or schema_id == _SCHEMA_PREFIX:
        raise ConfigurationError(
            "schema_id", f"{schema_id!r} is not an XDM schema URI",
            "use the schema's $id, e.g. 'https://ns.adobe.com/<tenant>/schemas/<id>'",
        )
