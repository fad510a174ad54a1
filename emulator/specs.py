"""Connection specs and flow specs the emulator serves (small hand-written stand-ins for Adobe's)."""

from __future__ import annotations

import functools
from typing import Any

ZOHO_CRM_SPEC_ID = "929e4450-0237-4ed2-9404-b7e1e0a00309"
DATA_LAKE_SPEC_ID = "c604ff05-7f1a-43c0-8e18-33bf874cb11c"
#: Made-up source spec (not an Adobe one) so the "any source" operator has something else to create.
GENERIC_REST_SPEC_ID = "6f3c2a1b-0d4e-4c8a-9b7f-e11a0c5d2b90"
CRM_TO_AEP_FLOW_SPEC_ID = "14518937-270c-4525-bdec-c2ba7cce3860"
DATA_LANDING_ZONE_SPEC_ID = "26f526f2-58f4-4712-961d-e41bf1ccc0e8"
CLOUD_STORAGE_FLOW_SPEC_ID = "9753525b-82c7-4dce-8a9b-5ccfce2b9876"
#: Salesforce and Microsoft Dynamics: listed by CRMToAEP, not served as specs here.
OTHER_CRM_SPEC_IDS = ("cfc0fee1-7dc0-40ef-b73e-d8b134c436f5", "38ad80fe-8b06-4938-94f4-d4ee80266b07")

_PERMISSIONS = {
    "view": [{"@type": "lowLevel", "name": "EnterpriseSource", "permissions": ["read"]}],
    "manage": [{"@type": "lowLevel", "name": "EnterpriseSource", "permissions": ["write"]}],
}


def _string(description: str, secret: bool = False) -> dict[str, str]:
    prop = {"type": "string", "description": description}
    if secret:
        prop["format"] = "password"
    return prop


def _explore_spec() -> dict[str, Any]:
    return {
        "name": "Table",
        "type": "Table",
        "requestSpec": {},
        "responseSpec": {"type": "object", "properties": {"format": {"type": "string"}}},
    }


def _source_spec(category: str) -> dict[str, Any]:
    return {
        "attributes": {"uiAttributes": {"isSource": True, "isPreview": True, "category": {"key": category}}},
        "spec": {
            "$schema": "http://json-schema.org/draft-07/schema#",
            "type": "object",
            "properties": {"tableName": {"type": "string", "description": "Table path from explore."}},
            "required": ["tableName"],
        },
    }


