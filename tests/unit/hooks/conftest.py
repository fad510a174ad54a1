"""Hooks under test read real Airflow Connections (AIRFLOW_CONN_* variables) and talk to a fake client."""

from __future__ import annotations

from typing import Any
from unittest import mock

import pytest

from airflow_provider_zoho_aep.client.flow_service import FlowServiceClient
from airflow_provider_zoho_aep.hooks.aep import AdobeExperiencePlatformHook
from tests.conftest import set_connection

SECRET = "unit-client-secret"
AEP_CONN = {
    "conn_type": "adobe_experience_platform",
    "login": "unit-client-id",
    "password": SECRET,
    "host": "https://platform.example",
    "extra": {"ims_org_id": "ORG123@AdobeOrg", "sandbox_name": "dev-1",
              "ims_token_url": "https://ims.example/ims/token/v3", "timeout": 12},
}


@pytest.fixture
def aep_conn(monkeypatch: pytest.MonkeyPatch) -> str:
    set_connection(monkeypatch, "aep_unit", AEP_CONN)
    return "aep_unit"


@pytest.fixture
def client() -> Any:
    """A FlowServiceClient whose every call is recorded; nothing goes over the network."""
    fake = mock.create_autospec(FlowServiceClient, instance=True)
    fake.transport = mock.Mock(name="transport", timeout=12.0)
    fake.tokens = mock.Mock(name="tokens")
    fake.list.return_value = []
    return fake


@pytest.fixture
def hook(aep_conn: str, client: Any) -> AdobeExperiencePlatformHook:
    hook = AdobeExperiencePlatformHook(aep_conn_id=aep_conn)
    hook.__dict__["client"] = client  # the cached_property's slot: the hook uses the fake from here on
    return hook
