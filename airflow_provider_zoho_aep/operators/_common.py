"""The skeleton every Flow Service create operator shares: validate, check the Connection, create, XCom."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from airflow_provider_zoho_aep.client.errors import ConfigurationError
from airflow_provider_zoho_aep.hooks.aep import AdobeExperiencePlatformHook, check_if_exists, check_name
from airflow_provider_zoho_aep.version_compat import BaseOperator

if TYPE_CHECKING:
    from airflow_provider_zoho_aep.version_compat import Context


class AEPCreateResourceOperator(BaseOperator):
    """Base of the create operators: idempotent by name, ID to ``return_value``, ``etag`` and ``created`` pushed.

    Subclasses set :attr:`noun`, extend :meth:`validate` with their own argument checks (no network call) and
    implement :meth:`create` with one hook call.

    :param name: the resource's name; re-runs find it by this name (templated)
    :param description: optional description (templated)
    :param if_exists: ``reuse`` (default), ``update`` or ``fail`` (templated)
    :param aep_conn_id: Airflow Connection of type ``adobe_experience_platform`` (templated)
    """

    noun = "resource"
    ui_color = "#fa0f00"

    def __init__(
        self,
        *,
        name: str,
        description: str | None = None,
        if_exists: str = "reuse",
        aep_conn_id: str = AdobeExperiencePlatformHook.default_conn_name,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.name = name
        self.description = description
        self.if_exists = if_exists
        self.aep_conn_id = aep_conn_id

    def validate(self) -> None:
        """Check the rendered arguments; no network call."""
        check_name(self.name)
        check_if_exists(self.if_exists)
        if self.description is not None and not isinstance(self.description, str):
            raise ConfigurationError("description", "is not a string", "pass text or None")

    def create(self, hook: AdobeExperiencePlatformHook) -> Mapping[str, Any]:
        """Create or reuse the resource; returns the hook's ``{"id", "etag", "created", "updated"}``."""
        raise NotImplementedError

    def execute(self, context: Context) -> str:
        self.validate()
        hook = AdobeExperiencePlatformHook(aep_conn_id=self.aep_conn_id)
        hook.settings  # noqa: B018 - validates the AEP Connection before any call
        return push_result(self, context, self.create(hook), self.noun)


def push_result(operator: BaseOperator, context: Context, result: Mapping[str, Any], noun: str) -> str:
    """Push ``etag`` and ``created`` to XCom, log what happened, and return the ID for ``return_value``."""
    ti = context["ti"]
    ti.xcom_push(key="etag", value=result["etag"])
    ti.xcom_push(key="created", value=result["created"])
    verb = "Created" if result["created"] else ("Updated" if result["updated"] else "Reused")
    operator.log.info("%s %s %r: %s", verb, noun, getattr(operator, "name", ""), result["id"])
    return str(result["id"])
