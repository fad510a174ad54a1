"""Hook for the ``adobe_experience_platform`` connection type: the Flow Service resources of a pipeline.

Base connection → source connection → target connection → dataflow → runs, each created idempotently by name
(:mod:`airflow_provider_zoho_aep.client.idempotent`). Each public method checks its own arguments before any
call (:mod:`airflow_provider_zoho_aep.validation`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from airflow_provider_zoho_aep import (
    BASE_CONNECTIONS,
    DATA_LAKE_CONNECTION_SPEC_ID,
    DATA_LANDING_ZONE_CONNECTION_SPEC_ID,
    DEFAULT_SCHEMA_VERSION,
    FLOWS,
    SOURCE_CONNECTIONS,
    TARGET_CONNECTIONS,
    ZOHO_CRM_CONNECTION_SPEC_ID,
)
from airflow_provider_zoho_aep.client.errors import AEPAPIError, ConfigurationError
from airflow_provider_zoho_aep.hooks.aep_base import ZOHO_CRM_RETIREMENT
from airflow_provider_zoho_aep.hooks.dataflow_runs import DataflowRunsMixin
from airflow_provider_zoho_aep.hooks.landing_zone import LandingZoneMixin
from airflow_provider_zoho_aep.validation import (
    IfExists,
    check_description,
    check_file_format,
    check_flow_spec_arguments,
    check_if_exists,
    check_landing_zone_path,
    check_name,
    check_required,
    check_row_count,
    check_schema_id,
)

#: ``auth.params`` as a dict, or a callable returning them: it is called only when they will be sent, so a
#: reused base connection costs no Zoho token.
AuthParams = Mapping[str, Any] | Callable[[], Mapping[str, Any]]

_NOUNS = {BASE_CONNECTIONS: "base connection", SOURCE_CONNECTIONS: "source connection",
          TARGET_CONNECTIONS: "target connection", FLOWS: "dataflow"}


class AdobeExperiencePlatformHook(DataflowRunsMixin, LandingZoneMixin):
    """Creates, reads and deletes the Flow Service resources of a pipeline, idempotently by name.

    This module holds the base, source and target connections, dataflows and deletes; on-demand runs come from
    :class:`~airflow_provider_zoho_aep.hooks.dataflow_runs.DataflowRunsMixin`, mapping sets and the landing zone's
    container and uploads from :class:`~airflow_provider_zoho_aep.hooks.landing_zone.LandingZoneMixin`, and the
    Connection, clients and form from
    :class:`~airflow_provider_zoho_aep.hooks.aep_base.AdobeExperiencePlatformBaseHook`.

    Creates look the resource up by name first: ``if_exists="reuse"`` returns the existing one untouched,
    ``"update"`` PATCHes it with ``If-Match``, ``"fail"`` raises. After an ambiguous failure the resource is
    looked up again before any new POST.

    :param aep_conn_id: the Airflow Connection ID (type ``adobe_experience_platform``)
    :param timeout: seconds per HTTP request; overrides the Connection's ``timeout`` extra
    :param retry_policy: retry bounds; the default retries up to 6 times within 120 s
    """

    # Airflow 3.0/3.1 read the connection form only from the registered hook class's own ``__dict__``, never
    # from a base class: without these two the AEP form loses its extra fields there.
    @classmethod
    def get_connection_form_widgets(cls) -> dict[str, Any]:
        return super().get_connection_form_widgets()

    @classmethod
    def get_ui_field_behaviour(cls) -> dict[str, Any]:
        return super().get_ui_field_behaviour()

    def _ensure(
        self,
        collection: str,
        name: str,
        filters: Mapping[str, str],
        body: Callable[[], Mapping[str, Any]],
        patch: Callable[[Mapping[str, Any]], list[dict[str, Any]]] | None,
        if_exists: IfExists,
        description: str | None,
    ) -> dict[str, Any]:
        """Create-or-reuse by name, as the public methods return it: ``{"id", "etag", "created", "updated"}``."""
        from airflow_provider_zoho_aep.client.idempotent import ensure

        return ensure(self.client, collection, name=name, filters=filters, build_body=body, if_exists=if_exists,
                      build_patch=patch, description=description).as_dict()

    @staticmethod
    def _check_create(name: Any, if_exists: Any, description: Any) -> None:
        check_name(name)
        check_if_exists(if_exists)
        check_description(description)

    # -- base connections --------------------------------------------------------------------------------

    def find_base_connections(self, name: str, connection_spec_id: str | None = None) -> list[dict[str, Any]]:
        """Base connections named exactly ``name`` (optionally of one connection spec)."""
        from airflow_provider_zoho_aep.client.idempotent import find_by_name

        check_name(name)
        filters = {"connectionSpec.id": connection_spec_id} if connection_spec_id else None
        return find_by_name(self.client, BASE_CONNECTIONS, name, filters)

    def get_base_connection(self, base_connection_id: str) -> dict[str, Any]:
        """One base connection (secrets in ``auth.params`` come back as placeholders)."""
        return self.client.get(BASE_CONNECTIONS, check_required(base_connection_id, "base_connection_id"))

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
        check_connection_spec: bool = False,
    ) -> dict[str, Any]:
        """Create a base connection, or reuse/update the one with the same name and connection spec.

        :param name: base connection name; re-runs find the connection by it
        :param connection_spec_id: the source's connection spec
        :param auth_params: ``auth.params``, or a callable returning them (called only if they will be sent)
        :param auth_spec_name: ``auth.specName``
        :param connection_spec_version: ``connectionSpec.version``
        :param description: optional description
        :param if_exists: ``reuse`` (default), ``update`` (PATCH the credentials with If-Match) or ``fail``
        :param check_connection_spec: read the connection spec first (:meth:`check_connection_spec`), so a retired
            spec or a wrong ``auth_spec_name`` fails before anything is written
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
            return {
                "auth": {"specName": auth_spec_name, "params": params()},
                "connectionSpec": {"id": connection_spec_id, "version": connection_spec_version},
            }

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
        self,
        connection_spec_id: str,
        auth_spec_name: str | None = None,
        auth_param_names: set[str] | None = None,
    ) -> dict[str, Any]:
        """Pre-flight: the connection spec exists, offers ``auth_spec_name``, and ``auth_param_names`` cover
        its required auth params. Raises :class:`AEPAPIError` with a clear message otherwise.
        """
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

    # -- explore ------------------------------------------------------------------------------------------

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
        body = self.client.explore(
            base_connection_id,
            [("objectType", "table"), ("object", table_path), ("preview", "true"), ("previewCount", str(count))],
        )
        return list((body or {}).get("data") or [])

    # -- source and target connections -----------------------------------------------------------------------

    def get_source_connection(self, source_connection_id: str) -> dict[str, Any]:
        """One source connection (``GET /sourceConnections/{id}``)."""
        return self.client.get(SOURCE_CONNECTIONS, check_required(source_connection_id, "source_connection_id"))

    def get_target_connection(self, target_connection_id: str) -> dict[str, Any]:
        """One target connection (``GET /targetConnections/{id}``)."""
        return self.client.get(TARGET_CONNECTIONS, check_required(target_connection_id, "target_connection_id"))

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
        :param if_exists: ``reuse`` (default) or ``fail``; ``update`` is refused: Adobe does not carry it to dataflows
        :return: ``{"id", "etag", "created", "updated"}``
        """
        self._check_create(name, if_exists, description)
        _refuse_update_of_flow_part(if_exists, "source connection")
        check_required(base_connection_id, "base_connection_id")
        check_required(table_name, "table_name", "pass a table path from explore, e.g. 'Leads'")
        check_required(connection_spec_id, "connection_spec_id")
        self.validate_connection()

        def body() -> dict[str, Any]:
            return {
                "baseConnectionId": base_connection_id,
                "data": {"format": "tabular"},
                "params": {"tableName": table_name},
                "connectionSpec": {"id": connection_spec_id, "version": connection_spec_version},
            }

        return self._ensure(SOURCE_CONNECTIONS, name, {"baseConnectionId": base_connection_id}, body, None,
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
        :param if_exists: ``reuse`` (default) or ``fail``; ``update`` is refused: Adobe does not carry it to dataflows
        :return: ``{"id", "etag", "created", "updated"}``
        """
        self._check_create(name, if_exists, description)
        _refuse_update_of_flow_part(if_exists, "target connection")
        check_required(dataset_id, "dataset_id", "pass the Catalog dataset ID, e.g. '5f3c2bfc1a2b3c4d5e6f7a8b'")
        check_schema_id(schema_id)
        check_required(schema_version, "schema_version", f"use {DEFAULT_SCHEMA_VERSION!r}")
        self.validate_connection()
        data = {"schema": {"id": schema_id, "version": schema_version}}

        def body() -> dict[str, Any]:
            return {
                "data": data,
                "params": {"dataSetId": dataset_id},
                "connectionSpec": {"id": DATA_LAKE_CONNECTION_SPEC_ID, "version": "1.0"},
            }

        return self._ensure(TARGET_CONNECTIONS, name, {"connectionSpec.id": DATA_LAKE_CONNECTION_SPEC_ID},
                            body, None, if_exists, description)

    # -- dataflows and runs -----------------------------------------------------------------------------------

    def find_flow_spec(self, name: str = "CRMToAEP") -> dict[str, Any]:
        """The flow spec called ``name`` (its ID is looked up, never hard-coded: it differs between sources)."""
        check_required(name, "flow_spec_name", "use 'CRMToAEP' for CRM sources")
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
        delta_column: str | None = None,
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
        never sent (Flow Service rejects it on create); a new dataflow starts enabled. Two flow specs, two shapes:
        ``CRMToAEP`` copies a table (``Copy`` with ``delta_column``, required; ``Mapping`` optional);
        ``CloudStorageToAEP`` reads files from the Data Landing Zone (``Mapping`` only, ``mapping_id`` required,
        ``delta_column`` refused, scheduled ``once`` so runs are started per window).

        :param name: dataflow name; re-runs find it by name and flow spec
        :param source_connection_id: the source connection (one table)
        :param target_connection_id: the Data Lake target connection
        :param delta_column: the column Flow Service uses to pick up new and changed records (``Copy``); required
            by ``CRMToAEP``, refused by ``CloudStorageToAEP``
        :param schedule_params: ``scheduleParams``, as :func:`~airflow_provider_zoho_aep.client.schedule.
            schedule_params` builds them
        :param mapping_id: optional Data Prep mapping set ID (``Mapping``)
        :param mapping_version: the mapping set's version
        :param flow_spec_name: the flow spec, ``CRMToAEP`` for CRM sources
        :param description: optional description
        :param if_exists: ``reuse`` (default), ``update`` (PATCH only what changed: the mapping in ``transformations``,
            frequency, interval, backfill; never a ``startTime`` that has passed, which Adobe refuses) or ``fail``
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
        self,
        name: str,
        path: str,
        *,
        data_format: str = "delimited",
        column_delimiter: str = ",",
        compression_type: str | None = None,
        encoding: str = "UTF-8",
        description: str | None = None,
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

        def body() -> dict[str, Any]:
            return {"data": data, "params": params,
                    "connectionSpec": {"id": DATA_LANDING_ZONE_CONNECTION_SPEC_ID, "version": "1.0"}}

        def patch(existing: Mapping[str, Any]) -> list[dict[str, Any]]:
            return [{"op": "replace", "path": "/data", "value": data},
                    {"op": "replace", "path": "/params", "value": params}]

        return self._ensure(SOURCE_CONNECTIONS, name, {"connectionSpec.id": DATA_LANDING_ZONE_CONNECTION_SPEC_ID},
                            body, patch, if_exists, description)

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


