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


def test_covering_spans_every_stamp_in_whole_seconds_and_ends_after_the_newest() -> None:
    from airflow_provider_zoho_aep.client.windows import covering

    t = datetime(2026, 1, 3, 8, 0, 5, 700000, tzinfo=timezone.utc)
    window = covering([t + timedelta(seconds=2), t])
    assert window == Window(t.replace(microsecond=0), t.replace(microsecond=0) + timedelta(seconds=3))
    assert window.contains(t + timedelta(seconds=2)) and not window.contains(t + timedelta(seconds=3))
