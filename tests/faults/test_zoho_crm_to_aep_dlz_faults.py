"""Faults through the whole window task: ``ZohoCRMToAEPDataLandingZoneOperator`` on the emulator, record for record.

Each fault is injected into the emulator (its blob endpoint, the landing zone, Flow Service, Zoho CRM) while the
real operator exports a six-hour window of Leads, uploads it, starts the on-demand run and waits. Every test
then compares the rows the emulated dataset holds, by Zoho ID and content, with the Leads modified in the
window: nothing lost, nothing doubled; where the fault fails the task, an Airflow retry after it clears lands
the window exactly once.
"""

from __future__ import annotations

import csv
import functools
import io
from datetime import timedelta
from typing import Any

import pytest

from airflow_provider_zoho_aep.client.errors import AEPAPIError
from airflow_provider_zoho_aep.client.landing_zone import LandingZoneError
from airflow_provider_zoho_aep.hooks.aep import AdobeExperiencePlatformHook
from airflow_provider_zoho_aep.version_compat import AirflowException
from emulator import Emulator, Fault
from tests.faults.test_fault_matrix import faults
from tests.integration import test_zoho_crm_to_aep_dlz as dlz
from tests.integration.test_pipeline import DATASET_ID
from tests.integration.test_zoho_crm_to_aep_dlz import DAY, MAPPED, expected, landed, run_window

#: The transfer's integration set-up: target, mapping set, DLZ source connection, CloudStorageToAEP flow.
pipeline = dlz.pipeline

HOURS = 6
#: Small blocks, so the window's file (about 20 KB) goes up in about ten blocks and a fault can hit the middle.
BLOCK_SIZE = 2048
RUNS = r"^/data/foundation/flowservice/runs$"
RUN = r"^/data/foundation/flowservice/runs/[^/]+$"
READ = r"^/crm/bulk/v8/read$"
#: The Flow Service faults a run's creation and its polling must survive (the fault matrix's, minus a slow
#: answer: the operator's hook keeps the Connection's default timeout).
FLOW_FAULTS = {k: v for k, v in faults().items() if k != "slow answer"}


@pytest.fixture
def small_blocks(monkeypatch: pytest.MonkeyPatch) -> None:
    """The operator's uploader with small blocks and short SDK back-off (its own code path otherwise)."""
    real = AdobeExperiencePlatformHook.landing_zone_uploader

    @functools.wraps(real)
    def uploader(self: AdobeExperiencePlatformHook, **options: Any) -> Any:
        return real(self, **{"block_size": BLOCK_SIZE, "sdk_backoff": 0.05, **options})

    monkeypatch.setattr(AdobeExperiencePlatformHook, "landing_zone_uploader", uploader)


def window(emulator: Emulator) -> list[tuple[str, ...]]:
    want = expected(emulator, DAY, DAY + timedelta(hours=HOURS))
    assert len(want) > 50  # enough records that a lost or doubled one shows
    return want


def run(flow: str, try_: str = "1") -> dict[str, Any]:
    result, ti = run_window(DAY, hours=HOURS, try_=try_, flow_id=flow)
    assert ti.xcom["run_id"] == result["run_id"]
    return result


def runs_of(emulator: Emulator, flow: str) -> list[dict[str, Any]]:
    """The on-demand runs of the flow (the run its creation started, which finds no file, is not counted)."""
    return [r for r in emulator.store.runs.values() if r.get("flowId") == flow and r["params"]]


def blob_puts(emulator: Emulator) -> list[Any]:
    return [r for r in emulator.requests if r.method == "PUT" and r.path.startswith("/blob/")]


def assert_lands_once(emulator: Emulator, flow: str, result: dict[str, Any]) -> None:
    """The dataset holds exactly the window's records, once each (content included), from one batch."""
    want = window(emulator)
    assert landed(emulator, DATASET_ID) == want
    assert result["records_exported"] in (len(want), None) and result["output_record_count"] == len(want)
    assert len(emulator.dataset_batches(DATASET_ID)) == 1
    # The landing zone holds the window's file once, whole: the same records, each once.
    (blob,) = emulator.blob_store.list("zoho/Leads/")
    rows = csv.DictReader(io.StringIO(blob[1].data.decode("utf-8")))
    assert sorted(tuple(row[c] for c in MAPPED) for row in rows) == want


# -- the landing zone's blob store ---------------------------------------------------------------------------


