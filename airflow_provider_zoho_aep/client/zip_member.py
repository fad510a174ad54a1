"""Read the one member of a downloaded zip in decompressed blocks, its CRC-32 and sizes checked at the end.

``zipfile`` inflates with the standard library's zlib. Inflating is most of the CPU an export spends, so the
member is inflated here with zlib-ng when it is installed (a dependency of this package; 2-3x faster than
zlib on CSV) and with zlib otherwise. ``zipfile`` still reads the central directory (a truncated zip has
none: :class:`zipfile.BadZipFile`); the member's data is found through its local header and inflated
block by block, so memory stays flat whatever the size.

Every way a member can be damaged raises :class:`zipfile.BadZipFile` (or ``zlib.error``): a local header
that is not one, a deflate stream that ends early or goes on past its size, a CRC-32 or a size that is not
the one the central directory names.
"""

from __future__ import annotations

import struct
import zipfile
import zlib
from typing import IO, Any, cast

try:  # zlib-ng: the same deflate format, decoded faster
    from zlib_ng import zlib_ng as _fast_zlib

    _zlib: Any = _fast_zlib
    _INFLATE_ERRORS: tuple[type[BaseException], ...] = (zlib.error, cast("type[BaseException]", _fast_zlib.error))
except ImportError:  # pragma: no cover - zlib-ng ships wheels for every platform Airflow runs on
    _zlib = zlib
    _INFLATE_ERRORS = (zlib.error,)

#: What reading a damaged zip raises: zipfile's and this module's BadZipFile, a short read, inflate errors.
DAMAGED_ZIP: tuple[type[BaseException], ...] = (zipfile.BadZipFile, EOFError, *_INFLATE_ERRORS)


def _inflater() -> Any:
    """A raw-deflate decompressor with ``decompress(data, max_length)``, ``needs_input``, ``eof``, ``unused_data``.

    ``_ZlibDecompressor`` (zlib-ng's, or the standard library's from Python 3.12) sizes its output for
    ``max_length`` at once: one inflate call, and so one wait for the GIL, per block. ``decompressobj``
    grows its output from 16 KiB in steps, and each step waits for the GIL again while the export's other
    threads take their turns with it.
    """
    cls = getattr(_zlib, "_ZlibDecompressor", None)
    return cls(-15) if cls is not None else _StreamInflater()


class _StreamInflater:
    """``decompressobj`` behind the ``_ZlibDecompressor`` interface (zlib before Python 3.12, without zlib-ng)."""

    def __init__(self) -> None:
        self._inflate = _zlib.decompressobj(-15)
        self._tail = b""

    @property
    def needs_input(self) -> bool:
        return not self._tail

    @property
    def eof(self) -> bool:
        return bool(self._inflate.eof)

    @property
    def unused_data(self) -> bytes:
        return bytes(self._inflate.unused_data)

    def decompress(self, data: bytes, max_length: int) -> bytes:
        out = self._inflate.decompress(self._tail + data if self._tail else data, max_length)
        self._tail = self._inflate.unconsumed_tail
        return bytes(out)


_LOCAL_HEADER = struct.Struct("<4sHHHHHIIIHH")
_LOCAL_SIGNATURE = b"PK\x03\x04"
_READ = 1 << 18  # compressed bytes per file read: ~1 MiB once inflated (CSV compresses about 4:1)


class MemberReader:
    """The decompressed bytes of one zip member, in blocks of at most ``block`` bytes.

    :param archive: the open zip file (binary, seekable)
    :param info: the member, as the central directory describes it
    :param block: the most bytes one :meth:`read` returns
    """

    def __init__(self, archive: IO[bytes], info: zipfile.ZipInfo, block: int) -> None:
        if info.flag_bits & 0x1:
            raise zipfile.BadZipFile(f"{info.filename} is encrypted")
        if info.compress_type not in (zipfile.ZIP_DEFLATED, zipfile.ZIP_STORED):
            raise NotImplementedError(f"compression method {info.compress_type}")
        archive.seek(info.header_offset)
        head = archive.read(_LOCAL_HEADER.size)
        if len(head) != _LOCAL_HEADER.size:
            raise zipfile.BadZipFile("the zip ends inside a local file header")
        fields = _LOCAL_HEADER.unpack(head)
        if fields[0] != _LOCAL_SIGNATURE:
            raise zipfile.BadZipFile("no local file header where the central directory points")
        archive.seek(fields[9] + fields[10], 1)  # the name and the extra field
        self._archive = archive
        self._info = info
        self._block = block
        self._left = info.compress_size  # compressed bytes not yet read from the file
        self._inflate = _inflater() if info.compress_type == zipfile.ZIP_DEFLATED else None
        self._crc = 0
        self._size = 0
        self._done = False
        self._head = b""  # bytes given back by readline

    def read(self, _size: int = -1) -> bytes:
        """The next block (``b""`` at the end, once the CRC-32 and sizes were checked)."""
        if self._head:
            out, self._head = self._head, b""
            return out
        while not self._done:
            out, ended = self._next()
            if out:
                self._crc = _zlib.crc32(out, self._crc)
                self._size += len(out)
                if self._size > self._info.file_size:
                    raise zipfile.BadZipFile(f"{self._info.filename} is longer than its central directory says")
            if ended:
                self._finish()
            if out:
                return out
        return b""

    def readline(self) -> bytes:
        """The first line (with its line feed, if it has one); what follows it comes with the next read."""
        line = b""
        while True:
            block = self.read()
            if not block:
                return line
            cut = block.find(b"\n")
            if cut >= 0:
                self._head = block[cut + 1 :]
                return line + block[: cut + 1]
            line += block

    def _next(self) -> tuple[bytes, bool]:
        """Inflate the next piece: ``(bytes, whether the member ended with them)``."""
        if self._inflate is None:  # stored
            out = self._read_compressed()
            return out, not self._left
        if self._inflate.needs_input:
            out = self._inflate.decompress(self._read_compressed(), self._block)
        else:  # output held back by the last call's limit
            out = self._inflate.decompress(b"", self._block)
        if self._inflate.eof:
            if self._inflate.unused_data or self._left:
                raise zipfile.BadZipFile(f"{self._info.filename}: data after the end of its deflate stream")
            return out, True
        if not out and self._inflate.needs_input and not self._left:
            raise zipfile.BadZipFile(f"{self._info.filename}: the deflate stream is cut short")
        return out, False

    def _read_compressed(self) -> bytes:
        if not self._left:
            return b""
        data = self._archive.read(min(_READ, self._left))
        if not data:
            raise zipfile.BadZipFile(f"{self._info.filename} is cut short")
        self._left -= len(data)
        return data

    def _finish(self) -> None:
        self._done = True
        if self._size != self._info.file_size:
            raise zipfile.BadZipFile(
                f"{self._info.filename} has {self._size} bytes, its central directory says {self._info.file_size}"
            )
        if self._crc != self._info.CRC:
            raise zipfile.BadZipFile(f"bad CRC-32 for {self._info.filename}")

    def close(self) -> None:
        """Let go of the decompressor and its buffers; nothing more is read after this."""
        self._done = True
        self._inflate = None
