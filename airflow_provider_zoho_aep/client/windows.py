"""Windows ``[start, end)``, timezone-aware: what an export reads and what an on-demand run ingests.

Adobe's documents disagree on the unit of a run's epoch params (the OpenAPI file: milliseconds; the on-demand
tutorial: seconds), so the unit is an argument and :func:`run_params` is the one place that converts. Reading a
run back, a value of 10**11 or more can only be milliseconds.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Literal

from airflow_provider_zoho_aep.client.errors import ConfigurationError

TimeUnit = Literal["seconds", "milliseconds"]
TIME_UNITS: tuple[str, ...] = ("seconds", "milliseconds")
#: Epoch seconds stay below this until the year 5138; a larger number is milliseconds.
EPOCH_MS_THRESHOLD = 10**11


@dataclass(frozen=True)
class Window:
    """One ingestion window ``[start, end)``, both ends timezone-aware UTC datetimes."""

    start: datetime
    end: datetime

    @property
    def start_seconds(self) -> int:
        return int(self.start.timestamp())

    @property
    def end_seconds(self) -> int:
        return int(self.end.timestamp())

    def contains(self, when: datetime) -> bool:
        return self.start <= when < self.end

    def iso(self) -> tuple[str, str]:
        """Both ends as ISO 8601 with offset, as XCom carries them."""
        return self.start.isoformat(), self.end.isoformat()

    def __str__(self) -> str:
        start, end = self.iso()
        return f"[{start}, {end})"


def parse_moment(value: Any, field: str) -> datetime:
    """A datetime or an ISO 8601 string (what a template renders) as an aware UTC datetime; naive is refused."""
    if isinstance(value, str):
        text = value.strip()
        try:
            value = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise ConfigurationError(
                field, f"{text!r} is not an ISO 8601 date and time",
                "pass a timezone-aware datetime or a string such as '2026-01-01T00:00:00+00:00'",
            ) from None
    if not isinstance(value, datetime):
        raise ConfigurationError(field, f"{value!r} is not a date and time",
                                 "pass a timezone-aware datetime or an ISO 8601 string with an offset")
    if value.tzinfo is None or value.tzinfo.utcoffset(value) is None:
        raise ConfigurationError(
            field, f"{value.isoformat()} has no timezone",
            "pass a timezone-aware datetime (e.g. pendulum.datetime(..., tz='UTC')) or add an offset such as "
            "'+00:00'",
        )
    return value.astimezone(timezone.utc)


def check_window(start: Any, end: Any, *, now: datetime | None = None) -> Window:
    """The window ``[start, end)``: aware, non-empty, and not reaching into the future.

    :param now: what "now" is (tests pass a fixed time)
    """
    window = Window(parse_moment(start, "window_start"), parse_moment(end, "window_end"))
    if window.end <= window.start:
        raise ConfigurationError(
            "window_end", f"{window.end.isoformat()} is not after window_start {window.start.isoformat()}",
            "pass a window_end later than window_start (the window is [start, end))",
        )
    moment = now or datetime.now(timezone.utc)
    if window.end > moment:
        raise ConfigurationError(
            "window_end", f"{window.end.isoformat()} is in the future (now is {moment.isoformat()})",
            "ingest only windows that have ended: records modified later would be missed",
        )
    return window


def check_time_unit(value: Any) -> TimeUnit:
    if value not in TIME_UNITS:
        raise ConfigurationError("time_unit", f"{value!r} is not one of {', '.join(TIME_UNITS)}",
                                 "use 'seconds' (Adobe's tutorial examples) or 'milliseconds' (the OpenAPI file)")
    return value  # type: ignore[no-any-return]


def covering(stamps: Iterable[datetime]) -> Window:
    """``[oldest stamp, newest stamp + 1 s)`` in whole seconds: the run window of files with these Last-Modified
    stamps, and nothing from another second."""
    whole = [stamp.replace(microsecond=0) for stamp in stamps]
    return Window(min(whole), max(whole) + timedelta(seconds=1))


def run_params(
    window: Window, *, unit: TimeUnit = "seconds", delta_column: str | None = None, now: datetime | None = None
) -> dict[str, Any]:
    """``params`` of ``POST /runs`` for ``window``: ``startTime`` (now), ``windowStartTime``, ``windowEndTime``.

    :param delta_column: sent as ``deltaColumn.name`` when given (Adobe accepts it only on a flow's first run)
    """
    factor = 1000 if unit == "milliseconds" else 1
    started = int((now or datetime.now(timezone.utc)).timestamp())
    params: dict[str, Any] = {
        "startTime": started * factor,
        "windowStartTime": window.start_seconds * factor,
        "windowEndTime": window.end_seconds * factor,
    }
    if delta_column:
        params["deltaColumn"] = {"name": delta_column}
    return params


def as_seconds(value: Any) -> int | None:
    """An epoch value from a run's params (seconds or milliseconds, number or digits) as seconds; else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if not isinstance(value, int):
        return None
    return value // 1000 if value >= EPOCH_MS_THRESHOLD else value


def window_of(run: Mapping[str, Any]) -> tuple[int, int] | None:
    """``(start, end)`` epoch seconds of a run's window, or None for a run without one (a scheduled run)."""
    params = run.get("params")
    if not isinstance(params, Mapping):
        return None
    start, end = as_seconds(params.get("windowStartTime")), as_seconds(params.get("windowEndTime"))
    return None if start is None or end is None else (start, end)


def same_window(run: Mapping[str, Any], window: Window) -> bool:
    """True when ``run`` was started for exactly ``window`` (whichever unit it was sent in)."""
    return window_of(run) == (window.start_seconds, window.end_seconds)
