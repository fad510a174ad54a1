"""Operator that creates (or reuses) the Data Lake target connection for a dataset."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseOperator

from airflow_provider_zoho_aep.client.errors import ConfigurationError
from airflow_provider_zoho_aep.hooks.aep import (
    DEFAULT_SCHEMA_VERSION,
    AdobeExperiencePlatformHook,
    check_if_exists,
    check_name,
    check_target,
)
from airflow_provider_zoho_aep.operators._common import push_result

if TYPE_CHECKING:
    from airflow.sdk import Context


class AEPCreateTargetConnectionOperator(BaseOperator):
    """Create the target connection that writes into an AEP dataset (the Data Lake connection spec).

    The dataset and its XDM schema come from the Catalog and Schema Registry APIs; pass their IDs. Returns the
    target connection ID (XCom ``return_value``) and pushes its etag under ``etag``; re-runs reuse the target
    connection with the same name.

    :param name: target connection name (templated)
    :param dataset_id: Catalog dataset ID, e.g. ``5f3c2bfc1a2b3c4d5e6f7a8b`` (templated)
    :param schema_id: the dataset's XDM schema ``$id``, ``https://ns.adobe.com/<tenant>/schemas/<id>`` (templated)
    :param schema_version: ``data.schema.version`` (templated)
    :param description: optional description (templated)
    :param if_exists: ``reuse`` (default), ``update`` or ``fail`` (templated)
    :param aep_conn_id: Airflow Connection of type ``adobe_experience_platform`` (templated)
    """

    template_fields: Sequence[str] = (
        "name",
        "description",
        "dataset_id",
        "schema_id",
        "schema_version",
        "if_exists",
        "aep_conn_id",
    )
    ui_color = "#fa0f00"

    def __init__(
        self,
        *,
        name: str,
        dataset_id: str,
        schema_id: str,
        schema_version: str = DEFAULT_SCHEMA_VERSION,
        description: str | None = None,
        if_exists: str = "reuse",
        aep_conn_id: str = AdobeExperiencePlatformHook.default_conn_name,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.name = name
        self.description = description
        self.dataset_id = dataset_id
        self.schema_id = schema_id
        self.schema_version = schema_version
        self.if_exists = if_exists
        self.aep_conn_id = aep_conn_id

    def validate(self) -> None:
        """Check the rendered arguments; no network call."""
        check_name(self.name)
        check_if_exists(self.if_exists)
        check_target(self.dataset_id, self.schema_id)
        if not isinstance(self.schema_version, str) or not self.schema_version.strip():
            raise ConfigurationError("schema_version", "is empty", f"use {DEFAULT_SCHEMA_VERSION!r}")
        if self.description is not None and not isinstance(self.description, str):
            raise ConfigurationError("description", "is not a string", "pass text or None")

    def execute(self, context: Context) -> str:
        self.validate()
        hook = AdobeExperiencePlatformHook(aep_conn_id=self.aep_conn_id)
        hook.settings  # noqa: B018 - validates the AEP Connection before any call
        result = hook.create_target_connection(
            self.name,
            self.dataset_id,
            self.schema_id,
            schema_version=self.schema_version,
            description=self.description or None,
            if_exists=self.if_exists,  # type: ignore[arg-type]
        )
        return push_result(self, context, result, "target connection")
