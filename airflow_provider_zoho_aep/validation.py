"""Argument checks of the public entry points. Each hook method checks what it takes, each operator only what
exists on the operator alone; every failure is a :class:`~airflow_provider_zoho_aep.client.errors.ConfigurationError`
naming the field and the fix.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Literal

from airflow_provider_zoho_aep.client.errors import ConfigurationError
from airflow_provider_zoho_aep.client.windows import Window, check_window, parse_moment

IfExists = Literal["reuse", "update", "fail"]
IF_EXISTS_CHOICES: tuple[str, ...] = ("reuse", "update", "fail")
IfRunExists = Literal["reuse", "rerun", "fail"]
IF_RUN_EXISTS_CHOICES: tuple[str, ...] = ("reuse", "rerun", "fail")

#: What a Data Lake target connection's ``schema_id`` starts with.
SCHEMA_PREFIX = "https://ns.adobe.com/"


def _choice(value: Any, field: str, choices: tuple[str, ...]) -> Any:
    if value not in choices:
        raise ConfigurationError(field, f"{value!r} is not one of {', '.join(choices)}",
                                 f"use {choices[0]!r} (default), {choices[1]!r} or {choices[2]!r}")
    return value


def check_if_exists(value: Any) -> IfExists:
    """``if_exists`` is one of ``reuse``, ``update``, ``fail``."""
    return _choice(value, "if_exists", IF_EXISTS_CHOICES)  # type: ignore[no-any-return]


def check_if_run_exists(value: Any) -> IfRunExists:
    """``if_run_exists`` is one of ``reuse``, ``rerun``, ``fail``."""
    return _choice(value, "if_run_exists", IF_RUN_EXISTS_CHOICES)  # type: ignore[no-any-return]


def check_name(value: Any, field: str = "name") -> str:
    """A resource name: a non-empty string of at most 255 characters."""
    if not isinstance(value, str) or not value.strip():
        raise ConfigurationError(field, "is empty", "give the resource a name; it is how re-runs find it again")
    if len(value) > 255:
        raise ConfigurationError(field, f"is {len(value)} characters long", "use at most 255 characters")
    return value


def check_description(value: Any) -> str | None:
    """An optional description: text or None."""
    if value is not None and not isinstance(value, str):
        raise ConfigurationError("description", "is not a string", "pass text or None")
    return value


def check_required(value: Any, field: str, fix: str | None = None) -> str:
    """A required text argument; ``''`` and ``'None'`` (a templated ID whose upstream pushed nothing) are empty."""
    if not isinstance(value, str) or not value.strip() or value.strip() == "None":
        raise ConfigurationError(field, "is empty",
                                 fix or f"pass the {field.replace('_', ' ')}, e.g. from upstream XCom")
    return value


def check_schema_id(value: Any) -> str:
    """An XDM schema URI, ``https://ns.adobe.com/<tenant>/schemas/<id>``."""
    if not isinstance(value, str) or not value.startswith(SCHEMA_PREFIX) or value == SCHEMA_PREFIX:
        raise ConfigurationError(
            "schema_id", f"{value!r} is not an XDM schema URI",
            "use the schema's $id, e.g. 'https://ns.adobe.com/<tenant>/schemas/<id>'",
        )
    return value


def check_row_count(value: Any) -> int:
    """How many preview rows to ask for: 1 to 100."""
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 100:
        raise ConfigurationError("count", f"{value!r} is not between 1 and 100", "ask for 1 to 100 rows")
    return value


def optional_text(value: Any) -> Any:
    """A rendered optional template field, stripped: ``''`` and ``'None'`` (what ``{{ params.x }}`` renders for
    null) are None; anything but text is returned as it is."""
    if not isinstance(value, str):
        return value
    return None if value.strip() in ("", "None") else value.strip()


def operator_window(
    window_start: Any,
    window_end: Any,
    interval_start: datetime | None,
    interval_end: datetime | None,
    *,
    check_future: bool = True,
) -> Window:
    """``window_start`` and ``window_end`` when given (both or neither), else the DAG run's data interval; checked
    by :func:`check_window` unless ``check_future`` is False (the hook checks it, or a resumed task did)."""
    start, end = optional_text(window_start), optional_text(window_end)
    if (start is None) != (end is None):
        missing = "window_end" if end is None else "window_start"
        raise ConfigurationError(missing, "is missing while the other bound is given", "pass both bounds, or neither")
    if start is None:
        if interval_start is None or interval_end is None:
            raise ConfigurationError(
                "window_start and window_end",
                "are not given and this DAG run has no data interval (a manual or asset-triggered run)",
                "pass window_start and window_end (timezone-aware datetimes or ISO 8601 strings with an offset), "
                "e.g. from the DAG's Params",
            )
        if interval_start == interval_end:
            raise ConfigurationError(
                "window_start and window_end",
                "are not given and this DAG run's data interval is empty (start = end): Airflow 3 gives runs of a "
                "cron schedule a point, not an interval, unless the DAG uses CronDataIntervalTimetable",
                "schedule the DAG with airflow.timetables.interval.CronDataIntervalTimetable (or a timedelta), or "
                "pass window_start and window_end",
            )
        start, end = interval_start, interval_end
    if not check_future:
        return Window(parse_moment(start, "window_start"), parse_moment(end, "window_end"))
    return check_window(start, end)


