"""List endpoints: ``property=`` filters, ``orderby``, ``limit``/``continuationToken`` paging, ``count``.

Filters follow Adobe's syntax: ``property=<path><op><value>`` with op one of ``== != >= <= > <``;
repeated ``property`` parameters are ANDed; a comma-separated value is an OR list; surrounding double
quotes on a value are stripped. A path segment ending in ``[]`` matches any element of an array
(``sourceConnectionIds[]==<id>``).
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from .messages import bad_request, flow_error

DEFAULT_LIMIT = 20
MAX_LIMIT = 100

_FILTER = re.compile(r"^([A-Za-z0-9_.\[\]@-]+)(==|!=|>=|<=|>|<)(.*)$", re.DOTALL)


def list_page(
    items: list[dict[str, Any]],
    query: dict[str, list[str]],
    resource: str,
    render: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """Filter, sort and page ``items`` (in creation order) for a list answer.

    Filters and ``orderby`` see the items as given; ``render`` (e.g. masking secrets) is applied to the
    returned page only. ``resource`` is the URL segment (``connections``) used to build ``_links.next.href``.
    """
    counting = (_single(query, "count") or "").lower() == "true"
    if counting and "limit" in query:
        raise flow_error("1401-400", "Invalid query", "The 'count' and 'limit' parameters cannot be combined.")

    for expression in query.get("property", []):
        matches = _parse_filter(expression)
        items = [item for item in items if matches(item)]
    items = _sort(items, _single(query, "orderby"))

    if counting:
        return {"count": len(items)}

    limit = _limit(_single(query, "limit"))
    offset = _decode_token(_single(query, "continuationToken"))
    page = items[offset : offset + limit]
    answer: dict[str, Any] = {"items": [render(item) for item in page] if render else page}
    if offset + limit < len(items):
        rest = [(k, v) for k, values in query.items() if k != "continuationToken" for v in values]
        params = [("continuationToken", _encode_token(offset + limit)), *rest]
        answer["_links"] = {"next": {"href": f"/{resource}?{urlencode(params)}"}}
    return answer


def field_values(item: Any, path: str) -> list[Any]:
    """All values at a dotted ``path`` of ``item``; ``[]`` segments (and list leaves) fan out."""
    values = [item]
    for segment in path.split("."):
        fan_out = segment.endswith("[]")
        key = segment[:-2] if fan_out else segment
        nxt: list[Any] = []
        for value in values:
            if isinstance(value, dict) and key in value:
                child = value[key]
                if fan_out and isinstance(child, list):
                    nxt.extend(child)
                else:
                    nxt.append(child)
        values = nxt
    flat: list[Any] = []
    for value in values:
        flat.extend(value if isinstance(value, list) else [value])
    return flat


def _single(query: dict[str, list[str]], name: str) -> str | None:
    values = query.get(name)
    return values[-1] if values else None


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "null" if value is None else str(value)


def _unquote(term: str) -> str:
    term = term.strip()
    if len(term) >= 2 and term[0] == term[-1] == '"':
        return term[1:-1]
    return term.strip('"')


def _parse_filter(expression: str) -> Callable[[dict[str, Any]], bool]:
    """``name==a,b`` -> a predicate on items."""
    match = _FILTER.match(expression)
    if not match:
        raise bad_request(f"Invalid property filter: {expression!r}. Use property=<field>==<value>.")
    path, op, raw = match.groups()
    if op in ("==", "!="):
        terms = {_unquote(t) for t in raw.split(",")}
        wanted = op == "=="
        return lambda item: any(_text(v) in terms for v in field_values(item, path)) == wanted
    target = _unquote(raw)
    return lambda item: any(_compare(_text(v), op, target) for v in field_values(item, path))


def _compare(value: str, op: str, target: str) -> bool:
    left: Any
    right: Any
    try:
        left, right = float(value), float(target)
    except ValueError:
        left, right = value, target
    return {">": left > right, "<": left < right, ">=": left >= right, "<=": left <= right}[op]


def _sort(items: list[dict[str, Any]], orderby: str | None) -> list[dict[str, Any]]:
    """Sort by one field; ties keep creation order (newest first when descending)."""
    if not orderby:
        return items
    descending = orderby.startswith("-")
    path = orderby.lstrip("+- ")  # a "+" may arrive decoded as a space

    def key(indexed: tuple[int, dict[str, Any]]) -> tuple[int, Any, int]:
        index, item = indexed
        values = field_values(item, path)
        value = values[0] if values else None
        if value is None:
            return (0, 0, index)
        if isinstance(value, (int, float)):
            return (1, value, index)
        return (2, _text(value), index)

    return [item for _, item in sorted(enumerate(items), key=key, reverse=descending)]


def _limit(raw: str | None) -> int:
    if raw is None:
        return DEFAULT_LIMIT
    try:
        limit = int(raw)
    except ValueError:
        raise bad_request("'limit' must be a positive integer.") from None
    if limit < 1:
        raise bad_request("'limit' must be a positive integer.")
    return min(limit, MAX_LIMIT)


def _encode_token(offset: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"offset": offset}).encode()).decode().rstrip("=")


def _decode_token(token: str | None) -> int:
    if not token:
        return 0
    try:
        padded = token + "=" * (-len(token) % 4)
        offset = json.loads(base64.urlsafe_b64decode(padded))["offset"]
    except (ValueError, KeyError, TypeError):
        raise bad_request("Invalid continuationToken.") from None
    if not isinstance(offset, int) or offset < 0:
        raise bad_request("Invalid continuationToken.")
    return offset
