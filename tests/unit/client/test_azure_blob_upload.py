"""The Azure uploader's own rules: the extra is named when missing, block IDs, empty files, block bodies."""

from __future__ import annotations

import builtins
import hashlib
import io
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_zoho_aep.client import azure_blob_upload
from airflow_provider_zoho_aep.client.azure_blob_upload import AzureBlobUploader, FileSlice, _block_id
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


def test_block_ids_have_one_length_and_differ_by_content_and_position() -> None:
    ids = {_block_id("a" * 32, i) for i in range(3)} | {_block_id("b" * 32, 0)}
    assert len(ids) == 4 and len({len(i) for i in ids}) == 1 and all(len(i) <= 64 for i in ids)


def test_an_empty_file_is_refused_before_any_call(tmp_path: Path) -> None:
    (tmp_path / "e.csv").write_bytes(b"")
    with pytest.raises(LandingZoneError, match="empty"):
        AzureBlobUploader(never_called).upload(tmp_path / "e.csv", "x.csv")


@pytest.mark.parametrize("kwargs", [{"max_concurrency": 0}, {"block_size": 0}, {"block_attempts": 0}])
def test_bounds_are_checked(kwargs: dict[str, int]) -> None:
    with pytest.raises(ValueError):
        AzureBlobUploader(never_called, **kwargs)


def test_a_block_body_is_its_window_of_the_file_read_in_pieces_and_again(tmp_path: Path) -> None:
    path = tmp_path / "f.csv"
    content = bytes(range(256)) * 40  # 10,240 bytes
    path.write_bytes(content)
    with path.open("rb") as handle:
        block = FileSlice(handle, 4096, 4096)
        assert len(block) == 4096 and block.tell() == 0
        # The SDK's Content-MD5: 4,096-byte reads from the current position, then a seek back.
        assert hashlib.md5(b"".join(iter(lambda: block.read(1000), b""))).digest() == hashlib.md5(
            content[4096:8192]).digest()
        assert block.read(10) == b"" and block.tell() == 4096
        block.seek(0)
        assert block.read() == content[4096:8192]  # and again, to send it
        assert block.seek(-10, io.SEEK_END) == 4086 and block.read() == content[8182:8192]
        assert block.seek(100) == 100 and block.seek(5, io.SEEK_CUR) == 105 and block.read(3) == content[4201:4204]
        assert block.seek(99_999) == 4096  # never past its own end
        last = FileSlice(handle, 8192, 2048)  # the short last block
        assert last.read() == content[8192:]


def test_block_bodies_of_one_file_read_side_by_side_do_not_disturb_each_other(tmp_path: Path) -> None:
    path = tmp_path / "f.csv"
    content = bytes(i % 251 for i in range(64 * 1024))
    path.write_bytes(content)

    def read(index: int) -> bytes:
        with path.open("rb") as handle:
            block = FileSlice(handle, index * 8192, 8192)
            return b"".join(iter(lambda: block.read(100), b""))

    with ThreadPoolExecutor(4) as pool:
        assert b"".join(pool.map(read, range(8))) == content


def test_a_file_cut_short_during_the_upload_is_an_error_not_a_short_block(tmp_path: Path) -> None:
    path = tmp_path / "f.csv"
    path.write_bytes(b"x" * 100)
    with path.open("rb") as handle:
        block = FileSlice(handle, 50, 100)  # the file was 150 bytes when the upload began
        with pytest.raises(OSError, match="ended 50 bytes before"):
            block.read()
