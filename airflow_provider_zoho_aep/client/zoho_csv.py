"""One Bulk Read result page (a zip holding one CSV) → the rows of the window, in a CSV file with its SHA-256.

Two ways through a page, with the same result:

* **Byte copy** (the usual case): the CSV's header is exactly the columns asked for, ``Modified_Time`` first.
  Then every record starts with its time, and a block of complete records is judged with numpy, which lets
  go of the GIL while it scans: find the record ends (the line feeds outside quoted fields), read every
  record's time, and check that all carry the first one's offset and that the smallest and largest time are
  inside the window. Such a block is copied byte for byte. A block that fails the check (a record outside
  the window, another offset, an odd shape) goes record by record: each record's lines are kept or dropped
  on its parsed time.
* **Parsed** (any other header): ``csv`` reads every row, picks the columns and writes RFC 4180.

Zoho's CSV is RFC 4180 already (quoted fields, doubled quotes); the byte copy keeps it as it is.
Nothing is ever held whole: blocks of at most 256 KiB (about an eighth of the page), a partial file renamed only
once complete. The zip's member is inflated by :mod:`~airflow_provider_zoho_aep.client.zip_member` (zlib-ng,
CRC-32 and sizes checked). On a page of 1 MiB or more, inflating runs in a thread ahead of the checks, hashing
and writing in a thread behind them; a smaller page goes through in the caller's thread (see
:func:`_use_threads`).
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import io
import math
import os
import queue
import sys
import threading
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from itertools import chain
from typing import IO, Any

from airflow_provider_zoho_aep.client.errors import AEPAPIError
from airflow_provider_zoho_aep.client.windows import Window
from airflow_provider_zoho_aep.client.zip_member import DAMAGED_ZIP, MemberReader

if "numpy" not in sys.modules and "OPENBLAS_NUM_THREADS" not in os.environ:
    # numpy only scans bytes here; it never multiplies matrices. Loaded as it comes, its OpenBLAS starts a thread
    # per CPU that spins for a while (on two CPUs: 100 ms more CPU on import, 50 ms after it), taking a CPU from
    # the export's own threads. Told to use one thread when it loads, it starts none. Matrix work elsewhere in
    # this process then runs on one CPU, unless OPENBLAS_NUM_THREADS was set (it is left as it is).
    os.environ["OPENBLAS_NUM_THREADS"] = "1"
    try:
        import numpy as np
    finally:
        del os.environ["OPENBLAS_NUM_THREADS"]
else:
    import numpy as np

_SERVICE = "Zoho CRM"
_BLOCK = 1 << 18  # the largest block of CSV read, checked and written at a time
#: Pages from this size on (about 7,000 records of 150 bytes) are inflated, checked and written by three threads.
_THREADS_FROM = 1 << 20
_TIME_WIDTH = 25  # 2026-01-01T05:30:00+05:30
_BOM = b"\xef\xbb\xbf"


class DownloadBroken(Exception):
    """The download ended early or the zip is damaged: download again."""


class WindowFilter:
    """Is a ``Modified_Time`` inside the window? Compared in UTC, whatever offset Zoho wrote.

    For a time in Zoho's fixed shape (``YYYY-MM-DDTHH:MM:SS±HH:MM``) the window's bounds are rendered in that
    offset once; then comparing text is comparing instants. Any other shape is parsed.
    """

    def __init__(self, window: Window) -> None:
        self.window = window
        self._bounds: dict[str, tuple[str, str, bool]] = {}

    def bounds(self, offset: str) -> tuple[str, str, bool]:
        """``(lo, hi, hi_excluded)``: a whole-second time ``t`` written with ``offset`` is in the window when
        ``lo <= t[:19]`` and ``t[:19] < hi`` (or ``<= hi`` when ``hi_excluded`` is False)."""
        found = self._bounds.get(offset)
        if found is None:
            tz = datetime.fromisoformat(f"2000-01-01T00:00:00{offset}").tzinfo
            # Zoho's times have whole seconds: the start rounds up; a whole end is excluded, a fractional one
            # lets its own second in.
            start = datetime.fromtimestamp(math.ceil(self.window.start.timestamp()), timezone.utc)
            end_ts = self.window.end.timestamp()
            end = datetime.fromtimestamp(math.floor(end_ts), timezone.utc)
            fmt = "%Y-%m-%dT%H:%M:%S"
            found = (start.astimezone(tz).strftime(fmt), end.astimezone(tz).strftime(fmt), end_ts == math.floor(end_ts))
            self._bounds[offset] = found
        return found

    def __call__(self, value: str) -> bool:
        if _fixed_shape(value):
            lo, hi, hi_excluded = self.bounds(value[19:])
            head = value[:19]
            return lo <= head < hi if hi_excluded else lo <= head <= hi
        try:
            when = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise AEPAPIError(
                "Zoho CRM returned a Modified_Time that is not ISO 8601", detail=value[:40], service=_SERVICE
            ) from None
        if when.tzinfo is None:
            raise AEPAPIError("Zoho CRM returned a Modified_Time without an offset", detail=value, service=_SERVICE)
        return self.window.contains(when.astimezone(timezone.utc))


def _fixed_shape(value: str) -> bool:
    return (
        len(value) == _TIME_WIDTH
        and value[4] == "-" and value[7] == "-" and value[10] == "T" and value[13] == ":" and value[16] == ":"
        and value[19] in "+-" and value[22] == ":"
        and (value[:4] + value[5:7] + value[8:10] + value[11:13] + value[14:16] + value[17:19]).isdigit()
    )  # fmt: skip


class HashingWriter(io.RawIOBase):
    """A binary file that counts and hashes what passes through it."""

    def __init__(self, target: IO[bytes]) -> None:
        self._target = target
        self.sha256 = hashlib.sha256()
        self.bytes = 0

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        view = memoryview(data)
        self._target.write(view)
        self.sha256.update(view)
        self.bytes += view.nbytes
        return view.nbytes


@dataclass
class PageFile:
    path: str
    records: int
    bytes: int
    sha256: str


def write_page(
    zip_file: str | IO[bytes], columns: list[str], keep: WindowFilter, out_path: str
) -> PageFile | None:
    """Write the records of a Bulk Read zip whose ``Modified_Time`` is in the window into ``out_path``.

    :param zip_file: the zip's path, or the zip as a binary file open for reading (left open)

    Returns None, and leaves no file, when no record is kept. The file appears under its name only once
    complete. A damaged zip (truncated, bad CRC) raises :class:`DownloadBroken`.
    """
    partial = out_path + ".partial"
    try:
        with contextlib.ExitStack() as opened:
            raw = opened.enter_context(open(zip_file, "rb")) if isinstance(zip_file, str) else zip_file
            archive = opened.enter_context(zipfile.ZipFile(raw))
            infos = [i for i in archive.infolist() if i.filename.lower().endswith(".csv")]
            if len(infos) != 1:
                raise AEPAPIError(f"a Bulk Read result holds {len(infos)} CSV files, not one", service=_SERVICE)
            # About eight blocks per page, so that a small page keeps the threads busy side by side too.
            size = infos[0].file_size
            block = min(_BLOCK, max(_BLOCK // 16, size // 8))
            member: Any
            try:
                member = MemberReader(raw, infos[0], block)
            except NotImplementedError:  # another compression method: zipfile's own reader
                member = archive.open(infos[0])
            with contextlib.closing(member), open(partial, "wb") as target:
                hashing = HashingWriter(target)
                header_line = _read_line(member)
                header = next(csv.reader([header_line.removeprefix(_BOM).decode("utf-8")]), None)
                if not header:
                    raise AEPAPIError("a Bulk Read result CSV has no header", service=_SERVICE)
                missing = [c for c in columns if c not in header]
                if missing:
                    raise AEPAPIError(f"a Bulk Read result lacks the column(s) {', '.join(missing)}", service=_SERVICE)
                if header == columns and columns[0] == "Modified_Time":
                    hashing.write(header_line.removeprefix(_BOM))
                    threaded = _use_threads(size)
                    # The writer first: its thread waits at once, while the reader's would hold up its start.
                    with _WriteBehind(hashing, threaded) as behind, _ReadAhead(member, block, threaded) as blocks:
                        records = _copy_records(blocks, behind, keep)
                else:
                    with archive.open(infos[0]) as again:
                        records = _rewrite_records(again, hashing, header, columns, keep)
    except DAMAGED_ZIP as err:
        _remove(partial)
        raise DownloadBroken(f"the Bulk Read result is not a whole zip ({err})") from None
    except BaseException:
        _remove(partial)
        raise
    if records == 0:
        _remove(partial)
        return None
    os.replace(partial, out_path)
    return PageFile(out_path, records, hashing.bytes, hashing.sha256.hexdigest())


def _use_threads(size: int) -> bool:
    """Whether a page of ``size`` bytes of CSV goes through three threads rather than the caller's alone.

    On a small page, starting the threads and handing blocks across costs about what working side by side
    saves; from some 1 MiB on they win (in fresh processes on two CPUs: 12.4 against 12.5 ms at 1.5 MB, 15.6
    against 17.4 ms at 3 MB, 25.0 against 32.0 ms at 6 MB). They need the second CPU: where another process
    keeps it busy, an export of 10,000 records took 1.14 times the raw download's time with threads and 1.09
    without, and at 100,000 records threads and the caller's thread alone broke even.
    """
    return size >= _THREADS_FROM


def _read_line(member: IO[bytes]) -> bytes:
    line = member.readline()
    if not line:
        raise AEPAPIError("a Bulk Read result CSV is empty", service=_SERVICE)
    return line if line.endswith(b"\n") else line + b"\r\n"


# ---- the byte copy ---------------------------------------------------------------------------------------


class _ReadAhead:
    """Blocks of a zip member, decompressed one block ahead in a thread (zlib-ng lets go of the GIL meanwhile).

    At most two blocks wait: memory stays flat. Not ``threaded``: each block is inflated when it is read.
    """

    def __init__(self, member: IO[bytes], block: int, threaded: bool) -> None:
        self._member = member
        self._block = block
        self._threaded = threaded
        self._queue: queue.Queue[bytes | BaseException] = queue.Queue(maxsize=2)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="zoho-csv-read-ahead", daemon=True)

    def __enter__(self) -> _ReadAhead:
        if self._threaded:
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if not self._threaded:
            return
        self._stop.set()
        with contextlib.suppress(queue.Empty):
            while True:
                self._queue.get_nowait()
        self._thread.join()

    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                block = self._member.read(self._block)
                self._put(block)
                if not block:
                    return
        except BaseException as err:  # handed to the reader, raised there
            self._put(err)

    def _put(self, item: bytes | BaseException) -> None:
        while not self._stop.is_set():
            with contextlib.suppress(queue.Full):
                self._queue.put(item, timeout=0.1)
                return

    def read(self, _size: int = -1) -> bytes:
        if not self._threaded:
            return self._member.read(self._block)
        item = self._queue.get()
        if isinstance(item, BaseException):
            raise item
        return item


class _WriteBehind:
    """Writes (and hashes) in a thread, so the next block is judged meanwhile; at most two blocks wait. Not
    ``threaded``: each block is written when it is handed over."""

    def __init__(self, target: HashingWriter, threaded: bool) -> None:
        self._target = target
        self._threaded = threaded
        self._queue: queue.Queue[bytes | memoryview | None] = queue.Queue(maxsize=2)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="zoho-csv-write-behind", daemon=True)

    def __enter__(self) -> _WriteBehind:
        if self._threaded:
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if not self._threaded:
            return
        self._queue.put(None)
        self._thread.join()
        if self._error is not None and exc[0] is None:
            raise self._error

    def _run(self) -> None:
        while (item := self._queue.get()) is not None:
            if self._error is None:
                try:
                    self._target.write(item)
                except BaseException as err:
                    self._error = err

    def write(self, data: bytes | memoryview) -> int:
        if not self._threaded:
            return self._target.write(data)
        if self._error is not None:
            raise self._error
        self._queue.put(data)
        return len(data)


def _copy_records(member: _ReadAhead, out: _WriteBehind, keep: WindowFilter) -> int:
    """Copy the records after the header whose time passes ``keep``; returns how many were copied."""
    records = 0
    carry = b""
    while True:
        block = member.read()
        data = carry + block if carry else block
        if not block:  # the end: what is left must be whole records
            if data:
                if not data.endswith(b"\n"):
                    data += b"\n"
                ends = _record_ends(data)
                if not len(ends) or int(ends[-1]) != len(data) - 1:
                    raise AEPAPIError("a Bulk Read result ends inside a quoted field", service=_SERVICE)
                records += _copy_block(data, ends, out, keep)
            return records
        ends = _record_ends(data)
        if len(ends):
            records += _copy_block(data, ends, out, keep)
            carry = data[int(ends[-1]) + 1 :]
        else:  # the block holds no record's end yet: it all goes on in the next one
            carry = data


_QUOTE, _LF = ord('"'), ord("\n")
#: In the first ``_TIME_WIDTH + 1`` bytes of a record: the digits of Zoho's time shape, its separators, and
#: what must repeat the first record's (the offset's sign, digits and colon, and the comma after the time).
_DIGITS = np.array([0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18])
_SEPARATORS = np.array([4, 7, 10, 13, 16])
_SEPARATOR_BYTES = np.frombuffer(b"--T::", np.uint8)
_DIGIT_WEIGHTS = 10 ** np.arange(len(_DIGITS) - 1, -1, -1, dtype=np.int64)  # YYYYMMDDHHMMSS as one number


def _record_ends(data: bytes) -> np.ndarray:
    """Where the records of ``data`` end: the offsets of its line feeds outside quoted fields.

    ``data`` starts at a record's start. A line feed is inside a quoted field when an odd number of quotes
    come before it (a doubled quote ``""`` counts twice, so it changes nothing). numpy finds the quotes and
    line feeds and their running parity without holding the GIL for the length of the block, so the threads
    that inflate, hash and write run beside it.
    """
    text = np.frombuffer(data, np.uint8)
    marks = np.flatnonzero((text == _QUOTE) | (text == _LF))
    quotes = text[marks] == _QUOTE
    inside = np.bitwise_xor.accumulate(quotes)  # after each mark: an odd number of quotes so far
    return marks[~(quotes | inside)]


def _time_key(time: str) -> int:
    """``YYYY-MM-DDTHH:MM:SS`` as the number ``YYYYMMDDHHMMSS``: ordered as the times are."""
    return int(time[0:4] + time[5:7] + time[8:10] + time[11:13] + time[14:16] + time[17:19])


def _copy_block(data: bytes, ends: np.ndarray, out: _WriteBehind, keep: WindowFilter) -> int:
    """The whole records of ``data`` (up to its last record end ``ends[-1]``): copy, all at once or one by one.

    All at once when every record starts with Zoho's time shape (``YYYY-MM-DDTHH:MM:SS±HH:MM,``), all with the
    first record's offset, and the smallest and largest time are inside the window: within one offset, the
    number ``YYYYMMDDHHMMSS`` orders the records as their instants.
    """
    size = int(ends[-1]) + 1
    starts = np.empty_like(ends)
    starts[0] = 0
    starts[1:] = ends[:-1] + 1
    head_width = _TIME_WIDTH + 1  # the time and the comma after it
    first = data[:_TIME_WIDTH].decode("ascii", "replace")
    if int((ends - starts).min()) >= head_width and _fixed_shape(first) and data[_TIME_WIDTH] == ord(","):
        # Every record's first bytes as one row (a record is longer than them, so no row passes the end).
        rows: np.ndarray = np.ndarray((len(data) - head_width + 1,), f"V{head_width}", data, strides=(1,))[starts]
        heads = rows.view(np.uint8).reshape(len(starts), head_width)
        digits = heads[:, _DIGITS] - ord("0")  # a byte that is no digit wraps to 10 or more
        tails = heads[:, 19:]
        if (digits <= 9).all() and (heads[:, _SEPARATORS] == _SEPARATOR_BYTES).all() and (tails == tails[0]).all():
            times = digits.astype(np.int64) @ _DIGIT_WEIGHTS
            lo, hi, hi_excluded = keep.bounds(first[19:])
            low, high = int(times.min()), int(times.max())
            if low >= _time_key(lo) and (high < _time_key(hi) if hi_excluded else high <= _time_key(hi)):
                out.write(memoryview(data)[:size])
                return len(starts)
    return _copy_one_by_one(data[:size].split(b"\n")[:-1], out, keep)


def _copy_one_by_one(lines: list[bytes], out: _WriteBehind, keep: WindowFilter) -> int:
    """The careful way through a block: each record's lines, kept or dropped on its parsed time."""
    kept = 0
    record: list[bytes] = []
    quotes = 0
    for line in chain(lines, [None]):
        if line is None or not quotes & 1:
            if record:
                if keep(_first_field(record)):
                    out.write(b"\n".join(record) + b"\n")
                    kept += 1
                record = []
            if line is None:
                break
        record.append(line)
        quotes += line.count(b'"')
    return kept


