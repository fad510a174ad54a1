"""``Emulator``: the object tests, the demo and benchmarks hold. Starts the server; exposes its switches."""

from __future__ import annotations

import threading
from datetime import datetime
from types import TracebackType
from typing import Any

from .blob_store import BlobStore
from .config import EmulatorCredentials, is_loopback
from .crm_data import CrmDataSet
from .faults import DEFAULT_RATE_LIMIT_PATHS, Fault, FaultList, RateLimiter
from .request_log import RecordedRequest, RequestLog
from .server import EmulatorHTTPServer
from .state import Store
from .zoho_crm import ZohoCrm


class Emulator:
    """Local stand-in for Adobe IMS, AEP Flow Service and Zoho accounts/CRM, served on loopback.

    :param state_file: keep resources in this JSON file: loaded at start, written at stop (the demo uses it so
        a second ``make demo`` finds what the first one created)
    :param crm_data: Zoho CRM's records (default: ``CrmDataSet()``, 2,000 records per module over a week)
    :param crm_settings: Bulk Read settings, the keyword arguments of :class:`~emulator.zoho_crm.ZohoCrm`
        (``job_seconds``, ``comparators``, ``concurrency``, ``downloads_per_minute``, ``credit_limit``, ...)

    >>> with Emulator() as emu:  # port 0: a free port
    ...     token_url = f"{emu.url}/ims/token/v3"
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        credentials: EmulatorCredentials | None = None,
        run_duration: float = 2.0,
        ims_token_ttl: int = 86399,
        zoho_token_ttl: int = 3600,
        verbose: bool = False,
        state_file: str | None = None,
        crm_data: CrmDataSet | None = None,
        crm_settings: dict[str, object] | None = None,
    ):
        if not is_loopback(host):
            raise ValueError(f"The emulator only binds to loopback addresses, not {host!r}.")
        self.host = host
        self.credentials = credentials or EmulatorCredentials()
        self.verbose = verbose
        self.state_file = state_file
        self.store = Store(run_duration, ims_token_ttl, zoho_token_ttl)
        self.faults = FaultList()
        self.rate_limiter = RateLimiter()
        self.log = RequestLog()
        self._crm_data = crm_data
        self._crm_settings = dict(crm_settings or {})
        self.crm = ZohoCrm(crm_data, **self._crm_settings)  # type: ignore[arg-type]
        self._port = port
        self._server: EmulatorHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # ---- life cycle ---------------------------------------------------------------------------------

    def start(self) -> Emulator:
        """Bind and serve in a daemon thread. Returns self."""
        if self._server is not None:
            return self
        if self.state_file:
            self.store.load(self.state_file)
        self._server = EmulatorHTTPServer(self.host, self._port, self)
        self.store.base_url = self.url
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="aep-emulator", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close every open connection."""
        server, thread = self._server, self._thread
        if server is None:
            return
        server.shutdown()
        server.close_connections()
        server.server_close()
        if thread is not None:
            thread.join()
        self._server = self._thread = None
        self.crm.close()
        if self.state_file:
            self.store.save(self.state_file)

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def port(self) -> int:
        return int(self._server.server_address[1]) if self._server is not None else self._port

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def reset(self) -> None:
        """Forget resources, tokens, faults, the request log; switches back to the constructor values."""
        self.store.reset()
        self.faults.clear()
        self.log.clear()
        self.rate_limiter.configure(None)
        with self.store.lock:
            self.crm.close()
            d = self._crm_data or CrmDataSet()  # a new data set: modifications are forgotten too
            fresh = CrmDataSet(d.seed, d.records_per_module, d.start, d.span, d.tz)
            self.crm = ZohoCrm(fresh, **self._crm_settings)  # type: ignore[arg-type]

    # ---- request log, faults, rate limit -------------------------------------------------------------

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request served so far, in order (a copy)."""
        return self.log.snapshot()

    def clear_requests(self) -> None:
        self.log.clear()

    def add_fault(self, fault: Fault) -> None:
        self.faults.add(fault)

    def clear_faults(self) -> None:
        self.faults.clear()

    def set_rate_limit(
        self, rate_per_second: float | None, burst: int = 1, paths: str = DEFAULT_RATE_LIMIT_PATHS
    ) -> None:
        """A token bucket over paths matching ``paths``; ``None`` turns it off."""
        self.rate_limiter.configure(rate_per_second, burst, paths)

    # ---- Zoho CRM data -------------------------------------------------------------------------------

    def configure_crm(self, **settings: object) -> None:
        """Change Zoho CRM's data set or Bulk Read settings (see :meth:`ZohoCrm.configure`)."""
        with self.store.lock:
            self.crm.configure(**settings)

    def modify_record(
        self, module: str, record_id: str, changes: dict[str, str], modified_time: datetime | None = None
    ) -> dict[str, str]:
        """A CRM user edits a record now (or at ``modified_time``); returns the record as it is now."""
        return self.crm.data.modify(module, record_id, changes, modified_time)

    # ---- switches ------------------------------------------------------------------------------------

    def expire_ims_tokens(self) -> None:
        """Every IMS token issued so far becomes invalid (401013)."""
        with self.store.lock:
            self.store.ims_tokens.clear()

    def expire_zoho_tokens(self) -> None:
        """Every Zoho access token issued so far becomes invalid (INVALID_TOKEN)."""
        with self.store.lock:
            self.store.zoho_tokens.clear()

    def retire_connection_spec(self, spec_id: str) -> None:
        """The spec disappears, as Adobe's Zoho CRM source did in June 2025."""
        with self.store.lock:
            self.store.retired_specs.add(spec_id)

    @property
    def run_duration(self) -> float:
        """Seconds a run created from now on takes from queued to its end."""
        return self.store.run_duration

    @run_duration.setter
    def run_duration(self, seconds: float) -> None:
        self.store.run_duration = seconds

    @property
    def fail_runs(self) -> bool:
        """Runs created from now on end ``Failed`` with errors."""
        return self.store.fail_runs

    @fail_runs.setter
    def fail_runs(self, value: bool) -> None:
        self.store.fail_runs = value

    # ---- the Data Landing Zone -------------------------------------------------------------------------

    @property
    def blob_store(self) -> BlobStore:
        """The landing zone's container (blobs, staged blocks, SAS tokens)."""
        return self.store.dlz.blobs

    def expire_sas_tokens(self, after_blocks: int = 0) -> None:
        """Every SAS the landing zone issued so far stops working (403 AuthenticationFailed): now, or once
        ``after_blocks`` more blocks have been staged (a token expiring in the middle of an upload)."""
        with self.store.lock:
            if after_blocks > 0:
                self.store.dlz.blobs.expire_after_blocks = after_blocks
            else:
                self.store.dlz.blobs.expire_tokens()

    def set_landing_zone_credentials(self, answer: dict[str, Any] | None) -> None:
        """Answer ``GET …/landingzone/credentials`` with ``answer`` (e.g. pointing at Azurite); None: our own."""
        with self.store.lock:
            self.store.dlz.credentials_override = answer

    def set_landing_zone_provider(self, provider: str) -> None:
        """``Azure`` (default) or ``Amazon S3`` (an AWS-hosted organization)."""
        with self.store.lock:
            self.store.dlz.provider = provider

    def inject_mapping_errors(self, runs: int = 1) -> None:
        """The next ``runs`` runs of file flows fail with a mapping error (``MAPPER-3700-400``)."""
        with self.store.lock:
            self.store.dlz.mapping_errors = runs

    def dataset_batches(self, dataset_id: str) -> list[dict[str, Any]]:
        """The batches landed in ``dataset_id`` by runs that have ended: ``batchId, runId, flowId, files,
        recordCount, rows``, oldest first."""
        from .landing_zone import batches

        with self.store.lock:
            return batches(self.store, dataset_id)

    def dataset_rows(self, dataset_id: str) -> list[dict[str, Any]]:
        """Every row landed in ``dataset_id``, in landing order."""
        return [row for batch in self.dataset_batches(dataset_id) for row in batch["rows"]]

    @property
    def zoho_throttled(self) -> bool:
        """Zoho's token endpoint answers "Access Denied" (too many requests)."""
        return self.store.zoho_throttled

    @zoho_throttled.setter
    def zoho_throttled(self, value: bool) -> None:
        self.store.zoho_throttled = value
