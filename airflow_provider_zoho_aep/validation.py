"""Argument checks of the public entry points, in one place.

Each public hook method checks the arguments it takes, and each operator checks only what exists on the operator
alone, so every argument is checked once, by its owner, before any network call. Every failure is a
:class:`~airflow_provider_zoho_aep.client.errors.ConfigurationError` naming the field and the fix. Plain Python:
importing this module costs a DAG parse nothing.
"""

from __future__ import annotations

from typing import Any, Literal

from airflow_provider_zoho_aep.client.errors import ConfigurationError

IfExists = Literal["reuse", "update", "fail"]
IF_EXISTS_CHOICES: tuple[str, ...] = ("reuse", "update", "fail")

#: What a Data Lake target connection's ``schema_id`` starts with.
SCHEMA_PREFIX = "https://ns.adobe.com/"


def check_if_exists(value: Any) -> IfExists:
    """``if_exists`` is one of ``reuse``, ``update``, ``fail``."""
    if value not in IF_EXISTS_CHOICES:
        raise ConfigurationError("if_exists", f"{value!r} is not one of {', '.join(IF_EXISTS_CHOICES)}",
                                 "use 'reuse' (default), 'update' or 'fail'")
    return value  # type: ignore[no-any-return]


def check_name(value: Any, field: str = "name") -> str:
    """A resource name: a non-empty string of at most 255 characters."""
    if not isinstance(value, str) or not value.strip():
        raise ConfigurationError(field, "is empty", "give the resource a name; it is how re-runs find it again")
    if len(value) > 255:
        raise ConfigurationError(field, f"is {len(value)} characters long", "use at most 255 characters")
    return value


def check_description(value: Any) -> str | None:
    """An optional description: text or None."""
    if value is not None and not isinstance(value, str):
        raise ConfigurationError("description", "is not a string", "pass text or None")
    return value


def check_required(value: Any, field: str, fix: str | None = None) -> str:
    """A required text argument (an ID, a table name, a column, a flow spec name).

    A templated ID renders to ``''`` or ``'None'`` when its upstream task pushed nothing, so both count as empty.
    """
    if not isinstance(value, str) or not value.strip() or value.strip() == "None":
        raise ConfigurationError(field, "is empty",
                                 fix or f"pass the {field.replace('_', ' ')}, e.g. from upstream XCom")
    return value


def check_schema_id(value: Any) -> str:
    """An XDM schema URI, ``https://ns.adobe.com/<tenant>/schemas/<id>``."""
    if not isinstance(value, str) or not value.startswith(SCHEMA_PREFIX) or value == SCHEMA_PREFIX:
        raise ConfigurationError(
            "schema_id", f"{value!r} is not an XDM schema URI",
            "use the schema's $id, e.g. 'https://ns.adobe.com/<tenant>/schemas/<id>'",
        )
    return value


def check_row_count(value: Any) -> int:
    """How many preview rows to ask for: 1 to 100."""
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 100:
        raise ConfigurationError("count", f"{value!r} is not between 1 and 100", "ask for 1 to 100 rows")
    return value


def optional_text(value: str | None) -> str | None:
    """A rendered optional template field: ``''`` and ``'None'`` (what ``{{ params.x }}`` renders for null) are
    absent."""
    if value is None or value.strip() in ("", "None"):
        return None
    return value.strip()
