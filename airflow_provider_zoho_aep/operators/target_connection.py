"""Operator that creates (or reuses) the Data Lake target connection for a dataset."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from airflow_provider_zoho_aep import DEFAULT_SCHEMA_VERSION
from airflow_provider_zoho_aep.hooks.aep import AdobeExperiencePlatformHook
from airflow_provider_zoho_aep.operators.create_resource import AEPCreateResourceOperator


class AEPCreateTargetConnectionOperator(AEPCreateResourceOperator):
    """Create the target connection that writes into an AEP dataset (the Data Lake connection spec).

    Returns the target connection ID (XCom ``return_value``) and pushes ``etag``; re-runs reuse it.

    :param name: target connection name (templated)
    :param dataset_id: Catalog dataset ID, e.g. ``5f3c2bfc1a2b3c4d5e6f7a8b`` (templated)
    :param schema_id: the dataset's XDM schema ``$id``, ``https://ns.adobe.com/<tenant>/schemas/<id>`` (templated)
    :param schema_version: ``data.schema.version`` (templated)
    :param description: optional description (templated)
    :param if_exists: ``reuse`` (default), ``update`` or ``fail`` (templated)
    :param aep_conn_id: Airflow Connection of type ``adobe_experience_platform`` (templated)
    """

    template_fields: Sequence[str] = (
        *AEPCreateResourceOperator.template_fields, "dataset_id", "schema_id", "schema_version",
    )
    noun = "target connection"

    def __init__(
        self,
        *,
        dataset_id: str,
        schema_id: str,
        schema_version: str = DEFAULT_SCHEMA_VERSION,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.dataset_id = dataset_id
        self.schema_id = schema_id
        self.schema_version = schema_version

    def create(self, hook: AdobeExperiencePlatformHook) -> Mapping[str, Any]:
        return hook.create_target_connection(
            self.name,
            self.dataset_id,
            self.schema_id,
            schema_version=self.schema_version,
            **self.create_options(),
        )
