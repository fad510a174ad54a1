"""MemberReader: a zip member inflated block by block, exact bytes, every kind of damage caught."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from pathlib import Path

import pytest

from airflow_provider_zoho_aep.client import zip_member
from airflow_provider_zoho_aep.client.windows import Window
from airflow_provider_zoho_aep.client.zip_member import MemberReader
from airflow_provider_zoho_aep.client.zoho_csv import DownloadBroken, WindowFilter, write_page

# A CSV with records split anywhere a block can end: quoted line breaks, CRLF inside a field, a BOM.
CSV = b"\xef\xbb\xbfModified_Time,id,Name\r\n" + b"".join(
    f'2026-01-01T10:{i // 60:02d}:{i % 60:02d}+00:00,{i},"line one\nline two, ""{i}""\r\nend"\r\n'.encode()
    for i in range(600)
)


def member_of(
    data: bytes, method: int = zipfile.ZIP_DEFLATED, *, stream: bool = False
) -> tuple[bytes, zipfile.ZipInfo]:
    """A zip holding ``data`` (written to a pipe-like stream when ``stream``: sizes in a data descriptor)."""
    buffer = io.BytesIO()
    target: io.RawIOBase | io.BytesIO = _Unseekable(buffer) if stream else buffer
    with zipfile.ZipFile(target, "w", method) as archive, archive.open("page.csv", "w") as out:  # type: ignore[arg-type]
        for at in range(0, len(data), 4096):
            out.write(data[at : at + 4096])
    raw = buffer.getvalue()
    with zipfile.ZipFile(io.BytesIO(raw)) as archive:
        info = archive.infolist()[0]
    if stream:
        assert info.flag_bits & 0x08  # the sizes come after the data
    return raw, info


class _Unseekable(io.RawIOBase):
    def __init__(self, target: io.BytesIO) -> None:
        self._target = target

    def writable(self) -> bool:
        return True

    def write(self, data: bytes) -> int:  # type: ignore[override]
        return self._target.write(data)

    def flush(self) -> None:
        pass


@pytest.fixture(params=["one-call", "growing"])
def inflater(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Both decompressors: ``_ZlibDecompressor`` (one inflate call per block) and ``decompressobj`` behind its
    interface (zlib before Python 3.12 where zlib-ng is missing)."""
    if request.param == "growing":
        monkeypatch.setattr(zip_member, "_inflater", zip_member._StreamInflater)
    return str(request.param)


def read_all(raw: bytes, info: zipfile.ZipInfo, block: int = 1 << 20) -> bytes:
    reader = MemberReader(io.BytesIO(raw), info, block)
    out = []
    while chunk := reader.read():
        assert len(chunk) <= block
        out.append(chunk)
    return b"".join(out)


