"""The curated breaks ``make test-mutations`` applies, one at a time, in a scratch copy (see ``run.py``).

Each entry is one realistic slip a change could make, the promise of docs/guarantees.md it breaks, and the
tests that must then fail. ``original`` must occur exactly once in ``file``; when the code it names changes,
the runner reports the entry as stale (never skips it): rewrite the entry against the new code, keeping the
promise and the tests. Keep the tests narrow (a node ID or one module), since each entry runs them on its own;
``fast`` marks the entries CI runs when the whole list does not fit its budget.
"""

from __future__ import annotations

from dataclasses import dataclass

PKG = "airflow_provider_zoho_aep"


@dataclass(frozen=True)
class Break:
    name: str
    file: str
    original: str
    replacement: str
    promise: str
    tests: tuple[str, ...]
    fast: bool = False


TOKEN_SECRETS = "tests/integration/test_token_secrets.py"
E2E = "tests/e2e/test_example_dag.py"
ASYNC_RUNTIME = "tests/unit/client/test_async_http_runtime.py"
TRIGGER_LOOP = "tests/integration/test_trigger_event_loop.py"

BREAKS: tuple[Break, ...] = (
    # -- no secret in logs; every token minted is masked -------------------------------------------------------
    Break(
        name="ims-token-never-masked",
        file=f"{PKG}/hooks/aep.py",
        original="transport=transport, on_token=mask)",
        replacement="transport=transport, on_token=None)",
        promise="every IMS token minted goes through mask_secret",
        tests=(f"{TOKEN_SECRETS}::test_every_token_minted_is_masked",),
        fast=True,
    ),
    Break(
        name="ims-token-logged",
        file=f"{PKG}/client/flow_service.py",
        original="        token, expires_in = read_token_answer(response)\n        if self._on_token:\n",
        replacement=("        token, expires_in = read_token_answer(response)\n"
                     "        import logging\n"
                     "        logging.getLogger(__name__).info('Got IMS token %s', token)\n"
                     "        if self._on_token:\n"),
        promise="no secret (an IMS token) in task logs",
        tests=(f"{TOKEN_SECRETS}::test_no_token_in_any_log_record_at_debug",),
        fast=True,
    ),
    Break(
        name="zoho-token-never-masked",
        file=f"{PKG}/hooks/zoho_crm.py",
        original="        _mask(token)\n",
        replacement="",
        promise="every Zoho access token minted goes through mask_secret",
        tests=(f"{TOKEN_SECRETS}::test_every_token_minted_is_masked",),
        fast=True,
    ),
    Break(
        name="zoho-token-logged",
        file=f"{PKG}/hooks/zoho_crm.py",
        original="        _mask(token)\n",
        replacement="        self.log.info('Minted Zoho access token %s', token)\n        _mask(token)\n",
        promise="no secret (a Zoho access token) in the output and files of `airflow dags test`",
        tests=(E2E + "::test_runs_to_success_twice_reusing_the_base_connection_with_no_secret_anywhere",),
    ),
    Break(
        name="zoho-token-logged-in-process",
        file=f"{PKG}/hooks/zoho_crm.py",
        original="        _mask(token)\n",
        replacement=("        import logging\n"
                     "        logging.getLogger(__name__).debug('Minted Zoho access token %s', token)\n"
                     "        _mask(token)\n"),
        promise="no secret (a Zoho access token) in any log record, at DEBUG too",
        tests=(f"{TOKEN_SECRETS}::test_no_token_in_any_log_record_at_debug",),
        fast=True,
    ),

    # -- TLS, timeouts and the event loop on the async side (the trigger's) ----------------------------------
    Break(
        name="async-tls-verification-off",
        file=f"{PKG}/client/http.py",
        original="httpx.AsyncClient(follow_redirects=False, verify=context, limits=POOL_LIMITS)",
        replacement="httpx.AsyncClient(follow_redirects=False, verify=bool(0), limits=POOL_LIMITS)",
        promise="TLS verification is never turned off (async transport)",
        tests=(f"{ASYNC_RUNTIME}::test_a_self_signed_certificate_is_refused",),
        fast=True,
    ),
    Break(
        name="async-request-without-timeout",
        file=f"{PKG}/client/http.py",
        original="data=data, timeout=self.timeout)",
        replacement="data=data, timeout=None)",
        promise="every request has a timeout (async transport)",
        tests=(f"{ASYNC_RUNTIME}::test_a_server_that_never_answers_times_out_within_the_timeout",),
        fast=True,
    ),
    Break(
        name="trigger-blocking-sleep",
        file=f"{PKG}/triggers/dataflow_run.py",
        original="            await asyncio.sleep(min(self.poll_interval, remaining))",
        replacement="            __import__('time').sleep(min(self.poll_interval, remaining))",
        promise="triggers never block the event loop (the wait between two polls)",
        tests=(TRIGGER_LOOP,),
        fast=True,
    ),
    Break(
        name="async-retry-blocking-sleep",
        file=f"{PKG}/client/http.py",
        original="    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep\n",
        replacement="    sleep: Callable[[float], Awaitable[None]] = lambda s: asyncio.sleep(time.sleep(s) or 0)\n",
        promise="triggers never block the event loop (the async transport's default wait between retries)",
        tests=(f"{ASYNC_RUNTIME}::test_the_default_wait_between_retries_never_blocks_the_event_loop",),
        fast=True,
    ),
    # -- TLS, timeouts and URLs on the sync side ---------------------------------------------------------------
    Break(
        name="sync-tls-verification-off",
        file=f"{PKG}/client/http.py",
        original="timeout=self.timeout, allow_redirects=False)",
        replacement="timeout=self.timeout, allow_redirects=False, verify=bool(0))",
        promise="TLS verification is never turned off (sync transport)",
        tests=("tests/faults/test_tls_and_urls.py::test_a_self_signed_certificate_is_refused",),
    ),
    Break(
        name="sync-request-without-timeout",
        file=f"{PKG}/client/http.py",
        original="data=data, timeout=self.timeout, allow_redirects=False)",
        replacement="data=data, timeout=None, allow_redirects=False)",
        promise="every request has a timeout (sync transport)",
        tests=("tests/unit/client/test_http.py::test_every_request_carries_a_timeout",),
    ),
    Break(
        name="ims-credentials-in-the-url",
        file=f"{PKG}/client/flow_service.py",
        original='                "data": form}',
        replacement='                "params": form}',
        promise="secrets travel only in bodies and headers, never in URLs",
        tests=("tests/faults/test_tls_and_urls.py::test_every_secret_travels_in_a_body_or_header_never_in_a_url",),
    ),
    Break(
        name="plain-http-accepted",
        file=f"{PKG}/client/settings.py",
        original='    if parts.scheme == "http" and not is_loopback(value):',
        replacement='    if parts.scheme == "http" and not parts.hostname:',
        promise="non-loopback URLs must be https",
        tests=("tests/unit/client/test_settings.py",),
        fast=True,
    ),
    Break(
        name="zoho-data-centres-mixed",
        file=f"{PKG}/client/settings.py",
        original="        if endpoint_dc != accounts_dc:\n",
        replacement="        if endpoint_dc != accounts_dc and region:\n",
        promise="the Zoho CRM endpoint and accounts server belong to one data centre",
        tests=("tests/faults/test_bad_input.py::test_bad_connection_field_fails_the_operator_before_any_request",),
    ),
    # -- idempotent creates ------------------------------------------------------------------------------------
    Break(
        name="no-lookup-before-create",
        file=f"{PKG}/hooks/aep.py",
        original="        matches = self._find_by_name(collection, name, filters)\n        for pause in",
        replacement="        matches: list[dict[str, Any]] = []\n        for pause in",
        promise="look-up by name before any create: a re-run reuses, never duplicates",
        tests=("tests/unit/hooks/test_aep.py::test_ensure_creates_when_absent_then_reuses",),
        fast=True,
    ),
    Break(
        name="create-retried-blindly-by-the-transport",
        file=f"{PKG}/client/flow_service.py",
        original='json=dict(body), idempotent=False, ok=(200, 201)',
        replacement='json=dict(body), idempotent=True, ok=(200, 201)',
        promise="a create is never blindly retried; at most 3 POSTs",
        tests=("tests/faults/test_fault_matrix.py::test_a_create_failing_every_time_is_sent_at_most_three_times",),
    ),
    Break(
        name="no-lookup-after-an-ambiguous-create",
        file=f"{PKG}/hooks/aep.py",
        original="                found = look_up()\n",
        replacement="                found = None\n",
        promise="after a timeout, reset or 5xx on a create, look it up before sending it again (exactly one)",
        tests=("tests/unit/hooks/test_aep.py::test_ensure_create_applied_but_answer_lost_is_adopted_without_a_second_post",
               "tests/faults/test_fault_matrix.py::test_create_survives_each_fault_with_exactly_one_base_connection"),
    ),
    Break(
        name="no-wait-after-a-timed-out-create",
        file=f"{PKG}/hooks/aep.py",
        original="                    self.client.transport.sleep(self.client.transport.timeout)",
        replacement="                    pass",
        promise="after a timed-out create, the look-up waits one client timeout (the server may still make it)",
        tests=("tests/unit/hooks/test_aep.py"
               "::test_ensure_after_a_timed_out_create_the_lookup_waits_one_timeout_for_the_server_to_finish",),
        fast=True,
    ),
    Break(
        name="concurrent-copy-not-deleted",
        file=f"{PKG}/hooks/aep.py",
        original="        self.client.delete(collection, new_id)\n",
        replacement="",
        promise="concurrent creates of one name converge on one resource (the others delete their own)",
        tests=("tests/unit/hooks/test_aep.py::test_ensure_a_concurrent_create_converges_on_the_oldest_and_deletes_ours",
               "tests/faults/test_tokens_etags_concurrency.py"
               "::test_sixteen_threads_creating_one_name_converge_on_one_base_connection"),
    ),
    # -- retries -----------------------------------------------------------------------------------------------
    Break(
        name="retry-after-ignored",
        file=f"{PKG}/client/http.py",
        original='self._wait(parse_retry_after(response.headers.get("Retry-After")), throttled',
        replacement="self._wait(None, throttled",
        promise="Retry-After is honoured (seconds or HTTP date)",
        tests=("tests/unit/client/test_http.py::test_honours_retry_after_seconds_and_http_date",),
        fast=True,
    ),
    Break(
        name="retry-after-date-not-understood",
        file=f"{PKG}/client/http.py",
        original="    return max(0.0, when.timestamp() - now())",
        replacement="    return None",
        promise="Retry-After as an HTTP date is honoured",
        tests=("tests/unit/client/test_http.py::test_honours_retry_after_seconds_and_http_date",),
        fast=True,
    ),
    Break(
        name="one-attempt-too-many",
        file=f"{PKG}/client/http.py",
        original="    if attempt - throttles >= policy.max_attempts or",
        replacement="    if attempt - throttles > policy.max_attempts or",
        promise="retries are bounded in attempts",
        tests=("tests/faults/test_fault_matrix.py::test_attempts_are_bounded_too",),
    ),
    Break(
        name="time-budget-ignores-the-next-wait",
        file=f"{PKG}/client/http.py",
        original="    if elapsed + wait > policy.max_total_seconds:",
        replacement="    if elapsed > policy.max_total_seconds:",
        promise="total retry time is bounded (the last wait included)",
        tests=("tests/unit/client/test_http.py::test_total_time_budget_bounds_the_retries",),
        fast=True,
    ),
    # -- tokens and etags --------------------------------------------------------------------------------------
    Break(
        name="expired-ims-token-not-refreshed",
        file=f"{PKG}/client/flow_service.py",
        original="        self.tokens.invalidate(token)\n        headers[",
        replacement="        headers[",
        promise="an IMS token that expires mid-run (gateway 401) is refreshed once and the call retried",
        tests=("tests/faults/test_tokens_etags_concurrency.py"
               "::test_an_ims_token_expiring_mid_run_is_refreshed_once_and_the_call_retried",),
    ),
    Break(
        name="ims-token-not-cached",
        file=f"{PKG}/client/flow_service.py",
        original="            _cache[self._key] = _Cached(token, self._clock() + expires_in)\n",
        replacement="            pass\n",
        promise="one IMS token per process, shared by every hook",
        tests=("tests/faults/test_tokens_etags_concurrency.py::test_ims_tokens_are_shared_by_every_hook_in_the_process",),
    ),
    Break(
        name="zoho-token-error-without-its-cause",
        file=f"{PKG}/hooks/zoho_crm.py",
        original='detail=_TOKEN_ERRORS.get(code or "", "the answer carried no access_token"),',
        replacement='detail="the answer carried no access_token",',
        promise="Zoho's token errors are clear errors naming the likely cause",
        tests=("tests/faults/test_tokens_etags_concurrency.py::test_zoho_token_errors_are_clear_and_never_a_hot_loop",),
    ),
    Break(
        name="patch-without-if-match",
        file=f"{PKG}/client/flow_service.py",
        original='        headers["If-Match"] = if_match\n',
        replacement='        headers["ETag"] = if_match\n',
        promise="a PATCH carries If-Match with the etag exactly as received",
        tests=("tests/integration/test_base_connection.py::test_update_patches_fresh_credentials_with_if_match",),
    ),
    Break(
        name="stale-etag-not-reread",
        file=f"{PKG}/hooks/aep.py",
        original="            fresh = self.client.get(collection, resource_id)\n",
        replacement="            fresh = dict(existing)\n",
        promise="a PATCH answered 412 re-reads the resource and retries once with the new etag",
        tests=("tests/faults/test_tokens_etags_concurrency.py::test_a_stale_etag_rereads_and_retries_once",),
    ),
    # -- pre-flight, bad input, contract -----------------------------------------------------------------------
    Break(
        name="no-preflight",
        file=f"{PKG}/hooks/aep.py",
        original="                if check_connection_spec else None)",
        replacement="                if False else None)",
        promise="pre-flight: check_connection_spec=True reads the connection spec before writing anything",
        tests=("tests/integration/test_base_connection.py"
               "::test_a_retired_connection_spec_fails_before_anything_is_written",),
    ),
    Break(
        name="name-length-not-checked",
        file=f"{PKG}/validation.py",
        original="    if len(value) > 255:",
        replacement="    if len(value) > 2550:",
        promise="bad input fails before any request, naming the field and the fix",
        tests=("tests/faults/test_bad_input.py::test_bad_operator_argument_fails_before_any_request",),
    ),
    Break(
        name="create-body-differs-from-adobes-tutorial",
        file=f"{PKG}/hooks/zoho_crm.py",
        original='            "accountsUrl": s.accounts_url,',
        replacement='            "accountsURL": s.accounts_url,',
        promise="the create body is exactly Adobe's tutorial",
        tests=("tests/contract/test_base_connection_contract.py"
               "::test_the_create_body_and_headers_are_exactly_adobes_tutorial",),
    ),
    # -- runs and teardown -------------------------------------------------------------------------------------
    Break(
        name="unknown-run-status-counts-as-success",
        file=f"{PKG}/client/runs.py",
        original='    return "success" if status in SUCCESS_STATUSES else "failed"',
        replacement='    return "failed" if status == "failed" else "success"',
        promise="a run failure is a task failure; an unknown terminal status fails closed",
        tests=("tests/integration/test_pipeline.py::test_sensor_fails_closed_on_an_unknown_status",),
    ),
    Break(
        name="teardown-out-of-order",
        file=f"{PKG}/operators/delete_dataflow.py",
        original='        record("flow", self.flow_id, hook.delete_dataflow(self.flow_id))\n'
                 "        if self.delete_connections:\n",
        replacement="        if self.delete_connections:\n",
        promise="teardown deletes in the order Adobe accepts: flow, source/target connections, base connection",
        tests=("tests/integration/test_pipeline.py::test_teardown_deletes_in_adobes_order_and_is_idempotent",),
    ),
    # -- windows: one Airflow data interval, one run, each record once -----------------------------------------
    Break(
        name="any-run-counts-for-any-window",
        file=f"{PKG}/client/windows.py",
        original="    return window_of(run) == (window.start_seconds, window.end_seconds)",
        replacement="    return window_of(run) is not None",
        promise="one data interval, one on-demand run of exactly its window; a succeeded window is not run twice",
        tests=("tests/integration/test_dataflow_runs.py",),
    ),
    Break(
        name="failed-run-of-the-window-reused",
        file=f"{PKG}/hooks/aep.py",
        original='runs.outcome(i) in ("running", "success")), None)',
        replacement='runs.outcome(i) in ("running", "success", "failed")), None)',
        promise="per window: a running or succeeded run is reused, a failed one is not (a retry ingests again)",
        tests=("tests/unit/hooks/test_aep.py::test_start_run_a_failed_or_cancelled_run_is_not_reused",
               "tests/integration/test_dataflow_runs.py"),
        fast=True,
    ),
    Break(
        name="trigger-client-secret-never-masked",
        file=f"{PKG}/hooks/aep.py",
        original="            await amask(settings.client_secret)\n",
        replacement="",
        promise="triggers read through the hook: each secret masked once, one token per process",
        tests=("tests/unit/triggers/test_dataflow_run.py",),
        fast=True,
    ),
    Break(
        name="zoho-credits-exhausted-retried-as-429",
        file=f"{PKG}/hooks/zoho_crm.py",
        original=('            if code == "LIMIT_EXCEEDED":\n'
                  "                raise self._credits_error(response, body, method, shown)\n"),
        replacement="",
        promise="exhausted Zoho credits fail at once, saying when they reset; no retry loop",
        tests=("tests/faults/test_zoho_export_faults.py::test_exhausted_credits_fail_at_once_saying_when_they_reset",),
    ),
    Break(
        name="export-operator-window-from-one-end-of-the-interval",
        file=f"{PKG}/operators/zoho_export.py",
        original='context.get("data_interval_end"), check_future=False)',
        replacement='context.get("data_interval_start"), check_future=False)',
        promise="ZohoCRMExportOperator under dag.test() exports the DAG run's data interval",
        tests=("tests/integration/test_zoho_export_dag.py",),
    ),
    Break(
        name="export-window-end-included",
        file=f"{PKG}/hooks/zoho_crm.py",
        original="    return window.start <= when < window.end  #",
        replacement="    return window.start <= when <= window.end  #",
        promise="a Zoho export holds exactly the records modified in its half-open window; windows partition time",
        tests=("tests/integration/test_zoho_export.py",),
    ),
    Break(
        name="export-row-time-ignores-its-offset",
        file=f"{PKG}/hooks/zoho_crm.py",
        original="    return window.start <= when < window.end  #",
        replacement="    return window.start <= when.replace(tzinfo=window.start.tzinfo) < window.end  #",
        promise="a Zoho export judges every record's time as an instant in its own offset, never by its digits alone",
        tests=("tests/unit/hooks/test_zoho_crm.py",),
    ),
    Break(
        name="landed-window-exported-and-uploaded-again",
        file=f"{PKG}/transfers/zoho_crm_to_aep_dlz.py",
        original='        if if_run_exists != "rerun" and (landed := ',
        replacement='        if False and (landed := ',
        promise="a window that landed through the Data Landing Zone is never exported, uploaded or ingested again",
        tests=("tests/integration/test_zoho_crm_to_aep_dlz.py::test_rerunning_a_succeeded_window_lands_nothing_more",),
        fast=True,
    ),
    Break(
        name="foreign-files-in-the-run-window-ignored",
        file=f"{PKG}/transfers/zoho_crm_to_aep_dlz.py",
        original="        if foreign:",
        replacement="        if False:",
        promise="a landing-zone run never ingests files another window uploaded",
        tests=("tests/integration/test_zoho_crm_to_aep_dlz.py::test_files_of_another_upload_in_the_run_window_stop_the_run",),
    ),
    Break(
        name="if-run-exists-fail-message-not-formatted",
        file=f"{PKG}/transfers/zoho_crm_to_aep_dlz.py",
        original="""f"of dataflow {flow_id} and if_run_exists='fail'")""",
        replacement=""""of dataflow {flow_id} and if_run_exists='fail'")""",
        promise="an error names the resources it is about (here the window's run and its dataflow)",
        tests=("tests/unit/transfers/test_zoho_crm_to_aep_dlz.py::"
               "test_if_run_exists_fail_names_the_window_the_flow_and_the_run",),
        fast=True,
    ),
    Break(
        name="expired-sas-reused-instead-of-fresh-credentials",
        file=f"{PKG}/client/azure_blob_upload.py",
        original=('                            "fresh credentials", name)\n'
                  "                credentials = self.credentials(after_refusal=credentials)\n"),
        replacement='                            "fresh credentials", name)\n',
        promise="an expired SAS mid-upload is replaced and the file sent again whole; the window lands once",
        tests=("tests/faults/test_zoho_crm_to_aep_dlz_faults.py"
               "::test_a_sas_expiring_mid_upload_is_replaced_and_the_window_lands_once",
               "tests/integration/test_landing_zone_azurite.py"
               "::test_a_sas_that_expires_during_the_upload_is_replaced_and_the_file_sent_again_whole"),
    ),
    Break(
        name="concurrent-writer-overwritten",
        file=f"{PKG}/client/azure_blob_upload.py",
        original='            condition: dict[str, Any] = {"overwrite": False}',
        replacement='            condition: dict[str, Any] = {"overwrite": True}',
        promise="a landing-zone upload never silently overwrites a blob another writer made meanwhile",
        tests=("tests/integration/test_landing_zone_azurite.py::test_a_concurrent_writer_is_never_overwritten_silently",),
    ),
    Break(
        name="identical-blob-sent-again",
        file=f"{PKG}/client/azure_blob_upload.py",
        original="        if existing is not None and _same(existing, size, md5):",
        replacement="        if False:",
        promise="a file already in the landing zone (same size and MD5) is not sent again: its Last-Modified stays",
        tests=("tests/integration/test_data_landing_zone.py"
               "::test_upload_verifies_and_a_second_upload_of_the_same_file_sends_nothing",
               "tests/integration/test_landing_zone_azurite.py::test_overwrite_semantics"),
    ),
    Break(
        name="sas-token-never-masked",
        file=f"{PKG}/client/landing_zone.py",
        original="                if self.on_secret is not None:\n                    self.on_secret(value)",
        replacement="                if self.on_secret is None:\n                    self.on_secret(value)",
        promise="the landing zone's SAS token is masked once, and appears in no log line, result or exception",
        tests=("tests/integration/test_data_landing_zone.py::test_no_sas_token_in_any_log_line_or_result",
               "tests/unit/client/test_landing_zone.py"),
        fast=True,
    ),
    Break(
        name="sas-encoded-signature-not-masked",
        file=f"{PKG}/client/landing_zone.py",
        original="(self.sas_token, signature, encoded, self.sas_uri)",
        replacement="(self.sas_token, signature, self.sas_uri)",
        promise="the SAS signature is masked in the percent-encoded form urllib3 logs each request URL in (DEBUG)",
        tests=("tests/integration/test_data_landing_zone.py::test_no_sas_token_in_any_log_line_or_result",),
    ),
)
