"""Operator that deletes a dataflow and, optionally, what it was built from, in the order Adobe accepts."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from airflow_provider_zoho_aep import BASE_CONNECTIONS
from airflow_provider_zoho_aep.client.errors import AEPAPIError, ConfigurationError
from airflow_provider_zoho_aep.hooks.aep import AdobeExperiencePlatformHook
from airflow_provider_zoho_aep.version_compat import BaseOperator

if TYPE_CHECKING:
    from airflow_provider_zoho_aep.version_compat import Context


class AEPDeleteDataflowOperator(BaseOperator):
    """Delete a dataflow, then optionally its source and target connections, then optionally the base connection.

    That is the order Flow Service accepts (it refuses to delete what a dataflow still uses, ``1418-400``). Safe
    to re-run: anything already gone is skipped (a gone dataflow's connections cannot be found and are left).

    Returns ``{"flow_id", "deleted": [...], "already_gone": [...]}`` with ``kind:id`` entries.

    :param flow_id: the dataflow to delete (templated)
    :param delete_connections: also delete the dataflow's source and target connections
    :param delete_base_connection: also delete the base connection behind the source connection (needs
        ``delete_connections=True``; fails with ``1418`` if another dataflow still uses it)
    :param aep_conn_id: Airflow Connection of type ``adobe_experience_platform`` (templated)
    """

    template_fields: Sequence[str] = ("flow_id", "aep_conn_id")
    ui_color = "#fa0f00"

    def __init__(
        self,
        *,
        flow_id: str,
        delete_connections: bool = False,
        delete_base_connection: bool = False,
        aep_conn_id: str = AdobeExperiencePlatformHook.default_conn_name,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.flow_id = flow_id
        self.delete_connections = delete_connections
        self.delete_base_connection = delete_base_connection
        self.aep_conn_id = aep_conn_id

    def execute(self, context: Context) -> dict[str, Any]:
        if self.delete_base_connection and not self.delete_connections:  # the hook checks the IDs
            raise ConfigurationError(
                "delete_base_connection", "needs delete_connections=True",
                "the base connection can only go after the source connection that uses it",
            )
        hook = AdobeExperiencePlatformHook(aep_conn_id=self.aep_conn_id)
        deleted: list[str] = []
        gone: list[str] = []

        def record(kind: str, resource_id: str, was_deleted: bool) -> None:
            (deleted if was_deleted else gone).append(f"{kind}:{resource_id}")

        try:
            flow = hook.get_dataflow(self.flow_id)
        except AEPAPIError as err:
            if err.status != 404:
                raise
            self.log.info("Dataflow %s is already gone; nothing else can be found from it", self.flow_id)
            return {"flow_id": self.flow_id, "deleted": [], "already_gone": [f"flow:{self.flow_id}"]}

        record("flow", self.flow_id, hook.delete_dataflow(self.flow_id))
        if self.delete_connections:
            source_ids = [str(i) for i in flow.get("sourceConnectionIds") or []]
            base_ids: list[str] = []
            for source_id in source_ids:
                if self.delete_base_connection:
                    base_ids += self._base_connection_of(hook, source_id)
                record("sourceConnection", source_id, hook.delete_source_connection(source_id))
            for target_id in (str(i) for i in flow.get("targetConnectionIds") or []):
                record("targetConnection", target_id, hook.delete_target_connection(target_id))
            for base_id in dict.fromkeys(base_ids):
                record("baseConnection", base_id, hook.delete_resource(BASE_CONNECTIONS, base_id))
        self.log.info("Deleted: %s; already gone: %s", ", ".join(deleted) or "nothing", ", ".join(gone) or "nothing")
        return {"flow_id": self.flow_id, "deleted": deleted, "already_gone": gone}

    @staticmethod
    def _base_connection_of(hook: AdobeExperiencePlatformHook, source_id: str) -> list[str]:
        try:
            source = hook.get_source_connection(source_id)
        except AEPAPIError as err:
            if err.status != 404:
                raise
            return []
        base_id = source.get("baseConnectionId")
        return [str(base_id)] if base_id else []
