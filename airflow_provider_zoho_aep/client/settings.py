"""Validated settings for the two services, from an Airflow Connection's fields, checked before any network call.

Each failure is a :class:`ConfigurationError` naming the field and the fix, never a secret value.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from airflow_provider_zoho_aep.client.errors import ConfigurationError

DEFAULT_PLATFORM_URL = "https://platform.adobe.io"
DEFAULT_IMS_TOKEN_URL = "https://ims-na1.adobelogin.com/ims/token/v3"
DEFAULT_SCOPES = "openid,session,AdobeID,read_organizations,additional_info.projectedProductContext"
DEFAULT_SANDBOX = "prod"
DEFAULT_TIMEOUT = 30.0
FLOW_SERVICE_PATH = "/data/foundation/flowservice"

#: Zoho data centres: region -> (accounts server, CRM API domain). CA's accounts server is zohocloud.ca.
ZOHO_DATA_CENTRES: dict[str, tuple[str, str]] = {
    "us": ("https://accounts.zoho.com", "https://www.zohoapis.com"),
    "eu": ("https://accounts.zoho.eu", "https://www.zohoapis.eu"),
    "in": ("https://accounts.zoho.in", "https://www.zohoapis.in"),
    "au": ("https://accounts.zoho.com.au", "https://www.zohoapis.com.au"),
    "cn": ("https://accounts.zoho.com.cn", "https://www.zohoapis.com.cn"),
    "jp": ("https://accounts.zoho.jp", "https://www.zohoapis.jp"),
    "ca": ("https://accounts.zohocloud.ca", "https://www.zohoapis.ca"),
    "sa": ("https://accounts.zoho.sa", "https://www.zohoapis.sa"),
    "uk": ("https://accounts.zoho.uk", "https://www.zohoapis.uk"),
}
#: The data centres Adobe's Zoho CRM tutorial lists; others are allowed with a warning.
ADOBE_LISTED_REGIONS = frozenset({"us", "au", "eu", "in", "cn"})

_LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
_SANDBOX = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")


def is_loopback(url: str) -> bool:
    """True for an emulator URL such as ``http://127.0.0.1:8787``."""
    host = urlsplit(url).hostname or ""
    return host in _LOOPBACK_HOSTS or host.startswith("127.")


def check_url(value: str, field: str, source: str, example: str) -> str:
    """Require an absolute https URL (http only on loopback); return it without a trailing slash."""
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigurationError(field, "is not an absolute URL", f"use a URL such as {example}", source)
    if parts.scheme == "http" and not is_loopback(value):
        raise ConfigurationError(field, "must use https (plain http is only accepted for the local emulator on "
                                 "127.0.0.1/localhost)", f"use a URL such as {example}", source)
    if parts.query or parts.fragment or parts.username or parts.password:
        raise ConfigurationError(field, "must not carry a query string, fragment or credentials",
                                 f"use a URL such as {example}", source)
    return value.strip().rstrip("/")


def parse_extra(raw: str | Mapping[str, Any] | None, allowed: set[str], source: str) -> dict[str, Any]:
    """Parse a Connection's ``extra`` strictly: valid JSON object, known keys only, blanks dropped."""
    if raw is None or raw == "":
        return {}
    if isinstance(raw, Mapping):
        data: Any = dict(raw)
    else:
        try:
            data = json.loads(raw)
        except ValueError as exc:
            # Say where, never what: the text may hold secrets.
            raise ConfigurationError("extra", f"is not valid JSON (line {getattr(exc, 'lineno', '?')}, column "
                                     f"{getattr(exc, 'colno', '?')})",
                                     'write a JSON object such as {"ims_org_id": "XXXX@AdobeOrg"}', source) from None
    if not isinstance(data, dict):
        raise ConfigurationError("extra", "is not a JSON object", "write a JSON object {...}", source)
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise ConfigurationError("extra", f"has unknown key(s) {', '.join(repr(k) for k in unknown)}",
                                 f"use only {', '.join(sorted(allowed))}", source)
    return {k: v for k, v in data.items() if v is not None and v != ""}


def _require(value: str | None, field: str, fix: str, source: str) -> str:
    if value is None or not str(value).strip():
        raise ConfigurationError(field, "is missing", fix, source)
    return str(value).strip()


