"""Fault injection and the token-bucket rate limit. Both are thread-safe."""

from __future__ import annotations

import math
import re
import threading
import time
from dataclasses import dataclass, field

FAULT_KINDS = ("status", "reset", "delay", "commit_then_drop", "reset_mid_body", "job_failure", "link_expired")
DEFAULT_RATE_LIMIT_PATHS = r"^/data/foundation/flowservice"


@dataclass
class Fault:
    """One injected failure, matched on method and a regex searched in the path (no query string).

    Kinds: ``status`` answers ``status`` without touching the state; ``reset`` closes the socket without
    an answer; ``delay`` sleeps ``delay`` seconds, then answers normally; ``commit_then_drop`` applies the
    request, then closes the socket without the answer. ``delay`` > 0 also slows the other kinds.
    Zoho Bulk Read kinds: ``reset_mid_body`` sends half of a result download, then closes the socket;
    ``job_failure`` makes the job this create request adds end in ``FAILURE``; ``link_expired`` answers a
    result download as expired (the job then shows a fresh link).
    ``count`` is how many times it fires (-1: forever). ``query``, when given, is a regex searched in the
    request's query string too (``comp=blocklist`` singles out a blob commit among the blob store's PUTs).
    """

    method: str = "*"
    path: str = ".*"
    kind: str = "status"
    count: int = 1
    status: int = 503
    retry_after: str | None = None
    delay: float = 0.0
    query: str = ""
    _pattern: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.kind not in FAULT_KINDS:
            raise ValueError(f"Fault kind must be one of {', '.join(FAULT_KINDS)}, not {self.kind!r}")
        if self.count == 0 or self.count < -1:
            raise ValueError("Fault count must be a positive number of firings, or -1 for forever")
        if self.delay < 0 or (self.kind == "delay" and self.delay == 0):
            raise ValueError("Fault delay must be >= 0, and > 0 for kind 'delay'")
        if not 100 <= self.status <= 599:
            raise ValueError("Fault status must be an HTTP status code")
        self._pattern = re.compile(self.path)

    def matches(self, method: str, path: str, query: str = "") -> bool:
        return (self.method in ("*", method.upper()) and self._pattern.search(path) is not None
                and (not self.query or re.search(self.query, query) is not None))


class FaultList:
    """Faults in order of addition; the first live match fires and uses up one of its count."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []

    def add(self, fault: Fault) -> None:
        with self._lock:
            self._faults.append(fault)

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def fire(self, method: str, path: str, query: str = "") -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.matches(method, path, query):
                    if fault.count > 0:
                        fault.count -= 1
                        if fault.count == 0:
                            self._faults.remove(fault)
                    return fault
        return None


class RateLimiter:
    """A token bucket over the paths matching ``paths``; off when ``rate_per_second`` is None."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.configure(None)

    def configure(self, rate_per_second: float | None, burst: int = 1, paths: str = DEFAULT_RATE_LIMIT_PATHS) -> None:
        if rate_per_second is not None and rate_per_second <= 0:
            raise ValueError("rate_per_second must be > 0 (or None to turn the limit off)")
        if burst < 1:
            raise ValueError("burst must be >= 1")
        with self._lock:
            self._rate = rate_per_second
            self._burst = burst
            self._pattern = re.compile(paths)
            self._tokens = float(burst)
            self._updated = time.monotonic()

    def wait_needed(self, path: str) -> float:
        """0.0 when the request may pass (a token is taken), else the seconds until a token is free."""
        with self._lock:
            if self._rate is None or not self._pattern.search(path):
                return 0.0
            now = time.monotonic()
            self._tokens = min(self._burst, self._tokens + (now - self._updated) * self._rate)
            self._updated = now
            if self._tokens >= 1.0:
                self._tokens -= 1.0
                return 0.0
            return (1.0 - self._tokens) / self._rate


def retry_after_headers(wait: float) -> dict[str, str]:
    """``Retry-After`` in whole seconds (at least 1), plus the precise wait."""
    return {"Retry-After": str(max(1, math.ceil(wait))), "X-RateLimit-Reset-After": f"{wait:.3f}"}
