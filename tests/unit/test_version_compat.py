"""The compatibility module: the only place the package imports Airflow from, and the version floor."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

import airflow_provider_zoho_aep
from airflow_provider_zoho_aep import AIRFLOW_FLOOR, airflow_version_tuple, check_airflow_floor
from airflow_provider_zoho_aep import version_compat as compat
from tests.conftest import REPO

PACKAGE = Path(airflow_provider_zoho_aep.__file__).parent


def airflow_imports(path: Path) -> list[str]:
    """Every ``import airflow...`` / ``from airflow... import`` in ``path``, wherever it sits (also in functions)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        else:
            continue
        found += [f"{path.relative_to(PACKAGE)}:{node.lineno} {n}" for n in names
                  if n == "airflow" or n.startswith("airflow.")]
    return found


def test_only_the_compat_module_imports_airflow():
    modules = sorted(PACKAGE.rglob("*.py"))
    assert len(modules) > 20
    # Optional providers (OpenLineage) bring their own compatibility layer: only core Airflow goes through ours.
    direct = [hit for path in modules if path.name != "version_compat.py" for hit in airflow_imports(path)
              if " airflow.providers." not in hit]
    assert direct == []
    assert airflow_imports(PACKAGE / "version_compat.py")  # the check itself can see imports


def test_the_check_sees_a_lazy_import_inside_a_function(tmp_path):
    sample = PACKAGE / "_sample_for_test.py"
    try:
        sample.write_text("def f():\n    from airflow.sdk.log import mask_secret\n    import airflow.models\n")
        assert [hit.split(" ")[1] for hit in airflow_imports(sample)] == ["airflow.sdk.log", "airflow.models"]
    finally:
        sample.unlink()


@pytest.mark.parametrize(("version", "expected"), [("3.0.6", (3, 0, 6)), ("3.2.0rc1", (3, 2, 0)),
                                                    ("3.1.8.dev0+abc", (3, 1, 8)), ("3.3", (3, 3, 0))])
def test_version_tuples(version, expected):
    assert airflow_version_tuple(version) == expected


@pytest.mark.parametrize("version", ["2.11.0", "3.0.5", "3.0.0"])
def test_an_airflow_below_the_floor_is_refused_naming_both_versions(version):
    with pytest.raises(RuntimeError, match=rf"needs Apache Airflow 3\.0\.6 or newer, but Airflow {version}"):
        check_airflow_floor(version)


def test_the_running_airflow_is_at_or_above_the_floor_and_the_flags_agree():
    check_airflow_floor(compat.AIRFLOW_VERSION)
    v = airflow_version_tuple(compat.AIRFLOW_VERSION)
    assert compat.AIRFLOW_V_3_0_PLUS
    assert (v >= (3, 1, 0)) == compat.AIRFLOW_V_3_1_PLUS
    assert (v >= (3, 2, 0)) == compat.AIRFLOW_V_3_2_PLUS
    assert (v >= (3, 3, 0)) == compat.AIRFLOW_V_3_3_PLUS


def test_package_import_under_an_old_airflow_raises_runtime_error():
    """A fresh interpreter whose ``airflow`` says 2.11.0: importing the package fails with the clear error."""
    code = (
        "import sys, types\n"
        "sys.modules['airflow'] = types.SimpleNamespace(__version__='2.11.0')\n"
        "import airflow_provider_zoho_aep\n"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=60)
    assert run.returncode != 0
    assert "RuntimeError: airflow-provider-zoho-aep needs Apache Airflow 3.0.6 or newer, but Airflow 2.11.0" \
        in run.stderr


def test_the_floor_in_pyproject_is_the_floor_in_the_code():
    floors = re.findall(r'"apache-airflow>=([^"]+)"', (REPO / "pyproject.toml").read_text())
    assert floors == [".".join(map(str, AIRFLOW_FLOOR))]


def test_every_name_resolves_on_this_airflow():
    for name in compat.__all__:
        assert getattr(compat, name) is not None, name
    assert compat.BaseTrigger.__module__ == "airflow.triggers.base"
    with pytest.raises(AttributeError):
        compat.NoSuchName  # noqa: B018


async def test_amask_secret_masks_without_blocking_the_loop(monkeypatch):
    import airflow.sdk.log

    seen: list[str] = []
    monkeypatch.delattr(airflow.sdk.log, "amask_secret", raising=False)  # the path of Airflow < 3.3
    monkeypatch.setattr(airflow.sdk.log, "mask_secret", lambda value, name=None: seen.append(value))
    await compat.amask_secret("s3cr3t-value")
    assert seen == ["s3cr3t-value"]
