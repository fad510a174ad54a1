"""Request and response values passed between the HTTP server and the handlers, plus error builders.

Handlers are plain functions ``(app, Request) -> Response``; they signal errors by raising ``ApiError``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

JSON_TYPE = "application/json;charset=utf-8"
FLOW_ERROR_TYPE = "https://ns.adobe.com/aep/errors/FLOW-"


@dataclass
class Request:
    """One parsed HTTP request. Header names are lower case."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes
    request_id: str

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    def query_value(self, name: str) -> str | None:
        """The last value of a query parameter, or None."""
        values = self.query.get(name)
        return values[-1] if values else None


@dataclass
class Response:
    """An answer. ``file``: the body is streamed from this file instead; ``cut_at``: the connection drops
    after this many body bytes (a reset in the middle of a download)."""

    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    file: str | None = None
    cut_at: int | None = None


def json_response(status: int, payload: Any, headers: dict[str, str] | None = None) -> Response:
    body = json.dumps(payload, separators=(",", ":")).encode()
    return Response(status, body, {"Content-Type": JSON_TYPE, **(headers or {})})


def empty_response(status: int = 204) -> Response:
    return Response(status)


class ApiError(Exception):
    """An error answer. ``payload`` stays a dict so the Flow Service layer can add the request id."""

    def __init__(self, status: int, payload: dict[str, Any], headers: dict[str, str] | None = None):
        super().__init__(f"HTTP {status}")
        self.status = status
        self.payload = payload
        self.headers = headers or {}

    def response(self, request_id: str | None = None) -> Response:
        """The answer; a Flow Service problem body gets ``request_id`` as its ``report.request-id``."""
        report = self.payload.get("report")
        if request_id and isinstance(report, dict):
            report["request-id"] = request_id
        return json_response(self.status, self.payload, self.headers)


def flow_error(
    code: str,
    title: str,
    detail: str,
    *,
    resource_id: str | None = None,
    resource_type: str | None = None,
    headers: dict[str, str] | None = None,
) -> ApiError:
    """A Flow Service problem body (shape A). ``code`` is ``NNNN-SSS``; SSS is the HTTP status."""
    status = int(code.rsplit("-", 1)[1])
    payload = {
        "type": FLOW_ERROR_TYPE + code,
        "title": title,
        "status": status,
        "report": {
            "detailed-message": detail,
            "id": resource_id,
            "request-id": None,  # filled in by the Flow Service layer
            "type": resource_type,
        },
    }
    return ApiError(status, payload, headers)


def gateway_error(status: int, error_code: str, message: str, headers: dict[str, str] | None = None) -> ApiError:
    """An Adobe I/O gateway error body (shape B)."""
    return ApiError(status, {"error_code": error_code, "message": message}, headers)


def bad_request(detail: str, code: str = "1400-400", title: str = "Invalid request") -> ApiError:
    """The usual 400 for a request body that breaks a rule. ``detail`` must never contain a secret."""
    return flow_error(code, title, detail)


def too_many_requests(headers: dict[str, str] | None = None) -> ApiError:
    return gateway_error(429, "429050", "Too many requests", headers)


#: Flow Service problem codes used for injected server errors.
SERVER_ERROR_CODES = {500: "1102", 502: "1102", 503: "1103", 504: "1104"}


def injected_error(status: int, headers: dict[str, str] | None = None) -> ApiError:
    """The answer of a ``status`` fault: gateway shape for 429, Flow Service problem otherwise."""
    if status == 429:
        return too_many_requests(headers)
    number = SERVER_ERROR_CODES.get(status, "1102" if status >= 500 else "1400")
    return flow_error(
        f"{number}-{status}",
        "Service unavailable" if status >= 500 else "Request failed",
        "Injected failure (emulator fault).",
        headers=headers,
    )
