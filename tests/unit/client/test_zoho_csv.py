"""write_page: a Bulk Read zip → the records of the window, by byte copy or record by record, always exact."""

from __future__ import annotations

import csv
import hashlib
import io
import os
import random
import subprocess
import sys
import zipfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from airflow_provider_zoho_aep.client import zoho_csv
from airflow_provider_zoho_aep.client.windows import Window
from airflow_provider_zoho_aep.client.zoho_csv import DownloadBroken, WindowFilter, write_page

UTC = timezone.utc
IST = timezone(timedelta(hours=5, minutes=30))
START = datetime(2026, 1, 1, 10, tzinfo=UTC)
END = datetime(2026, 1, 1, 11, tzinfo=UTC)
COLUMNS = ["Modified_Time", "id", "Name", "Note"]
AWKWARD = ["plain", "a, b", 'say "hi"', "line one\nline two", "crlf\r\nnext", "", "Müller 東京", '"', "x\n\n\ny"]


def stamp(when: datetime, tz: timezone = UTC) -> str:
    return when.astimezone(tz).replace(microsecond=0).isoformat()


def rows_around_window(count: int = 400, tz: timezone = UTC) -> list[list[str]]:
    """Records every 20 s from 10 s before the window: the first and last fall outside it."""
    out = []
    for i in range(count):
        when = START - timedelta(seconds=10) + timedelta(seconds=20 * i)
        out.append([stamp(when, tz if i % 3 else UTC), str(9000 + i), AWKWARD[i % len(AWKWARD)], AWKWARD[(i * 7) % 9]])
    out.append([stamp(START, IST), "1", "on the start", ""])  # exactly the start, another offset: in
    out.append([stamp(END, IST), "2", "on the end", ""])  # exactly the end: out
    out.append([stamp(END - timedelta(seconds=1)), "3", "last second", ""])
    return out


def make_zip(path: Path, header: list[str], rows: list[list[str]], *, bom: bool = False, newline: str = "\r\n") -> Path:
    text = io.StringIO()
    writer = csv.writer(text, lineterminator=newline)
    writer.writerow(header)
    writer.writerows(rows)
    data = (b"\xef\xbb\xbf" if bom else b"") + text.getvalue().encode()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("123.csv", data)
    return path


def expected(rows: list[list[str]], header: list[str], columns: list[str]) -> list[list[str]]:
    at = header.index("Modified_Time")
    keep = [r for r in rows if START <= datetime.fromisoformat(r[at]) < END]
    return [[r[header.index(c)] for c in columns] for r in keep]


def read_back(path: str) -> tuple[list[str], list[list[str]]]:
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    return rows[0], rows[1:]


