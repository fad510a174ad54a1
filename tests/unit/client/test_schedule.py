"""scheduleParams rules, checked before any call."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pendulum
import pytest

from airflow_provider_zoho_aep.client.errors import ConfigurationError
from airflow_provider_zoho_aep.client.schedule import schedule_params, to_epoch_seconds

NOW = datetime(2025, 1, 1, tzinfo=timezone.utc)
EPOCH = 1735689600  # 2025-01-01T00:00:00Z


@pytest.mark.parametrize(
    "value",
    [
        EPOCH,
        float(EPOCH),
        str(EPOCH),
        "2025-01-01T00:00:00Z",
        "2025-01-01T01:00:00+01:00",
        "2025-01-01",
        datetime(2025, 1, 1, tzinfo=timezone.utc),
        datetime(2025, 1, 1),  # naive means UTC
        datetime(2025, 1, 1, 1, tzinfo=timezone(timedelta(hours=1))),
        pendulum.datetime(2025, 1, 1, tz="UTC"),
    ],
)
def test_start_time_forms(value: object) -> None:
    assert to_epoch_seconds(value) == EPOCH  # type: ignore[arg-type]


@pytest.mark.parametrize("value", [None, "", "None", "  "])
def test_start_time_defaults_to_now(value: object) -> None:
    assert to_epoch_seconds(value, now=NOW) == EPOCH  # type: ignore[arg-type]


def test_start_time_now_is_the_real_now() -> None:
    before = int(pendulum.now("UTC").timestamp())
    assert before <= to_epoch_seconds(None) <= before + 5


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        (EPOCH * 1000, "milliseconds"),
        (str(EPOCH * 1000), "milliseconds"),
        (-1, "before 1970"),
        (True, "not a date"),
        ("next tuesday", "not a date"),
        ([EPOCH], "not a date"),
        (float("nan"), "not a date"),
        ("inf", "not a date"),
    ],
)
def test_start_time_rejections(value: object, problem: str) -> None:
    with pytest.raises(ConfigurationError, match=problem) as info:
        to_epoch_seconds(value)  # type: ignore[arg-type]
    assert info.value.field == "start_time"


def test_periodic_defaults() -> None:
    assert schedule_params("hour", now=NOW) == {"startTime": EPOCH, "frequency": "hour", "interval": 1}
    params = schedule_params("day", 2, EPOCH, False)
    assert params == {"startTime": EPOCH, "frequency": "day", "interval": 2, "backfill": False}
    assert all(type(v) is int for k, v in params.items() if k in ("startTime", "interval"))


def test_rendered_strings_are_accepted() -> None:
    params = schedule_params(" Week ", "3", str(EPOCH), "true")
    assert params == {"startTime": EPOCH, "frequency": "week", "interval": 3, "backfill": True}
    assert schedule_params("hour", "None", EPOCH, "None") == {"startTime": EPOCH, "frequency": "hour", "interval": 1}


def test_once_takes_no_interval_or_backfill() -> None:
    assert schedule_params("once", None, EPOCH) == {"startTime": EPOCH, "frequency": "once"}
    assert schedule_params("once", "", EPOCH, "") == {"startTime": EPOCH, "frequency": "once"}
    with pytest.raises(ConfigurationError, match=r"interval.*not allowed with frequency 'once'"):
        schedule_params("once", 1, EPOCH)
    with pytest.raises(ConfigurationError, match=r"backfill.*not allowed with frequency 'once'"):
        schedule_params("once", None, EPOCH, True)


def test_minute_needs_fifteen() -> None:
    assert schedule_params("minute", 15, EPOCH)["interval"] == 15
    with pytest.raises(ConfigurationError, match="14 is below 15"):
        schedule_params("minute", 14, EPOCH)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"frequency": "monthly"}, "frequency"),
        ({"frequency": None}, "frequency"),
        ({"frequency": "hour", "interval": 0}, "interval"),
        ({"frequency": "day", "interval": -2}, "interval"),
        ({"frequency": "day", "interval": 1.5}, "interval"),
        ({"frequency": "day", "interval": True}, "interval"),
        ({"frequency": "day", "interval": "two"}, "interval"),
        ({"frequency": "day", "backfill": "yes"}, "backfill"),
        ({"frequency": "day", "backfill": 1}, "backfill"),
    ],
)
def test_schedule_rejections(kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(ConfigurationError) as info:
        schedule_params(start_time=EPOCH, **kwargs)  # type: ignore[arg-type]
    assert info.value.field == field