@pytest.mark.parametrize("method", [zipfile.ZIP_DEFLATED, zipfile.ZIP_STORED], ids=["deflated", "stored"])
@pytest.mark.parametrize("stream", [False, True], ids=["sizes-in-header", "data-descriptor"])
@pytest.mark.parametrize(("block", "read"), [(1 << 20, 1 << 18), (97, 13), (1, 1)], ids=["big", "odd", "bytes"])
def test_the_member_comes_back_exactly(
    method: int, stream: bool, block: int, read: int, inflater: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(zip_member, "_READ", read)  # compressed reads cut the deflate stream anywhere
    raw, info = member_of(CSV, method, stream=stream)
    assert read_all(raw, info, block) == CSV


def test_readline_gives_the_header_and_the_rest_follows() -> None:
    raw, info = member_of(CSV)
    reader = MemberReader(io.BytesIO(raw), info, 50)
    header = reader.readline()
    assert header == b"\xef\xbb\xbfModified_Time,id,Name\r\n"
    rest = b""
    while chunk := reader.read():
        rest += chunk
    assert header + rest == CSV


def test_the_stdlib_zlib_gives_the_same_bytes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(zip_member, "_zlib", zlib)  # where zlib-ng is not installed
    raw, info = member_of(CSV)
    assert read_all(raw, info, 4096) == CSV


def _patched(info: zipfile.ZipInfo, **fields: int) -> zipfile.ZipInfo:
    for name, value in fields.items():
        setattr(info, name, value)
    return info


def test_a_wrong_crc_is_caught_at_the_end() -> None:
    raw, info = member_of(CSV)
    with pytest.raises(zipfile.BadZipFile, match="CRC"):
        read_all(raw, _patched(info, CRC=info.CRC ^ 1))


def test_a_flipped_byte_in_a_stored_member_fails_the_crc() -> None:
    raw, info = member_of(CSV, zipfile.ZIP_STORED)
    damaged = bytearray(raw)
    damaged[damaged.index(b"line two")] ^= 0x20
    with pytest.raises(zipfile.BadZipFile, match="CRC"):
        read_all(bytes(damaged), info)


def test_a_size_other_than_the_directory_says_is_caught() -> None:
    raw, info = member_of(CSV)
    size = info.file_size
    with pytest.raises(zipfile.BadZipFile, match="longer"):
        read_all(raw, _patched(info, file_size=size - 1))
    with pytest.raises(zipfile.BadZipFile, match=f"has {size} bytes"):
        read_all(raw, _patched(info, file_size=size + 1))


def test_a_deflate_stream_cut_short_is_caught(inflater: str) -> None:
    raw, info = member_of(CSV)
    cut = info.compress_size // 2
    with pytest.raises(zipfile.BadZipFile, match="cut short"):
        read_all(raw, _patched(info, compress_size=cut))  # the directory claims less than the stream needs


def test_a_file_cut_inside_the_member_is_caught(inflater: str) -> None:
    raw, info = member_of(CSV)
    end = info.header_offset + 30 + len(info.filename) + len(info.extra) + info.compress_size // 3
    with pytest.raises(zipfile.BadZipFile, match="cut short"):
        read_all(raw[:end], info)


def test_data_after_the_deflate_stream_is_caught(inflater: str) -> None:
    raw, info = member_of(CSV)
    with pytest.raises(zipfile.BadZipFile, match="after the end"):
        read_all(raw, _patched(info, compress_size=info.compress_size + 4))


def test_garbage_where_the_local_header_should_be_is_caught() -> None:
    raw, info = member_of(CSV)
    with pytest.raises(zipfile.BadZipFile, match="local file header"):
        read_all(b"XXXX" + raw[4:], info)


def test_an_encrypted_member_is_refused() -> None:
    raw, info = member_of(CSV)
    with pytest.raises(zipfile.BadZipFile, match="encrypted"):
        MemberReader(io.BytesIO(raw), _patched(info, flag_bits=info.flag_bits | 0x1), 1024)


def test_another_method_goes_to_zipfiles_reader(tmp_path: Path) -> None:
    source = tmp_path / "p.zip"
    with zipfile.ZipFile(source, "w", zipfile.ZIP_BZIP2) as archive:
        archive.writestr("1.csv", CSV)
    with zipfile.ZipFile(source) as archive, pytest.raises(NotImplementedError):
        MemberReader(io.BytesIO(source.read_bytes()), archive.infolist()[0], 1024)
    page = _write(source, tmp_path / "out.csv")
    assert page is not None and page.records == 600
    assert (tmp_path / "out.csv").read_bytes() == CSV.removeprefix(b"\xef\xbb\xbf")


def _write(source: Path, out: Path):  # type: ignore[no-untyped-def]
    from datetime import datetime, timezone

    window = Window(datetime(2026, 1, 1, 10, tzinfo=timezone.utc), datetime(2026, 1, 1, 11, tzinfo=timezone.utc))
    return write_page(str(source), ["Modified_Time", "id", "Name"], WindowFilter(window), str(out))


@pytest.mark.parametrize("stream", [False, True], ids=["sizes-in-header", "data-descriptor"])
def test_write_page_copies_the_member_exactly(tmp_path: Path, stream: bool) -> None:
    raw, _ = member_of(CSV, stream=stream)
    source = tmp_path / "p.zip"
    source.write_bytes(raw)
    page = _write(source, tmp_path / "out.csv")
    assert page is not None and page.records == 600
    assert (tmp_path / "out.csv").read_bytes() == CSV.removeprefix(b"\xef\xbb\xbf")


def test_write_page_turns_a_bad_crc_into_a_broken_download(tmp_path: Path) -> None:
    raw, info = member_of(CSV)
    # The CRC-32 sits in the local header and in the central directory: change both.
    crc = struct.pack("<I", info.CRC)
    damaged = raw.replace(crc, struct.pack("<I", info.CRC ^ 0xFFFF))
    assert damaged.count(struct.pack("<I", info.CRC ^ 0xFFFF)) == 2
    source = tmp_path / "p.zip"
    source.write_bytes(damaged)
    with pytest.raises(DownloadBroken, match="CRC"):
        _write(source, tmp_path / "out.csv")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p.zip"]
