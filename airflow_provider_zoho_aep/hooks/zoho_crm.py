"""Hook for the ``zoho_crm`` connection type: Zoho OAuth credentials, as AEP's Zoho CRM source takes them."""

from __future__ import annotations

from datetime import datetime
from functools import cached_property
from os import PathLike
from typing import TYPE_CHECKING, Any

from airflow_provider_zoho_aep.client.errors import AEPAPIError, ConfigurationError
from airflow_provider_zoho_aep.client.http import HttpTransport, RetryPolicy
from airflow_provider_zoho_aep.client.settings import ZohoSettings
from airflow_provider_zoho_aep.client.zoho import ZohoClient
from airflow_provider_zoho_aep.hooks._connection_form import field_behaviour, form_widgets
from airflow_provider_zoho_aep.version_compat import BaseHook, mask_secret

if TYPE_CHECKING:
    from collections.abc import Sequence

    from airflow_provider_zoho_aep.client.zoho_bulk_read import ZohoBulkReadClient


def _mask(value: str) -> None:
    mask_secret(value)


class ZohoCRMHook(BaseHook):
    """Holds Zoho CRM OAuth credentials and mints access tokens from the refresh token.

    Every access token obtained is masked in logs at once. Token-endpoint errors (which Zoho sends with
    HTTP 200) are raised with their likely cause, and throttling is never retried in a loop.

    :param zoho_conn_id: the Airflow Connection ID (type ``zoho_crm``)
    :param timeout: seconds per HTTP request
    :param retry_policy: retries of one HTTP request (5xx, connection errors)
    :param bulk_read_options: Bulk Read settings: ``poll_interval``, ``job_timeout``, ``throttle_budget``,
        ``download_attempts``
    """

    conn_name_attr = "zoho_conn_id"
    default_conn_name = "zoho_crm_default"
    conn_type = "zoho_crm"
    hook_name = "Zoho CRM"

    def __init__(
        self,
        zoho_conn_id: str = default_conn_name,
        *,
        timeout: float = 30.0,
        retry_policy: RetryPolicy | None = None,
        bulk_read_options: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.zoho_conn_id = zoho_conn_id
        self.timeout = timeout
        self.retry_policy = retry_policy
        #: keyword arguments of ZohoBulkReadClient (poll_interval, job_timeout, throttle_budget, ...)
        self.bulk_read_options = dict(bulk_read_options or {})

    @classmethod
    def get_connection_form_widgets(cls) -> dict[str, Any]:
        from airflow_provider_zoho_aep.get_provider_info import ZOHO_CONN_FIELDS

        return form_widgets(ZOHO_CONN_FIELDS)

    @classmethod
    def get_ui_field_behaviour(cls) -> dict[str, Any]:
        from airflow_provider_zoho_aep.get_provider_info import ZOHO_UI_FIELD_BEHAVIOUR

        return field_behaviour(ZOHO_UI_FIELD_BEHAVIOUR)

    @cached_property
    def settings(self) -> ZohoSettings:
        """The Connection's fields, validated: URLs https and of one data centre, refresh token present."""
        conn = self.get_connection(self.zoho_conn_id)
        settings = ZohoSettings.from_connection_fields(
            login=conn.login,
            password=conn.password,
            host=conn.host,
            extra=conn.extra,
            source=f"Airflow Connection '{self.zoho_conn_id}' (Zoho CRM)",
        )
        for secret in (settings.client_secret, settings.refresh_token, settings.access_token):
            if secret:
                _mask(secret)
        if settings.outside_adobe_list:
            self.log.warning(
                "Zoho data centre '%s' is not among the five Adobe's Zoho CRM tutorial lists (us, eu, in, au, "
                "cn); AEP may not accept it", settings.region,
            )
        return settings

    def validate_connection(self) -> ZohoSettings:
        """Read and validate the Airflow Connection without any network call; operators call it first."""
        return self.settings

    def get_conn(self) -> ZohoClient:
        return self.client

    @cached_property
    def client(self) -> ZohoClient:
        retry = self.retry_policy or RetryPolicy(max_attempts=3, max_total_seconds=60)
        transport = HttpTransport(timeout=self.timeout, retry=retry)
        return ZohoClient(self.settings, transport, on_token=_mask)

    def get_access_token(self, refresh_access_token: bool = True) -> str:
        """An access token: newly minted when ``refresh_access_token``, else the stored/cached one."""
        return self.client.access_token(refresh=refresh_access_token)

    def get_auth_params(self, refresh_access_token: bool = True) -> dict[str, str]:
        """The six ``auth.params`` of AEP's Zoho CRM connection spec.

        :param refresh_access_token: mint a fresh access token from the refresh token (one call to Zoho's
            accounts server); when False, use the Connection's ``access_token`` (or mint one if it has none)
        :return: ``endpoint``, ``accountsUrl``, ``clientId``, ``clientSecret``, ``accessToken``, ``refreshToken``
        """
        s = self.settings
        return {
            "endpoint": s.endpoint,
            "accountsUrl": s.accounts_url,
            "clientId": s.client_id,
            "clientSecret": s.client_secret,
            "accessToken": self.get_access_token(refresh_access_token),
            "refreshToken": s.refresh_token,
        }

    @cached_property
    def bulk_read(self) -> ZohoBulkReadClient:
        """The Bulk Read client over this hook's credentials and transport."""
        from airflow_provider_zoho_aep.client.zoho_bulk_read import ZohoBulkReadClient

        return ZohoBulkReadClient(self.client, self.client.transport, **self.bulk_read_options)

    def export_modified_records(
        self,
        module: str,
        window_start: datetime,
        window_end: datetime,
        *,
        fields: Sequence[str] | None = None,
        out_dir: str | PathLike[str],
    ) -> dict[str, Any]:
        """Export the records of ``module`` whose ``Modified_Time`` is in ``[window_start, window_end)``.

        Uses Zoho's Bulk Read API v8 (jobs of up to 200,000 records, chained with ``next_page_token``) and
        writes plain CSV files (header, UTF-8, RFC 4180) into ``out_dir``, streaming. Arguments are checked
        before any call; unknown fields are found with one read of the module's fields metadata, before any
        Bulk Read job.

        :param module: the module's API name, e.g. ``Leads``
        :param window_start: start of the window, included (timezone-aware)
        :param window_end: end of the window, excluded (timezone-aware, not in the future)
        :param fields: field API names to export; None exports every field. ``id`` and ``Modified_Time``
            are always exported
        :param out_dir: folder for the CSV files (created if missing)
        :return: the manifest: ``module``, ``window_start``, ``window_end`` (ISO 8601 with offset), ``fields``,
            ``records``, ``bytes``, ``files`` (each ``path``, ``records``, ``bytes``, ``sha256``); no file
            when the window holds no record
        """
        from airflow_provider_zoho_aep.validation import check_export_arguments

        window = check_export_arguments(module, window_start, window_end, fields, out_dir)
        self.validate_connection()
        columns = self.bulk_read.resolve_fields(module, fields)
        manifest = self.bulk_read.export(module, window, columns, str(out_dir))
        self.log.info(
            "Exported %d %s record(s) modified in [%s, %s) into %d file(s), %d bytes",
            manifest["records"], module, manifest["window_start"], manifest["window_end"],
            len(manifest["files"]), manifest["bytes"],
        )
        return manifest

    def test_connection(self) -> tuple[bool, str]:
        """Refresh a token and read the current CRM user: proves client, refresh token and data centre."""
        if self.retry_policy is None:
            self.retry_policy = RetryPolicy(max_attempts=2, max_total_seconds=10)
        try:
            token = self.client.refresh_access_token().token
            user = self.client.current_user(token)
        except ConfigurationError as err:
            return False, str(err)
        except AEPAPIError as err:
            return False, str(err)
        who = user.get("email") or user.get("full_name") or user.get("id") or "the token owner"
        return True, f"Refreshed a Zoho access token at {self.settings.accounts_url} and read the CRM user {who}."
