"""The curated breaks ``make test-mutations`` applies, one at a time, in a scratch copy (see ``run.py``).

Each entry is one realistic slip a change could make, the README Guarantees-table promise it breaks, and the
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
        file=f"{PKG}/hooks/aep_base.py",
        original="            on_token=mask,\n",
        replacement="            on_token=None,\n",
        promise="every IMS token minted goes through mask_secret",
        tests=(f"{TOKEN_SECRETS}::test_every_token_minted_is_masked",),
        fast=True,
    ),
    Break(
        name="ims-token-logged",
        file=f"{PKG}/client/ims.py",
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
        original="ZohoClient(self.settings, transport, on_token=_mask)",
        replacement="ZohoClient(self.settings, transport, on_token=None)",
        promise="every Zoho access token minted goes through mask_secret",
        tests=(f"{TOKEN_SECRETS}::test_every_token_minted_is_masked",),
        fast=True,
    ),
    Break(
        name="zoho-token-logged",
        file=f"{PKG}/client/zoho.py",
        original="        if self._on_token:\n            self._on_token(token)\n",
        replacement=("        log.info('Minted Zoho access token %s', token)\n"
                     "        if self._on_token:\n            self._on_token(token)\n"),
        promise="no secret (a Zoho access token) in task logs, also under `airflow dags test`",
        tests=(E2E + "::test_runs_to_success_twice_reusing_the_base_connection_with_no_secret_anywhere",),
    ),
    Break(
        name="zoho-token-logged-in-process",
        file=f"{PKG}/client/zoho.py",
        original="        if self._on_token:\n            self._on_token(token)\n",
        replacement=("        log.debug('Minted Zoho access token %s', token)\n"
                     "        if self._on_token:\n            self._on_token(token)\n"),
        promise="no secret (a Zoho access token) in any log record, at DEBUG too",
        tests=(f"{TOKEN_SECRETS}::test_no_token_in_any_log_record_at_debug",),
        fast=True,
    ),
)
