"""The argument checks the Data Landing Zone entry points own."""

from __future__ import annotations

from typing import Any

import pytest

from airflow_provider_zoho_aep.client.errors import ConfigurationError
from airflow_provider_zoho_aep.validation import (
    check_file_format,
    check_flow_spec_arguments,
    check_landing_zone_path,
)


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