@dataclass(frozen=True)
class AEPSettings:
    """Everything needed to call Flow Service, validated.

    :param client_id: OAuth Server-to-Server client ID, also the ``x-api-key``
    :param client_secret: its secret
    :param ims_org_id: ``XXXX@AdobeOrg``
    :param sandbox_name: lower-case sandbox name
    :param platform_url: gateway base URL, e.g. ``https://platform.adobe.io``
    :param ims_token_url: IMS token endpoint
    :param scopes: comma-separated IMS scopes
    :param timeout: seconds per HTTP request
    :param ui_tenant: the organization's Experience Cloud tenant name, for links into the AEP UI (optional)
    """

    client_id: str
    client_secret: str = field(repr=False)
    ims_org_id: str
    sandbox_name: str = DEFAULT_SANDBOX
    platform_url: str = DEFAULT_PLATFORM_URL
    ims_token_url: str = DEFAULT_IMS_TOKEN_URL
    scopes: str = DEFAULT_SCOPES
    timeout: float = DEFAULT_TIMEOUT
    ui_tenant: str | None = None

    EXTRA_KEYS = frozenset({"ims_org_id", "sandbox_name", "scopes", "ims_token_url", "timeout", "ui_tenant"})

    @property
    def flow_service_url(self) -> str:
        return self.platform_url + FLOW_SERVICE_PATH

    @classmethod
    def from_connection_fields(
        cls, *, login: str | None, password: str | None, host: str | None, extra: str | Mapping[str, Any] | None,
        source: str = "Airflow Connection",
    ) -> AEPSettings:
        """Validate the fields of an ``adobe_experience_platform`` Airflow Connection."""
        ex = parse_extra(extra, set(cls.EXTRA_KEYS), source)
        client_id = _require(login, "login (Client ID)", "set it to the OAuth Server-to-Server client ID", source)
        secret = _require(password, "password (Client Secret)", "set it to the OAuth client secret", source)
        org = _require(ex.get("ims_org_id"), "extra.ims_org_id",
                       "set it to your IMS organization ID (XXXX@AdobeOrg) from the Adobe Developer Console", source)
        if not org.endswith("@AdobeOrg"):
            raise ConfigurationError("extra.ims_org_id", "does not end with '@AdobeOrg'",
                                     "copy the full organization ID, e.g. 'ABCDEF0123456789ABCDEF01@AdobeOrg'", source)
        sandbox = str(ex.get("sandbox_name", DEFAULT_SANDBOX)).strip()
        if not _SANDBOX.match(sandbox):
            raise ConfigurationError("extra.sandbox_name",
                                     f"{sandbox!r} is not a valid sandbox name (lower-case letters, digits and '-')",
                                     "use the sandbox's technical name in lower case, e.g. 'prod'", source)
        platform_url = (check_url(host, "host (Platform gateway URL)", source, DEFAULT_PLATFORM_URL)
                        if host and host.strip() else DEFAULT_PLATFORM_URL)
        ims_url = check_url(str(ex.get("ims_token_url", DEFAULT_IMS_TOKEN_URL)), "extra.ims_token_url", source,
                            DEFAULT_IMS_TOKEN_URL)
        scopes = ",".join(s.strip() for s in str(ex.get("scopes", DEFAULT_SCOPES)).split(",") if s.strip())
        if not scopes:
            raise ConfigurationError("extra.scopes", "is empty", f"use the default {DEFAULT_SCOPES!r}", source)
        timeout = _timeout(ex.get("timeout", DEFAULT_TIMEOUT), source)
        tenant = str(ex["ui_tenant"]).strip().lstrip("@") if ex.get("ui_tenant") else None
        if tenant is not None and not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,99}", tenant):
            raise ConfigurationError("extra.ui_tenant", f"{tenant!r} is not a tenant name",
                                     "copy the name after '@' in an experience.adobe.com URL, e.g. 'acme'", source)
        return cls(client_id, secret, org, sandbox, platform_url, ims_url, scopes, timeout, tenant or None)


def _timeout(value: Any, source: str) -> float:
    try:
        timeout = float(value)
    except (TypeError, ValueError):
        timeout = -1.0
    if isinstance(value, bool) or not 0 < timeout <= 600:
        raise ConfigurationError("extra.timeout", f"{value!r} is not a number of seconds between 0 and 600",
                                 "use e.g. 30", source)
    return timeout


