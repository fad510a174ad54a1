"""The Bulk Read client's pure parts: the query's bounds, Zoho's time format, links, the export's argument checks."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from airflow_provider_zoho_aep.client.errors import AEPAPIError, ConfigurationError
from airflow_provider_zoho_aep.client.windows import Window
from airflow_provider_zoho_aep.client.zoho_bulk_read import _absolute, query_bounds, zoho_datetime
from airflow_provider_zoho_aep.validation import check_export_arguments

UTC = timezone.utc
T0 = datetime(2026, 1, 1, tzinfo=UTC)
NOW = datetime(2026, 6, 1, tzinfo=UTC)


def test_zoho_datetime_is_utc_whole_seconds_with_offset() -> None:
    ist = timezone(timedelta(hours=5, minutes=30))
    assert zoho_datetime(datetime(2026, 1, 1, 5, 30, 0, 999_999, tzinfo=ist)) == "2026-01-01T00:00:00+00:00"


@pytest.mark.parametrize(
    ("start", "end", "lower", "upper"),
    [
        (T0, T0 + timedelta(hours=1), "2025-12-31T23:59:59+00:00", "2026-01-01T01:00:00+00:00"),
        (T0 + timedelta(seconds=0.5), T0 + timedelta(seconds=10.2), "2025-12-31T23:59:59+00:00",
         "2026-01-01T00:00:11+00:00"),
    ],
)  # fmt: skip
def test_query_is_one_second_wider_than_the_window(start: datetime, end: datetime, lower: str, upper: str) -> None:
    """greater_equal lower / less_equal upper hold every record of the window whether Zoho's comparators
    include their bound or not: lower is at least a second before the first whole second of the window, upper
    is the first whole second at or after the end."""
    assert query_bounds(Window(start, end)) == (lower, upper)


def test_download_links_stay_on_the_endpoint() -> None:
    assert _absolute("https://www.zohoapis.com", "/crm/bulk/v8/read/1/result") == (
        "https://www.zohoapis.com/crm/bulk/v8/read/1/result"
    )
    assert _absolute("https://www.zohoapis.com", "https://www.zohoapis.com/x") == "https://www.zohoapis.com/x"
    with pytest.raises(AEPAPIError, match="outside"):
        _absolute("https://www.zohoapis.com", "https://evil.example.com/x")
    with pytest.raises(AEPAPIError, match="no download_url"):
        _absolute("https://www.zohoapis.com", "")


BAD = [
    ("module", dict(module="")),
    ("module", dict(module="Le ads")),
    ("module", dict(module=3)),
    ("window_start", dict(start=datetime(2026, 1, 1))),
    ("window_end", dict(end=datetime(2026, 1, 2))),
    ("window_start", dict(start="yesterday")),
    ("window_end", dict(end=T0)),
    ("window_end", dict(end=T0 - timedelta(seconds=1))),
    ("window_end", dict(end=NOW + timedelta(seconds=1))),
    ("fields", dict(fields="Last_Name")),
    ("fields", dict(fields=[])),
    ("fields", dict(fields=["ok", ""])),
    ("out_dir", dict(out_dir="")),
    ("out_dir", dict(out_dir=None)),
]


@pytest.mark.parametrize(("field", "change"), BAD, ids=[f"{f}-{i}" for i, (f, _) in enumerate(BAD)])
def test_export_arguments_are_checked_naming_the_field(field: str, change: dict) -> None:
    args = {"module": "Leads", "start": T0, "end": T0 + timedelta(hours=1), "fields": None, "out_dir": "/tmp/x"}
    args.update(change)
    with pytest.raises(ConfigurationError) as info:
        check_export_arguments(args["module"], args["start"], args["end"], args["fields"], args["out_dir"], now=NOW)
    assert info.value.field == field
    assert "Fix:" in str(info.value)


def test_good_arguments_give_the_window_in_utc() -> None:
    ist = timezone(timedelta(hours=5, minutes=30))
    window = check_export_arguments("Leads", T0.astimezone(ist), T0 + timedelta(hours=1), ["Email"], "/tmp", now=NOW)
    assert window == Window(T0, T0 + timedelta(hours=1))
    assert window.start.tzinfo == UTC