def _first_field(record: list[bytes]) -> str:
    head = record[0]
    if head[_TIME_WIDTH : _TIME_WIDTH + 1] == b"," and b'"' not in head[:_TIME_WIDTH]:
        return head[:_TIME_WIDTH].decode("utf-8")
    row = next(csv.reader([b"\n".join(record).decode("utf-8")]), [""])
    return row[0] if row else ""


# ---- the parsed way ----------------------------------------------------------------------------------------


def _rewrite_records(
    member: IO[bytes], out: HashingWriter, header: list[str], columns: list[str], keep: Callable[[str], bool]
) -> int:
    """Parse every row, keep those in the window, write ``columns`` in RFC 4180 (CRLF, minimal quoting)."""
    records = 0
    buffered = io.BufferedWriter(out, buffer_size=_BLOCK)  # type: ignore[arg-type]
    with io.TextIOWrapper(member, encoding="utf-8-sig", newline="") as text:
        reader = csv.reader(text)
        next(reader)
        text_out = io.TextIOWrapper(buffered, encoding="utf-8", newline="")
        writer = csv.writer(text_out, lineterminator="\r\n")
        writer.writerow(columns)
        time_at = header.index("Modified_Time")
        width = len(header)
        pick = [header.index(c) for c in columns]

        def kept() -> Iterator[list[str]]:
            nonlocal records
            for row in reader:
                if len(row) != width:
                    raise AEPAPIError(
                        f"a Bulk Read result row has {len(row)} columns, the header {width}", service=_SERVICE
                    )
                if keep(row[time_at]):
                    records += 1
                    yield [row[i] for i in pick]

        writer.writerows(kept())
        text_out.flush()
        text_out.detach()
        buffered.flush()
        buffered.detach()
    return records


def _remove(path: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.remove(path)
