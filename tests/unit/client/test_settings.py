"""Bad Connection fields fail before any network call, naming the field and the fix, never a secret."""

from __future__ import annotations

import json

import pytest

from airflow_provider_zoho_aep.client.errors import ConfigurationError
from airflow_provider_zoho_aep.client.settings import (
    DEFAULT_IMS_TOKEN_URL,
    DEFAULT_PLATFORM_URL,
    DEFAULT_SCOPES,
    AEPSettings,
    ZohoSettings,
)

SECRET = "super-secret-value-42"
ORG = "ABCDEF0123456789ABCDEF01@AdobeOrg"


def aep(**kw):
    fields = {"login": "client-id", "password": SECRET, "host": None, "extra": {"ims_org_id": ORG}}
    fields.update(kw)
    return AEPSettings.from_connection_fields(**fields, source="Airflow Connection 'aep_default'")


def zoho(**kw):
    fields = {
        "login": "1000.CLIENT",
        "password": SECRET,
        "host": "https://www.zohoapis.com",
        "extra": {"accounts_url": "https://accounts.zoho.com", "refresh_token": "1000.refresh-" + SECRET},
    }
    fields.update(kw)
    return ZohoSettings.from_connection_fields(**fields, source="Airflow Connection 'zoho_crm_default'")


def test_aep_defaults():
    s = aep()
    assert (s.platform_url, s.ims_token_url, s.scopes, s.sandbox_name, s.timeout) == (
        DEFAULT_PLATFORM_URL, DEFAULT_IMS_TOKEN_URL, DEFAULT_SCOPES, "prod", 30.0)
    assert s.flow_service_url == "https://platform.adobe.io/data/foundation/flowservice"
    assert SECRET not in repr(s)


def test_aep_accepts_extra_as_json_text_and_loopback_http():
    s = aep(host="http://127.0.0.1:8787/", extra=json.dumps({"ims_org_id": ORG, "sandbox_name": "dev",
                                                           "scopes": " openid , AdobeID ", "timeout": "12"}))
    assert (s.platform_url, s.sandbox_name, s.scopes, s.timeout) == ("http://127.0.0.1:8787", "dev",
                                                                      "openid,AdobeID", 12.0)


AEP_BAD = [
    ({"login": None}, "login (Client ID)"),
    ({"login": "  "}, "login (Client ID)"),
    ({"password": None}, "password (Client Secret)"),
    ({"extra": {}}, "extra.ims_org_id"),
    ({"extra": {"ims_org_id": "ABCDEF"}}, "extra.ims_org_id"),
    ({"extra": {"ims_org_id": ORG, "sandbox_name": "Prod"}}, "extra.sandbox_name"),
    ({"extra": {"ims_org_id": ORG, "sandbox_name": "my sandbox"}}, "extra.sandbox_name"),
    ({"host": "http://platform.adobe.io"}, "host (Platform gateway URL)"),
    ({"host": "platform.adobe.io"}, "host (Platform gateway URL)"),
    ({"host": "https://platform.adobe.io?x=1"}, "host (Platform gateway URL)"),
    ({"extra": {"ims_org_id": ORG, "ims_token_url": "http://ims-na1.adobelogin.com/ims/token/v3"}},
     "extra.ims_token_url"),
    ({"extra": {"ims_org_id": ORG, "scopes": " , "}}, "extra.scopes"),
    ({"extra": {"ims_org_id": ORG, "timeout": 0}}, "extra.timeout"),
    ({"extra": {"ims_org_id": ORG, "timeout": "soon"}}, "extra.timeout"),
    ({"extra": {"ims_org_id": ORG, "timeout": 3600}}, "extra.timeout"),
    ({"extra": {"ims_org_id": ORG, "org_id": ORG}}, "extra"),
    ({"extra": '{"ims_org_id": "' + SECRET}, "extra"),
    ({"extra": "[1, 2]"}, "extra"),
]


@pytest.mark.parametrize(("fields", "field"), AEP_BAD)
def test_aep_bad_fields_name_the_field_and_never_the_secret(fields, field):
    with pytest.raises(ConfigurationError) as info:
        aep(**fields)
    assert info.value.field == field
    assert "Fix:" in str(info.value) and "Airflow Connection 'aep_default'" in str(info.value)
    assert SECRET not in str(info.value)


def test_zoho_region_fills_both_urls():
    s = zoho(host=None, extra={"region": "EU", "refresh_token": "r"})
    assert (s.endpoint, s.accounts_url, s.region) == ("https://www.zohoapis.eu", "https://accounts.zoho.eu", "eu")


def test_zoho_canada_uses_zohocloud_accounts_and_is_flagged_outside_adobe_list():
    s = zoho(host=None, extra={"region": "ca", "refresh_token": "r"})
    assert s.accounts_url == "https://accounts.zohocloud.ca" and s.outside_adobe_list


def test_zoho_derives_region_from_urls_and_accepts_sandbox_api_host():
    s = zoho(host="https://sandbox.zohoapis.com.au", extra={"accounts_url": "https://accounts.zoho.com.au/",
                                                             "refresh_token": "r"})
    assert (s.region, s.accounts_url) == ("au", "https://accounts.zoho.com.au")
    assert SECRET not in repr(s)


def test_zoho_accepts_loopback_for_the_emulator():
    s = zoho(host="http://127.0.0.1:8787", extra={"accounts_url": "http://localhost:8787", "refresh_token": "r"})
    assert s.region is None and s.endpoint == "http://127.0.0.1:8787"


ZOHO_BAD = [
    ({"login": ""}, "login (Client ID)"),
    ({"password": ""}, "password (Client Secret)"),
    ({"extra": {"accounts_url": "https://accounts.zoho.com"}}, "extra.refresh_token"),
    ({"extra": {"region": "uk", "refresh_token": "r"}}, "extra.region"),
    ({"host": None, "extra": {"accounts_url": "https://accounts.zoho.com", "refresh_token": "r"}},
     "host (CRM API endpoint)"),
    ({"extra": {"refresh_token": "r"}}, "extra.accounts_url"),
    ({"extra": {"accounts_url": "https://accounts.zoho.eu", "refresh_token": "r"}}, "extra.accounts_url"),
    ({"host": "https://zohoapis.com"}, "host (CRM API endpoint)"),
    ({"host": "http://www.zohoapis.com"}, "host (CRM API endpoint)"),
    ({"host": "https://www.zohoapis.com/crm/v8"}, "host (CRM API endpoint)"),
    ({"extra": {"accounts_url": "https://accounts.zoho.ca", "refresh_token": "r"}}, "extra.accounts_url"),
    ({"extra": {"accounts_url": "https://evil.example.com", "refresh_token": "r"}}, "extra.accounts_url"),
    ({"extra": {"accounts_url": "https://accounts.zoho.com", "refresh_token": "r", "region": "eu"}},
     "extra.region"),
    ({"extra": {"accounts_url": "https://accounts.zoho.com", "refresh_token": "r", "client_secret": SECRET}},
     "extra"),
    ({"host": "http://127.0.0.1:1", "extra": {"accounts_url": "https://accounts.zoho.com", "refresh_token": "r"}},
     "host (CRM API endpoint)"),
]


@pytest.mark.parametrize(("fields", "field"), ZOHO_BAD)
def test_zoho_bad_fields_name_the_field_and_never_the_secret(fields, field):
    with pytest.raises(ConfigurationError) as info:
        zoho(**fields)
    assert info.value.field == field
    assert "Fix:" in str(info.value) and SECRET not in str(info.value)
