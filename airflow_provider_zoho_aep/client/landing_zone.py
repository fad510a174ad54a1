"""The sandbox's Data Landing Zone: its container, its SAS credentials, and where files go in it.

Both Platform calls go through :meth:`FlowServiceClient.request` (same IMS token, retries and errors as every Flow
Service call). Each SAS token is handed to ``on_secret`` and to the transport's scrubbing as it arrives.
Credentials are **refreshed only after the blob store refused them**: a refresh makes a new stored access policy,
which likely revokes the SAS other tools of the organization hold.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import parse_qsl, quote

from airflow_provider_zoho_aep.client.errors import AEPAPIError, ConfigurationError
from airflow_provider_zoho_aep.client.flow_service import FlowServiceClient

SERVICE = "Data Landing Zone"
LANDING_ZONE_PATH = "/data/foundation/connectors/landingzone"
#: The source-side landing zone (``dlz_destination`` is the destination side).
ZONE_TYPE = "user_drop_zone"
AMAZON_S3 = "Amazon S3"
#: How far a run's window reaches beyond the uploads' Last-Modified stamps (clock skew between us, the blob store
#: and Flow Service).

_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9_.-]")


class LandingZoneError(AEPAPIError):
    """The landing zone refused or failed an upload (never carries the SAS token)."""


class LandingZoneNotSupportedError(ConfigurationError):
    """The organization's landing zone lives on a store this provider cannot upload to yet."""


@dataclass(frozen=True)
class LandingZone:
    """``GET …/landingzone``: the container and how long files stay in it.

    :param container_name: the container (Azure) or bucket (AWS)
    :param ttl_days: days before files are deleted
    :param provider: ``Azure`` or ``Amazon S3``
    """

    container_name: str
    ttl_days: int | None
    provider: str


@dataclass(frozen=True)
class LandingZoneCredentials:
    """The SAS credentials of an Azure-hosted landing zone; the token never appears in ``repr`` or ``str``.

    :param container_name: the container, e.g. ``dlz-user-container``
    :param storage_account_name: the Azure storage account
    :param sas_uri: the container URL with the SAS token as its query
    :param sas_token: the SAS token alone (no leading ``?``)
    :param expiry: ``expiryDate`` as Adobe sent it, for messages
    """

    container_name: str
    storage_account_name: str
    sas_uri: str = field(repr=False)
    sas_token: str = field(repr=False)
    expiry: str | None = None

    @property
    def container_url(self) -> str:
        """The container URL without the SAS (safe to log)."""
        return self.sas_uri.split("?", 1)[0]

    @property
    def secrets(self) -> tuple[str, ...]:
        """What to scrub: the token, its signature, and the signature percent-encoded as the SDK puts it in URLs."""
        signature = dict(parse_qsl(self.sas_token)).get("sig")
        encoded = quote(signature, safe="") if signature else None
        return tuple(dict.fromkeys(v for v in (self.sas_token, signature, encoded, self.sas_uri) if v))

    def __str__(self) -> str:
        return f"landing zone container {self.container_url} (SAS expires {self.expiry or 'unknown'})"


@dataclass(frozen=True)
class UploadedFile:
    """One file as the landing zone holds it after a verified upload.

    :param blob_name: the blob's name in the container
    :param size: bytes, as the store reports them
    :param md5: the content MD5, hex
    :param last_modified: the store's Last-Modified stamp (what a run's window selects on)
    :param uploaded: False when an identical blob was already there and nothing was sent
    :param replaced: True when a blob with other content had that name and was overwritten
    """

    blob_name: str
    size: int
    md5: str
    last_modified: datetime
    uploaded: bool = True
    replaced: bool = False

    def as_dict(self) -> dict[str, Any]:
        """JSON-only, for XCom."""
        return {**asdict(self), "last_modified": self.last_modified.isoformat()}


@dataclass(frozen=True)
class StoredFile:
    """One file in the landing zone, as a listing shows it.

    :param blob_name: the blob's name in the container
    :param size: bytes
    :param last_modified: the store's Last-Modified stamp
    """

    blob_name: str
    size: int
    last_modified: datetime


class LandingZoneUploader(Protocol):
    """Puts local files into the landing zone and proves they arrived whole (Azure today)."""

    def upload(self, local_path: str | Path, blob_name: str, *, md5: str | None = None) -> UploadedFile: ...

    def list_files(self, prefix: str) -> list[StoredFile]: ...