#: Per known flow spec: the ``Copy`` step's delta column required (True) or refused (False), a mapping set
#: required, a ``once`` schedule required. Other flow specs: as given.
FLOW_SPEC_RULES: dict[str, dict[str, bool]] = {
    "CRMToAEP": {"delta_column": True, "mapping": False, "once": False},
    "CloudStorageToAEP": {"delta_column": False, "mapping": True, "once": True},
}

#: File formats and compressions a Data Landing Zone source connection reads.
DATA_FORMATS: tuple[str, ...] = ("delimited", "json", "parquet")
COMPRESSION_TYPES: tuple[str, ...] = ("bzip2", "gzip", "deflate", "zipDeflate", "tarGzip", "tar")


def check_flow_spec_arguments(flow_spec_name: str, delta_column: str | None, mapping_id: str | None,
                              frequency: str | None) -> None:
    """``delta_column``, ``mapping_id`` and the schedule's frequency fit the flow spec (see FLOW_SPEC_RULES)."""
    rules = FLOW_SPEC_RULES.get(flow_spec_name)
    if rules is None:
        return
    if rules["delta_column"] and delta_column is None:
        raise ConfigurationError("delta_column", f"is required by flow spec {flow_spec_name!r}",
                                 "pass a date-time column from explore, e.g. 'Modified_Time'")
    if not rules["delta_column"] and delta_column is not None:
        raise ConfigurationError("delta_column", f"is not used by flow spec {flow_spec_name!r} (Mapping only: "
                                 "files are picked by their last-modified time)", "leave delta_column out")
    if rules["mapping"] and mapping_id is None:
        raise ConfigurationError("mapping_id", f"is required by flow spec {flow_spec_name!r}",
                                 "pass the mapping set ID from AEPCreateMappingSetOperator")
    if rules["once"] and frequency != "once":
        raise ConfigurationError("frequency", f"is {frequency!r}; flow spec {flow_spec_name!r} flows here run "
                                 "on demand per window", "use frequency='once'")


def check_landing_zone_path(value: Any) -> str:
    """A path inside the landing zone: ``<container>/<folder>/`` (a folder) or ``<container>/<file>``."""
    text = check_required(value, "path", "pass '<container>/<folder>/', e.g. 'dlz-user-container/zoho/Leads/'")
    parts = text.rstrip("/").split("/")
    if text.startswith("/") or "//" in text or "\\" in text or any(part in ("", ".", "..") for part in parts):
        raise ConfigurationError("path", f"{text!r} is not a landing-zone path",
                                 "use '<container>/<folder>/', e.g. 'dlz-user-container/zoho/Leads/'")
    return text


def check_file_format(data_format: Any, column_delimiter: Any, compression_type: Any) -> None:
    """A DLZ source connection's file properties."""
    if data_format not in DATA_FORMATS:
        raise ConfigurationError("data_format", f"{data_format!r} is not one of {', '.join(DATA_FORMATS)}",
                                 "use 'delimited' for CSV")
    if data_format == "delimited" and (not isinstance(column_delimiter, str) or len(column_delimiter) != 1):
        raise ConfigurationError("column_delimiter", f"{column_delimiter!r} is not one character",
                                 "use ',' (Zoho's CSV export) or another single character")
    if compression_type is not None and compression_type not in COMPRESSION_TYPES:
        raise ConfigurationError("compression_type", f"{compression_type!r} is not one of "
                                 f"{', '.join(COMPRESSION_TYPES)}", "use None for plain files")


#: A Zoho CRM module API name (standard ``Leads`` or custom ``CustomModule1``, ``Invoices_X``).
_MODULE_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,99}$")


def check_export_arguments(
    module: Any,
    window_start: Any,
    window_end: Any,
    fields: Any,
    out_dir: Any,
    *,
    now: datetime | None = None,
) -> Window:
    """Check what needs no metadata; returns the window in UTC. Raises :class:`ConfigurationError`."""
    if not isinstance(module, str) or not _MODULE_NAME.match(module):
        raise ConfigurationError(
            "module", f"{module!r} is not a Zoho CRM module API name", "pass a module's api_name, e.g. 'Leads'"
        )
    window = check_window(window_start, window_end, now=now)
    if fields is not None:
        if isinstance(fields, str) or not isinstance(fields, Sequence) or not fields:
            raise ConfigurationError("fields", "is not a non-empty list of field API names", "pass e.g. ['Last_Name']")
        bad = [f for f in fields if not isinstance(f, str) or not f]
        if bad:
            raise ConfigurationError("fields", f"{bad[0]!r} is not a field API name", "pass strings")
    if not isinstance(out_dir, (str, os.PathLike)) or not str(out_dir):
        raise ConfigurationError("out_dir", "is not a folder path", "pass the folder to write the CSV files into")
    return window
