"""Flow Service client details staged with ``responses``: what counts as already deleted."""

from __future__ import annotations

import pytest
import responses

from airflow_provider_zoho_aep.client.errors import AEPAPIError
from airflow_provider_zoho_aep.client.flow_service import FlowServiceClient
from airflow_provider_zoho_aep.client.http import HttpTransport
from airflow_provider_zoho_aep.client.settings import AEPSettings

HOST = "https://platform.example"
FLOWS = f"{HOST}/data/foundation/flowservice/flows/f1"


class Tokens:
    def get_token(self) -> str:
        return "token"

    def invalidate(self, token: str) -> None:
        pass


def client() -> FlowServiceClient:
    settings = AEPSettings("client", "secret", "ORG@AdobeOrg", platform_url=HOST)
    return FlowServiceClient(settings, HttpTransport(sleep=lambda _: None), Tokens())  # type: ignore[arg-type]


def problem(code: str, status: int) -> dict[str, object]:
    return {"type": f"https://ns.adobe.com/aep/errors/FLOW-{code}", "title": "Resource not found", "status": status,
            "report": {"detailed-message": "flows f1 not found"}}


@responses.activate
@pytest.mark.parametrize(("status", "code"), [(404, "1439-404"), (400, "1439-400"), (404, "1101-404")])
def test_a_delete_of_something_already_gone_is_not_an_error(status: int, code: str) -> None:
    responses.delete(FLOWS, status=status, json=problem(code, status))
    assert client().delete("flows", "f1") is False


@responses.activate
def test_other_400s_on_delete_still_raise() -> None:
    responses.delete(FLOWS, status=400, json=problem("1418-400", 400))
    with pytest.raises(AEPAPIError, match="1418"):
        client().delete("flows", "f1")


@responses.activate
def test_a_delete_that_worked_is_true() -> None:
    responses.delete(FLOWS, status=204)
    assert client().delete("flows", "f1") is True