class LandingZoneClient:
    """The landing zone's two Platform calls, through the Flow Service client's token and headers.

    :param flow: the Flow Service client (its transport scrubs the SAS token from errors)
    :param on_secret: called once with every SAS token received (the hook passes Airflow's ``mask_secret``)
    """

    def __init__(self, flow: FlowServiceClient, on_secret: Callable[[str], None] | None = None) -> None:
        self.flow = flow
        self.on_secret = on_secret
        self._current: LandingZoneCredentials | None = None
        self._seen: set[str] = set()
        self._refreshed = False

    def get_landing_zone(self) -> LandingZone:
        """``GET …/landingzone?type=user_drop_zone``."""
        body = self._call("GET", "", [("type", ZONE_TYPE)])
        provider = str(body.get("dlzProvider") or "Azure")
        if provider == AMAZON_S3:
            ttl = (body.get("dataTTL") or {}).get("timeQuantity")
            return LandingZone(str((body.get("dlzPath") or {}).get("bucketName") or ""), _int(ttl), provider)
        return LandingZone(str(body.get("containerName") or ""), _int(body.get("containerTTL")), provider)

    def get_credentials(self, *, refresh: bool = False) -> LandingZoneCredentials:
        """``GET …/credentials`` (or ``POST …&action=refresh`` when ``refresh``), masked on arrival."""
        params = [("type", ZONE_TYPE)] + ([("action", "refresh")] if refresh else [])
        body = self._call("POST" if refresh else "GET", "/credentials", params)
        if body.get("dlzProvider") == AMAZON_S3:  # even an answer we cannot use carries secrets: hide them first
            self._protect(str(v) for k, v in (body.get("credentials") or {}).items() if k != "clientId" and v)
            raise not_supported()
        token, uri = str(body.get("SASToken") or "").lstrip("?"), str(body.get("SASUri") or "")
        if not token or not uri:
            raise AEPAPIError(f"{SERVICE}: the credentials answer has no SASToken/SASUri", service=SERVICE)
        self._current = LandingZoneCredentials(
            str(body.get("containerName") or ""), str(body.get("storageAccountName") or ""), uri, token,
            str(body["expiryDate"]) if body.get("expiryDate") else None,
        )
        self._protect(self._current.secrets)
        return self._current

    def credentials(self, *, after_refusal: LandingZoneCredentials | None = None) -> LandingZoneCredentials:
        """The credentials to upload with: the cached ones, or after the store refused ``after_refusal``, read
        again (Adobe hands out a fresh token once the old one expired) and, when still the refused token,
        refreshed, at most once per client. A refreshed token refused too is not about the token (permissions)."""
        if after_refusal is None:
            return self._current or self.get_credentials()
        fresh = self.get_credentials()
        if fresh.sas_token != after_refusal.sas_token:
            return fresh
        if self._refreshed:
            raise LandingZoneError(
                f"{SERVICE}: the store refused a freshly refreshed SAS too (403); check that the integration has "
                "the Manage Sources permission", status=403, service=SERVICE,
            )
        self._refreshed = True
        return self.get_credentials(refresh=True)

    def _call(self, method: str, path: str, params: list[tuple[str, str]]) -> dict[str, Any]:
        base_url = self.flow.settings.platform_url + LANDING_ZONE_PATH
        body = self.flow.request(method, path, params=params, base_url=base_url, service=SERVICE,
                                 ok=(200, 201)).json()
        if not isinstance(body, dict):
            raise AEPAPIError(f"{SERVICE} {method} {LANDING_ZONE_PATH}{path} answered no object", service=SERVICE)
        return body

    def _protect(self, values: Iterable[str]) -> None:
        for value in values:
            self.flow.transport.add_secret(value)
            if value not in self._seen:
                self._seen.add(value)
                if self.on_secret is not None:
                    self.on_secret(value)


def not_supported() -> LandingZoneNotSupportedError:
    return LandingZoneNotSupportedError(
        "landing zone", f"is hosted on {AMAZON_S3} (dlzProvider), which this provider cannot upload to yet",
        "upload with the AWS CLI or boto3 to the bucket and folder of GET /landingzone, or use an Azure-hosted "
        "organization; only the Azure uploader exists today",
    )


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


# -- names and windows --------------------------------------------------------------------------------------


def _stamp(value: datetime) -> str:
    if value.tzinfo is None:
        raise ConfigurationError("window_start/window_end", "is a naive datetime", "pass timezone-aware datetimes")
    return value.astimezone(timezone.utc).strftime("%Y%m%dT%H%M%SZ")


def _component(value: str, field_name: str) -> str:
    cleaned = _UNSAFE_NAME.sub("_", value.strip())
    if not cleaned.strip("._") or len(cleaned) > 200:
        raise ConfigurationError(field_name, f"{value!r} cannot name a landing-zone folder",
                                 "use letters, digits, '_', '-' or '.' (at most 200 characters)")
    return cleaned


def blob_name(module: str, flow_id: str, window_start: datetime, window_end: datetime, part: int) -> str:
    """``zoho/<module>/<flow_id>/<startZ>_<endZ>_part-0001.csv``: no record data in it, so a retry of the same
    window writes the same names (and an identical file is not sent again)."""
    if window_end <= window_start:
        raise ConfigurationError("window_end", "is not after window_start", "pass a half-open window [start, end)")
    if not isinstance(part, int) or not 1 <= part <= 9999:
        raise ConfigurationError("part", f"{part!r} is not between 1 and 9999", "number the files from 1")
    return (f"{module_folder(module)}{_component(flow_id, 'flow_id')}/"
            f"{_stamp(window_start)}_{_stamp(window_end)}_part-{part:04d}.csv")


def module_folder(module: str) -> str:
    """The folder of a module's files inside the container (what the DLZ source connection's path points at)."""
    return f"zoho/{_component(module, 'module')}/"


def file_md5(path: str | Path, chunk_size: int = 1 << 20) -> str:
    """Hex MD5 of a file, read in chunks (flat memory)."""
    digest = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as handle:
        while chunk := handle.read(chunk_size):
            digest.update(chunk)
    return digest.hexdigest()