def test_a_sas_expiring_mid_upload_is_replaced_and_the_window_lands_once(
    emulator: Emulator, pipeline: dict[str, str], small_blocks: None
) -> None:
    emulator.expire_sas_tokens(after_blocks=4)
    result = run(pipeline["flow"])
    assert_lands_once(emulator, pipeline["flow"], result)
    refused = [r for r in emulator.requests if r.path.startswith("/blob/") and r.status == 403]
    assert refused, "the SAS did not expire during the upload"
    # Fresh credentials by a second read (Adobe hands out a new token once the old one expired), no refresh.
    assert emulator.store.dlz.credential_calls.count("get") >= 2
    assert "refresh" not in emulator.store.dlz.credential_calls
    # The file was sent again whole with the fresh token (every block, then the one commit), never committed with
    # the refused one: a file is at most one Bulk Read page, so a file is what a refusal costs.
    blocks = -(-len(emulator.blob_store.list("zoho/Leads/")[0][1].data) // BLOCK_SIZE)
    puts = blob_puts(emulator)
    commits = [r for r in puts if r.query.get("comp") == ["blocklist"]]
    fresh = commits[-1].query["sig"]
    again = {r.query["blockid"][0] for r in puts if r.query.get("comp") == ["block"] and r.query["sig"] == fresh}
    assert len(commits) == 1 and fresh != refused[0].query["sig"]
    assert len(again) == blocks > 4
    assert len(runs_of(emulator, pipeline["flow"])) == 1


@pytest.mark.parametrize("where", ["block", "commit"])
def test_a_reset_in_the_upload_is_retried_and_the_window_lands_once(
    emulator: Emulator, pipeline: dict[str, str], small_blocks: None, where: str
) -> None:
    if where == "block":
        # The socket closes without an answer, twice, while blocks are being staged.
        emulator.add_fault(Fault(method="PUT", path="^/blob/", query="comp=block(&|$)", kind="reset", count=2))
    else:
        # The commit is applied, then its answer is lost: the retried commit must not make a second blob,
        # nor fail the upload of a file that is whole in the store.
        emulator.add_fault(Fault(method="PUT", path="^/blob/", query="comp=blocklist", kind="commit_then_drop"))
    result = run(pipeline["flow"])
    assert not emulator.faults._faults  # the fault fired
    assert_lands_once(emulator, pipeline["flow"], result)
    assert len(runs_of(emulator, pipeline["flow"])) == 1


def test_403_from_the_landing_zone_is_a_clear_error_and_a_retry_lands_the_window_once(
    emulator: Emulator, pipeline: dict[str, str]
) -> None:
    emulator.add_fault(Fault(method="*", path="^/blob/", status=403, count=-1))
    with pytest.raises(LandingZoneError, match=r"403.*Manage Sources") as caught:
        run(pipeline["flow"])
    tokens = [t.token for t in emulator.blob_store.tokens.values()]
    text = str(caught.value) + repr(caught.value)
    assert tokens and not any(t in text or t.split("sig=")[1] in text for t in tokens)
    assert emulator.blob_store.blobs == {} and landed(emulator, DATASET_ID) == []
    assert not [r for r in emulator.requests if r.method == "POST" and r.path.endswith("/runs")]

    emulator.clear_faults()
    result = run(pipeline["flow"], try_="2")
    assert_lands_once(emulator, pipeline["flow"], result)
    assert len(runs_of(emulator, pipeline["flow"])) == 1


# -- Flow Service: the run's creation and its polling ---------------------------------------------------------


@pytest.mark.parametrize("fault_name", list(FLOW_FAULTS))
def test_flow_service_faults_on_the_run_creation_land_the_window_once(
    emulator: Emulator, pipeline: dict[str, str], fault_name: str
) -> None:
    emulator.add_fault(Fault(method="POST", path=RUNS, count=2 if fault_name.startswith("429") else 1,
                             **FLOW_FAULTS[fault_name]))
    result = run(pipeline["flow"])
    assert not emulator.faults._faults  # the fault fired
    assert_lands_once(emulator, pipeline["flow"], result)
    # One run: an ambiguous POST was looked up before any retry, never blindly sent again.
    assert len(runs_of(emulator, pipeline["flow"])) == 1


@pytest.mark.parametrize("fault_name", list(FLOW_FAULTS))
def test_flow_service_faults_on_the_run_polling_land_the_window_once(
    emulator: Emulator, pipeline: dict[str, str], fault_name: str
) -> None:
    emulator.add_fault(Fault(method="GET", path=RUN, count=2, **FLOW_FAULTS[fault_name]))
    result = run(pipeline["flow"])
    assert not emulator.faults._faults
    assert_lands_once(emulator, pipeline["flow"], result)
    assert len(runs_of(emulator, pipeline["flow"])) == 1


# -- Zoho CRM ----------------------------------------------------------------------------------------------


def test_exhausted_zoho_credits_are_a_clear_error_nothing_is_uploaded_and_a_retry_lands_once(
    emulator: Emulator, pipeline: dict[str, str]
) -> None:
    emulator.configure_crm(credit_limit=0)
    with pytest.raises(AEPAPIError, match=r"(?i)credit") as caught:
        run(pipeline["flow"])
    assert caught.value.service and "zoho" in caught.value.service.lower()
    assert not blob_puts(emulator) and emulator.blob_store.blobs == {}
    assert not [r for r in emulator.requests if r.method == "POST" and r.path.endswith("/runs")]
    assert landed(emulator, DATASET_ID) == []

    emulator.configure_crm(credit_limit=None)
    result = run(pipeline["flow"], try_="2")
    assert_lands_once(emulator, pipeline["flow"], result)


# -- a run that fails ----------------------------------------------------------------------------------------


def test_a_failed_run_fails_the_task_with_adobes_error_and_a_retry_lands_once(
    emulator: Emulator, pipeline: dict[str, str]
) -> None:
    emulator.fail_runs = True
    with pytest.raises(AirflowException) as caught:
        run(pipeline["flow"])
    (failed,) = runs_of(emulator, pipeline["flow"])
    # Adobe's error code and message, as the run shows them.
    assert "CONNECTOR-2001-500" in str(caught.value)
    assert "Error reading files from the landing zone" in str(caught.value)
    assert failed["id"] in str(caught.value)
    assert landed(emulator, DATASET_ID) == []
    puts = len(blob_puts(emulator))

    emulator.fail_runs = False
    result = run(pipeline["flow"], try_="2")
    assert_lands_once(emulator, pipeline["flow"], result)
    # The identical file was not sent again (its stamp, which the new run's window covers, stayed).
    assert len(blob_puts(emulator)) == puts
    assert len(runs_of(emulator, pipeline["flow"])) == 2 and result["run_id"] != failed["id"]
