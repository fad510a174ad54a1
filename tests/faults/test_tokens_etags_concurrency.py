"""Tokens that expire mid-run, Zoho's HTTP-200 errors, stale etags, and 16 concurrent creates of one name."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from airflow_provider_zoho_aep import ZOHO_CRM_CONNECTION_SPEC_ID
from airflow_provider_zoho_aep.client.errors import AEPAPIError
from airflow_provider_zoho_aep.client.http import RetryPolicy
from airflow_provider_zoho_aep.hooks.aep import AdobeExperiencePlatformHook
from airflow_provider_zoho_aep.hooks.zoho_crm import ZohoCRMHook
from emulator import Fault
from tests.conftest import set_connection, zoho_connection

FS = "/data/foundation/flowservice"
SPEC = ZOHO_CRM_CONNECTION_SPEC_ID


def ims_token_requests(emulator) -> int:
    return len([r for r in emulator.requests if r.path == "/ims/token/v3"])


def test_an_ims_token_expiring_mid_run_is_refreshed_once_and_the_call_retried(emulator):
    hook = AdobeExperiencePlatformHook()
    made = hook.create_base_connection("tok", SPEC, ZohoCRMHook().get_auth_params)
    emulator.expire_ims_tokens()  # the gateway now answers 401013 for the cached token
    assert hook.get_base_connection(made["id"])["name"] == "tok"
    assert ims_token_requests(emulator) == 2
    statuses = [r.status for r in emulator.requests if r.path.endswith(made["id"])]
    assert statuses == [401, 200]


def test_a_second_401_is_an_error_not_a_loop(emulator):
    hook = AdobeExperiencePlatformHook()
    hook.client.tokens.get_token()
    emulator.add_fault(Fault(method="GET", path=rf"^{FS}/connections$", kind="status", status=401, count=-1))
    with pytest.raises(AEPAPIError) as info:
        hook.find_base_connections("x")
    assert info.value.status == 401
    assert ims_token_requests(emulator) == 2
    assert len([r for r in emulator.requests if r.path == f"{FS}/connections"]) == 2


def test_ims_tokens_are_shared_by_every_hook_in_the_process(emulator):
    for _ in range(5):
        AdobeExperiencePlatformHook().find_base_connections("x")
    assert ims_token_requests(emulator) == 1


@pytest.mark.parametrize(
    ("emulator_switch", "conn_change", "expected"),
    [
        ("zoho_throttled", None, "throttling token refreshes"),
        (None, {"refresh_token": "1000.revoked"}, "refresh token is revoked or invalid"),
        (None, {"client_id": "1000.WRONG"}, "data centre"),
    ],
)
def test_zoho_token_errors_are_clear_and_never_a_hot_loop(emulator, monkeypatch, emulator_switch, conn_change,
                                                           expected):
    if emulator_switch:
        setattr(emulator, emulator_switch, True)
    if conn_change:
        fields = zoho_connection(emulator.url)
        if "client_id" in conn_change:
            fields["login"] = conn_change["client_id"]
        else:
            fields["extra"] = {**fields["extra"], **conn_change}  # type: ignore[dict-item]
        set_connection(monkeypatch, "zoho_crm_default", fields)
    with pytest.raises(AEPAPIError, match=expected):
        AdobeExperiencePlatformHook().create_base_connection("z", SPEC, ZohoCRMHook().get_auth_params)
    assert len([r for r in emulator.requests if r.path == "/oauth/v2/token"]) == 1
    assert not emulator.store.connections


def test_a_stale_etag_rereads_and_retries_once(emulator):
    hook = AdobeExperiencePlatformHook()
    made = hook.create_base_connection("etag", SPEC, ZohoCRMHook().get_auth_params)
    stale = hook.get_base_connection(made["id"])
    # Someone else updates it: our etag is now stale.
    AdobeExperiencePlatformHook().create_base_connection("etag", SPEC, ZohoCRMHook().get_auth_params,
                                                        if_exists="update")
    result = hook._update("connections", stale,
                          lambda existing: [{"op": "replace", "path": "/description", "value": "new"}])
    patches = [r.status for r in emulator.requests if r.method == "PATCH"]
    assert patches == [200, 412, 200]
    assert result["etag"] == emulator.store.connections[made["id"]]["etag"]
    assert emulator.store.connections[made["id"]]["description"] == "new"


def _posts_wait_at(barrier) -> None:  # type: ignore[no-untyped-def]
    """Make every create wait at ``barrier``: all creators have looked up (and found nothing) before anyone
    POSTs, so the race is certain, not a matter of timing."""
    from airflow_provider_zoho_aep.client.flow_service import FlowServiceClient

    real_create = FlowServiceClient.create

    def create(self, kind, body):  # type: ignore[no-untyped-def]
        barrier.wait(timeout=60)
        return real_create(self, kind, body)

    FlowServiceClient.create = create  # type: ignore[method-assign]


def test_sixteen_threads_creating_one_name_converge_on_one_base_connection(emulator, monkeypatch):
    from airflow_provider_zoho_aep.client.flow_service import FlowServiceClient

    monkeypatch.setattr(FlowServiceClient, "create", FlowServiceClient.create)  # restored after the test
    _posts_wait_at(threading.Barrier(16))
    params = ZohoCRMHook().get_auth_params()

    def create_one(_: int) -> str:
        hook = AdobeExperiencePlatformHook(retry_policy=RetryPolicy(backoff_base=0.05))
        return hook.create_base_connection("race", SPEC, params)["id"]

    with ThreadPoolExecutor(16) as pool:
        ids = list(pool.map(create_one, range(16)))
    survivors = [cid for cid, c in emulator.store.connections.items() if c["name"] == "race"]
    assert len(set(ids)) == 1 and survivors == [ids[0]]
    posts = len([r for r in emulator.requests if r.method == "POST" and r.path == f"{FS}/connections"])
    deletes = len([r for r in emulator.requests if r.method == "DELETE"])
    assert posts == 16 and deletes == 15


def _init_worker(barrier) -> None:  # type: ignore[no-untyped-def]
    import signal

    # A forked worker inherits whatever SIGTERM handler the test process has (Airflow installs one once a DAG
    # has run in it), and would then survive the pool's terminate and hang the test process at exit.
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    _posts_wait_at(barrier)  # this worker process's own copy of the class


def _execute_operator_in_a_worker_process(args: tuple[str, str, str]) -> str:
    """One 'worker': its own process, token caches and HTTP session, running the operator."""
    import os

    from airflow_provider_zoho_aep.client import flow_service
    from airflow_provider_zoho_aep.hooks import zoho_crm as zoho
    from airflow_provider_zoho_aep.operators.base_connection import AEPCreateZohoCRMBaseConnectionOperator

    aep_json, zoho_json, name = args
    os.environ["AIRFLOW_CONN_AEP_DEFAULT"] = aep_json
    os.environ["AIRFLOW_CONN_ZOHO_CRM_DEFAULT"] = zoho_json
    flow_service.clear_token_cache()
    zoho.clear_token_cache()

    class TI:
        def xcom_push(self, key: str, value: object) -> None:
            pass

    op = AEPCreateZohoCRMBaseConnectionOperator(task_id="create", name=name)
    return op.execute({"ti": TI()})  # type: ignore[arg-type]


def test_sixteen_worker_processes_running_the_operator_converge_on_one_base_connection(emulator):
    import json
    import multiprocessing

    from tests.conftest import aep_connection, zoho_connection

    context = multiprocessing.get_context("fork")
    args = (json.dumps(aep_connection(emulator.url)), json.dumps(zoho_connection(emulator.url)), "process race")
    with context.Pool(16, initializer=_init_worker, initargs=(context.Barrier(16),)) as pool:
        ids = pool.map(_execute_operator_in_a_worker_process, [args] * 16, chunksize=1)
        pool.close()
        pool.join()
    survivors = [cid for cid, c in emulator.store.connections.items() if c["name"] == "process race"]
    assert len(set(ids)) == 1 and survivors == [ids[0]]
    posts = len([r for r in emulator.requests if r.method == "POST" and r.path == f"{FS}/connections"])
    assert posts == 16  # the race certainly happened: sixteen creates, fifteen deleted again


def test_threads_starting_on_an_empty_token_cache_share_one_ims_request(emulator):
    barrier = threading.Barrier(12)

    def first_call(_: int) -> None:
        hook = AdobeExperiencePlatformHook()
        hook.validate_connection()
        barrier.wait()
        hook.find_base_connections("x")

    with ThreadPoolExecutor(12) as pool:
        list(pool.map(first_call, range(12)))
    assert ims_token_requests(emulator) == 1
