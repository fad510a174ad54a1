"""The base of the ``adobe_experience_platform`` hook: the Airflow Connection turned into settings and a client.

It owns everything about the Connection (its validation, the form Airflow shows, the Test button) and nothing
about Flow Service resources, which :mod:`airflow_provider_zoho_aep.hooks.aep` adds on top.
"""

from __future__ import annotations

import asyncio
import time
import weakref
from functools import cached_property
from typing import TYPE_CHECKING, Any

from airflow_provider_zoho_aep import ZOHO_CRM_CONNECTION_SPEC_ID
from airflow_provider_zoho_aep.client.errors import AEPAPIError, ConfigurationError
from airflow_provider_zoho_aep.client.settings import AEPSettings
from airflow_provider_zoho_aep.hooks._connection_form import field_behaviour, form_widgets
from airflow_provider_zoho_aep.version_compat import BaseHook, aget_connection, mask_secret

# The HTTP stack (client.http, client.flow_service, client.ims) imports ``requests``, which takes ~0.3 s to
# import: DAG files import the operators, which import the hooks, and the DAG processor parses them again and
# again. So it is imported where a hook first talks to AEP, never at module level (bench/parse_overhead.py
# measures it).
if TYPE_CHECKING:
    from airflow_provider_zoho_aep.client.async_flow_service import AsyncFlowServiceClient
    from airflow_provider_zoho_aep.client.flow_service import FlowServiceClient
    from airflow_provider_zoho_aep.client.http import RetryPolicy

#: Why a missing Zoho CRM connection spec is expected, and what replaces it.
ZOHO_CRM_RETIREMENT = (
    "Adobe deprecated the Zoho CRM source at the end of June 2025; its connection spec may be gone from your "
    "organization. Adobe names the Data Landing Zone source as the replacement (export from Zoho to files)."
)


#: Values already handed to Airflow's masker in this process. Its cost grows with every secret it holds (it
#: recompiles one pattern over all of them), so a thousand triggers must not mask the same token a thousand times.
_masked: set[str] = set()


def mask(value: str) -> None:
    """Hide ``value`` in every log line Airflow writes from now on (once per process)."""
    if value in _masked:
        return
    mask_secret(value)
    _masked.add(value)


async def amask(value: str) -> None:
    """:func:`mask` for coroutines (Airflow's ``amask_secret``), sharing its once-per-process memory."""
    if value in _masked:
        return
    from airflow_provider_zoho_aep.version_compat import amask_secret

    _masked.add(value)
    await amask_secret(value)


def forget_masked() -> None:
    """Forget which values were masked and which Connections were read (tests that count them)."""
    _masked.clear()
    _async_settings.clear()


#: How long coroutines of one process reuse a Connection they read (a rotated secret is seen within this time).
ASYNC_SETTINGS_TTL_SECONDS = 300.0
#: conn_id -> (settings, monotonic expiry). Airflow masks a Connection's password and extra on every read, and a
#: triggerer's thousand triggers all read the same Connection: one read per process and TTL keeps that O(1).
_async_settings: dict[str, tuple[AEPSettings, float]] = {}
_async_settings_locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, asyncio.Lock]] = (
    weakref.WeakKeyDictionary()
)