CONNECTION_SPECS: dict[str, dict[str, Any]] = {
    ZOHO_CRM_SPEC_ID: {
        "id": ZOHO_CRM_SPEC_ID,
        "name": "zoho-crm",
        "providerId": "0ed90a81-07f4-4586-8190-b40eccef1c5a",
        "version": "1.0",
        "attributes": {"category": "CRM", "isSource": True, "isPreview": False, "isBeta": False},
        "authSpec": [
            {
                "name": "Basic Authentication",
                "type": "Basic Authentication",
                "spec": {
                    "$schema": "http://json-schema.org/draft-07/schema#",
                    "type": "object",
                    "description": "Zoho CRM OAuth credentials.",
                    "properties": {
                        "endpoint": _string("Zoho CRM API domain, e.g. https://www.zohoapis.com"),
                        "accountsUrl": _string("Zoho accounts server of the same data centre."),
                        "clientId": _string("Zoho OAuth client ID."),
                        "clientSecret": _string("Zoho OAuth client secret.", secret=True),
                        "accessToken": _string("Zoho access token.", secret=True),
                        "refreshToken": _string("Zoho refresh token.", secret=True),
                    },
                    "required": ["endpoint", "accountsUrl", "clientId", "clientSecret", "accessToken", "refreshToken"],
                    "additionalProperties": False,
                },
            }
        ],
        "sourceSpec": _source_spec("CRM"),
        "exploreSpec": _explore_spec(),
        "permissionsInfo": _PERMISSIONS,
    },
    GENERIC_REST_SPEC_ID: {
        "id": GENERIC_REST_SPEC_ID,
        "name": "Generic REST",
        "providerId": "0ed90a81-07f4-4586-8190-b40eccef1c5a",
        "version": "1.0",
        "attributes": {"category": "Protocols", "isSource": True, "isPreview": False, "isBeta": False},
        "authSpec": [
            {
                "name": "Basic Authentication",
                "type": "Basic Authentication",
                "spec": {
                    "$schema": "http://json-schema.org/draft-07/schema#",
                    "type": "object",
                    "properties": {
                        "url": _string("Base URL of the REST service (optional)."),
                        "username": _string("User name."),
                        "password": _string("Password.", secret=True),
                    },
                    "required": ["username", "password"],
                    "additionalProperties": False,
                },
            }
        ],
        "sourceSpec": _source_spec("Protocols"),
        "exploreSpec": _explore_spec(),
        "permissionsInfo": _PERMISSIONS,
    },
    DATA_LAKE_SPEC_ID: {
        "id": DATA_LAKE_SPEC_ID,
        "name": "Data Lake",
        "providerId": "521eee4d-8cbe-4906-bb48-fb6bd4450033",
        "version": "1.0",
        "attributes": {"isSource": False, "isDestination": True},
        "authSpec": [],
        "targetSpec": {
            "name": "Data Lake",
            "type": "Data Lake",
            "spec": {
                "$schema": "http://json-schema.org/draft-07/schema#",
                "type": "object",
                "properties": {"dataSetId": {"type": "string", "description": "Catalog dataset ID."}},
                "required": ["dataSetId"],
            },
        },
        "permissionsInfo": _PERMISSIONS,
    },
}

CONNECTION_SPECS[DATA_LANDING_ZONE_SPEC_ID] = {
    "id": DATA_LANDING_ZONE_SPEC_ID,
    "name": "landing-zone",
    "providerId": "521eee4d-8cbe-4906-bb48-fb6bd4450033",
    "version": "1.0",
    "attributes": {"category": "CloudStorage", "isSource": True, "isPreview": False, "isBeta": False},
    # No base connection: the landing zone belongs to the sandbox.
    "authSpec": [],
    "sourceSpec": {
        "attributes": {"uiAttributes": {"isSource": True, "category": {"key": "cloudStorage"}}},
        "spec": {
            "$schema": "http://json-schema.org/draft-07/schema#",
            "type": "object",
            "properties": {
                "path": {"type": "string", "description": "<container>/<folder>/ or <container>/<file>."},
                "type": {"type": "string", "enum": ["file", "folder"]},
                "recursive": {"type": "boolean"},
            },
            "required": ["path"],
        },
    },
    "exploreSpec": {"name": "FileSystem", "type": "FileSystem", "requestSpec": {}, "responseSpec": {}},
    "permissionsInfo": _PERMISSIONS,
}

