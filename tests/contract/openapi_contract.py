"""Check recorded requests against Adobe's OpenAPI file for Flow Service (read from ../shared/reference/).

The file is reference data: it is loaded from the shared folder, never copied into this repository. Its known
quirks, listed here, are allowed for explicitly, and only those:

* DELETE/PATCH of a base connection live under ``/connections/{id}/`` (trailing slash); we send none;
* the PATCH body of a base connection is typed as one PatchInstruction; Adobe's docs and we send an array;
* enums are upper case (``REPLACE``, ``ROOT``) where the docs' working examples send lower case;
* ``preview``/``previewCount`` of explore are not declared.
"""

from __future__ import annotations

import json
import os
import re
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from tests.conftest import OPENAPI_FILE

BASE_PATH = "/data/foundation/flowservice"
UNDECLARED_QUERY = {("GET", "/connections/{BASE_CONNECTION_ID}/explore"): {"preview", "previewCount"}}
UPPERCASE_ENUM_QUERY = {"objectType"}


@cache
def load_spec(path: Path = OPENAPI_FILE) -> dict[str, Any]:
    if not path.exists():
        if os.environ.get("CI"):
            pytest.fail(f"Adobe's OpenAPI file is missing at {path}: CI must have ../shared beside the checkout")
        pytest.skip(f"Adobe's OpenAPI file is not at {path}")
    return yaml.safe_load(path.read_text())


class FlowServiceContract:
    """Finds the OpenAPI operation of a request and lists how the request departs from it."""

    def __init__(self, spec: dict[str, Any]) -> None:
        self.spec = spec
        self.routes: list[tuple[str, re.Pattern[str], str, dict[str, Any]]] = []
        for template, item in spec["paths"].items():
            pattern = re.compile("^" + re.sub(r"\{[^}]+\}", r"[^/]+", template.rstrip("/")) + "/?$")
            for method, op in item.items():
                if method in ("get", "post", "put", "patch", "delete"):
                    self.routes.append((method.upper(), pattern, template, op))

    def operation(self, method: str, path: str) -> tuple[str, dict[str, Any]] | None:
        path = path.removeprefix(BASE_PATH)
        candidates = [(t, op) for m, p, t, op in self.routes if m == method and p.match(path)]
        # Prefer a literal segment over a {parameter} (e.g. /connections/search over /connections/{id}).
        candidates.sort(key=lambda c: c[0].count("{"))
        return candidates[0] if candidates else None

    def resolve(self, node: dict[str, Any]) -> dict[str, Any]:
        while "$ref" in node:
            target: Any = self.spec
            for part in node["$ref"].removeprefix("#/").split("/"):
                target = target[part]
            node = target
        return node

    def problems(self, method: str, path: str, query: dict[str, list[str]], headers: dict[str, str],
                 body: bytes) -> list[str]:
        found = self.operation(method, path)
        if found is None:
            return [f"{method} {path}: no such operation in the OpenAPI file"]
        template, op = found
        out: list[str] = []
        sent_headers = {k.lower() for k in headers}
        params = [self.resolve(p) for p in op.get("parameters", [])]
        declared_query = {p["name"] for p in params if p["in"] == "query"}
        for p in params:
            if p["in"] == "header" and p.get("required") and p["name"].lower() not in sent_headers:
                out.append(f"{method} {template}: required header {p['name']} missing")
            if p["in"] == "query" and p["name"] in query:
                schema = dict(p.get("schema", {}))
                values: list[Any] = query[p["name"]]
                if schema.get("type") == "array":  # repeated parameter (explode): validate the list as one
                    values, schema = [values], {**schema, "items": schema.get("items", {})}
                for value in values:
                    if p["name"] in UPPERCASE_ENUM_QUERY and isinstance(value, str):
                        value = value.upper()
                    try:
                        jsonschema.validate(_typed(value, schema), schema)
                    except jsonschema.ValidationError as err:
                        out.append(f"{method} {template}: query {p['name']}={value!r}: {err.message}")
        allowed_extra = UNDECLARED_QUERY.get((method, template), set())
        for name in query:
            if name not in declared_query and name not in allowed_extra:
                out.append(f"{method} {template}: query parameter {name!r} is not declared")
        content = (op.get("requestBody") or {}).get("content", {})
        if body:
            if "application/json" not in content:
                out.append(f"{method} {template}: sends a body the operation does not take")
            else:
                if "content-type" not in sent_headers:
                    out.append(f"{method} {template}: body without Content-Type")
                out += self._check_body(method, template, json.loads(body), content["application/json"]["schema"])
        return out

    def _check_body(self, method: str, template: str, payload: Any, schema_ref: dict[str, Any]) -> list[str]:
        schema = self.resolve(schema_ref)
        instances = [payload]
        if method == "PATCH":
            if schema.get("type") == "array" and isinstance(payload, list):
                schema, instances = self.resolve(schema["items"]), payload  # each instruction against its schema
            elif schema.get("type") == "object" and isinstance(payload, list):
                instances = payload  # quirk: one PatchInstruction declared, an array sent
            instances = [{**i, "op": str(i.get("op", "")).upper()} for i in instances]
            # The declared 'value' is an object; a string value (e.g. /description) is what the docs send.
            instances = [i if isinstance(i.get("value"), dict) else {**i, "value": {}} for i in instances]
        validator_schema = {**schema, "components": self.spec["components"]}
        problems = []
        for instance in instances:
            for err in jsonschema.Draft7Validator(validator_schema).iter_errors(instance):
                problems.append(f"{method} {template}: body {list(err.absolute_path)}: {err.message}")
        return problems


def _typed(value: Any, schema: dict[str, Any]) -> Any:
    if isinstance(value, list):
        return [_typed(v, schema.get("items", {})) for v in value]
    kind = schema.get("type")
    if kind == "integer":
        try:
            return int(value)
        except ValueError:
            return value
    if kind == "boolean":
        return {"true": True, "false": False}.get(value, value)
    return value


@cache
def contract() -> FlowServiceContract:
    return FlowServiceContract(load_spec())