class AdobeExperiencePlatformBaseHook(BaseHook):
    """An ``adobe_experience_platform`` Airflow Connection as validated settings and a Flow Service client.

    The IMS token is cached per process until five minutes before it expires and is masked in logs as soon as
    it arrives. Every request has a timeout; 429/5xx/network errors are retried with backoff.

    :param aep_conn_id: the Airflow Connection ID (type ``adobe_experience_platform``)
    :param timeout: seconds per HTTP request; overrides the Connection's ``timeout`` extra
    :param retry_policy: retry bounds; the default retries up to 6 times within 120 s
    """

    conn_name_attr = "aep_conn_id"
    default_conn_name = "aep_default"
    conn_type = "adobe_experience_platform"
    hook_name = "Adobe Experience Platform"

    def __init__(
        self,
        aep_conn_id: str = default_conn_name,
        *,
        timeout: float | None = None,
        retry_policy: RetryPolicy | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.aep_conn_id = aep_conn_id
        self.timeout = timeout
        self.retry_policy = retry_policy
        self._async_client: AsyncFlowServiceClient | None = None

    # -- connection form (Airflow 3.0/3.1; 3.2+ reads get_provider_info) -----------------------------------

    @classmethod
    def get_connection_form_widgets(cls) -> dict[str, Any]:
        from airflow_provider_zoho_aep.get_provider_info import AEP_CONN_FIELDS

        return form_widgets(AEP_CONN_FIELDS)

    @classmethod
    def get_ui_field_behaviour(cls) -> dict[str, Any]:
        from airflow_provider_zoho_aep.get_provider_info import AEP_UI_FIELD_BEHAVIOUR

        return field_behaviour(AEP_UI_FIELD_BEHAVIOUR)

    # -- configuration ---------------------------------------------------------------------------------------

    @cached_property
    def settings(self) -> AEPSettings:
        """The Connection's fields, validated (raises :class:`ConfigurationError` naming the field)."""
        conn = self.get_connection(self.aep_conn_id)
        return AEPSettings.from_connection_fields(
            login=conn.login,
            password=conn.password,
            host=conn.host,
            extra=conn.extra,
            source=f"Airflow Connection '{self.aep_conn_id}' (Adobe Experience Platform)",
        )

    async def asettings(self) -> AEPSettings:
        """:attr:`settings` for coroutines: the Connection is read with Airflow's async API (a sync read inside
        the triggerer's event loop would block it)."""
        if "settings" not in self.__dict__:
            self.__dict__["settings"] = await self._aread_settings()
        return self.settings

    async def _aread_settings(self) -> AEPSettings:
        cached = _async_settings.get(self.aep_conn_id)
        if cached and cached[1] > time.monotonic():
            return cached[0]
        locks = _async_settings_locks.setdefault(asyncio.get_running_loop(), {})
        async with locks.setdefault(self.aep_conn_id, asyncio.Lock()):
            cached = _async_settings.get(self.aep_conn_id)
            if cached and cached[1] > time.monotonic():
                return cached[0]
            conn = await aget_connection(self.aep_conn_id)
            settings = AEPSettings.from_connection_fields(
                login=conn.login,
                password=conn.password,
                host=conn.host,
                extra=conn.extra,
                source=f"Airflow Connection '{self.aep_conn_id}' (Adobe Experience Platform)",
            )
            _async_settings[self.aep_conn_id] = (settings, time.monotonic() + ASYNC_SETTINGS_TTL_SECONDS)
            return settings

    async def aget_async_client(self) -> AsyncFlowServiceClient:
        """The async Flow Service client (built once per hook): the same token cache as :attr:`client`, and the
        event loop's shared HTTP client."""
        if self._async_client is None:
            from airflow_provider_zoho_aep.client.async_flow_service import AsyncFlowServiceClient
            from airflow_provider_zoho_aep.client.async_http import AsyncHttpTransport
            from airflow_provider_zoho_aep.client.http import RetryPolicy
            from airflow_provider_zoho_aep.client.ims import IMSTokenProvider

            settings = await self.asettings()
            await amask(settings.client_secret)
            transport = AsyncHttpTransport(timeout=self.timeout or settings.timeout,
                                           retry=self.retry_policy or RetryPolicy())
            tokens = IMSTokenProvider(
                token_url=settings.ims_token_url,
                client_id=settings.client_id,
                client_secret=settings.client_secret,
                ims_org_id=settings.ims_org_id,
                scopes=settings.scopes,
                async_transport=transport,
                on_token_async=amask,
            )
            self._async_client = AsyncFlowServiceClient(settings, transport, tokens)
        return self._async_client

    def validate_connection(self) -> AEPSettings:
        """Read and validate the Airflow Connection without any network call; operators call it first."""
        return self.settings

    def get_conn(self) -> FlowServiceClient:
        """The Flow Service client for this Connection (built once per hook)."""
        return self.client

    @cached_property
    def client(self) -> FlowServiceClient:
        from airflow_provider_zoho_aep.client.flow_service import FlowServiceClient
        from airflow_provider_zoho_aep.client.http import HttpTransport, RetryPolicy
        from airflow_provider_zoho_aep.client.ims import IMSTokenProvider

        settings = self.settings
        mask(settings.client_secret)
        transport = HttpTransport(
            timeout=self.timeout or settings.timeout,
            retry=self.retry_policy or RetryPolicy(),
        )
        tokens = IMSTokenProvider(
            token_url=settings.ims_token_url,
            client_id=settings.client_id,
            client_secret=settings.client_secret,
            ims_org_id=settings.ims_org_id,
            scopes=settings.scopes,
            transport=transport,
            on_token=mask,
        )
        return FlowServiceClient(settings, transport, tokens)

    # -- Airflow's "Test" button ----------------------------------------------------------------------------

    def test_connection(self) -> tuple[bool, str]:
        """Get an IMS token and read the Zoho CRM connection spec: proves credentials, org and sandbox."""
        if self.retry_policy is None:
            from airflow_provider_zoho_aep.client.http import RetryPolicy

            # A person is waiting on the Test button: fail within seconds, not minutes.
            self.retry_policy = RetryPolicy(max_attempts=2, max_total_seconds=10)
        try:
            settings = self.settings
            self.client.tokens.get_token()
            self.client.get_connection_spec(ZOHO_CRM_CONNECTION_SPEC_ID)
        except ConfigurationError as err:
            return False, str(err)
        except AEPAPIError as err:
            if err.status == 404 and err.service == "Flow Service":
                return True, (
                    f"Authenticated with IMS and reached Flow Service (sandbox '{settings.sandbox_name}'), but "
                    f"the Zoho CRM connection spec is not available. {ZOHO_CRM_RETIREMENT}"
                )
            return False, str(err)
        return True, (
            f"Authenticated with IMS and reached Flow Service in sandbox '{settings.sandbox_name}' of "
            f"{settings.ims_org_id}; the Zoho CRM connection spec is available."
        )
