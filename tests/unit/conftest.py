"""Shared pieces of the unit tests: a task context holding a mock ``ti``, the structlog lines a task writes, and
the three outcomes a create reports (``{"id", "etag", "created", "updated"}``, as the hook returns them)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from unittest import mock

import pytest
import structlog.testing

#: (what the hook returns, the verb the operator logs): a new resource, the one found by name, and a PATCHed one.
CREATE_OUTCOMES = [
    pytest.param({"id": "new-1", "etag": '"e-new"', "created": True, "updated": False}, "Created", id="created"),
    pytest.param({"id": "old-1", "etag": '"e-old"', "created": False, "updated": False}, "Reused", id="reused"),
    pytest.param({"id": "old-1", "etag": '"e-upd"', "created": False, "updated": True}, "Updated", id="updated"),
]


@pytest.fixture
def ti() -> mock.MagicMock:
    return mock.MagicMock(name="ti")


@pytest.fixture
def context(ti: mock.MagicMock) -> dict[str, Any]:
    return {"ti": ti}


class _AsEventDicts(logging.Handler):
    """Appends stdlib log records to a structlog capture list, in structlog's event-dict shape."""

    def __init__(self, captured: list[dict[str, Any]]) -> None:
        super().__init__(logging.DEBUG)
        self.captured = captured

    def emit(self, record: logging.LogRecord) -> None:
        self.captured.append({"event": record.getMessage(), "log_level": record.levelname.lower()})


@pytest.fixture
def logs() -> Iterator[list[dict[str, Any]]]:
    """The log lines (structlog event dicts) written while the test runs.

    Airflow 3.1+ logs hooks and operators through structlog; 3.0's ``LoggingMixin`` still uses stdlib logging,
    so its records are captured too, in the same shape."""
    root = logging.getLogger()
    with structlog.testing.capture_logs() as captured:
        handler, level = _AsEventDicts(captured), root.level
        root.addHandler(handler)
        root.setLevel(logging.DEBUG)
        try:
            yield captured
        finally:
            root.removeHandler(handler)
            root.setLevel(level)


def messages(logs: list[dict[str, Any]], level: str = "info") -> list[str]:
    return [entry["event"] for entry in logs if entry.get("log_level") == level]


_AUTOSPECS: dict[type, Any] = {}


@contextmanager
def patched_hook(target: str, hook_class: type) -> Iterator[Any]:
    """``mock.patch(target, autospec=True)``, with the autospec built once per hook class and reset for each use.

    Building an autospec reads every method's signature (~40 ms for a hook), and every operator test patches a
    hook: reusing one keeps the suite fast. Calls, return values and side effects start fresh each time; the
    signatures are still enforced.
    """
    spec = _AUTOSPECS.get(hook_class)
    if spec is None:
        spec = _AUTOSPECS[hook_class] = mock.create_autospec(hook_class)
    spec.reset_mock(side_effect=True)
    spec.return_value.reset_mock(return_value=True, side_effect=True)
    with mock.patch(target, new=spec):
        yield spec
