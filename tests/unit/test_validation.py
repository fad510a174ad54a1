"""The argument checks the entry points own: the Data Landing Zone's, and an operator's window."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from airflow_provider_zoho_aep.client.errors import ConfigurationError
from airflow_provider_zoho_aep.client.windows import Window
from airflow_provider_zoho_aep.validation import (
    check_file_format,
    check_flow_spec_arguments,
    check_landing_zone_path,
    operator_window,
)

UTC = timezone.utc


@pytest.mark.parametrize("path", ["dlz-user-container/zoho/Leads/", "dlz-user-container/zoho/a.csv"])
def test_landing_zone_paths(path: str) -> None:
    assert check_landing_zone_path(path) == path


@pytest.mark.parametrize("path", ["", "None", "/abs/", "a//b", "a/../b", "a\\b", None])
def test_bad_landing_zone_paths(path: Any) -> None:
    with pytest.raises(ConfigurationError, match="path"):
        check_landing_zone_path(path)


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (("xml", ",", None), "data_format"),
        (("delimited", ",,", None), "column_delimiter"),
        (("delimited", ",", "zip"), "compression_type"),
    ],
)
def test_bad_file_formats(args: tuple[Any, ...], field: str) -> None:
    with pytest.raises(ConfigurationError, match=field):
        check_file_format(*args)


def test_good_file_formats() -> None:
    check_file_format("delimited", "\t", "gzip")
    check_file_format("parquet", None, None)


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (("CRMToAEP", None, None, "hour"), "delta_column"),
        (("CloudStorageToAEP", "Modified_Time", "m", "once"), "delta_column"),
        (("CloudStorageToAEP", None, None, "once"), "mapping_id"),
        (("CloudStorageToAEP", None, "m", "day"), "frequency"),
    ],
)
def test_flow_spec_rules(args: tuple[Any, ...], field: str) -> None:
    with pytest.raises(ConfigurationError, match=field):
        check_flow_spec_arguments(*args)


def test_flow_spec_rules_that_pass() -> None:
    check_flow_spec_arguments("CRMToAEP", "Modified_Time", None, "hour")
    check_flow_spec_arguments("CloudStorageToAEP", None, "m", "once")
    check_flow_spec_arguments("SomeOtherSpec", None, None, "day")  # unknown specs: as given


T0 = datetime(2026, 1, 1, tzinfo=UTC)
T1 = T0 + timedelta(hours=1)


def test_operator_window_is_the_arguments_when_given_else_the_data_interval() -> None:
    assert operator_window("2026-01-01T05:30:00+05:30", "2026-01-01T01:00:00Z", None, None) == Window(T0, T1)
    assert operator_window(None, "None", T0, T1) == Window(T0, T1)  # '' / 'None': what templates render for null
    assert operator_window("", "", T0 - timedelta(days=1), T0) == Window(T0 - timedelta(days=1), T0)
    assert operator_window(T0, T1, T0 - timedelta(days=1), T0) == Window(T0, T1)  # the arguments win


@pytest.mark.parametrize(
    ("start", "end", "interval", "field", "problem"),
    [
        (T0, None, (T0, T1), "window_end", "missing while the other bound is given"),
        ("None", T1, (T0, T1), "window_start", "missing while the other bound is given"),
        (None, None, (None, None), "window_start and window_end", "no data interval"),
        (None, None, (T0, T0), "window_start and window_end", "data interval is empty"),
        ("soon", T1, (None, None), "window_start", "not an ISO 8601"),
        (42, T1, (None, None), "window_start", "not a date and time"),
        (T1, T0, (None, None), "window_end", "is not after window_start"),
    ],
)
def test_operator_window_refuses_naming_the_field(
    start: object, end: object, interval: tuple, field: str, problem: str
) -> None:
    with pytest.raises(ConfigurationError, match=problem) as info:
        operator_window(start, end, *interval)
    assert info.value.field == field


def test_operator_window_checks_the_future_unless_told_not_to() -> None:
    future = datetime.now(UTC) + timedelta(hours=2)
    with pytest.raises(ConfigurationError, match="in the future"):
        operator_window(None, None, future - timedelta(hours=1), future)
    assert operator_window(None, None, future - timedelta(hours=1), future, check_future=False).end == future
