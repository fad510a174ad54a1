"""IMS token caching and refresh; staged with ``responses``."""

from __future__ import annotations

import pytest
import responses
from responses import matchers

from airflow_provider_zoho_aep.client.errors import AEPAPIError
from airflow_provider_zoho_aep.client.flow_service import FlowServiceClient, IMSTokenProvider
from airflow_provider_zoho_aep.client.http import HttpTransport, RetryPolicy
from airflow_provider_zoho_aep.client.settings import AEPSettings

IMS = "https://ims-na1.adobelogin.com/ims/token/v3"
FS = "https://platform.adobe.io/data/foundation/flowservice"
ORG = "ABCDEF0123456789ABCDEF01@AdobeOrg"


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def provider(clock: Clock, minted: list[str] | None = None) -> IMSTokenProvider:
    return IMSTokenProvider(token_url=IMS, client_id="cid", client_secret="the-secret", ims_org_id=ORG,
                            scopes="openid,AdobeID", transport=HttpTransport(retry=RetryPolicy(max_attempts=1)),
                            on_token=(minted.append if minted is not None else None), clock=clock)


@responses.activate
def test_ims_token_is_requested_with_a_form_body_cached_and_refreshed_before_expiry():
    form = matchers.urlencoded_params_matcher({"grant_type": "client_credentials", "client_id": "cid",
                                               "client_secret": "the-secret", "scope": "openid,AdobeID"})
    responses.post(IMS, match=[form, matchers.query_string_matcher("")],
                   json={"access_token": "tok-1", "token_type": "bearer", "expires_in": 86399})
    responses.post(IMS, json={"access_token": "tok-2", "token_type": "bearer", "expires_in": 86399})
    clock, minted = Clock(), []
    ims = provider(clock, minted)
    assert ims.get_token() == "tok-1"
    clock.now += 86399 - 301
    assert provider(clock).get_token() == "tok-1"  # shared by every provider in the process
    clock.now += 2
    assert ims.get_token() == "tok-2"  # within the 5-minute margin: refreshed
    assert minted == ["tok-1", "tok-2"] and len(responses.calls) == 2


@responses.activate
def test_ims_expiry_in_milliseconds_is_understood():
    responses.post(IMS, json={"access_token": "tok", "expires_in": 86_399_992})
    clock = Clock()
    ims = provider(clock)
    ims.get_token()
    clock.now += 80_000
    assert ims.get_token() == "tok" and len(responses.calls) == 1


@responses.activate
def test_ims_rejection_is_an_error_without_the_secret():
    responses.post(IMS, status=400, json={"error": "invalid_client", "error_description": "bad the-secret"})
    with pytest.raises(AEPAPIError) as info:
        provider(Clock()).get_token()
    assert info.value.code == "invalid_client" and "the-secret" not in str(info.value)
    assert "wrong client ID/secret" in str(info.value)


def flow_service(clock: Clock) -> FlowServiceClient:
    settings = AEPSettings(client_id="cid", client_secret="the-secret", ims_org_id=ORG)
    transport = HttpTransport(retry=RetryPolicy(max_attempts=1))
    ims = IMSTokenProvider(token_url=IMS, client_id="cid", client_secret="the-secret", ims_org_id=ORG,
                           scopes="openid", transport=transport, clock=clock)
    return FlowServiceClient(settings, transport, ims)


@responses.activate
def test_expired_token_401_refreshes_once_and_retries_once():
    responses.post(IMS, json={"access_token": "old", "expires_in": 86399})
    responses.post(IMS, json={"access_token": "new", "expires_in": 86399})
    headers = {"x-api-key": "cid", "x-gw-ims-org-id": ORG, "x-sandbox-name": "prod"}
    responses.get(f"{FS}/connections", status=401, json={"error_code": "401013", "message": "Oauth token is not valid"},
                  match=[matchers.header_matcher({"Authorization": "Bearer old", **headers})])
    responses.get(f"{FS}/connections", json={"items": [{"id": "a", "name": "n"}]},
                  match=[matchers.header_matcher({"Authorization": "Bearer new", **headers})])
    assert flow_service(Clock()).list("connections") == [{"id": "a", "name": "n"}]


@responses.activate
def test_a_second_401_is_an_error():
    responses.post(IMS, json={"access_token": "t", "expires_in": 86399})
    responses.get(f"{FS}/connections", status=401, json={"error_code": "401013", "message": "Oauth token is not valid"})
    with pytest.raises(AEPAPIError) as info:
        flow_service(Clock()).list("connections")
    assert info.value.status == 401 and info.value.code == "401013"
    assert len([c for c in responses.calls if c.request.url.startswith(IMS)]) == 2


@responses.activate
def test_listing_follows_continuation_tokens_from_the_href_query():
    responses.post(IMS, json={"access_token": "t", "expires_in": 86399})
    responses.get(f"{FS}/connections", match=[matchers.query_param_matcher({"property": "name==a"})],
                  json={"items": [{"id": "1"}], "_links": {"next": {
                      "href": "/connections?continuationToken=ab%3D%3D&property=name%3D%3Da"}}})
    responses.get(f"{FS}/connections",
                  match=[matchers.query_param_matcher({"continuationToken": "ab==", "property": "name==a"})],
                  json={"items": [{"id": "2"}]})
    assert [i["id"] for i in flow_service(Clock()).list("connections", {"name": "a"})] == ["1", "2"]
