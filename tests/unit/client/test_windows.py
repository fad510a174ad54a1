"""Ingestion windows: checked before any call, converted to Flow Service's epoch params in one place."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from airflow_provider_zoho_aep.client.errors import ConfigurationError
from airflow_provider_zoho_aep.client.windows import (
    Window,
    as_seconds,
    check_time_unit,
    check_window,
    operator_window,
    run_params,
    same_window,
)

UTC = timezone.utc
NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)
START, END = datetime(2026, 1, 2, tzinfo=UTC), datetime(2026, 1, 2, 1, tzinfo=UTC)


def test_aware_datetimes_and_iso_strings_become_utc() -> None:
    window = check_window("2026-01-02T05:30:00+05:30", "2026-01-02T01:00:00Z", now=NOW)
    assert window == Window(START, END)
    assert window.iso() == ("2026-01-02T00:00:00+00:00", "2026-01-02T01:00:00+00:00")
    assert str(window) == "[2026-01-02T00:00:00+00:00, 2026-01-02T01:00:00+00:00)"


@pytest.mark.parametrize(
    ("start", "end", "field", "problem"),
    [
        (datetime(2026, 1, 2), END, "window_start", "no timezone"),
        ("2026-01-02T00:00:00", END, "window_start", "no timezone"),
        (START, "soon", "window_end", "not an ISO 8601"),
        (START, 3, "window_end", "not a date"),
        (START, START, "window_end", "not after"),
        (END, START, "window_end", "not after"),
        (START, NOW + timedelta(seconds=1), "window_end", "in the future"),
    ],
)
def test_bad_windows_name_the_field(start: object, end: object, field: str, problem: str) -> None:
    with pytest.raises(ConfigurationError) as info:
        check_window(start, end, now=NOW)
    assert info.value.field == field and problem in info.value.problem


def test_a_window_ending_now_is_fine() -> None:
    assert check_window(START, NOW, now=NOW).end == NOW


def test_run_params_in_seconds_or_milliseconds() -> None:
    window = Window(START, END)
    assert run_params(window, now=NOW) == {"startTime": int(NOW.timestamp()),
                                           "windowStartTime": 1767312000, "windowEndTime": 1767315600}
    ms = run_params(window, unit="milliseconds", delta_column="Modified_Time", now=NOW)
    assert ms == {"startTime": int(NOW.timestamp()) * 1000, "windowStartTime": 1767312000000,
                  "windowEndTime": 1767315600000, "deltaColumn": {"name": "Modified_Time"}}
    with pytest.raises(ConfigurationError, match="time_unit"):
        check_time_unit("minutes")


@pytest.mark.parametrize("value", [1767312000, 1767312000000, "1767312000", "1767312000000", 1767312000.0])
def test_either_unit_reads_back_as_seconds(value: object) -> None:
    assert as_seconds(value) == 1767312000


@pytest.mark.parametrize("value", [None, True, "x", 1.5, {}])
def test_garbage_is_no_time(value: object) -> None:
    assert as_seconds(value) is None


def test_same_window_whatever_the_unit() -> None:
    window = Window(START, END)
    assert same_window({"params": {"windowStartTime": "1767312000000", "windowEndTime": 1767315600}}, window)
    assert not same_window({"params": {"windowStartTime": 1767312000, "windowEndTime": 1767315601}}, window)
    assert not same_window({"params": {}}, window) and not same_window({}, window)


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
