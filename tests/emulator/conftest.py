"""Fixtures for the emulator tests: one emulator per test module, reset before each test."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests

from emulator import Emulator

FS = "/data/foundation/flowservice"
ZOHO_SPEC = "929e4450-0237-4ed2-9404-b7e1e0a00309"
DATA_LAKE_SPEC = "c604ff05-7f1a-43c0-8e18-33bf874cb11c"
CRM_TO_AEP = "14518937-270c-4525-bdec-c2ba7cce3860"
SCHEMA_ID = "https://ns.adobe.com/emulatortenant/schemas/0123456789abcdef"
DATASET_ID = "5f3c1b2a9d8e7f6a5b4c3d2e"


@pytest.fixture(scope="module")
def emu() -> Iterator[Emulator]:
    with Emulator(run_duration=0.3) as emulator:
        yield emulator


@pytest.fixture(autouse=True)
def _fresh(emu: Emulator) -> None:
    emu.reset()


class Api:
    """A small Flow Service client for tests: authenticated headers plus create helpers."""

    def __init__(self, emu: Emulator):
        self.emu = emu
        self.session = requests.Session()
        self._token: str | None = None

    @property
    def token(self) -> str:
        if self._token is None:
            creds = self.emu.credentials
            answer = self.session.post(
                f"{self.emu.url}/ims/token/v3",
                data={
                    "grant_type": "client_credentials",
                    "client_id": creds.ims_client_id,
                    "client_secret": creds.ims_client_secret,
                    "scope": "openid,AdobeID",
                },
                timeout=5,
            )
            assert answer.status_code == 200, answer.text
            self._token = answer.json()["access_token"]
        return self._token

    def headers(self, **overrides: str | None) -> dict[str, str]:
        """Full Flow Service headers; pass name=None to drop one (underscores stand for dashes)."""
        headers = {
            "Authorization": f"Bearer {self.token}",
            "x-api-key": self.emu.credentials.ims_client_id,
            "x-gw-ims-org-id": self.emu.credentials.ims_org_id,
            "x-sandbox-name": "prod",
        }
        for key, value in overrides.items():
            name = key.replace("_", "-")
            match = next((h for h in headers if h.lower() == name.lower()), name)
            headers.pop(match, None)
            if value is not None:
                headers[name] = value
        return headers

    def call(
        self, method: str, path: str, *, headers: dict[str, str] | None = None, **kwargs: Any
    ) -> requests.Response:
        kwargs.setdefault("timeout", 5)
        return self.session.request(method, f"{self.emu.url}{FS}{path}", headers=headers or self.headers(), **kwargs)

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.call("GET", path, **kwargs)

    def post(self, path: str, body: Any, **kwargs: Any) -> requests.Response:
        return self.call("POST", path, json=body, **kwargs)

    def patch(self, path: str, body: Any, etag: str | None, **kwargs: Any) -> requests.Response:
        headers = self.headers(If_Match=etag)
        return self.call("PATCH", path, json=body, headers=headers, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> requests.Response:
        return self.call("DELETE", path, **kwargs)

    @staticmethod
    def code(answer: requests.Response) -> str:
        """``FLOW-1439-404`` from a problem body, or the gateway ``error_code``."""
        body = answer.json()
        return body["type"].rsplit("/", 1)[-1] if "type" in body else body["error_code"]

    # ---- bodies and create helpers -----------------------------------------------------------------

    def zoho_params(self, **changes: str) -> dict[str, str]:
        creds = self.emu.credentials
        return {
            "endpoint": self.emu.url,
            "accountsUrl": self.emu.url,
            "clientId": creds.zoho_client_id,
            "clientSecret": creds.zoho_client_secret,
            "accessToken": "1000.emulator-access-token",
            "refreshToken": creds.zoho_refresh_token,
            **changes,
        }

    def connection_body(self, name: str = "Zoho CRM base connection", **changes: Any) -> dict[str, Any]:
        body = {
            "name": name,
            "description": "Base connection for Zoho CRM",
            "auth": {"specName": "Basic Authentication", "params": self.zoho_params()},
            "connectionSpec": {"id": ZOHO_SPEC, "version": "1.0"},
        }
        body.update(changes)
        return body

    def created_id(self, answer: requests.Response) -> str:
        assert answer.status_code == 201, answer.text
        return answer.json()["id"]

    def create_connection(self, name: str = "Zoho CRM base connection", **kwargs: Any) -> str:
        return self.created_id(self.post("/connections", self.connection_body(name), **kwargs))

    def source_body(self, base_id: str, **changes: Any) -> dict[str, Any]:
        return {
            "name": "Zoho Leads source",
            "baseConnectionId": base_id,
            "data": {"format": "tabular"},
            "params": {"tableName": "Leads"},
            "connectionSpec": {"id": ZOHO_SPEC, "version": "1.0"},
            **changes,
        }

    def target_body(self, **changes: Any) -> dict[str, Any]:
        return {
            "name": "Leads dataset target",
            "data": {"schema": {"id": SCHEMA_ID, "version": "application/vnd.adobe.xed-full+json;version=1"}},
            "params": {"dataSetId": DATASET_ID},
            "connectionSpec": {"id": DATA_LAKE_SPEC, "version": "1.0"},
            **changes,
        }

    def flow_body(self, source_id: str, target_id: str, **changes: Any) -> dict[str, Any]:
        return {
            "name": "Zoho Leads flow",
            "flowSpec": {"id": CRM_TO_AEP, "version": "1.0"},
            "sourceConnectionIds": [source_id],
            "targetConnectionIds": [target_id],
            "transformations": [
                {"name": "Copy", "params": {"deltaColumn": {"name": "Modified_Time"}}},
                {"name": "Mapping", "params": {"mappingId": "mapping-1", "mappingVersion": 0}},
            ],
            "scheduleParams": {"startTime": 1_700_000_000, "frequency": "hour", "interval": 1},
            **changes,
        }

    def create_pipeline(self) -> dict[str, str]:
        base = self.create_connection()
        source = self.created_id(self.post("/sourceConnections", self.source_body(base)))
        target = self.created_id(self.post("/targetConnections", self.target_body()))
        flow = self.created_id(self.post("/flows", self.flow_body(source, target)))
        return {"base": base, "source": source, "target": target, "flow": flow}


@pytest.fixture
def api(emu: Emulator) -> Iterator[Api]:
    client = Api(emu)
    yield client
    client.session.close()
