"""Landing-zone names, windows and credentials: pure logic, no network."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta, timezone
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from airflow_provider_zoho_aep.client.errors import ConfigurationError
from airflow_provider_zoho_aep.client.landing_zone import (
    LandingZoneClient,
    LandingZoneCredentials,
    UploadedFile,
    blob_name,
    file_md5,
    module_folder,
)

START = datetime(2025, 1, 1, tzinfo=timezone.utc)
TOKEN = "sv=2020-04-08&si=dlz-1&sr=c&sp=racwdlm&sig=c2VjcmV0LXNpZ25hdHVyZQ%3D%3D"


def test_blob_names_are_deterministic_and_carry_only_module_flow_and_window() -> None:
    name = blob_name("Leads", "flow-1", START, START + timedelta(hours=1), 1)
    assert name == "zoho/Leads/flow-1/20250101T000000Z_20250101T010000Z_part-0001.csv"
    assert name == blob_name("Leads", "flow-1", START, START + timedelta(hours=1), 1)
    plus_two = timezone(timedelta(hours=2))
    same_instant = blob_name("Leads", "flow-1", START.astimezone(plus_two), START + timedelta(hours=1), 1)
    assert same_instant == name  # stamps are UTC, whatever the offset given
    assert blob_name("My Module/x", "f", START, START + timedelta(1), 12).startswith("zoho/My_Module_x/f/")
    assert module_folder("Leads") == "zoho/Leads/"


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (("Leads", "f", START, START, 1), "window_end"),
        (("Leads", "f", START.replace(tzinfo=None), START.replace(tzinfo=None) + timedelta(1), 1), "window_start"),
        (("Leads", "f", START, START + timedelta(1), 0), "part"),
        (("..", "f", START, START + timedelta(1), 1), "module"),
        (("Leads", "", START, START + timedelta(1), 1), "flow_id"),
    ],
)
def test_bad_name_parts_are_refused(args: tuple, field: str) -> None:  # type: ignore[type-arg]
    with pytest.raises(ConfigurationError, match=field):
        blob_name(*args)


def test_credentials_never_show_the_token() -> None:
    credentials = LandingZoneCredentials("dlz-user-container", "acct", f"https://acct.blob/dlz?{TOKEN}", TOKEN, "2025")
    for text in (repr(credentials), str(credentials)):
        assert "sig=" not in text and "c2VjcmV0" not in text and TOKEN not in text
    assert credentials.container_url == "https://acct.blob/dlz"
    assert "c2VjcmV0LXNpZ25hdHVyZQ==" in credentials.secrets and TOKEN in credentials.secrets


def test_the_signature_is_a_secret_also_as_the_sdk_percent_encodes_it_in_request_urls() -> None:
    token = "sv=2020-04-08&sr=c&sig=ab%2bcd%2fef%3d"  # escapes in lower case: not how the SDK writes them
    credentials = LandingZoneCredentials("c", "acct", f"https://acct.blob/c?{token}", token)
    assert {"ab+cd/ef=", "ab%2Bcd%2Fef%3D", token} <= set(credentials.secrets)
    assert len(credentials.secrets) == len(set(credentials.secrets))


def test_uploaded_file_is_json_for_xcom() -> None:
    item = UploadedFile("b", 3, "m", START, uploaded=False)
    assert item.as_dict() == {"blob_name": "b", "size": 3, "md5": "m", "last_modified": "2025-01-01T00:00:00+00:00",
                              "uploaded": False, "replaced": False}


def test_file_md5_streams(tmp_path: Path) -> None:
    path = tmp_path / "f"
    path.write_bytes(b"x" * 3000)
    assert file_md5(path, chunk_size=7) == hashlib.md5(b"x" * 3000).hexdigest()


class FakeFlow:
    """A Flow Service client that hands out the SAS token of the current ``generation``."""

    def __init__(self) -> None:
        self.settings = SimpleNamespace(platform_url="https://platform.example")
        self.transport = SimpleNamespace(secrets=set())
        self.transport.add_secret = self.transport.secrets.add
        self.issued = 0
        self.generation = 1

    def request(self, method: str, path: str, **_: Any) -> Any:
        self.issued += 1
        token = f"sv=2020-04-08&sr=c&sig=token{self.generation}"
        body = {"containerName": "c", "storageAccountName": "a", "SASToken": token,
                "SASUri": f"https://a.blob/c?{token}"}
        return SimpleNamespace(json=lambda: body)


def test_every_sas_token_is_masked_once_and_scrubbed_as_it_arrives() -> None:
    masked: list[str] = []
    flow = FakeFlow()
    client = LandingZoneClient(flow, on_secret=masked.append)  # type: ignore[arg-type]
    first = client.credentials()
    assert client.credentials() is first and flow.issued == 1  # read once
    flow.generation += 1  # the refused token expired: Adobe hands out a new one, no refresh needed
    second = client.credentials(after_refusal=first)
    assert second.sas_token != first.sas_token
    client.get_credentials()  # the same token again is not masked twice
    for credentials in (first, second):
        assert set(credentials.secrets) <= flow.transport.secrets and set(credentials.secrets) <= set(masked)
    assert len(masked) == len(set(masked))