FLOW_SPECS: dict[str, dict[str, Any]] = {
    CRM_TO_AEP_FLOW_SPEC_ID: {
        "id": CRM_TO_AEP_FLOW_SPEC_ID,
        "name": "CRMToAEP",
        "providerId": "0ed90a81-07f4-4586-8190-b40eccef1c5a",
        "version": "1.0",
        "attributes": {"isSourceFlow": True, "flacValidationSupported": True, "frequency": "batch"},
        "sourceConnectionSpecIds": [ZOHO_CRM_SPEC_ID, *OTHER_CRM_SPEC_IDS, GENERIC_REST_SPEC_ID],
        "targetConnectionSpecIds": [DATA_LAKE_SPEC_ID],
        "transformationSpec": [
            {
                "name": "Copy",
                "spec": {
                    "$schema": "http://json-schema.org/draft-07/schema#",
                    "type": "object",
                    "properties": {
                        "deltaColumn": {
                            "type": "object",
                            "properties": {
                                "name": {"type": "string"},
                                "dateFormat": {"type": "string"},
                                "timezone": {"type": "string"},
                            },
                            "required": ["name"],
                        }
                    },
                    "required": ["deltaColumn"],
                },
            },
            {
                "name": "Mapping",
                "spec": {
                    "$schema": "http://json-schema.org/draft-07/schema#",
                    "type": "object",
                    "properties": {"mappingId": {"type": "string"}, "mappingVersion": {"type": "integer"}},
                    "required": ["mappingId"],
                },
            },
        ],
        "scheduleSpec": {
            "name": "PeriodicSchedule",
            "type": "Periodic",
            "spec": {
                "$schema": "http://json-schema.org/draft-07/schema#",
                "type": "object",
                "properties": {
                    "startTime": {"type": "integer", "description": "epoch seconds"},
                    "frequency": {"type": "string", "enum": ["once", "minute", "hour", "day", "week"]},
                    "interval": {"type": "integer"},
                    "backfill": {"type": "boolean", "default": True},
                },
                "required": ["startTime", "frequency"],
                "if": {"properties": {"frequency": {"const": "minute"}}},
                "then": {"properties": {"interval": {"minimum": 15}}},
                "else": {"properties": {"interval": {"minimum": 1}}},
            },
        },
        "runSpec": {"name": "ProviderParams", "spec": {"type": "object", "properties": {}}},
        "permissionsInfo": _PERMISSIONS,
    }
}

FLOW_SPECS[CLOUD_STORAGE_FLOW_SPEC_ID] = {
    **FLOW_SPECS[CRM_TO_AEP_FLOW_SPEC_ID],
    "id": CLOUD_STORAGE_FLOW_SPEC_ID,
    "name": "CloudStorageToAEP",
    "sourceConnectionSpecIds": [DATA_LANDING_ZONE_SPEC_ID],
    # Files take a mapping and no Copy step: runs pick files by their last-modified time.
    "transformationSpec": [FLOW_SPECS[CRM_TO_AEP_FLOW_SPEC_ID]["transformationSpec"][1]],
    "runSpec": {
        "name": "ProviderParams",
        "spec": {
            "type": "object",
            "properties": {"startTime": {"type": "integer"}, "windowStartTime": {"type": "integer"},
                           "windowEndTime": {"type": "integer"}},
        },
    },
}


def connection_spec(spec_id: str, retired: set[str]) -> dict[str, Any] | None:
    """The connection spec (shared: read it, do not change it), or None when unknown or retired."""
    return CONNECTION_SPECS.get(spec_id) if spec_id not in retired else None


def connection_specs(retired: set[str]) -> list[dict[str, Any]]:
    return [spec for spec_id, spec in CONNECTION_SPECS.items() if spec_id not in retired]


def flow_spec(spec_id: str, retired: set[str]) -> dict[str, Any] | None:
    """The flow spec; retired connection specs are left out of its source list."""
    spec = FLOW_SPECS.get(spec_id)
    if spec is None:
        return None
    return {**spec, "sourceConnectionSpecIds": [s for s in spec["sourceConnectionSpecIds"] if s not in retired]}


def flow_specs(retired: set[str]) -> list[dict[str, Any]]:
    return [flow_spec(spec_id, retired) for spec_id in FLOW_SPECS]  # type: ignore[misc]


def auth_spec(spec: dict[str, Any], name: str) -> dict[str, Any] | None:
    """The authSpec entry called ``name``."""
    return next((a for a in spec.get("authSpec", []) if a["name"] == name), None)


@functools.cache
def secret_params(spec_id: str, auth_spec_name: str) -> frozenset[str]:
    """Auth param keys that the spec marks ``format: password`` (masked in GET answers)."""
    spec = CONNECTION_SPECS.get(spec_id)
    entry = auth_spec(spec, auth_spec_name) if spec else None
    if entry is None:
        return frozenset()
    props = entry["spec"].get("properties", {})
    return frozenset(key for key, prop in props.items() if prop.get("format") == "password")
