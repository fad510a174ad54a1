"""Every IMS and Zoho token minted is masked, and none is ever written to a log, at any level.

The emulator mints opaque tokens here and lists every token it minted, so the checks cover each token any
part of the run obtained (including the Zoho access token, which travels only inside a create body). A
JWT-shaped token would not do: Airflow's log processors rewrite ``eyJ…`` on their own.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator

import pytest

from airflow_provider_zoho_aep.hooks.aep import AdobeExperiencePlatformHook
from airflow_provider_zoho_aep.hooks.zoho_crm import ZohoCRMHook
from airflow_provider_zoho_aep.sensors.dataflow_run import AEPDataflowRunSensor
from airflow_provider_zoho_aep.triggers.dataflow_run import AEPDataflowRunTrigger
from emulator import Emulator
from tests.integration.test_pipeline import context, make_base, make_flow, make_source, make_target

PACKAGE = "airflow_provider_zoho_aep"


@pytest.fixture(scope="module")
def emulator_server() -> Iterator[Emulator]:
    with Emulator(run_duration=0.3, token_format="opaque") as emu:
        yield emu


def minted_since(emulator: Emulator, before: dict[str, list[str]]) -> dict[str, list[str]]:
    now = emulator.minted_tokens()
    return {kind: now[kind][len(before[kind]):] for kind in now}


def test_every_token_minted_is_masked(emulator: Emulator) -> None:
    try:  # Airflow 3.1+; 3.0 keeps the masker in the task SDK's execution_time package
        from airflow.sdk._shared.secrets_masker import redact
    except ImportError:
        from airflow.sdk.execution_time.secrets_masker import redact  # type: ignore[no-redef]

    before = emulator.minted_tokens()
    make_base("masked")  # an IMS token, and a Zoho access token for the create body
    assert ZohoCRMHook().test_connection()[0]  # a second Zoho access token
    minted = minted_since(emulator, before)
    assert len(minted["ims"]) == 1 and len(minted["zoho"]) == 2
    for token in minted["ims"] + minted["zoho"]:
        assert not token.startswith("eyJ")  # nothing Airflow would hide by its shape alone
        assert redact(f"token={token}") == "token=***", f"{token[:12]}… was never given to mask_secret"


async def test_no_token_in_any_log_record_at_debug(
    emulator: Emulator, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    caplog.set_level(logging.DEBUG)  # the root logger: every logger, ours and the HTTP stack's
    for name in [PACKAGE, *(n for n in logging.root.manager.loggerDict if n.startswith(PACKAGE + "."))]:
        logging.getLogger(name).setLevel(logging.DEBUG)
    before = emulator.minted_tokens()

    assert AdobeExperiencePlatformHook().test_connection()[0]
    assert ZohoCRMHook().test_connection()[0]
    flow_id = make_flow(make_source(make_base("logged")), make_target())
    AEPDataflowRunSensor(task_id="w", flow_id=flow_id, poke_interval=0.05, timeout=10).execute(context())
    trigger = AEPDataflowRunTrigger(flow_id=flow_id, aep_conn_id="aep_default", poll_interval=0.05,
                                    end_time=time.time() + 10)
    assert (await trigger.run().__anext__()).payload["status"] == "success"

    minted = minted_since(emulator, before)
    assert minted["ims"] and minted["zoho"]
    assert any(r.name.startswith(PACKAGE) for r in caplog.records)  # the capture does see our loggers
    out, err = capsys.readouterr()
    texts = [r.getMessage() + (r.exc_text or "") for r in caplog.records] + [out, err]
    leaks = [(token[:12] + "…", text[:200]) for token in minted["ims"] + minted["zoho"] for text in texts
             if token in text]
    assert leaks == []
