"""Operators that create (or reuse) a Flow Service base connection and push its ID to XCom."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import cached_property, partial
from typing import TYPE_CHECKING, Any

from airflow_provider_zoho_aep import ZOHO_CRM_CONNECTION_SPEC_ID
from airflow_provider_zoho_aep.hooks.aep import AdobeExperiencePlatformHook, AuthParams
from airflow_provider_zoho_aep.operators.create_resource import AEPCreateResourceOperator

if TYPE_CHECKING:
    from airflow_provider_zoho_aep.hooks.zoho_crm import ZohoCRMHook


class AEPCreateBaseConnectionOperator(AEPCreateResourceOperator):
    """Create a base connection for any AEP source, or reuse the one with the same name and spec.

    Returns the base connection ID (XCom ``return_value``) and pushes its etag under the key ``etag``.

    :param name: base connection name (templated); re-runs find the connection by it
    :param connection_spec_id: the source's connection spec ID (templated)
    :param auth_params: ``auth.params`` as the spec's auth spec defines them; not templated, so secrets never
        land in rendered template fields
    :param auth_spec_name: ``auth.specName`` (templated)
    :param connection_spec_version: ``connectionSpec.version`` (templated)
    :param description: optional description (templated)
    :param if_exists: ``reuse`` (default), ``update`` (PATCH the credentials with ``If-Match``) or ``fail``
        (templated)
    :param check_connection_spec: read ``GET /connectionSpecs/{id}`` first, so a retired or unknown spec fails
        before anything is written
    :param aep_conn_id: Airflow Connection of type ``adobe_experience_platform`` (templated)
    """

    template_fields: Sequence[str] = (
        *AEPCreateResourceOperator.template_fields, "connection_spec_id", "auth_spec_name", "connection_spec_version",
    )
    noun = "base connection"

    def __init__(
        self,
        *,
        connection_spec_id: str,
        auth_params: Mapping[str, Any] | None = None,
        auth_spec_name: str = "Basic Authentication",
        connection_spec_version: str = "1.0",
        check_connection_spec: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.connection_spec_id = connection_spec_id
        self.auth_params = auth_params
        self.auth_spec_name = auth_spec_name
        self.connection_spec_version = connection_spec_version
        self.check_connection_spec = check_connection_spec

    def auth_params_source(self) -> AuthParams:
        """The params, or a callable the hook calls only when a create or update sends them."""
        return self.auth_params  # type: ignore[return-value]  # the hook names a missing dict

    def create(self, hook: AdobeExperiencePlatformHook) -> Mapping[str, Any]:
        return hook.create_base_connection(
            self.name,
            self.connection_spec_id,
            self.auth_params_source(),
            auth_spec_name=self.auth_spec_name,
            connection_spec_version=self.connection_spec_version,
            check_connection_spec=self.check_connection_spec,
            **self.create_options(),
        )


class AEPCreateZohoCRMBaseConnectionOperator(AEPCreateBaseConnectionOperator):
    """Create the Zoho CRM base connection from a ``zoho_crm`` Airflow Connection; returns its ID, pushes ``etag``.

    The ``auth.params`` come from the Zoho CRM Connection, read only when a create or update sends them.

    :param name: base connection name (templated)
    :param description: optional description (templated)
    :param zoho_conn_id: Airflow Connection of type ``zoho_crm`` (templated)
    :param if_exists: ``reuse`` / ``update`` / ``fail`` (templated)
    :param refresh_access_token: mint a fresh Zoho access token before sending the credentials
    :param check_connection_spec: pre-flight read of the Zoho CRM connection spec
    :param aep_conn_id: Airflow Connection of type ``adobe_experience_platform`` (templated)
    """

    template_fields: Sequence[str] = (*AEPCreateBaseConnectionOperator.template_fields, "zoho_conn_id")

    def __init__(
        self,
        *,
        zoho_conn_id: str = "zoho_crm_default",
        refresh_access_token: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(connection_spec_id=ZOHO_CRM_CONNECTION_SPEC_ID, **kwargs)
        self.zoho_conn_id = zoho_conn_id
        self.refresh_access_token = refresh_access_token

    @cached_property
    def zoho_hook(self) -> ZohoCRMHook:
        from airflow_provider_zoho_aep.hooks.zoho_crm import ZohoCRMHook

        return ZohoCRMHook(zoho_conn_id=self.zoho_conn_id)

    def validate(self) -> None:
        """The Zoho CRM Connection is this operator's own: check it before any call."""
        self.zoho_hook.validate_connection()

    def auth_params_source(self) -> AuthParams:
        return partial(self.zoho_hook.get_auth_params, refresh_access_token=self.refresh_access_token)
