"""The Azure uploader's own rules: the extra is named when missing, empty files, bounds, the SDK's logger."""

from __future__ import annotations

import builtins
import logging
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_zoho_aep.client import azure_blob_upload
from airflow_provider_zoho_aep.client.azure_blob_upload import AzureBlobUploader
from airflow_provider_zoho_aep.client.landing_zone import LandingZoneError


def never_called(**_: Any) -> Any:
    raise AssertionError("no credentials needed")


def test_a_missing_sdk_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    real_import = builtins.__import__

    def no_azure(name: str, *args: Any, **kwargs: Any) -> Any:
        if name.startswith("azure"):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_azure)
    with pytest.raises(ImportError, match=r"pip install airflow-provider-zoho-aep\[dlz\]"):
        AzureBlobUploader(never_called)


def test_the_sdk_is_not_imported_by_the_module() -> None:
    source = Path(azure_blob_upload.__file__).read_text()
    top = source.split("def _sdk", 1)[0]
    assert "import azure" not in top and "from azure" not in top


def test_an_empty_file_is_refused_before_any_call(tmp_path: Path) -> None:
    (tmp_path / "e.csv").write_bytes(b"")
    with pytest.raises(LandingZoneError, match="empty"):
        AzureBlobUploader(never_called).upload(tmp_path / "e.csv", "x.csv")


@pytest.mark.parametrize("kwargs", [{"max_concurrency": 0}, {"block_size": 0}])
def test_bounds_are_checked(kwargs: dict[str, int]) -> None:
    with pytest.raises(ValueError):
        AzureBlobUploader(never_called, **kwargs)


def test_making_an_uploader_leaves_the_sdks_logger_level_alone() -> None:
    sdk_logger = logging.getLogger("azure.core.pipeline.policies.http_logging_policy")
    before = sdk_logger.level
    AzureBlobUploader(never_called)
    assert sdk_logger.level == before
