"""The XCom and log pattern the Flow Service create operators share."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from airflow.sdk import BaseOperator, Context


def push_result(operator: BaseOperator, context: Context, result: Mapping[str, Any], noun: str) -> str:
    """Push ``etag`` and ``created`` to XCom, log what happened, and return the ID for ``return_value``."""
    ti = context["ti"]
    ti.xcom_push(key="etag", value=result["etag"])
    ti.xcom_push(key="created", value=result["created"])
    verb = "Created" if result["created"] else ("Updated" if result["updated"] else "Reused")
    operator.log.info("%s %s %r: %s", verb, noun, getattr(operator, "name", ""), result["id"])
    return str(result["id"])
