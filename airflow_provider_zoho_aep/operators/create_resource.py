"""The skeleton every Flow Service create operator shares: create (or reuse) by name, push to XCom."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from airflow_provider_zoho_aep.hooks.aep import AdobeExperiencePlatformHook
from airflow_provider_zoho_aep.version_compat import BaseOperator

if TYPE_CHECKING:
    from airflow_provider_zoho_aep.version_compat import Context


class AEPCreateResourceOperator(BaseOperator):
    """Base of the create operators: idempotent by name, ID to ``return_value``, ``etag`` and ``created`` pushed.

    Subclasses set :attr:`noun`, extend :attr:`template_fields` and implement :meth:`create` with one hook call
    (the hook checks what it takes); :meth:`validate` checks what exists on the operator alone.

    :param name: the resource's name; re-runs find it by this name (templated)
    :param description: optional description (templated)
    :param if_exists: ``reuse`` (default), ``update`` or ``fail`` (templated)
    :param aep_conn_id: Airflow Connection of type ``adobe_experience_platform`` (templated)
    """

    template_fields: Sequence[str] = ("name", "description", "if_exists", "aep_conn_id")
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
        """Check what exists on the operator alone; no network call."""

    def create_options(self) -> dict[str, Any]:
        """The keyword arguments every hook create method takes from this base."""
        return {"description": self.description or None, "if_exists": self.if_exists}

    def create(self, hook: AdobeExperiencePlatformHook) -> Mapping[str, Any]:
        """Create or reuse the resource; returns the hook's ``{"id", "etag", "created", "updated"}``."""
        raise NotImplementedError

    def execute(self, context: Context) -> str:
        self.validate()
        result = self.create(AdobeExperiencePlatformHook(aep_conn_id=self.aep_conn_id))
        ti = context["ti"]
        ti.xcom_push(key="etag", value=result["etag"])
        ti.xcom_push(key="created", value=result["created"])
        verb = "Created" if result["created"] else ("Updated" if result["updated"] else "Reused")
        self.log.info("%s %s %r: %s", verb, self.noun, self.name, result["id"])
        return str(result["id"])
