"""Operator that exports one window of one Zoho CRM module to CSV files in a run-scoped folder."""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from airflow_provider_zoho_aep.hooks.zoho_crm import ZohoCRMHook
from airflow_provider_zoho_aep.validation import check_export_arguments, operator_window, optional_text
from airflow_provider_zoho_aep.version_compat import BaseOperator

if TYPE_CHECKING:
    from airflow_provider_zoho_aep.version_compat import Context

#: Where run folders go when the operator names no ``base_dir``.
EXPORT_DIR_ENV = "ZOHO_AEP_EXPORT_DIR"
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def run_folder(base_dir: str | None, context: Context) -> str:
    """``<base>/<dag_id>/<run_id>/<task_id>[/<map_index>]``: the folder of this task instance (not made here).

    ``base`` is ``base_dir``, else ``$ZOHO_AEP_EXPORT_DIR``, else ``<tempdir>/zoho-aep-exports``.
    """
    base = base_dir or os.environ.get(EXPORT_DIR_ENV) or os.path.join(tempfile.gettempdir(), "zoho-aep-exports")
    ti = context["ti"]
    parts = [ti.dag_id, ti.run_id, ti.task_id]
    map_index = getattr(ti, "map_index", -1)
    if map_index is not None and map_index >= 0:
        parts.append(str(map_index))
    return os.path.join(base, *(_UNSAFE.sub("_", str(p)) or "_" for p in parts))


def empty_folder(folder: str) -> str:
    """Make ``folder`` exist and be empty: a retry never mistakes an earlier try's file for its own."""
    shutil.rmtree(folder, ignore_errors=True)
    os.makedirs(folder, exist_ok=True)
    return folder


class ZohoCRMExportOperator(BaseOperator):
    """Export the records of a Zoho CRM module modified in one window ``[start, end)``; returns the manifest.

    The window defaults to the DAG run's data interval. Files land in a folder of this task instance
    (:func:`run_folder`); the manifest names them with record counts, sizes and SHA-256. An empty window
    succeeds with ``records: 0`` and no file.

    :param module: the module's API name, e.g. ``Leads`` (templated)
    :param fields: field API names to export, None for all (templated); ``id`` and ``Modified_Time`` always
    :param window_start: start of the window, included: datetime or ISO 8601 with an offset (templated)
    :param window_end: end of the window, excluded (templated); both bounds or neither
    :param zoho_conn_id: Airflow Connection of type ``zoho_crm`` (templated)
    :param base_dir: where run folders are made; default ``$ZOHO_AEP_EXPORT_DIR`` or a temporary folder (templated)
    """

    template_fields: Sequence[str] = ("module", "fields", "window_start", "window_end", "zoho_conn_id", "base_dir")
    ui_color = "#e42527"

    def __init__(
        self,
        *,
        module: str,
        fields: Sequence[str] | None = None,
        window_start: datetime | str | None = None,
        window_end: datetime | str | None = None,
        zoho_conn_id: str = ZohoCRMHook.default_conn_name,
        base_dir: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.module = module
        self.fields = fields
        self.window_start = window_start
        self.window_end = window_end
        self.zoho_conn_id = zoho_conn_id
        self.base_dir = base_dir

    def execute(self, context: Context) -> dict[str, Any]:
        window = operator_window(self.window_start, self.window_end, context.get("data_interval_start"),
                                 context.get("data_interval_end"), check_future=False)
        folder = run_folder(optional_text(self.base_dir), context)
        # The hook checks these too; here they must hold before the folder is emptied.
        check_export_arguments(self.module, window.start, window.end, self.fields, folder)
        hook = ZohoCRMHook(zoho_conn_id=self.zoho_conn_id)
        manifest = hook.export_modified_records(self.module, window.start, window.end, fields=self.fields,
                                                out_dir=empty_folder(folder))
        if manifest["records"] == 0:
            self.log.info(
                "No %s record was modified in [%s, %s): nothing to export, no file written",
                manifest["module"], manifest["window_start"], manifest["window_end"],
            )
        for item in manifest["files"]:
            self.log.info("Wrote %s: %d record(s), %d bytes, sha256 %s",
                          item["path"], item["records"], item["bytes"], item["sha256"])
        return manifest
