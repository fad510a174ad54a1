"""The in-memory store: resources, tokens, switches, the landing zone's blobs and datasets.

One ``RLock`` guards everything; the server holds it while a handler runs, so handlers need no locking.
Stored records hold exactly the public item fields, except runs, whose timing and outcome live in
private keys starting with ``_`` (:mod:`emulator.runs` starts them and turns those keys into the status Adobe
shows).
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .blob_store import BlobStore
from .crm_data import CrmDataSet


def now_ms() -> int:
    return int(time.time() * 1000)


def new_etag() -> str:
    """An etag the way Adobe writes it: a quoted id."""
    return f'"{uuid.uuid4()}"'


#: What a state file keeps: the resources, not tokens or switches.
PERSISTED = ("connections", "source_connections", "target_connections", "flows", "runs", "last_run_ids")


#: How minted tokens look: ``jwt`` like Adobe's (an IMS token is a signed JWT, ``eyJ…``; a Zoho access token
#: is ``1000.<hex>.<hex>``), or ``opaque`` (no recognisable shape). Airflow's log processors rewrite anything
#: starting with ``eyJ`` to ``eyJ***`` whether or not the provider masked it, so secret scans use ``opaque``:
#: a token that leaks then shows in full, and the scan sees the provider's own masking, not Airflow's.
TOKEN_FORMATS = ("jwt", "opaque")


def check_token_format(value: object) -> str:
    if value not in TOKEN_FORMATS:
        raise ValueError(f"token_format must be one of {', '.join(TOKEN_FORMATS)}, not {value!r}")
    return str(value)


@dataclass
class LandingZoneState:
    """What the Data Landing Zone remembers (``store.dlz``); :mod:`emulator.landing_zone` serves it."""

    blobs: BlobStore = field(default_factory=BlobStore)
    #: A fixed credentials answer (a test pointing uploads at Azurite), or None for the own blob endpoint.
    credentials_override: dict[str, Any] | None = None
    provider: str = "Azure"
    mapping_sets: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: dataset ID -> batches, in landing order
    datasets: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    #: the next N file runs fail with a mapping error
    mapping_errors: int = 0
    credential_calls: list[str] = field(default_factory=list)  # "get" / "refresh", in order


@dataclass
class IssuedToken:
    client_id: str
    expires_at: float  # time.monotonic()


class Store:
    """Everything the emulator remembers. ``reset()`` brings it back to the constructor values."""

    def __init__(
        self,
        run_duration: float = 2.0,
        ims_token_ttl: int = 86399,
        zoho_token_ttl: int = 3600,
        token_format: str = "jwt",
    ):
        self.lock = threading.RLock()
        self._initial_token_format = check_token_format(token_format)
        #: Every token minted since start, as ``(kind, token)`` with kind ``ims`` or ``zoho``. ``reset()`` keeps
        #: it: a secret scan over logs written before a reset must still know those tokens.
        self.minted: list[tuple[str, str]] = []
        self.ims_token_ttl = ims_token_ttl
        self.zoho_token_ttl = zoho_token_ttl
        self.base_url = ""  # set once the server listens (Zoho's token answer names it as api_domain)
        self._initial_run_duration = run_duration
        self.reset()

    #: Where Zoho CRM's records live (the Emulator points it at its Zoho CRM's data set, so a record modified there
    #: moves between windows for runs too); None: a data set of the store's own.
    crm_data_source: Any = None

    @property
    def crm_data(self) -> CrmDataSet:
        """Zoho CRM's records, which the runs of a CRM flow count per window."""
        return self.crm_data_source() if self.crm_data_source is not None else self._own_crm_data

    def reset(self) -> None:
        with self.lock:
            self.connections: dict[str, dict[str, Any]] = {}
            self.source_connections: dict[str, dict[str, Any]] = {}
            self.target_connections: dict[str, dict[str, Any]] = {}
            self.flows: dict[str, dict[str, Any]] = {}
            self.runs: dict[str, dict[str, Any]] = {}
            self.last_run_ids: dict[str, str] = {}  # flow id -> id of its newest run
            self.ims_tokens: dict[str, IssuedToken] = {}
            self.zoho_tokens: dict[str, IssuedToken] = {}
            self.ims_tokens_issued = 0
            #: refresh token -> number of access tokens minted from it
            self.zoho_tokens_issued: dict[str, int] = {}
            self.retired_specs: set[str] = set()
            self.run_duration = self._initial_run_duration
            self.fail_runs = False
            self._own_crm_data = CrmDataSet()
            self.zoho_throttled = False
            self.token_format = self._initial_token_format
            self.dlz = LandingZoneState()
            self._last_stamp = 0

    # ---- resources -------------------------------------------------------------------------------

    def add(
        self,
        collection: dict[str, dict[str, Any]],
        fields: dict[str, Any],
        *,
        sandbox: str,
        org_id: str,
        client_id: str,
    ) -> dict[str, Any]:
        """Store a new resource with the metadata Adobe adds (id, etag, timestamps, owner)."""
        # Strictly increasing, so "the oldest" of two resources is never a tie (Adobe's are milliseconds too).
        stamp = self._last_stamp = max(now_ms(), self._last_stamp + 1)
        etag = new_etag()
        record = {
            "id": str(uuid.uuid4()),
            **fields,
            "createdAt": stamp,
            "updatedAt": stamp,
            "createdBy": f"{client_id}@AdobeID",
            "createdClient": client_id,
            "updatedBy": f"{client_id}@AdobeID",
            "sandboxName": sandbox,
            "imsOrgId": org_id,
            "etag": etag,
            "version": etag,
        }
        collection[record["id"]] = record
        return record

    def save(self, path: str | Path) -> None:
        """Write the resources to ``path`` (JSON), so a later emulator can pick up where this one stopped."""
        with self.lock:
            data = {name: getattr(self, name) for name in PERSISTED}
            text = json.dumps(data, indent=1, sort_keys=True)
        Path(path).write_text(text)

    def load(self, path: str | Path) -> None:
        """Read resources written by :meth:`save`; a missing file means a fresh start."""
        file = Path(path)
        if not file.exists():
            return
        data = json.loads(file.read_text())
        with self.lock:
            for name in PERSISTED:
                getattr(self, name).update(data.get(name) or {})

    def touch(self, record: dict[str, Any]) -> None:
        """Give an updated record a new etag and updatedAt."""
        record["etag"] = record["version"] = new_etag()
        record["updatedAt"] = now_ms()

    # ---- runs (started and shown by emulator/runs.py) --------------------------------------------

    def latest_run(self, flow_id: str) -> dict[str, Any] | None:
        return self.runs.get(self.last_run_ids.get(flow_id, ""))
