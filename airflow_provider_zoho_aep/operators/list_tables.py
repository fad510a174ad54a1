"""Operator that lists the tables a base connection exposes (Flow Service explore)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from airflow_provider_zoho_aep.client.errors import ConfigurationError
from airflow_provider_zoho_aep.hooks.aep import AdobeExperiencePlatformHook
from airflow_provider_zoho_aep.version_compat import BaseOperator

if TYPE_CHECKING:
    from airflow_provider_zoho_aep.version_compat import Context


class AEPListTablesOperator(BaseOperator):
    """List the tables of a base connection (for Zoho CRM: its modules) and return their paths.

    A path is what a source connection's ``table_name`` takes. With ``required_table`` the task fails when that
    table is missing, before anything is created from it.

    :param base_connection_id: the base connection, e.g. ``create_base_connection.output`` (templated)
    :param required_table: a table path that must be in the list, e.g. ``Leads`` (templated)
    :param aep_conn_id: Airflow Connection of type ``adobe_experience_platform`` (templated)
    """

    template_fields: Sequence[str] = ("base_connection_id", "required_table", "aep_conn_id")
    ui_color = "#fa0f00"

    def __init__(
        self,
        *,
        base_connection_id: str,
        required_table: str | None = None,
        aep_conn_id: str = AdobeExperiencePlatformHook.default_conn_name,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.base_connection_id = base_connection_id
        self.required_table = required_table
        self.aep_conn_id = aep_conn_id

    def execute(self, context: Context) -> list[str]:
        hook = AdobeExperiencePlatformHook(aep_conn_id=self.aep_conn_id)
        paths = [str(table.get("path")) for table in hook.list_tables(self.base_connection_id)]
        self.log.info("Base connection %s exposes %d tables: %s", self.base_connection_id, len(paths),
                      ", ".join(paths))
        if self.required_table and self.required_table not in paths:
            raise ConfigurationError(
                "required_table", f"{self.required_table!r} is not a table of base connection "
                f"{self.base_connection_id}", f"use one of {', '.join(paths) or '(none)'}",
            )
        return paths
