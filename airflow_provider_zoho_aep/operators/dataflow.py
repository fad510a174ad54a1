"""Operator that creates (or reuses) the dataflow from a source connection to a target connection."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from airflow_provider_zoho_aep.client.errors import ConfigurationError
from airflow_provider_zoho_aep.client.schedule import schedule_params
from airflow_provider_zoho_aep.hooks.aep import AdobeExperiencePlatformHook
from airflow_provider_zoho_aep.operators.create_resource import AEPCreateResourceOperator
from airflow_provider_zoho_aep.validation import optional_text


class AEPCreateDataflowOperator(AEPCreateResourceOperator):
    """Create the dataflow from a source connection into a dataset; reuse it on re-runs.

    ``CRMToAEP`` copies a CRM table on a schedule (``delta_column`` required); ``CloudStorageToAEP`` reads files
    from the Data Landing Zone (``mapping_id`` required, no ``delta_column``, scheduled ``once``). Returns the
    flow ID (XCom ``return_value``) and pushes ``etag``.

    :param name: dataflow name (templated)
    :param source_connection_id: the source connection, e.g. ``create_source.output`` (templated)
    :param target_connection_id: the target connection (templated)
    :param delta_column: date-time column marking new and changed records, e.g. ``Modified_Time`` (templated)
    :param mapping_id: optional Data Prep mapping set ID (templated)
    :param mapping_version: the mapping set's version (templated)
    :param flow_spec_name: ``CRMToAEP`` (CRM sources) or ``CloudStorageToAEP`` (Data Landing Zone) (templated)
    :param start_time: first run: a datetime, an ISO 8601 string or epoch seconds; None means now (templated)
    :param frequency: ``once``, ``minute``, ``hour``, ``day`` or ``week``; None means ``once`` for
        ``CloudStorageToAEP`` and ``hour`` otherwise (templated)
    :param interval: runs every ``interval`` times ``frequency``; None means 1 (``once`` takes only None) (templated)
    :param backfill: ingest records older than ``start_time``; None leaves Flow Service's default (templated)
    :param description: optional description (templated)
    :param if_exists: ``reuse`` (default), ``update`` (PATCH transformations and schedule) or ``fail`` (templated)
    :param aep_conn_id: Airflow Connection of type ``adobe_experience_platform`` (templated)
    """

    noun = "dataflow"
    template_fields: Sequence[str] = (
        *AEPCreateResourceOperator.template_fields, "source_connection_id", "target_connection_id", "delta_column",
        "mapping_id", "mapping_version", "flow_spec_name", "start_time", "frequency", "interval", "backfill",
    )

    def __init__(
        self,
        *,
        source_connection_id: str,
        target_connection_id: str,
        delta_column: str | None = None,
        mapping_id: str | None = None,
        mapping_version: int | str = 0,
        flow_spec_name: str = "CRMToAEP",
        start_time: datetime | str | int | float | None = None,
        frequency: str | None = None,
        interval: int | str | None = None,
        backfill: bool | str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.source_connection_id = source_connection_id
        self.target_connection_id = target_connection_id
        self.delta_column = delta_column
        self.mapping_id = mapping_id
        self.mapping_version = mapping_version
        self.flow_spec_name = flow_spec_name
        self.start_time = start_time
        self.frequency = frequency
        self.interval = interval
        self.backfill = backfill

    def validate(self) -> None:
        """The schedule arguments and the rendered mapping version are the operator's own."""
        self.mapping_version_int()
        self.schedule_params()

    def schedule_params(self) -> dict[str, Any]:
        """``scheduleParams`` from the rendered schedule arguments, checked against the flow spec's rules."""
        return schedule_params(self.resolved_frequency(), self.interval, self.start_time, self.backfill)

    def resolved_frequency(self) -> str:
        if (frequency := optional_text(self.frequency)) is None:
            return "once" if self.flow_spec_name == "CloudStorageToAEP" else "hour"
        return str(frequency)

    def mapping_version_int(self) -> int:
        value = self.mapping_version
        if isinstance(value, str) and value.strip().isdigit():
            return int(value)
        if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
            return value
        raise ConfigurationError("mapping_version", f"{value!r} is not a version number", "pass an integer >= 0")

    def create(self, hook: AdobeExperiencePlatformHook) -> Mapping[str, Any]:
        return hook.create_dataflow(
            self.name,
            self.source_connection_id,
            self.target_connection_id,
            optional_text(self.delta_column),
            schedule_params=self.schedule_params(),
            mapping_id=optional_text(self.mapping_id),
            mapping_version=self.mapping_version_int(),
            flow_spec_name=self.flow_spec_name,
            **self.create_options(),
        )

