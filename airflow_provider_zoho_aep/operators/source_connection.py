"""Operator that creates (or reuses) the source connection for one table of a base connection."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from airflow_provider_zoho_aep import ZOHO_CRM_CONNECTION_SPEC_ID
from airflow_provider_zoho_aep.hooks.aep import AdobeExperiencePlatformHook
from airflow_provider_zoho_aep.operators.create_resource import AEPCreateResourceOperator


class AEPCreateSourceConnectionOperator(AEPCreateResourceOperator):
    """Create the source connection that reads one table (a Zoho CRM module) of a base connection.

    Returns the source connection ID (XCom ``return_value``) and pushes ``etag``; re-runs reuse it.

    :param name: source connection name (templated)
    :param base_connection_id: the base connection, e.g. ``create_base_connection.output`` (templated)
    :param table_name: the table's ``path`` from explore, e.g. ``Leads`` (templated)
    :param connection_spec_id: the base connection's connection spec; Zoho CRM by default (templated)
    :param connection_spec_version: ``connectionSpec.version`` (templated)
    :param description: optional description (templated)
    :param if_exists: ``reuse`` (default), ``update`` or ``fail`` (templated)
    :param aep_conn_id: Airflow Connection of type ``adobe_experience_platform`` (templated)
    """

    template_fields: Sequence[str] = (
        *AEPCreateResourceOperator.template_fields, "base_connection_id", "table_name", "connection_spec_id",
        "connection_spec_version",
    )
    noun = "source connection"

    def __init__(
        self,
        *,
        base_connection_id: str,
        table_name: str,
        connection_spec_id: str = ZOHO_CRM_CONNECTION_SPEC_ID,
        connection_spec_version: str = "1.0",
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.base_connection_id = base_connection_id
        self.table_name = table_name
        self.connection_spec_id = connection_spec_id
        self.connection_spec_version = connection_spec_version

    def create(self, hook: AdobeExperiencePlatformHook) -> Mapping[str, Any]:
        return hook.create_source_connection(
            self.name,
            self.base_connection_id,
            self.table_name,
            connection_spec_id=self.connection_spec_id,
            connection_spec_version=self.connection_spec_version,
            **self.create_options(),
        )