@pytest.fixture(
    params=[(1 << 20, False), (97, False), (97, True), (1, True)],
    ids=["one-block", "small-blocks", "small-blocks-threaded", "byte-blocks-threaded"],
)
def block(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> int:
    """Block sizes that cut records, quoted fields and line ends anywhere; read, checked and written in the
    caller's thread or in three."""
    size, threaded = request.param
    monkeypatch.setattr(zoho_csv, "_BLOCK", size)
    monkeypatch.setattr(zoho_csv, "_use_threads", lambda _size: threaded)
    return int(size)


@pytest.mark.parametrize("tz", [UTC, IST], ids=["utc", "ist"])
def test_byte_copy_keeps_exactly_the_window(tmp_path: Path, block: int, tz: timezone) -> None:
    rows = rows_around_window(tz=tz)
    page = write_page(str(make_zip(tmp_path / "p.zip", COLUMNS, rows)), COLUMNS, keep(), str(tmp_path / "out.csv"))
    assert page is not None
    header, got = read_back(page.path)
    assert header == COLUMNS
    want = expected(rows, COLUMNS, COLUMNS)
    assert got == want
    assert page.records == len(want) == 182  # 180 of the 20-second records, the start, the last second
    data = Path(page.path).read_bytes()
    assert page.bytes == len(data) and page.sha256 == hashlib.sha256(data).hexdigest()
    assert not (tmp_path / "out.csv.partial").exists()


def test_byte_copy_is_a_copy_when_everything_is_inside(tmp_path: Path, block: int) -> None:
    rows = [r for r in rows_around_window() if START <= datetime.fromisoformat(r[0]) < END]
    source = make_zip(tmp_path / "p.zip", COLUMNS, rows)
    page = write_page(str(source), COLUMNS, keep(), str(tmp_path / "out.csv"))
    assert page is not None
    with zipfile.ZipFile(source) as archive:
        assert Path(page.path).read_bytes() == archive.read("123.csv")


def test_bom_and_lf_line_ends_are_handled(tmp_path: Path, block: int) -> None:
    rows = rows_around_window(60)
    page = write_page(str(make_zip(tmp_path / "p.zip", COLUMNS, rows, bom=True, newline="\n")), COLUMNS, keep(),
                      str(tmp_path / "out.csv"))  # fmt: skip
    assert page is not None
    header, got = read_back(page.path)
    assert header == COLUMNS and got == expected(rows, COLUMNS, COLUMNS)
    assert not Path(page.path).read_bytes().startswith(b"\xef\xbb\xbf")


def test_another_column_order_is_parsed_and_rewritten_in_rfc4180(tmp_path: Path, block: int) -> None:
    header = ["id", "Note", "Modified_Time", "Name", "Extra"]
    rows = [[r[1], r[3], r[0], r[2], "x"] for r in rows_around_window(80)]
    page = write_page(str(make_zip(tmp_path / "p.zip", header, rows, newline="\n")), COLUMNS, keep(),
                      str(tmp_path / "out.csv"))  # fmt: skip
    assert page is not None
    got_header, got = read_back(page.path)
    assert got_header == COLUMNS
    assert got == expected(rows, header, COLUMNS)
    assert b"\r\n" in Path(page.path).read_bytes()  # CRLF record ends


def test_no_record_in_the_window_leaves_no_file(tmp_path: Path) -> None:
    rows = [[stamp(END + timedelta(minutes=i)), str(i), "late", ""] for i in range(5)]
    out = tmp_path / "out.csv"
    assert write_page(str(make_zip(tmp_path / "p.zip", COLUMNS, rows)), COLUMNS, keep(), str(out)) is None
    assert list(tmp_path.iterdir()) == [tmp_path / "p.zip"]


def test_a_damaged_zip_is_a_broken_download_and_leaves_nothing(tmp_path: Path) -> None:
    source = make_zip(tmp_path / "p.zip", COLUMNS, rows_around_window())
    data = source.read_bytes()
    source.write_bytes(data[: len(data) // 2])
    with pytest.raises(DownloadBroken):
        write_page(str(source), COLUMNS, keep(), str(tmp_path / "out.csv"))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p.zip"]


def test_a_flipped_byte_fails_the_crc(tmp_path: Path) -> None:
    source = tmp_path / "p.zip"
    with zipfile.ZipFile(source, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("1.csv", "Modified_Time,id,Name,Note\r\n" + f"{stamp(START)},1,abc,def\r\n")
    data = bytearray(source.read_bytes())
    data[data.index(b"abc")] = ord("x")
    source.write_bytes(bytes(data))
    with pytest.raises(DownloadBroken):
        write_page(str(source), COLUMNS, keep(), str(tmp_path / "out.csv"))
    assert not (tmp_path / "out.csv").exists() and not (tmp_path / "out.csv.partial").exists()


def test_missing_columns_are_an_error(tmp_path: Path) -> None:
    source = make_zip(tmp_path / "p.zip", ["Modified_Time", "id"], [[stamp(START), "1"]])
    with pytest.raises(Exception, match="lacks the column"):
        write_page(str(source), COLUMNS, keep(), str(tmp_path / "out.csv"))


@pytest.mark.parametrize(
    ("value", "inside"),
    [
        ("2026-01-01T10:00:00+00:00", True),
        ("2026-01-01T15:30:00+05:30", True),  # the start, written in IST
        ("2026-01-01T09:59:59+00:00", False),
        ("2026-01-01T10:59:59Z", True),
        ("2026-01-01T11:00:00+00:00", False),
        ("2026-01-01T06:00:00-04:00", True),
        ("2026-01-01T10:30:00.500+00:00", True),
    ],
)
def test_window_filter_compares_in_utc(value: str, inside: bool) -> None:
    assert keep()(value) is inside


def test_window_filter_with_fractional_bounds() -> None:
    f = WindowFilter(Window(START + timedelta(seconds=0.5), END + timedelta(seconds=0.5)))
    assert f("2026-01-01T10:00:00+00:00") is False  # before 10:00:00.5
    assert f("2026-01-01T10:00:01+00:00") is True
    assert f("2026-01-01T11:00:00+00:00") is True  # before 11:00:00.5
    assert f("2026-01-01T11:00:01+00:00") is False


def test_window_filter_rejects_garbage() -> None:
    with pytest.raises(Exception, match="not ISO 8601"):
        keep()("yesterday")
    with pytest.raises(Exception, match="without an offset"):
        keep()("2026-01-01T10:00:00")


def keep() -> WindowFilter:
    return WindowFilter(Window(START, END))


def record_ends_by_hand(text: bytes) -> list[int]:
    """What ``_record_ends`` answers, byte by byte: the line feeds outside quoted fields."""
    ends, quoted = [], False
    for at, byte in enumerate(text):
        if byte == ord('"'):
            quoted = not quoted
        elif byte == ord("\n") and not quoted:
            ends.append(at)
    return ends


@pytest.mark.parametrize("seed", range(40))
def test_record_ends_are_the_line_feeds_outside_quoted_fields(seed: int) -> None:
    """``_record_ends`` against a byte-by-byte walk, on CSV text with awkward fields, cut anywhere."""
    rng = random.Random(seed)
    values = [*AWKWARD, "a\n\nb", 'x""\ny', '"\n"', "\n", '""', "plain text"]
    text = io.StringIO()
    writer = csv.writer(text, lineterminator=rng.choice(["\r\n", "\n"]))
    for _ in range(rng.randint(1, 60)):
        writer.writerow([stamp(START), *(rng.choice(values) for _ in range(3))])
    data = text.getvalue().encode()
    for cut in sorted({len(data), *(rng.randint(1, len(data)) for _ in range(20))}):
        assert zoho_csv._record_ends(data[:cut]).tolist() == record_ends_by_hand(data[:cut]), (seed, cut)


def test_a_closing_quote_is_not_paired_with_the_next_opening_one() -> None:
    """``"a\\n\\nb"\\n"c\\nd"``: the line feed between two quoted fields is outside both."""
    assert zoho_csv._record_ends(b'2026,"a\n\nb"\n2026,"c\nd"\n').tolist() == [11, 22]


@pytest.mark.parametrize(
    ("odd", "outcome"),
    [
        ("2026-01-01T10:3x:00+00:00", "not ISO 8601"),  # a letter among the digits
        ("2026-01-01T10:30:0:+00:00", "not ISO 8601"),  # a colon for a digit: as a digit it would read 10:31:00
        ("2026-01-01 10:30:00+00:00", "kept"),  # a space for the T: parsed, in the window
        ("2026-01-01T16:00:00+05:30", "kept"),  # another offset, inside
        ("2026-01-01T10:30:00+01:00", "dropped"),  # another offset: its digits are inside, its instant is not
        ("2026/01/01T10:30:00+00:00", "not ISO 8601"),  # other separators
        ("2026-01-01T10:30:00.5+00:00", "kept"),  # a fraction of a second
        ("2026-01-01T10:30:00+00:00x", "not ISO 8601"),  # no comma after the time
        ("2026-01-01T10:30:00", "without an offset"),
    ],
)
def test_a_record_of_another_shape_among_inside_ones_is_judged_on_its_own(
    tmp_path: Path, block: int, odd: str, outcome: str
) -> None:
    """Every time but one is inside the window in Zoho's shape: the odd one must not ride along in a byte copy."""
    rows = [[stamp(START + timedelta(seconds=7 * i)), str(i), AWKWARD[i % len(AWKWARD)], ""] for i in range(60)]
    rows[31][0] = odd
    source = make_zip(tmp_path / "p.zip", COLUMNS, rows)
    if outcome not in ("kept", "dropped"):
        with pytest.raises(Exception, match=outcome):
            write_page(str(source), COLUMNS, keep(), str(tmp_path / "out.csv"))
        assert sorted(p.name for p in tmp_path.iterdir()) == ["p.zip"]
        return
    page = write_page(str(source), COLUMNS, keep(), str(tmp_path / "out.csv"))
    want = rows if outcome == "kept" else rows[:31] + rows[32:]
    assert page is not None and page.records == len(want)
    assert read_back(page.path) == (COLUMNS, want)


def test_a_result_that_ends_inside_a_quoted_field_is_an_error(tmp_path: Path, block: int) -> None:
    source = tmp_path / "p.zip"
    with zipfile.ZipFile(source, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("1.csv", f'Modified_Time,id,Name,Note\r\n{stamp(START)},1,abc,"open\r\n')
    with pytest.raises(Exception, match="ends inside a quoted field"):
        write_page(str(source), COLUMNS, keep(), str(tmp_path / "out.csv"))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p.zip"]


@pytest.mark.skipif(not Path("/proc/self/task").is_dir() or (os.cpu_count() or 1) < 2, reason="Linux, 2+ CPUs")
@pytest.mark.parametrize("preset", [None, "2"], ids=["unset", "set-by-the-user"])
def test_loading_the_export_starts_no_blas_threads_and_keeps_the_environment(preset: str | None) -> None:
    """numpy's OpenBLAS would start a spinning thread per CPU; a value the user set is theirs to keep."""
    env = {k: v for k, v in os.environ.items() if k not in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS")}
    if preset is not None:
        env["OPENBLAS_NUM_THREADS"] = preset
    code = ("import os, airflow_provider_zoho_aep.client.zoho_csv\n"
            "print(len(os.listdir('/proc/self/task')), os.environ.get('OPENBLAS_NUM_THREADS'))")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True, timeout=60)
    assert out.stdout.split() == (["1", "None"] if preset is None else [preset, preset])
