"""ZohoCRMExportOperator with a mocked hook: the window, the run folder, the manifest, the log."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from unittest import mock

import pytest

from airflow_provider_zoho_aep.client.errors import ConfigurationError
from airflow_provider_zoho_aep.operators.zoho_export import EXPORT_DIR_ENV, ZohoCRMExportOperator

T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)
T1 = T0 + timedelta(hours=1)


def context(start: datetime | None = T0, end: datetime | None = T1, map_index: int = -1) -> dict[str, Any]:
    ti = SimpleNamespace(dag_id="my_dag", run_id="scheduled__2026-01-01T00:00:00+00:00", task_id="export",
                         map_index=map_index)  # fmt: skip
    return {"ti": ti, "data_interval_start": start, "data_interval_end": end}


def manifest(out_dir: str, records: int) -> dict[str, Any]:
    files = [{"path": f"{out_dir}/Leads.csv", "records": records, "bytes": 10, "sha256": "ab"}] if records else []
    return {"module": "Leads", "window_start": T0.isoformat(), "window_end": T1.isoformat(), "fields": ["id"],
            "records": records, "bytes": 10 if records else 0, "files": files}  # fmt: skip


def run(op: ZohoCRMExportOperator, ctx: dict[str, Any], records: int = 3) -> tuple[dict, mock.MagicMock]:
    hook = mock.MagicMock()
    hook.export_modified_records.side_effect = lambda module, start, end, *, fields, out_dir: manifest(out_dir, records)
    with mock.patch("airflow_provider_zoho_aep.operators.zoho_export.ZohoCRMHook", return_value=hook):
        return op.execute(ctx), hook


def test_window_defaults_to_the_data_interval_and_folder_is_run_scoped(tmp_path: Path) -> None:
    op = ZohoCRMExportOperator(task_id="export", module="Leads", fields=["Email"], base_dir=str(tmp_path))
    result, hook = run(op, context())
    args = hook.export_modified_records.call_args
    assert args.args == ("Leads", T0, T1)
    out_dir = Path(args.kwargs["out_dir"])
    assert out_dir == tmp_path / "my_dag" / "scheduled__2026-01-01T00_00_00_00_00" / "export"
    assert out_dir.is_dir()
    assert args.kwargs["fields"] == ["Email"]
    assert result["records"] == 3


def test_mapped_instances_get_their_own_folder(tmp_path: Path) -> None:
    op = ZohoCRMExportOperator(task_id="export", module="Leads", base_dir=str(tmp_path))
    _, hook = run(op, context(map_index=2))
    assert Path(hook.export_modified_records.call_args.kwargs["out_dir"]).name == "2"


def test_a_retry_starts_from_an_empty_folder(tmp_path: Path) -> None:
    op = ZohoCRMExportOperator(task_id="export", module="Leads", base_dir=str(tmp_path))
    _, hook = run(op, context())
    folder = Path(hook.export_modified_records.call_args.kwargs["out_dir"])
    (folder / "left-over.csv").write_text("from an earlier try")
    run(op, context())
    assert list(folder.iterdir()) == []


def test_base_dir_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(EXPORT_DIR_ENV, str(tmp_path / "env"))
    _, hook = run(ZohoCRMExportOperator(task_id="export", module="Leads"), context())
    assert str(hook.export_modified_records.call_args.kwargs["out_dir"]).startswith(str(tmp_path / "env"))


def test_explicit_window_as_rendered_strings(tmp_path: Path) -> None:
    op = ZohoCRMExportOperator(task_id="export", module="Leads", window_start="2026-01-01T05:30:00+05:30",
                               window_end="2026-01-01T01:00:00Z", base_dir=str(tmp_path))  # fmt: skip
    _, hook = run(op, context(None, None))
    assert hook.export_modified_records.call_args.args == ("Leads", T0, T1)


@pytest.mark.parametrize(("start", "end", "field"), [(T0, None, "window_end"), (None, T1, "window_start")])
def test_one_bound_alone_is_refused(tmp_path: Path, start: Any, end: Any, field: str) -> None:
    op = ZohoCRMExportOperator(task_id="e", module="Leads", window_start=start, window_end=end, base_dir=str(tmp_path))
    with pytest.raises(ConfigurationError) as info:
        run(op, context())
    assert info.value.field == field


def test_a_run_without_data_interval_needs_explicit_bounds(tmp_path: Path) -> None:
    op = ZohoCRMExportOperator(task_id="export", module="Leads", base_dir=str(tmp_path))
    with pytest.raises(ConfigurationError, match="no data interval") as info:
        run(op, context(None, None))
    assert info.value.field == "window_start and window_end"
    assert list(tmp_path.iterdir()) == []


def test_bad_arguments_fail_before_the_hook_and_before_any_folder(tmp_path: Path) -> None:
    op = ZohoCRMExportOperator(task_id="export", module="Le ads", base_dir=str(tmp_path))
    with pytest.raises(ConfigurationError):
        run(op, context())
    assert list(tmp_path.iterdir()) == []


def test_an_empty_window_says_so_in_the_log(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    op = ZohoCRMExportOperator(task_id="export", module="Leads", base_dir=str(tmp_path))
    with caplog.at_level(logging.INFO):
        result, _ = run(op, context(), records=0)
    assert result["records"] == 0 and result["files"] == []
    assert "nothing to export, no file written" in caplog.text + capsys.readouterr().out


def test_template_fields_are_assigned_verbatim() -> None:
    op = ZohoCRMExportOperator(
        task_id="e", module="{{ params.m }}", fields="{{ params.f }}", window_start="{{ data_interval_start }}",
        window_end="{{ x }}", base_dir="{{ b }}",
    )
    for name in op.template_fields:
        assert getattr(op, name) is not None
    assert op.module == "{{ params.m }}" and op.window_start == "{{ data_interval_start }}"
