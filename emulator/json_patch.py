"""The JSON-Patch subset Flow Service PATCH bodies use: ``add``, ``replace``, ``remove``."""

from __future__ import annotations

import copy
from typing import Any

from .messages import bad_request


def parse_pointer(path: Any) -> list[str]:
    """``/auth/params/clientId`` -> ``["auth", "params", "clientId"]``."""
    if not isinstance(path, str) or not path.startswith("/") or path == "/":
        raise bad_request("Each patch operation needs a 'path' like '/name'.")
    return [p.replace("~1", "/").replace("~0", "~") for p in path[1:].rstrip("/").split("/")]


def validate_operations(body: Any) -> list[dict[str, Any]]:
    """Check the body is an array of ``{op, path, value?}`` and return it with ops lower-cased."""
    if not isinstance(body, list) or not body:
        raise bad_request("The PATCH body must be a non-empty JSON array of operations.")
    operations = []
    for op in body:
        if not isinstance(op, dict) or not isinstance(op.get("op"), str):
            raise bad_request("Each patch operation must be an object with 'op' and 'path'.")
        name = op["op"].lower()
        if name not in ("add", "replace", "remove"):
            raise bad_request("Supported patch operations are add, replace and remove.")
        if name != "remove" and "value" not in op:
            raise bad_request(f"Patch operation '{name}' needs a 'value'.")
        parse_pointer(op.get("path"))
        operations.append({**op, "op": name})
    return operations


def apply(document: dict[str, Any], operations: list[dict[str, Any]]) -> dict[str, Any]:
    """Apply ``operations`` to a deep copy of ``document`` and return the copy."""
    doc = copy.deepcopy(document)
    for op in operations:
        *parents, last = parse_pointer(op["path"])
        target: Any = doc
        for part in parents:
            target = _child(target, part, create=op["op"] == "add")
        if isinstance(target, list):
            _apply_to_list(target, op, last)
        elif isinstance(target, dict):
            if op["op"] == "remove":
                if last not in target:
                    raise bad_request(f"Cannot remove {op['path']}: it does not exist.")
                del target[last]
            else:
                target[last] = copy.deepcopy(op["value"])
        else:
            raise bad_request(f"Path {op['path']} does not exist.")
    return doc


def _child(target: Any, part: str, create: bool) -> Any:
    if isinstance(target, dict):
        if part not in target:
            if not create:
                raise bad_request(f"Path segment '{part}' does not exist.")
            target[part] = {}
        return target[part]
    if isinstance(target, list) and part.isdigit() and int(part) < len(target):
        return target[int(part)]
    raise bad_request(f"Path segment '{part}' does not exist.")


def _apply_to_list(target: list[Any], op: dict[str, Any], last: str) -> None:
    if op["op"] == "add" and last == "-":
        target.append(copy.deepcopy(op["value"]))
        return
    if not last.isdigit() or int(last) > len(target) or (op["op"] != "add" and int(last) == len(target)):
        raise bad_request(f"Invalid array index in {op['path']}.")
    index = int(last)
    if op["op"] == "add":
        target.insert(index, copy.deepcopy(op["value"]))
    elif op["op"] == "replace":
        target[index] = copy.deepcopy(op["value"])
    else:
        del target[index]
