"""Shared test set-up: an isolated AIRFLOW_HOME, fresh token caches, and helpers to define Connections."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

# Airflow reads AIRFLOW_HOME at import time: point it at a throw-away folder before anything imports airflow.
_HOME = Path(tempfile.mkdtemp(prefix="zoho-aep-tests-"))
# Under pytest-xdist each worker is a process of its own: it gets its own home (and metadata DB), not the one
# the controlling process set before starting it.
if os.environ.get("PYTEST_XDIST_WORKER"):
    os.environ["AIRFLOW_HOME"] = str(_HOME)
os.environ.setdefault("AIRFLOW_HOME", str(_HOME))
os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
os.environ.setdefault("AIRFLOW__CORE__UNIT_TEST_MODE", "True")

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
OPENAPI_FILE = SHARED / "reference" / "flow-service.openapi.yaml"


@pytest.fixture(autouse=True)
def _fresh_token_caches() -> Iterator[None]:
    from airflow_provider_zoho_aep.client import flow_service
    from airflow_provider_zoho_aep.hooks import zoho_crm as zoho
    from airflow_provider_zoho_aep.hooks.aep import forget_masked

    flow_service.clear_token_cache()
    zoho.clear_token_cache()
    forget_masked()
    yield
    flow_service.clear_token_cache()
    zoho.clear_token_cache()
    forget_masked()


def aep_connection(url: str, **overrides: object) -> dict[str, object]:
    """An ``adobe_experience_platform`` Connection as AIRFLOW_CONN_* JSON fields, pointing at ``url``."""
    from emulator import EmulatorCredentials

    creds = EmulatorCredentials()
    conn: dict[str, object] = {
        "conn_type": "adobe_experience_platform",
        "login": creds.ims_client_id,
        "password": creds.ims_client_secret,
        "host": url,
        "extra": {"ims_org_id": creds.ims_org_id, "sandbox_name": "prod", "ims_token_url": f"{url}/ims/token/v3"},
    }
    conn.update(overrides)
    return conn


def zoho_connection(url: str, **overrides: object) -> dict[str, object]:
    """A ``zoho_crm`` Connection pointing both URLs at ``url`` (the emulator)."""
    from emulator import EmulatorCredentials

    creds = EmulatorCredentials()
    conn: dict[str, object] = {
        "conn_type": "zoho_crm",
        "login": creds.zoho_client_id,
        "password": creds.zoho_client_secret,
        "host": url,
        "extra": {"accounts_url": url, "refresh_token": creds.zoho_refresh_token},
    }
    conn.update(overrides)
    return conn


def set_connection(monkeypatch: pytest.MonkeyPatch, conn_id: str, fields: dict[str, object]) -> None:
    monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps(fields))


@pytest.fixture(scope="session")
def azurite() -> Iterator[object]:
    """Azurite's blob service on a free loopback port (skipped without Node locally, failing in CI)."""
    from tests.azurite import start_azurite

    yield from start_azurite()
