"""Every Airflow name the provider uses, imported from where the running Airflow 3.x keeps it.

The rest of the package imports Airflow only through this module (``tests/unit/test_version_compat.py`` checks
it). Where the names moved: ``BaseHook`` to ``airflow.sdk`` in 3.1; ``conf`` and the exceptions to
``airflow.sdk`` in 3.2; ``amask_secret`` in 3.3; ``Connection.aextra_dejson`` in 3.3.2. A module of our own
rather than ``apache-airflow-providers-common-compat``, whose newer releases raise their own Airflow floor.
Triggerer-only names (``BaseTrigger``, ``TriggerEvent``) are imported on first use, so a DAG parse skips them.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

from airflow import __version__ as AIRFLOW_VERSION

from airflow_provider_zoho_aep import AIRFLOW_FLOOR, airflow_version_tuple, check_airflow_floor

# Before any other Airflow import (E402): on too old an Airflow those fail with a bare ImportError instead.
check_airflow_floor(AIRFLOW_VERSION)

_V = airflow_version_tuple(AIRFLOW_VERSION)
AIRFLOW_V_3_0_PLUS: bool = _V >= (3, 0, 0)
AIRFLOW_V_3_1_PLUS: bool = _V >= (3, 1, 0)
AIRFLOW_V_3_2_PLUS: bool = _V >= (3, 2, 0)
AIRFLOW_V_3_3_PLUS: bool = _V >= (3, 3, 0)

from airflow.sdk import BaseOperator, BaseOperatorLink, BaseSensorOperator, Context, Param, PokeReturnValue  # noqa: E402

if TYPE_CHECKING or AIRFLOW_V_3_1_PLUS:
    from airflow.sdk import BaseHook
else:
    from airflow.hooks.base import BaseHook

if TYPE_CHECKING or AIRFLOW_V_3_2_PLUS:
    from airflow.sdk import conf
    from airflow.sdk.exceptions import AirflowException, AirflowNotFoundException, AirflowSensorTimeout, TaskDeferred
else:
    from airflow.configuration import conf
    from airflow.exceptions import AirflowException, AirflowNotFoundException, AirflowSensorTimeout, TaskDeferred

if TYPE_CHECKING:
    from airflow.sdk.definitions.connection import Connection
    from airflow.triggers.base import BaseTrigger, TriggerEvent


def mask_secret(value: str) -> None:
    """Hide ``value`` in every log line from now on (and, in a task, tell the supervisor to hide it too)."""
    from airflow.sdk.log import mask_secret as _mask_secret

    _mask_secret(value)


async def amask_secret(value: str) -> None:
    """:func:`mask_secret` for triggers, never blocking the event loop: Airflow 3.3's ``amask_secret``, else the
    synchronous call in a worker thread."""
    import airflow.sdk.log

    native = getattr(airflow.sdk.log, "amask_secret", None)
    if native is not None:
        await native(value)
        return
    from asgiref.sync import sync_to_async

    await sync_to_async(airflow.sdk.log.mask_secret)(value)


async def aget_connection(conn_id: str) -> Connection:
    """An Airflow Connection, read without blocking the event loop (for triggers).

    ``BaseHook.aget_connection`` masks secrets asynchronously only from 3.3.2 (which added
    ``Connection.aextra_dejson``); before, it can deadlock the triggerer (3.0 lacks it), so the synchronous
    look-up runs in a worker thread.
    """
    from airflow.sdk.definitions.connection import Connection

    if hasattr(Connection, "aextra_dejson"):
        return await BaseHook.aget_connection(conn_id)
    from asgiref.sync import sync_to_async

    connection: Connection = await sync_to_async(BaseHook.get_connection)(conn_id)
    return connection


_LAZY = {"BaseTrigger": "airflow.triggers.base", "TriggerEvent": "airflow.triggers.base"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        module = __import__(_LAZY[name], fromlist=[name])
        value = getattr(module, name)
        setattr(sys.modules[__name__], name, value)
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "AIRFLOW_FLOOR", "AIRFLOW_VERSION", "AIRFLOW_V_3_0_PLUS", "AIRFLOW_V_3_1_PLUS", "AIRFLOW_V_3_2_PLUS",
    "AIRFLOW_V_3_3_PLUS", "AirflowException", "AirflowNotFoundException", "AirflowSensorTimeout", "BaseHook",
    "BaseOperator", "BaseOperatorLink", "BaseSensorOperator", "BaseTrigger", "Context", "Param", "PokeReturnValue",
    "TaskDeferred", "TriggerEvent", "aget_connection", "amask_secret", "conf", "mask_secret",
]
