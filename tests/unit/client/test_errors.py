from __future__ import annotations

import pickle

import pytest

from airflow_provider_zoho_aep.client.errors import (
    AEPAPIError,
    AmbiguousWriteError,
    ConfigurationError,
    parse_error_body,
    redact,
)


@pytest.mark.parametrize(
    ("body", "code", "title", "detail", "request_id"),
    [
        (
            {
                "type": "https://ns.adobe.com/aep/errors/FLOW-1418-400",
                "title": "Connection in use",
                "status": 400,
                "report": {"detailed-message": "used by flows", "request-id": "req-1"},
            },
            "FLOW-1418-400", "Connection in use", "used by flows", "req-1",
        ),
        ({"error_code": "401013", "message": "Oauth token is not valid"}, "401013", "Oauth token is not valid", None,
         None),
        ({"type": "/placeholder/type/uri", "status": 400, "title": "BadRequestError", "detail": "content-type"},
         None, "BadRequestError", "content-type", None),
        ({"errorMessage": "Supplied version=[1] does not match"}, None, None, "Supplied version=[1] does not match",
         None),
        ({"error": "invalid_code"}, "invalid_code", None, None, None),
        ({"code": "INVALID_TOKEN", "message": "invalid oauth token", "status": "error"}, "INVALID_TOKEN",
         "invalid oauth token", None, None),
        (["not", "a", "dict"], None, None, None, None),
    ],
)
def test_parse_error_body_reads_every_shape(body, code, title, detail, request_id):
    parsed = parse_error_body(body)
    assert (parsed["code"], parsed["title"], parsed["detail"], parsed["request_id"]) == (
        code, title, detail, request_id)


def test_error_message_carries_status_code_title_request_id_and_hint():
    err = AEPAPIError("Flow Service DELETE /connections/x failed", status=400, code="FLOW-1418-400",
                      title="Connection in use", request_id="req-9", service="Flow Service")
    text = str(err)
    for part in ("HTTP 400", "FLOW-1418-400", "Connection in use", "req-9", "delete the dataflow first"):
        assert part in text


def test_error_survives_pickling_with_its_fields():
    err = AmbiguousWriteError("POST /connections timed out", status=None, code="X", service="Flow Service",
                              attempts=2)
    back = pickle.loads(pickle.dumps(err))
    assert type(back) is AmbiguousWriteError
    assert (back.code, back.service, back.attempts, str(back)) == ("X", "Flow Service", 2, str(err))


def test_redact_replaces_longest_secret_first():
    assert redact("token abcdef-123 and abcdef", {"abcdef", "abcdef-123"}) == "token *** and ***"


def test_configuration_error_names_field_and_fix():
    err = ConfigurationError("extra.ims_org_id", "is missing", "set it", "Airflow Connection 'aep_default'")
    assert str(err) == "Airflow Connection 'aep_default': extra.ims_org_id: is missing. Fix: set it"
    assert isinstance(err, ValueError)