def _refuse_update_of_flow_part(if_exists: str, noun: str) -> None:
    """Adobe: a source or target connection changed on its own does not reach the dataflows that use it."""
    if if_exists == "update":
        raise ConfigurationError(
            "if_exists",
            f"'update' is not supported for a {noun}: Adobe does not carry a change of a {noun} to the dataflows "
            "that use it",
            f"create a {noun} under a new name (if_exists='reuse') and point the dataflow at it, or change the "
            "dataflow itself (AEPCreateDataflowOperator with if_exists='update' patches its mapping and schedule)",
        )


def _check_auth_params(
    spec: Mapping[str, Any], connection_spec_id: str, auth_spec_name: str, names: set[str] | None
) -> None:
    """``auth_spec_name`` is an auth spec of ``spec`` and ``names`` (when known) cover its required params."""
    auth_specs = {a.get("name"): a for a in spec.get("authSpec") or []}
    if auth_spec_name not in auth_specs:
        raise ConfigurationError(
            "auth_spec_name", f"{auth_spec_name!r} is not an auth spec of connection spec {connection_spec_id}",
            f"use one of {', '.join(repr(n) for n in auth_specs) or '(none)'}",
        )
    required = set((auth_specs[auth_spec_name].get("spec") or {}).get("required") or [])
    missing = sorted(required - (names if names is not None else required))
    if missing:
        raise ConfigurationError(
            "auth_params", f"lacks {', '.join(missing)}, required by {auth_spec_name!r}", "add the missing keys",
        )

