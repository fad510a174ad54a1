"""Operator that creates (or reuses) the source connection reading files from the Data Landing Zone."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from airflow_provider_zoho_aep.hooks.aep import AdobeExperiencePlatformHook
from airflow_provider_zoho_aep.operators.create_resource import AEPCreateResourceOperator
from airflow_provider_zoho_aep.validation import optional_text


class AEPCreateDataLandingZoneSourceConnectionOperator(AEPCreateResourceOperator):
    """Create the source connection that reads files uploaded to the sandbox's Data Landing Zone.

    It needs no base connection. ``path`` is read recursively; a run picks the files whose last-modified time
    falls in its window. Returns the source connection ID (XCom ``return_value``) and pushes ``etag``.

    :param name: source connection name (templated)
    :param path: ``<container>/<folder>/`` (a folder, read recursively) or ``<container>/<file>`` (templated)
    :param data_format: ``delimited`` (CSV, default), ``json`` or ``parquet`` (templated)
    :param column_delimiter: one character, for ``delimited`` (templated)
    :param compression_type: None for plain files, or e.g. ``gzip``, ``zipDeflate`` (templated)
    :param description: optional description (templated)
    :param if_exists: ``reuse`` (default), ``update`` or ``fail`` (templated)
    :param aep_conn_id: Airflow Connection of type ``adobe_experience_platform`` (templated)
    """

    template_fields: Sequence[str] = (
        *AEPCreateResourceOperator.template_fields, "path", "data_format", "column_delimiter", "compression_type",
    )
    noun = "source connection"

    def __init__(
        self,
        *,
        path: str,
        data_format: str = "delimited",
        column_delimiter: str = ",",
        compression_type: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.path = path
        self.data_format = data_format
        self.column_delimiter = column_delimiter
        self.compression_type = compression_type

    def create(self, hook: AdobeExperiencePlatformHook) -> Mapping[str, Any]:
        return hook.create_data_landing_zone_source_connection(
            self.name,
            self.path,
            data_format=self.data_format,
            column_delimiter=self.column_delimiter,
            compression_type=optional_text(self.compression_type),
            **self.create_options(),
        )
