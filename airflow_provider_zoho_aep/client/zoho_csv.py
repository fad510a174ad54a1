"""One Bulk Read result page (a zip holding one CSV) → the rows of the window, in a CSV file with its SHA-256.

Two ways through a page, with the same result:

* **Byte copy** (the usual case): the CSV's header is exactly the columns asked for, ``Modified_Time`` first.
  Then every record starts a line with its time, and a block of complete records can be judged with
  C-speed operations only: split into lines, find the line feeds inside quoted fields (a line that starts
  inside a quoted field continues the record above it), take the record-start lines, and check that all carry the same
  offset and that the smallest and largest time are inside the window. Such a block is copied byte for
  byte. A block that fails the check (a record outside the window, another offset, an odd shape) goes
  record by record: each record's lines are kept or dropped on its parsed time.
* **Parsed** (any other header): ``csv`` reads every row, picks the columns and writes RFC 4180.

Zoho's CSV is RFC 4180 already (quoted fields, doubled quotes); the byte copy keeps it as it is.
Nothing is ever held whole: blocks of about 1 MiB, a partial file renamed only once complete. The zip's member
is inflated by :mod:`~airflow_provider_zoho_aep.client.zip_member` (zlib-ng, CRC-32 and sizes checked) in a
thread ahead of the checks; hashing and writing run in a thread behind them.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import io
import math
import os
import queue
import threading
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from itertools import accumulate, chain, compress, repeat
from typing import IO, Any

from airflow_provider_zoho_aep.client.errors import AEPAPIError
from airflow_provider_zoho_aep.client.windows import Window
from airflow_provider_zoho_aep.client.zip_member import DAMAGED_ZIP, MemberReader

_SERVICE = "Zoho CRM"
_BLOCK = 1 << 20
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


def write_page(zip_path: str, columns: list[str], keep: WindowFilter, out_path: str) -> PageFile | None:
    """Write the records of a Bulk Read zip whose ``Modified_Time`` is in the window into ``out_path``.

    Returns None, and leaves no file, when no record is kept. The file appears under its name only once
    complete. A damaged zip (truncated, bad CRC) raises :class:`DownloadBroken`.
    """
    partial = out_path + ".partial"
    try:
        with zipfile.ZipFile(zip_path) as archive, open(zip_path, "rb") as raw:
            infos = [i for i in archive.infolist() if i.filename.lower().endswith(".csv")]
            if len(infos) != 1:
                raise AEPAPIError(f"a Bulk Read result holds {len(infos)} CSV files, not one", service=_SERVICE)
            member: Any
            try:
                member = MemberReader(raw, infos[0], _BLOCK)
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
                    with _ReadAhead(member) as blocks, _WriteBehind(hashing) as behind:
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


def _read_line(member: IO[bytes]) -> bytes:
    line = member.readline()
    if not line:
        raise AEPAPIError("a Bulk Read result CSV is empty", service=_SERVICE)
    return line if line.endswith(b"\n") else line + b"\r\n"


# ---- the byte copy ---------------------------------------------------------------------------------------


class _ReadAhead:
    """Blocks of a zip member, decompressed one block ahead in a thread (zlib-ng lets go of the GIL meanwhile).

    At most two blocks wait: memory stays flat.
    """

    def __init__(self, member: IO[bytes]) -> None:
        self._member = member
        self._queue: queue.Queue[bytes | BaseException] = queue.Queue(maxsize=2)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="zoho-csv-read-ahead", daemon=True)

    def __enter__(self) -> _ReadAhead:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        with contextlib.suppress(queue.Empty):
            while True:
                self._queue.get_nowait()
        self._thread.join()

    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                block = self._member.read(_BLOCK)
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
        item = self._queue.get()
        if isinstance(item, BaseException):
            raise item
        return item


class _WriteBehind:
    """Writes (and hashes) in a thread, so the next block is judged meanwhile; at most two blocks wait."""

    def __init__(self, target: HashingWriter) -> None:
        self._target = target
        self._queue: queue.Queue[bytes | memoryview | None] = queue.Queue(maxsize=2)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="zoho-csv-write-behind", daemon=True)

    def __enter__(self) -> _WriteBehind:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
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
        if self._error is not None:
            raise self._error
        self._queue.put(data)
        return len(data)


def _copy_records(member: _ReadAhead, out: _WriteBehind, keep: WindowFilter) -> int:
    """Copy the records after the header whose time passes ``keep``; returns how many were copied."""
    records = 0
    carry = b""
    while True:
        block = member.read(_BLOCK)
        data = carry + block if carry else block
        if not block:  # the end: what is left must be whole records
            if data:
                if not data.endswith(b"\n"):
                    data += b"\n"
                lines = data.split(b"\n")[:-1]
                starts, open_at = _quoting(data)
                if open_at is not None:
                    raise AEPAPIError("a Bulk Read result ends inside a quoted field", service=_SERVICE)
                records += _copy_block(lines, starts, data, len(data), out, keep)
            return records
        lines = data.split(b"\n")
        tail = lines.pop()  # after the last line feed: not a whole line yet
        whole = len(data) - len(tail)
        starts, open_at = _quoting(data, whole_lines=True)
        if open_at is None:
            records += _copy_block(lines, starts, data, whole, out, keep)
            carry = tail
        else:  # the last record goes on in the next block
            head = lines[:open_at]
            size = sum(map(len, head)) + len(head)
            records += _copy_block(head, starts, data, size, out, keep)
            carry = data[size:]


#: Every byte but the quote and the line feed: what ``bytes.translate`` deletes to see a block's quoting.
_NOT_QUOTE_OR_LF = bytes(b for b in range(256) if b not in b'"\n')
#: A line feed outside quotes starts a record on the next line (1); one inside a field (``x``) does not (0).
_NEXT_LINE_STARTS = bytes.maketrans(b"\nx", b"\x01\x00")


def _quoting(text: bytes, *, whole_lines: bool = False) -> tuple[bytes | None, int | None]:
    """Which lines of ``text`` start a record, and where a record left open at the end starts.

    ``starts`` has a byte per line: 1 where the line starts a record, 0 where it goes on inside a quoted field
    of the record above (None: every line starts one). With ``whole_lines``, only the lines up to the last
    line feed count (what follows is not a line yet).

    Seen through its quotes and line feeds only (``translate``, at C speed): removing each adjacent ``""``
    keeps the parity of the quote count before every line feed, and leaves quotes only around line feeds
    that are inside a field (every run of quotes shrinks to one quote or none). In the usual shape each such
    field holds one line feed, ``"\n"``; when replacing those with ``x`` leaves no quote, every replacement
    was an opening and a closing quote (the pairs can only have been consecutive ones), and what is left has
    a byte per line feed, saying where the next line starts. Otherwise the parts between quotes are measured
    with ``accumulate`` (C speed too): the line feeds of an odd part (inside quotes) end at the running count
    of line feeds.
    """
    reduced = text.translate(None, _NOT_QUOTE_OR_LF)
    if whole_lines:
        reduced = reduced[: reduced.rfind(b"\n") + 1]
    reduced = reduced.replace(b'""', b"")
    if b'"' not in reduced:
        return None, None
    marked = reduced.replace(b'"\n"', b"x")
    if b'"' not in marked:
        return b"\x01" + marked.translate(_NEXT_LINE_STARTS), None
    parts = reduced.split(b'"')  # odd parts are inside quotes; each part is line feeds only
    ends = list(accumulate(map(len, parts)))  # line feeds up to the end of each part
    flags = bytearray(b"\x01") * (ends[-1] + 1)
    for end, part in zip(ends[1::2], parts[1::2], strict=True):
        flags[end - len(part) + 1 : end + 1] = bytes(len(part))
    if len(parts) % 2:  # an even number of quotes: every record is closed
        return bytes(flags), None
    # The record left open starts on the line of the last quote: the line feed before that line is outside
    # quotes (it is in an even part), so that line starts a record.
    return bytes(flags), ends[-2]


def _copy_block(
    lines: list[bytes], starts: bytes | None, data: bytes, size: int, out: _WriteBehind, keep: WindowFilter
) -> int:
    """Whole records ``lines`` (the first ``len(lines)`` lines of ``data``, ``size`` bytes with their line
    feeds): copy, all at once or one by one.

    All at once when every record-start line carries Zoho's time shape with one offset and the smallest and
    largest times are inside the window (text compares as instants within one offset).
    """
    if not lines:
        return 0
    first_lines = list(compress(lines, starts)) if starts is not None else lines
    first = first_lines[0]
    shape = first[:_TIME_WIDTH].decode("ascii", "replace")
    if _fixed_shape(shape):
        offset = shape[19:]
        lo, hi, hi_excluded = keep.bounds(offset)
        low = min(first_lines)[:19].decode("ascii", "replace")
        high = max(first_lines)[:19].decode("ascii", "replace")
        if (
            all(map(bytes.startswith, first_lines, repeat(offset.encode() + b","), repeat(19)))
            and _fixed_shape(low + offset)
            and _fixed_shape(high + offset)
            and low >= lo
            and (high < hi if hi_excluded else high <= hi)
        ):
            out.write(memoryview(data)[:size])
            return len(first_lines)
    return _copy_one_by_one(lines, out, keep)


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
