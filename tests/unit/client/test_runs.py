"""The one interpretation of a Flow Service run."""

from __future__ import annotations

from typing import Any

import pytest

from airflow_provider_zoho_aep.client import runs


def run(status: str | None, **extra: Any) -> dict[str, Any]:
    metrics: dict[str, Any] = {"statusSummary": {"status": status} if status is not None else {}}
    return {"id": "r1", "flowId": "f1", "createdAt": 1, "metrics": metrics, **extra}


@pytest.mark.parametrize("status", ["queued", "Queued", "inProgress", "IN_PROGRESS", "in-progress", "scheduled",
                                    "pending", "running", None, ""])
def test_running(status: str | None) -> None:
    assert runs.outcome(run(status)) == "running"


@pytest.mark.parametrize("status", ["success", "Success", "SUCCESS", "succeeded"])
def test_success(status: str) -> None:
    assert runs.outcome(run(status)) == "success"


@pytest.mark.parametrize("status", ["failed", "Failed", "FAILED", "partialSuccess", "PARTIAL_SUCCESS",
                                    "PARTIAL_FAILURE", "cancelled", "COMPLETED", "somethingNew"])
def test_anything_else_is_failed(status: str) -> None:
    assert runs.outcome(run(status)) == "failed"


def test_run_without_metrics_is_running() -> None:
    assert runs.outcome({"id": "r"}) == "running"
    assert runs.outcome({"id": "r", "metrics": "garbage"}) == "running"


def test_summary_counts() -> None:
    item = run("success")
    item["metrics"]["recordSummary"] = {"inputRecordCount": 120, "outputRecordCount": 118, "failedRecordCount": 2}
    assert runs.summary(item) == {
        "run_id": "r1", "status": "success", "input_record_count": 120, "output_record_count": 118,
        "failed_record_count": 2,
    }


def test_counts_fall_back_to_activities_under_either_spelling() -> None:
    for key in ("activities", "activites"):
        item = run("success", **{key: [{"recordSummary": {"inputRecordCount": 5, "outputRecordCount": 5}}]})
        assert runs.record_counts(item) == {
            "input_record_count": 5, "output_record_count": 5, "failed_record_count": None,
        }
    assert runs.record_counts(run("success")) == {
        "input_record_count": None, "output_record_count": None, "failed_record_count": None,
    }


def test_errors_from_status_summary_and_activities() -> None:
    item = run("Failed")
    item["metrics"]["statusSummary"]["errors"] = [{"code": "CONNECTOR-2001-500", "message": "read failed"}]
    item["activites"] = [
        {"statusSummary": {"errors": [
            {"code": "CONNECTOR-2001-500", "message": "read failed"},  # duplicate, listed once
            {"code": "MAPPER-3700-400", "detail": "bad mapping"},
            "not a dict",
        ]}},
    ]
    assert runs.errors(item) == ["CONNECTOR-2001-500: read failed", "MAPPER-3700-400: bad mapping"]
    item["metrics"]["recordSummary"] = {"inputRecordCount": 10, "failedRecordCount": 10}
    message = runs.failure_message("f1", item)
    assert "run r1 ended with status 'Failed'" in message
    assert "10 of 10 records failed" in message
    assert "CONNECTOR-2001-500: read failed; MAPPER-3700-400: bad mapping" in message


def test_failure_message_without_details() -> None:
    assert "no error details reported" in runs.failure_message("f1", run("cancelled"))


def test_errors_are_bounded() -> None:
    item = run("Failed")
    item["metrics"]["statusSummary"]["errors"] = [{"code": f"E{i}", "message": "x" * 900} for i in range(50)]
    found = runs.errors(item)
    assert len(found) == runs.MAX_ERRORS and all(len(line) <= 500 for line in found)


def test_latest_of_a_flow() -> None:
    older = {"id": "old", "flowId": "f1", "createdAt": 1, "metrics": {"statusSummary": {"status": "success"}}}
    newer = {"id": "new", "flowId": "f1", "createdAt": 2, "metrics": {"statusSummary": {"status": "queued"}}}
    other = {"id": "x", "flowId": "f2", "createdAt": 3, "metrics": {"statusSummary": {"status": "success"}}}
    assert runs.latest([older, newer]) == newer
    assert runs.latest([]) is None
    assert runs.latest([older, other, newer]) == other
    assert runs.latest([older, other, newer], "f1") == newer and runs.outcome(newer) == "running"
    assert runs.latest([other], "f1") is None


def test_errors_where_adobe_puts_them_on_a_run() -> None:
    item = run("failed")
    item["metrics"]["statusSummary"]["extensions"] = {
        "manifest": {"fileInfo": "https://example/manifest"},
        "errors": [{"code": "CONNECTOR-1001-500", "message": "Error occurred at promotion activity."}],
    }
    item["metrics"]["recordSummary"] = {
        "inputRecordCount": 10, "outputRecordCount": 7, "failedRecordCount": 3,
        "failedInfo": [{"errorCode": "MAPPER-3700-400", "errorMessage": "bad date", "count": 3}],
        "skippedInfo": {"errors": [{"code": "INGEST-1212-400", "message": "duplicate"}]},
    }
    item["activities"] = [{"statusSummary": {"extensions": [{"code": "CONNECTOR-1001-500",
                                                             "message": "Error occurred at promotion activity."}]}}]
    assert runs.errors(item) == [
        "CONNECTOR-1001-500: Error occurred at promotion activity.",
        "MAPPER-3700-400: bad date (3 records)",
        "INGEST-1212-400: duplicate",
    ]
    message = runs.failure_message("f1", item)
    assert "3 of 10 records failed" in message and "MAPPER-3700-400" in message
    assert "no error details" not in message


def test_a_failed_run_without_any_error_says_so() -> None:
    assert runs.failure_message("f1", run("failed")).endswith("no error details reported")
