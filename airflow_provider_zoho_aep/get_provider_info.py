"""Provider metadata read by Airflow's ProvidersManager; it imports only plain-Python defaults, so discovery
stays cheap. Airflow 3.2+ reads the connection forms here; 3.0/3.1 read the hooks' classmethods, built from the
same dicts by :mod:`.hooks._connection_form`.
"""

from __future__ import annotations

from typing import Any

from airflow_provider_zoho_aep.client.settings import (
    DEFAULT_IMS_TOKEN_URL,
    DEFAULT_PLATFORM_URL,
    DEFAULT_SANDBOX,
    DEFAULT_SCOPES,
    DEFAULT_TIMEOUT,
)

AEP_UI_FIELD_BEHAVIOUR: dict[str, Any] = {
    "hidden-fields": ["schema", "port"],
    "relabeling": {"login": "Client ID", "password": "Client Secret", "host": "Platform gateway URL"},
    "placeholders": {
        "login": "OAuth Server-to-Server client ID (also sent as x-api-key)",
        "password": "OAuth Server-to-Server client secret",
        "host": DEFAULT_PLATFORM_URL,
    },
}

AEP_CONN_FIELDS: dict[str, Any] = {
    "ims_org_id": {
        "label": "IMS organization ID",
        "description": "Your organization ID from the Adobe Developer Console, ending in @AdobeOrg.",
        "schema": {"type": ["string", "null"], "pattern": "^$|^.+@AdobeOrg$"},
    },
    "sandbox_name": {
        "label": "Sandbox name",
        "description": "Technical sandbox name, lower case.",
        "schema": {"type": ["string", "null"], "default": DEFAULT_SANDBOX},
    },
    "scopes": {
        "label": "Scopes",
        "description": "Comma-separated IMS scopes of the OAuth Server-to-Server credential.",
        "schema": {"type": ["string", "null"], "default": DEFAULT_SCOPES},
    },
    "ims_token_url": {
        "label": "IMS token URL",
        "description": "IMS token endpoint.",
        "schema": {"type": ["string", "null"], "default": DEFAULT_IMS_TOKEN_URL},
    },
    "timeout": {
        "label": "Timeout (seconds)",
        "description": "Seconds to wait for each HTTP answer.",
        "schema": {"type": ["number", "null"], "default": int(DEFAULT_TIMEOUT), "minimum": 1, "maximum": 600},
    },
    "ui_tenant": {
        "label": "Experience Cloud tenant",
        "description": "Optional: your organization's tenant name as it appears after '@' in experience.adobe.com "
        "URLs; the task's links to the dataflow and run in the AEP UI use it.",
        "schema": {"type": ["string", "null"]},
    },
}

ZOHO_REGIONS = ["us", "eu", "in", "au", "cn", "jp", "ca", "sa", "uk"]

ZOHO_UI_FIELD_BEHAVIOUR: dict[str, Any] = {
    "hidden-fields": ["schema", "port"],
    "relabeling": {"login": "Client ID", "password": "Client Secret", "host": "CRM API endpoint"},
    "placeholders": {
        "login": "1000.XXXXXXXXXXXXXXXXXXXX",
        "password": "Zoho OAuth client secret",
        "host": "https://www.zohoapis.com (or leave empty and pick a region)",
    },
}

ZOHO_CONN_FIELDS: dict[str, Any] = {
    "region": {
        "label": "Region",
        "description": "Zoho data centre; fills the CRM API endpoint and accounts URL when they are empty.",
        # No null in the enum: the 3.x UI would offer a literal "null" option (the dropdown is clearable).
        "schema": {"type": ["string", "null"], "enum": ZOHO_REGIONS},
    },
    "accounts_url": {
        "label": "Accounts URL",
        "description": "Zoho accounts server of the same data centre, e.g. https://accounts.zoho.com.",
        "schema": {"type": ["string", "null"]},
    },
    "refresh_token": {
        "label": "Refresh token",
        "description": "Zoho OAuth refresh token (access_type=offline).",
        "schema": {"type": ["string", "null"], "format": "password"},
    },
    "access_token": {
        "label": "Access token",
        "description": "Optional; minted from the refresh token when empty.",
        "schema": {"type": ["string", "null"], "format": "password"},
    },
}


_PKG = "airflow_provider_zoho_aep"
_AEP = "Adobe Experience Platform"
_OPERATOR_MODULES = ("base_connection", "list_tables", "source_connection", "target_connection", "dataflow",
                     "delete_dataflow", "dataflow_run", "data_landing_zone", "mapping", "zoho_export")


def get_provider_info() -> dict[str, Any]:
    """The provider's metadata, as Airflow's ProvidersManager expects it."""
    return {
        "package-name": "airflow-provider-zoho-aep",
        "name": "Zoho CRM to Adobe Experience Platform",
        "description": "Create Zoho CRM base connections and CRM ingestion dataflows in Adobe Experience "
        "Platform through the Flow Service API.",
        "connection-types": [
            {
                "connection-type": "adobe_experience_platform",
                "hook-class-name": f"{_PKG}.hooks.aep.AdobeExperiencePlatformHook",
                "hook-name": _AEP,
                "ui-field-behaviour": AEP_UI_FIELD_BEHAVIOUR,
                "conn-fields": AEP_CONN_FIELDS,
            },
            {
                "connection-type": "zoho_crm",
                "hook-class-name": f"{_PKG}.hooks.zoho_crm.ZohoCRMHook",
                "hook-name": "Zoho CRM",
                "ui-field-behaviour": ZOHO_UI_FIELD_BEHAVIOUR,
                "conn-fields": ZOHO_CONN_FIELDS,
            },
        ],
        "integrations": [
            {"integration-name": _AEP, "tags": ["service"],
             "external-doc-url": "https://experienceleague.adobe.com/en/docs/experience-platform/sources/home"},
            {"integration-name": "Zoho CRM", "tags": ["service"],
             "external-doc-url": "https://www.zoho.com/crm/developer/docs/api/v8/"},
        ],
        "hooks": [
            {"integration-name": _AEP, "python-modules": [f"{_PKG}.hooks.aep"]},
            {"integration-name": "Zoho CRM", "python-modules": [f"{_PKG}.hooks.zoho_crm"]},
        ],
        "operators": [
            {"integration-name": _AEP, "python-modules": [f"{_PKG}.operators.{name}" for name in _OPERATOR_MODULES]},
        ],
        "sensors": [{"integration-name": _AEP, "python-modules": [f"{_PKG}.sensors.dataflow_run"]}],
        "extra-links": [
            f"{_PKG}.operators.dataflow_run.AEPDataflowLink",
            f"{_PKG}.operators.dataflow_run.AEPDataflowRunLink",
        ],
        "triggers": [{"integration-name": _AEP, "python-modules": [f"{_PKG}.triggers.dataflow_run"]}],
    }
