"""Operator that creates (or reuses) the Data Prep mapping set a file dataflow's ``Mapping`` step uses."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from airflow_provider_zoho_aep import DEFAULT_SCHEMA_VERSION
from airflow_provider_zoho_aep.hooks.aep import AdobeExperiencePlatformHook
from airflow_provider_zoho_aep.version_compat import BaseOperator

if TYPE_CHECKING:
    from airflow_provider_zoho_aep.version_compat import Context


class AEPCreateMappingSetOperator(BaseOperator):
    """Create the mapping set from CSV columns to XDM paths of a schema; reuse an identical one on re-runs.

    A mapping set has no name: "the same one" has the same output schema and mappings (order ignored). Returns
    the mapping set ID (XCom ``return_value``) and pushes ``mapping_version``, which
    :class:`~airflow_provider_zoho_aep.operators.dataflow.AEPCreateDataflowOperator` takes.

    :param schema_id: the target dataset's XDM schema ``$id`` (templated)
    :param mappings: ``{CSV column: XDM path}``, e.g. ``{"Email": "personalEmail.address"}``, or a list of
        ``{"source", "destination", "sourceType"}`` (templated)
    :param schema_version: the schema reference's content type (templated)
    :param aep_conn_id: Airflow Connection of type ``adobe_experience_platform`` (templated)
    """

    template_fields: Sequence[str] = ("schema_id", "mappings", "schema_version", "aep_conn_id")
    ui_color = "#fa0f00"

    def __init__(
        self,
        *,
        schema_id: str,
        mappings: Mapping[str, str],
        schema_version: str = DEFAULT_SCHEMA_VERSION,
        aep_conn_id: str = AdobeExperiencePlatformHook.default_conn_name,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.schema_id = schema_id
        self.mappings = mappings
        self.schema_version = schema_version
        self.aep_conn_id = aep_conn_id

    def execute(self, context: Context) -> str:
        hook = AdobeExperiencePlatformHook(aep_conn_id=self.aep_conn_id)
        result = hook.create_mapping_set(self.schema_id, self.mappings, schema_version=self.schema_version)
        context["ti"].xcom_push(key="mapping_version", value=result["version"])
        self.log.info("%s mapping set %s (version %s)", "Created" if result["created"] else "Reused", result["id"],
                      result["version"])
        return str(result["id"])
