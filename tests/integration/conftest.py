"""Integration fixtures: one emulator per module on a free loopback port, Connections pointing at it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from emulator import Emulator
from tests.conftest import aep_connection, set_connection, zoho_connection


@pytest.fixture(scope="module")
def emulator_server() -> Iterator[Emulator]:
    with Emulator(run_duration=0.3) as emu:
        yield emu


@pytest.fixture
def emulator(emulator_server: Emulator, monkeypatch: pytest.MonkeyPatch) -> Iterator[Emulator]:
    """A clean emulator, with ``aep_default`` and ``zoho_crm_default`` Connections pointing at it."""
    emulator_server.reset()
    set_connection(monkeypatch, "aep_default", aep_connection(emulator_server.url))
    set_connection(monkeypatch, "zoho_crm_default", zoho_connection(emulator_server.url))
    yield emulator_server
    emulator_server.reset()
