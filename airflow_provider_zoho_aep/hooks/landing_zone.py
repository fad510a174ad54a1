"""Data Prep mapping sets and the Data Landing Zone (its container, SAS credentials and uploads), for
:class:`~airflow_provider_zoho_aep.hooks.aep.AdobeExperiencePlatformHook`.

The SAS token is a credential: :func:`~airflow_provider_zoho_aep.hooks.aep_base.mask` masks each one as it
arrives. The landing zone's source connection is a Flow Service source connection, created beside the others.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from airflow_provider_zoho_aep import DEFAULT_SCHEMA_VERSION
from airflow_provider_zoho_aep.client.errors import ConfigurationError
from airflow_provider_zoho_aep.hooks.aep_base import AdobeExperiencePlatformBaseHook, mask
from airflow_provider_zoho_aep.validation import check_required, check_schema_id

if TYPE_CHECKING:
    from airflow_provider_zoho_aep.client.landing_zone import (
        LandingZone,
        LandingZoneClient,
        LandingZoneCredentials,
        LandingZoneUploader,
        UploadedFile,
    )


class LandingZoneMixin(AdobeExperiencePlatformBaseHook):
    """Mapping sets, and the landing zone's container, credentials and verified uploads."""

    def create_mapping_set(
        self, schema_id: str, mappings: Mapping[str, str], *, schema_version: str = DEFAULT_SCHEMA_VERSION
    ) -> dict[str, Any]:
        """The Data Prep mapping set for ``{source column: XDM path}`` into ``schema_id``, reused when it exists.

        Mapping sets have no name: an existing set with the same output schema and the same mappings (order
        ignored) is the one reused, before a create and after an ambiguous failure of one.

        :param schema_id: the target dataset's XDM schema ``$id``
        :param mappings: ``{CSV header column: XDM path}``, e.g. ``{"Email": "personalEmail.address"}``
        :param schema_version: the schema reference's content type
        :return: ``{"id", "version", "created"}``
        """
        from airflow_provider_zoho_aep.client.mapping_sets import MappingSetClient, mapping_entries

        check_schema_id(schema_id)
        check_required(schema_version, "schema_version", f"use {DEFAULT_SCHEMA_VERSION!r}")
        entries = mapping_entries(mappings)
        self.validate_connection()
        return MappingSetClient(self.client).ensure(schema_id, entries, schema_content_type=schema_version)

    def get_mapping_set(self, mapping_set_id: str, version: int | None = None) -> dict[str, Any]:
        """One mapping set (``GET /data/foundation/conversion/mappingSets/{id}``), optionally one version."""
        from airflow_provider_zoho_aep.client.mapping_sets import MappingSetClient

        return MappingSetClient(self.client).get(check_required(mapping_set_id, "mapping_set_id"), version)

    @cached_property
    def landing_zone(self) -> LandingZoneClient:
        """The landing zone's container and SAS credentials; every SAS token is masked when it arrives."""
        from airflow_provider_zoho_aep.client.landing_zone import LandingZoneClient

        return LandingZoneClient(self.client, on_secret=mask)

    def get_landing_zone(self) -> LandingZone:
        """``GET …/landingzone?type=user_drop_zone``: container (or bucket), retention and provider."""
        self.validate_connection()
        return self.landing_zone.get_landing_zone()

    def get_landing_zone_credentials(self, refresh: bool = False) -> LandingZoneCredentials:
        """The SAS credentials (``GET …/landingzone/credentials``). ``refresh=True`` makes Adobe issue a new token,
        which likely revokes the one other tools hold: uploads refresh only after the store refused a token."""
        self.validate_connection()
        return self.landing_zone.get_credentials(refresh=refresh)

    def landing_zone_uploader(self, *, max_concurrency: int = 4, **options: Any) -> LandingZoneUploader:
        """The uploader for this organization's landing zone (Azure today; an AWS-hosted one is refused clearly).

        :param max_concurrency: blocks in flight at once
        :param options: more :class:`~airflow_provider_zoho_aep.client.azure_blob_upload.AzureBlobUploader`
            options (``block_size``, ``block_attempts``, ``timeout``)
        """
        from airflow_provider_zoho_aep.client.landing_zone import AMAZON_S3, not_supported

        if self.get_landing_zone().provider == AMAZON_S3:
            raise not_supported()
        from airflow_provider_zoho_aep.client.azure_blob_upload import AzureBlobUploader

        return AzureBlobUploader(self.landing_zone.credentials, max_concurrency=max_concurrency, **options)

    def upload_files_to_landing_zone(
        self,
        files: Sequence[str | Path],
        *,
        module: str,
        flow_id: str,
        window_start: datetime,
        window_end: datetime,
        uploader: LandingZoneUploader | None = None,
    ) -> list[UploadedFile]:
        """Upload one window's files under deterministic names and verify each (size and MD5).

        File *n* (from 1) becomes ``zoho/<module>/<flow_id>/<startZ>_<endZ>_part-000n.csv``. A file already there
        with the same content is not sent again (its last-modified stamp stays); see
        :mod:`~airflow_provider_zoho_aep.client.azure_blob_upload` for replacement, resume and retries. The run
        window that covers the results is :func:`~airflow_provider_zoho_aep.client.landing_zone.window_covering`.

        :param files: local CSV files, in order (never empty files)
        :param module: the Zoho CRM module, e.g. ``Leads``
        :param flow_id: the CloudStorageToAEP dataflow that will ingest them
        :param window_start: the window's start (timezone-aware)
        :param window_end: the window's end, exclusive (timezone-aware)
        :param uploader: an uploader to reuse (default: :meth:`landing_zone_uploader`)
        """
        from airflow_provider_zoho_aep.client.landing_zone import blob_name

        check_required(module, "module", "pass the Zoho CRM module, e.g. 'Leads'")
        check_required(flow_id, "flow_id")
        names = [blob_name(module, flow_id, window_start, window_end, part) for part in range(1, len(files) + 1)]
        if not files:
            return []
        uploader = uploader or self.landing_zone_uploader()
        return [uploader.upload(path, name) for path, name in zip(files, names, strict=True)]

    def upload_export_to_landing_zone(self, manifest: Mapping[str, Any], flow_id: str) -> dict[str, Any]:
        """Upload the files of a Zoho export manifest (``ZohoCRMHook.export_modified_records``) for ``flow_id``.

        :return: JSON-only: ``files`` (each ``blob_name, size, md5, last_modified, uploaded, replaced``) and the run
            window covering them, ``run_window_start`` / ``run_window_end`` (ISO 8601), or None for both when the
            manifest has no records (nothing uploaded; an empty window starts no run)
        """
        from airflow_provider_zoho_aep.client.landing_zone import window_covering

        start, end = (_aware(manifest.get(key), f"manifest.{key}") for key in ("window_start", "window_end"))
        paths = [f["path"] for f in manifest.get("files") or [] if f.get("records", 1) and f.get("bytes", 1)]
        uploaded = self.upload_files_to_landing_zone(paths, module=str(manifest.get("module") or ""),
                                                     flow_id=flow_id, window_start=start, window_end=end)
        run_window = window_covering(uploaded) if uploaded else (None, None)
        return {"files": [u.as_dict() for u in uploaded],
                "run_window_start": run_window[0].isoformat() if run_window[0] else None,
                "run_window_end": run_window[1].isoformat() if run_window[1] else None}


def _aware(value: Any, field: str) -> datetime:
    """An ISO 8601 string or datetime with an offset."""
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    if not isinstance(moment, datetime) or moment.tzinfo is None:
        raise ConfigurationError(field, f"{value!r} is not a timezone-aware time", "use ISO 8601 with an offset")
    return moment