@dataclass(frozen=True)
class ZohoSettings:
    """Zoho OAuth client and tokens, validated; the data centre is consistent across both URLs.

    :param client_id: Zoho OAuth client ID
    :param client_secret: its secret
    :param endpoint: CRM API domain, e.g. ``https://www.zohoapis.com`` (AEP's ``endpoint``)
    :param accounts_url: accounts server, e.g. ``https://accounts.zoho.com`` (AEP's ``accountsUrl``)
    :param refresh_token: Zoho refresh token
    :param access_token: a stored access token, if any
    :param region: the data centre the URLs belong to (None for the emulator)
    """

    client_id: str
    client_secret: str = field(repr=False)
    endpoint: str
    accounts_url: str
    refresh_token: str = field(repr=False)
    access_token: str | None = field(default=None, repr=False)
    region: str | None = None

    EXTRA_KEYS = frozenset({"accounts_url", "region", "refresh_token", "access_token"})

    @property
    def outside_adobe_list(self) -> bool:
        """True for a data centre that Adobe's Zoho tutorial does not list (JP, CA, SA, UK)."""
        return self.region is not None and self.region not in ADOBE_LISTED_REGIONS

    @classmethod
    def from_connection_fields(
        cls, *, login: str | None, password: str | None, host: str | None, extra: str | Mapping[str, Any] | None,
        source: str = "Airflow Connection",
    ) -> ZohoSettings:
        """Validate the fields of a ``zoho_crm`` Airflow Connection."""
        ex = parse_extra(extra, set(cls.EXTRA_KEYS), source)
        client_id = _require(login, "login (Client ID)", "set it to the Zoho OAuth client ID (API console)", source)
        secret = _require(password, "password (Client Secret)", "set it to the Zoho OAuth client secret", source)
        refresh = str(ex.get("refresh_token", "")).strip()
        if not refresh:
            raise ConfigurationError("extra.refresh_token", "is missing", "generate one with a Zoho Self Client "
                                     "(grant_type=authorization_code, access_type=offline)", source)
        access = str(ex["access_token"]).strip() if ex.get("access_token") else None
        region = str(ex["region"]).strip().lower() if ex.get("region") else None
        if region is not None and region not in ZOHO_DATA_CENTRES:
            raise ConfigurationError("extra.region", f"{region!r} is not a Zoho CRM data centre",
                                     f"use one of {', '.join(ZOHO_DATA_CENTRES)}", source)
        endpoint_raw = host.strip() if host else None
        accounts_raw = str(ex["accounts_url"]).strip() if ex.get("accounts_url") else None
        if region:
            accounts_raw = accounts_raw or ZOHO_DATA_CENTRES[region][0]
            endpoint_raw = endpoint_raw or ZOHO_DATA_CENTRES[region][1]
        if not endpoint_raw:
            raise ConfigurationError("host (CRM API endpoint)", "is missing",
                                     "set it (e.g. https://www.zohoapis.com) or set extra.region", source)
        if not accounts_raw:
            raise ConfigurationError("extra.accounts_url", "is missing",
                                     "set it (e.g. https://accounts.zoho.com) or set extra.region", source)
        endpoint = check_url(endpoint_raw, "host (CRM API endpoint)", source, "https://www.zohoapis.com")
        accounts = check_url(accounts_raw, "extra.accounts_url", source, "https://accounts.zoho.com")
        if is_loopback(endpoint) and is_loopback(accounts):
            return cls(client_id, secret, endpoint, accounts, refresh, access, region)
        endpoint_dc = _zoho_region_of(endpoint, api=True)
        accounts_dc = _zoho_region_of(accounts, api=False)
        if endpoint_dc is None:
            raise ConfigurationError("host (CRM API endpoint)", f"{endpoint} is not a Zoho CRM API host",
                                     "use https://www.zohoapis.<tld> of your data centre (or set extra.region)", source)
        if accounts_dc is None:
            raise ConfigurationError("extra.accounts_url", f"{accounts} is not a Zoho accounts server",
                                     "use https://accounts.zoho.<tld> of your data centre (CA: accounts.zohocloud.ca)",
                                     source)
        if endpoint_dc != accounts_dc:
            raise ConfigurationError(
                "extra.accounts_url",
                f"belongs to data centre '{accounts_dc}' while host (CRM API endpoint) belongs to '{endpoint_dc}'",
                f"use {ZOHO_DATA_CENTRES[endpoint_dc][0]} with {endpoint} (tokens only work in their own data centre)",
                source)
        if region and region != endpoint_dc:
            raise ConfigurationError("extra.region", f"is '{region}' but the URLs belong to '{endpoint_dc}'",
                                     "remove extra.region or make it match the URLs", source)
        return cls(client_id, secret, endpoint, accounts, refresh, access, endpoint_dc)


def _zoho_region_of(url: str, *, api: bool) -> str | None:
    parts = urlsplit(url)
    if parts.scheme != "https" or (parts.path not in ("", "/")):
        return None
    host = parts.hostname or ""
    for region, (accounts, api_domain) in ZOHO_DATA_CENTRES.items():
        known = urlsplit(api_domain if api else accounts).hostname or ""
        if api:
            base = known.removeprefix("www.")
            if host in (known, f"sandbox.{base}", f"developer.{base}"):
                return region
        elif host == known:
            return region
    return None
