"""The provider's error types: :class:`ConfigurationError` (a Connection field or an argument is wrong; raised
before any network call, naming the field and the fix) and :class:`AEPAPIError` (a remote service said no, with
Adobe's or Zoho's code and request ID). Neither carries a secret: remote text passes through :func:`redact`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

_FLOW_CODE = re.compile(r"([A-Z]+-\d{3,5}-\d{3})")

#: What to do about the Adobe and Zoho error codes a user is most likely to meet.
HINTS: dict[str, str] = {
    "1100": "the organization is not entitled to this source; check the product profile in the Admin Console",
    "1101": "the resource does not exist (or lives in another sandbox); check the ID and x-sandbox-name",
    "1401": "'limit' and 'count' cannot be sent together",
    "1403": "a PATCH needs If-Match with the current etag",
    "1404": "the etag is stale: someone changed the resource; read it again and retry",
    "1410": "'state' is not allowed when creating a dataflow",
    "1413": (
        "the connection spec is unknown or retired; Adobe deprecated the Zoho CRM source at the end of "
        "June 2025 (use the Data Landing Zone source instead)"
    ),
    "1414": "the connection spec of an existing connection cannot be changed",
    "1415": "auth.specName does not match an auth spec of the connection spec",
    "1416": "the resource's current state does not allow this operation",
    "1418": "the base connection is still used by a dataflow: delete the dataflow first",
    "1439": "the resource does not exist (or lives in another sandbox)",
    "2000": "the IMS token has no access to this organization: check ims_org_id",
    "2100": "the sandbox does not exist: check sandbox_name (lower case)",
    "2105": "x-sandbox-name is missing",
    "2118": "the credential lacks the 'write' permission on sources: grant 'Manage sources' in the product profile",
    "2121": "the credential lacks 'manage' on Enterprise Source: grant it in the product profile",
    "401013": "the IMS token is invalid or expired",
    "403000": "the API key (client ID) is missing",
    "403003": "the API key (client ID) is not valid for this organization",
    "403010": "the IMS token is missing",
    "429050": "too many requests: the gateway is rate limiting this project",
    "invalid_client": "wrong client ID/secret, or the credentials belong to another data centre",
    "invalid_client_secret": "the client secret is wrong",
    "invalid_code": "the Zoho refresh token is revoked or invalid: generate a new one",
    "INVALID_TOKEN": "the Zoho access token is invalid, expired, or from another data centre",
    "OAUTH_SCOPE_MISMATCH": "the Zoho token lacks a scope (ZohoCRM.users.READ is needed for the check)",
}


def redact(text: str, secrets: Iterable[str]) -> str:
    """Replace every known secret value in ``text`` with ``***`` (longest first, so no partial leaks)."""
    for secret in sorted((s for s in secrets if s and len(s) >= 4), key=len, reverse=True):
        text = text.replace(secret, "***")
    return text


class ConfigurationError(ValueError):
    """A field of an Airflow Connection or an operator argument is wrong; raised before any network call.

    :param field: the field at fault, as the user writes it (e.g. ``extra.ims_org_id``)
    :param problem: what is wrong, without the value when the value may be secret
    :param fix: what to do about it
    :param source: where the field lives (e.g. ``Airflow Connection 'aep_default'``)
    """

    def __init__(self, field: str, problem: str, fix: str, source: str | None = None) -> None:
        self.field = field
        self.problem = problem
        self.fix = fix
        self.source = source
        where = f"{source}: " if source else ""
        super().__init__(f"{where}{field}: {problem}. Fix: {fix}")


class AEPAPIError(Exception):
    """A remote call failed. One type for Flow Service, IMS and Zoho, so DAG code catches one thing.

    :param message: one-line summary
    :param status: HTTP status, or None when no answer arrived (timeout, reset)
    :param code: Adobe or Zoho error code (``FLOW-1418-400``, ``401013``, ``invalid_code``)
    :param title: the error title from the body
    :param detail: the detailed message from the body
    :param request_id: the request ID to quote to Adobe support
    :param service: which service answered (``Flow Service``, ``IMS``, ``Zoho accounts``, ``Zoho CRM``)
    :param attempts: how many attempts were made
    """

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str | None = None,
        title: str | None = None,
        detail: str | None = None,
        request_id: str | None = None,
        service: str | None = None,
        attempts: int = 1,
    ) -> None:
        self.status = status
        self.code = code
        self.title = title
        self.detail = detail
        self.request_id = request_id
        self.service = service
        self.attempts = attempts
        self.summary = message
        super().__init__(self._render())

    @property
    def hint(self) -> str | None:
        """What to do, looked up from the error code (``FLOW-1418-400`` → the ``1418`` entry)."""
        if not self.code:
            return None
        if self.code in HINTS:
            return HINTS[self.code]
        match = re.search(r"(\d{4})-\d{3}$", self.code)
        return HINTS.get(match.group(1)) if match else None

    def _render(self) -> str:
        parts = [
            self.summary,
            f"HTTP {self.status}" if self.status is not None else "",
            f"code {self.code}" if self.code else "",
            f"title: {self.title}" if self.title else "",
            f"detail: {self.detail}" if self.detail and self.detail != self.title else "",
            f"request id: {self.request_id}" if self.request_id else "",
            f"after {self.attempts} attempts" if self.attempts > 1 else "",
            f"hint: {self.hint}" if self.hint else "",
        ]
        return " | ".join(part for part in parts if part)

    def restated(
        self, message: str, cls: type[AEPAPIError] | None = None, *, attempts: int | None = None
    ) -> AEPAPIError:
        """The same Adobe fields under a new summary (and, optionally, as another error type)."""
        fields = {key: getattr(self, key) for key in ("status", "code", "title", "detail", "request_id", "service")}
        return (cls or AEPAPIError)(message, **fields, attempts=self.attempts if attempts is None else attempts)

    def __reduce__(self) -> tuple[Any, ...]:
        # Keep the exception picklable (Airflow may ship it across processes) with all its fields.
        return (_rebuild, (type(self), self.summary, self.__dict__.copy()))


def _rebuild(cls: type[AEPAPIError], message: str, state: dict[str, Any]) -> AEPAPIError:
    err = cls.__new__(cls)
    Exception.__init__(err, message)
    err.__dict__.update(state)
    Exception.__init__(err, err._render())
    return err


class AmbiguousWriteError(AEPAPIError):
    """A write may or may not have been applied (no answer, or a 5xx): look the resource up before any retry.

    ``timed_out`` says the server may still be working on it, so a look-up right away could miss it.
    """

    def __init__(self, message: str, *, timed_out: bool = False, **fields: Any) -> None:
        self.timed_out = timed_out
        super().__init__(message, **fields)


class ResourceExistsError(AEPAPIError):
    """A resource with this name exists and ``if_exists="fail"`` was asked."""


class DuplicateResourcesError(AEPAPIError):
    """Several resources already share the name, so which one to use is not ours to guess."""


def parse_error_body(body: Any) -> dict[str, str | None]:
    """Code, title, detail and request ID from any error body Adobe (Flow Service problem, gateway) or Zoho
    (accounts ``error``, CRM ``code``) sends."""
    out: dict[str, str | None] = {"code": None, "title": None, "detail": None, "request_id": None}
    if not isinstance(body, Mapping):
        return out
    type_uri = body.get("type")
    if isinstance(type_uri, str):
        match = _FLOW_CODE.search(type_uri)
        if match:
            out["code"] = match.group(1)
    for key in ("error_code", "code", "error"):
        if out["code"] is None and isinstance(body.get(key), (str, int)):
            out["code"] = str(body[key])
    out["title"] = _first_str(body, "title", "message")
    report = body.get("report")
    report = report if isinstance(report, Mapping) else {}
    out["detail"] = _first_str(report, "detailed-message") or _first_str(
        body, "detail", "errorMessage", "errorDetails", "error_description"
    )
    if out["title"] is None and out["detail"] is None and isinstance(body.get("message"), str):
        out["detail"] = body["message"]
    out["request_id"] = _first_str(report, "request-id")
    return out


def _first_str(mapping: Mapping[str, Any], *keys: str) -> str | None:
    for key in keys:
        value = mapping.get(key)
        if isinstance(value, str) and value:
            return value[:500]
    return None
