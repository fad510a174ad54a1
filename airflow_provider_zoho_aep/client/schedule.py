"""A dataflow's ``scheduleParams``, checked before any call, from values that may be rendered strings.

Flow Service's rules: ``startTime`` in epoch seconds; ``frequency`` one of :data:`FREQUENCIES`; ``interval``
required unless ``once``, at least 15 for ``minute``; ``interval`` and ``backfill`` not allowed with ``once``.
"""

from __future__ import annotations

import math
from datetime import datetime, timezone
from typing import Any

import pendulum

from airflow_provider_zoho_aep.client.errors import ConfigurationError
from airflow_provider_zoho_aep.client.windows import EPOCH_MS_THRESHOLD

FREQUENCIES: tuple[str, ...] = ("once", "minute", "hour", "day", "week")
MINIMUM_MINUTE_INTERVAL = 15
DEFAULT_INTERVAL = 1


def _absent(value: Any) -> bool:
    """None, or what a template renders for it: '' or 'None'."""
    return value is None or (isinstance(value, str) and value.strip().lower() in ("", "none"))


def to_epoch_seconds(value: datetime | str | int | float | None, now: datetime | None = None) -> int:
    """``start_time`` as whole epoch seconds.

    :param value: a datetime (naive means UTC), an ISO 8601 string, epoch seconds (number or digits), or None
        for ``now``
    :param now: what "now" is (tests pass a fixed time)
    """
    if _absent(value):
        return int((now or pendulum.now("UTC")).timestamp())
    moment: Any = value
    if isinstance(value, str):
        try:
            moment = float(value.strip())
        except ValueError:
            try:
                moment = pendulum.parse(value.strip(), tz="UTC")
            except (ValueError, TypeError):  # pendulum's ParserError is a ValueError
                raise _bad_start(value) from None
    if isinstance(moment, datetime):
        aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=timezone.utc)
        return _checked(int(aware.timestamp()), value)
    if isinstance(moment, (int, float)) and not isinstance(moment, bool) and math.isfinite(moment):
        return _checked(int(moment), value)
    raise _bad_start(value)


def _checked(seconds: int, original: Any) -> int:
    if seconds < 0:
        raise ConfigurationError("start_time", f"{original!r} is before 1970", "use a date from this century")
    if seconds >= EPOCH_MS_THRESHOLD:
        raise ConfigurationError(
            "start_time", f"{original!r} looks like epoch milliseconds",
            "Flow Service wants epoch seconds: divide by 1000 (or pass a datetime / ISO 8601 string)",
        )
    return seconds


def _bad_start(value: Any) -> ConfigurationError:
    return ConfigurationError(
        "start_time", f"{value!r} is not a date and time",
        "pass a datetime, an ISO 8601 string such as '2025-01-01T00:00:00Z', epoch seconds, or None for now",
    )


def _int_or_none(value: Any, field: str) -> int | None:
    if _absent(value):
        return None
    if isinstance(value, bool):
        raise ConfigurationError(field, f"{value!r} is not a whole number", "pass an integer such as 1")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value.strip())
    raise ConfigurationError(field, f"{value!r} is not a whole number", "pass an integer such as 1")


def _bool_or_none(value: Any) -> bool | None:
    if _absent(value):
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise ConfigurationError("backfill", f"{value!r} is not a boolean", "pass True, False or None")


def schedule_params(
    frequency: str,
    interval: int | str | None = None,
    start_time: datetime | str | int | float | None = None,
    backfill: bool | str | None = None,
    *,
    now: datetime | None = None,
) -> dict[str, Any]:
    """The ``scheduleParams`` object of ``POST /flows``, or :class:`ConfigurationError` naming the field.

    :param frequency: ``once``, ``minute``, ``hour``, ``day`` or ``week``
    :param interval: runs every ``interval`` times ``frequency``; None means 1 (and must be None for ``once``)
    :param start_time: first run; see :func:`to_epoch_seconds`
    :param backfill: ingest history from before ``start_time`` (Flow Service's default is True); None omits it
    :param now: what "now" is, for a ``start_time`` of None
    """
    freq = frequency.strip().lower() if isinstance(frequency, str) else frequency
    if freq not in FREQUENCIES:
        raise ConfigurationError("frequency", f"{frequency!r} is not a schedule frequency",
                                 f"use one of {', '.join(FREQUENCIES)}")
    every = _int_or_none(interval, "interval")
    fill = _bool_or_none(backfill)
    params: dict[str, Any] = {"startTime": to_epoch_seconds(start_time, now), "frequency": freq}
    if freq == "once":
        if every is not None:
            raise ConfigurationError("interval", "is not allowed with frequency 'once'", "pass interval=None")
        if fill is not None:
            raise ConfigurationError("backfill", "is not allowed with frequency 'once'", "pass backfill=None")
        return params
    every = DEFAULT_INTERVAL if every is None else every
    minimum = MINIMUM_MINUTE_INTERVAL if freq == "minute" else 1
    if every < minimum:
        raise ConfigurationError(
            "interval", f"{every} is below {minimum} for frequency '{freq}'",
            f"use an interval of at least {minimum}" + (" minutes (Flow Service's floor)" if freq == "minute" else ""),
        )
    params["interval"] = every
    if fill is not None:
        params["backfill"] = fill
    return params


def schedule_patch(
    existing: Any, wanted: dict[str, Any], *, now: datetime | None = None
) -> list[dict[str, Any]]:
    """JSON-Patch operations that bring a dataflow's ``scheduleParams`` from ``existing`` to ``wanted``.

    Only what changed is patched, key by key. ``startTime`` is patched only while the current one is still in
    the future: Adobe refuses to move a start time that has already occurred. Values compare as text, because
    Adobe's GET may answer numbers as strings.
    """
    current = dict(existing) if isinstance(existing, dict) else {}
    if not current:
        return [{"op": "replace", "path": "/scheduleParams", "value": dict(wanted)}]
    operations: list[dict[str, Any]] = []
    moment = int((now or pendulum.now("UTC")).timestamp())
    for key, value in wanted.items():
        if key in current and str(current[key]).lower() == str(value).lower():
            continue
        if key == "startTime" and "startTime" in current:
            try:
                current_start = int(str(current["startTime"]))
            except ValueError:
                current_start = 0
            if current_start <= moment:
                continue  # the first run has started: its start time is history
        operations.append({"op": "replace" if key in current else "add", "path": f"/scheduleParams/{key}",
                           "value": value})
    for key in ("interval", "backfill"):
        if key in current and key not in wanted:
            operations.append({"op": "remove", "path": f"/scheduleParams/{key}"})
    return operations
