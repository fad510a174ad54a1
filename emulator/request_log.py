"""The log of every request served (except the ``/__emulator__/`` control API)."""

from __future__ import annotations

import threading
from dataclasses import dataclass


@dataclass(frozen=True)
class RecordedRequest:
    """One request as received. Header names are lower case; ``status`` 0 means no answer was sent."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes
    status: int
    time: float


class RequestLog:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: list[RecordedRequest] = []

    def append(self, entry: RecordedRequest) -> None:
        with self._lock:
            self._entries.append(entry)

    def snapshot(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._entries)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
