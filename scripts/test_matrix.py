"""``make test-matrix``: the test suites and the deferred example DAG on every supported Airflow 3 line.

For each selected line (all by default; ``MATRIX="3.0 3.3" make test-matrix`` or arguments pick some) and each
Python in :data:`PYTHONS`:

1. a venv under ``.matrix/`` (uv) with that Airflow and the pins it needs to run at all (see :data:`LINES`);
2. the package installed from a freshly built wheel, not editable;
3. the unit, integration, fault and e2e suites, run from a copy of ``tests/``, ``emulator/``, ``dags/`` and
   ``scripts/`` without the package source beside them, so the tests import the installed wheel;
4. ``scripts/deferred_dag_run.py``: the example DAG with 40-second dataflow runs, whose sensor defers, is
   resumed by its trigger and succeeds.

``--prepare`` only builds the venvs (with the wheel installed); ``make test-ui-line`` runs the browser suite's
connection forms on one of them.

``MATRIX_JOBS=2`` runs the selected lines side by side (CI does, for the oldest and newest line).

Results are merged into ``docs/test-matrix.json`` (one entry per Airflow and Python pair) and the README's
"Supported versions" table is regenerated from that file. Exit status 0 only when every selected line passed.
"""

from __future__ import annotations

import json
import os
import platform
import re
import shutil
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
MATRIX_DIR = REPO / ".matrix"
RESULTS = REPO / "docs" / "test-matrix.json"
README = REPO / "README.md"
SUITES = ["tests/unit", "tests/integration", "tests/faults", "tests/e2e"]
STAGED = ["tests", "emulator", "dags", "scripts", "pyproject.toml"]

#: Newest patch release of each Airflow 3 minor line on PyPI, and the pins without which that release, as
#: pip resolves it today, cannot run a one-task DAG (newer web libraries than it was released with).
LINES: dict[str, dict[str, object]] = {
    # 3.0.6 and 3.1.8 set an attribute on MultiFernet, which cryptography 51 made a Rust class without one: every
    # Connection password then fails to decrypt ("'MultiFernet' object has no attribute 'is_encrypted'").
    "3.0": {"airflow": "3.0.6", "pins": ["fastapi==0.117.1", "cadwyn==5.4.6", "cryptography==50.0.2"]},
    "3.1": {"airflow": "3.1.8", "pins": ["cryptography==50.0.2"]},
    "3.2": {"airflow": "3.2.2", "pins": ["fastapi==0.136.3", "svcs==25.1.0"]},
    "3.3": {"airflow": "3.3.2", "pins": []},
}
#: Python versions (``MATRIX_PYTHONS="3.11 3.12"`` overrides); each found by uv or under ~/.pyenv/versions.
PYTHONS = os.environ.get("MATRIX_PYTHONS", "3.11").split()
START, END = "<!-- test-matrix:start -->", "<!-- test-matrix:end -->"
#: pytest-xdist workers per line (``MATRIX_PYTEST_WORKERS``); lines run side by side (``MATRIX_JOBS=2``) want 1.
PYTEST_WORKERS = os.environ.get("MATRIX_PYTEST_WORKERS", "2")


def log(message: str) -> None:
    print(f"[test-matrix {time.strftime('%H:%M:%S')}] {message}", flush=True)


def uv() -> str:
    local = REPO / ".venv" / "bin" / "uv"
    return str(local) if local.exists() else (shutil.which("uv") or sys.exit("uv not found: run make install"))


def find_python(version: str) -> str:
    """An interpreter for ``version``: what uv finds, else the newest pyenv install of it."""
    found = subprocess.run([uv(), "python", "find", version], capture_output=True, text=True)
    if found.returncode == 0 and found.stdout.strip():
        return found.stdout.strip()
    candidates = sorted(Path.home().glob(f".pyenv/versions/{version}.*/bin/python{version}"))
    if not candidates:
        sys.exit(f"no Python {version} found (uv python find {version}, ~/.pyenv/versions)")
    return str(candidates[-1])


def clean_env(**extra: str) -> dict[str, str]:
    """The caller's environment without anything that would point a child at this checkout or its venv."""
    env = {k: v for k, v in os.environ.items()
           if k not in {"PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME"} and not k.startswith("AIRFLOW")}
    env.update(extra)
    return env


def test_requirements() -> list[str]:
    """The ``test`` extra of pyproject.toml, minus the linters (they check the source, not the install)."""
    text = (REPO / "pyproject.toml").read_text()
    block = re.search(r"^test = \[(.*?)^\]", text, re.S | re.M)
    assert block, "no test extra in pyproject.toml"
    reqs = re.findall(r'"([^"]+)"', block.group(1))
    return [r for r in reqs if not re.match(r"(ruff|mypy|types-)", r)]


def build_wheel() -> Path:
    dist = MATRIX_DIR / f"dist-{os.getpid()}"  # one per invocation: two invocations may run side by side
    shutil.rmtree(dist, ignore_errors=True)
    subprocess.run([uv(), "build", "--wheel", "--out-dir", str(dist), str(REPO)], check=True,
                   capture_output=True, text=True)
    (wheel,) = dist.glob("airflow_provider_zoho_aep-*.whl")
    return wheel


def ensure_venv(line: str, python: str, wheel: Path) -> Path:
    spec = LINES[line]
    venv = MATRIX_DIR / f"airflow-{line}-py{python}"
    wanted = json.dumps({"airflow": spec["airflow"], "pins": spec["pins"], "test": test_requirements()})
    stamp = venv / ".matrix-spec"
    if not (stamp.exists() and stamp.read_text() == wanted):
        log(f"Airflow {spec['airflow']} on Python {python}: creating {venv.relative_to(REPO)}")
        subprocess.run([uv(), "venv", "--clear", "-q", "--python", find_python(python), str(venv)], check=True)
    requirements = [f"apache-airflow=={spec['airflow']}", *spec["pins"], *test_requirements(), str(wheel)]  # type: ignore[misc]
    # --compile-bytecode: each Airflow process the suites start would otherwise compile Airflow from source
    # again where PYTHONDONTWRITEBYTECODE is set (~6 s a process).
    subprocess.run([uv(), "pip", "install", "-q", "--compile-bytecode", "--python", str(venv / "bin" / "python"),
                    "--reinstall-package", "airflow-provider-zoho-aep", *requirements], check=True)
    stamp.write_text(wanted)
    return venv


def stage(line: str, python: str) -> Path:
    """A copy of what the tests need, without the package source: ``import airflow_provider_zoho_aep`` then
    finds only the installed wheel."""
    where = MATRIX_DIR / f"stage-{line}-py{python}"
    shutil.rmtree(where, ignore_errors=True)
    where.mkdir(parents=True)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for name in STAGED:
        source = REPO / name
        if source.is_dir():
            shutil.copytree(source, where / name, ignore=ignore)
        else:
            shutil.copy2(source, where / name)
    return where


def junit_counts(path: Path) -> dict[str, int]:
    counts = {"passed": 0, "failed": 0, "skipped": 0}
    if not path.exists():
        return counts
    for suite in ET.parse(path).getroot().iter("testsuite"):
        tests, skipped = int(suite.get("tests", 0)), int(suite.get("skipped", 0))
        failed = int(suite.get("failures", 0)) + int(suite.get("errors", 0))
        counts["passed"] += tests - skipped - failed
        counts["failed"] += failed
        counts["skipped"] += skipped
    return counts


def run_line(line: str, python: str, wheel: Path, *, quiet: bool = False) -> dict[str, object]:
    """One line: its venv (built or reused), its suites, its deferred DAG. ``quiet`` sends the suites' output to
    ``.matrix/log-<line>-py<python>.txt`` (its tail is printed when they fail), for lines run side by side."""
    started = time.monotonic()
    venv = ensure_venv(line, python, wheel)
    py = str(venv / "bin" / "python")
    where = stage(line, python)
    env = clean_env(PYTHONPATH=str(where))
    # The stage has no .azurite/: point the Data Landing Zone tests at the checkout's Azurite.
    azurite = REPO / ".azurite" / "node_modules" / ".bin" / "azurite-blob"
    if azurite.exists():
        env["ZOHO_AEP_AZURITE_BLOB"] = str(azurite)
    probe = subprocess.run(
        [py, "-c", "import airflow, airflow_provider_zoho_aep as p, platform; "
                   "print(airflow.__version__, platform.python_version(), p.__file__)"],
        cwd=where, env=env, capture_output=True, text=True, check=True,
    ).stdout.split()
    airflow_version, python_version, package_file = probe[-3:]
    assert "site-packages" in package_file, f"the tests would not use the installed wheel: {package_file}"
    log(f"Airflow {airflow_version} / Python {python_version}: package from {package_file}")
    junit = MATRIX_DIR / f"junit-{line}-py{python}.xml"
    junit.unlink(missing_ok=True)
    command = [py, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-n", PYTEST_WORKERS, f"--junitxml={junit}", *SUITES]
    if quiet:
        output = MATRIX_DIR / f"log-{line}-py{python}.txt"
        with open(output, "w") as sink:
            tests = subprocess.run(command, cwd=where, env=env, stdout=sink, stderr=subprocess.STDOUT)
        if tests.returncode:
            print(output.read_text()[-6000:], file=sys.stderr)
    else:
        tests = subprocess.run(command, cwd=where, env=env)
    counts = junit_counts(junit)
    log(f"Airflow {airflow_version}: suites {counts} (exit {tests.returncode})")
    dag = subprocess.run([py, "scripts/deferred_dag_run.py", "--home", str(where / "airflow-home")],
                         cwd=where, env=env, capture_output=True, text=True)
    try:
        dag_result = json.loads(dag.stdout.strip().splitlines()[-1])
    except (IndexError, json.JSONDecodeError):
        dag_result = {"ok": False, "error": dag.stderr[-2000:]}
    if not dag_result.get("ok"):
        print(dag.stdout[-3000:], dag.stderr[-5000:], sep="\n", file=sys.stderr)
    log(f"Airflow {airflow_version}: deferred example DAG ok={dag_result.get('ok')} "
        f"({dag_result.get('trigger_polls')} trigger polls, {dag_result.get('seconds')} s)")
    return {
        "line": line,
        "airflow": airflow_version,
        "python": python_version,
        "pins": LINES[line]["pins"],
        **counts,
        "suites_exit": tests.returncode,
        "deferred_dag": bool(dag_result.get("ok")),
        "deferred_dag_checks": dag_result.get("checks", {}),
        "ok": tests.returncode == 0 and counts["failed"] == 0 and counts["passed"] > 0 and bool(dag_result.get("ok")),
        "minutes": round((time.monotonic() - started) / 60, 1),
        "date": datetime.now(UTC).strftime("%Y-%m-%d"),
        "platform": f"{platform.system()} {platform.machine()}",
    }


def render_table(results: list[dict[str, object]]) -> str:
    pythons = sorted({str(r["python"]).rsplit(".", 1)[0] for r in results})
    head = "| Airflow | pins the matrix installs | " + " | ".join(f"Python {p}" for p in pythons) + " |"
    rows = [head, "|" + "---|" * (2 + len(pythons))]
    for line in sorted({str(r["line"]) for r in results}, key=lambda v: tuple(map(int, v.split(".")))):
        cells = []
        airflow = ""
        for p in pythons:
            found = [r for r in results if r["line"] == line and str(r["python"]).rsplit(".", 1)[0] == p]
            if not found:
                cells.append("not run")
                continue
            r = found[0]
            airflow = str(r["airflow"])
            mark = "✅" if r["ok"] else "❌"
            dag = "window task deferred, resumed, succeeded" if r["deferred_dag"] else "deferred DAG FAILED"
            cells.append(f"{mark} {r['passed']} passed, {r['failed']} failed; {dag} ({r['date']})")
        pins = ", ".join(f"`{p}`" for p in LINES.get(line, {}).get("pins", [])) or "none"  # type: ignore[union-attr]
        rows.append(f"| {airflow} | {pins} | " + " | ".join(cells) + " |")
    return "\n".join(rows)


def update_readme(results: list[dict[str, object]]) -> None:
    text = README.read_text()
    if START not in text or END not in text:
        log("README has no test-matrix markers; table not written")
        return
    before, rest = text.split(START, 1)
    _, after = rest.split(END, 1)
    README.write_text(f"{before}{START}\n{render_table(results)}\n{END}{after}")


def record(result: dict[str, object]) -> None:
    """Merge one result into docs/test-matrix.json (replacing the same Airflow line and Python) and the README."""
    def key(r: dict[str, object]) -> tuple[object, str]:
        return r["line"], str(r["python"]).rsplit(".", 1)[0]

    previous = json.loads(RESULTS.read_text()) if RESULTS.exists() else []
    results = [r for r in previous if key(r) != key(result)] + [result]
    results.sort(key=lambda r: (tuple(map(int, str(r["line"]).split("."))), str(r["python"])))
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    update_readme(results)


def main(argv: list[str]) -> int:
    prepare_only = "--prepare" in argv
    argv = [a for a in argv if a != "--prepare"]
    selected = argv or os.environ.get("MATRIX", "").split() or list(LINES)
    unknown = [v for v in selected if v not in LINES]
    if unknown:
        print(f"Unknown Airflow line(s) {unknown}; choose from {list(LINES)}", file=sys.stderr)
        return 2
    MATRIX_DIR.mkdir(exist_ok=True)
    log(f"lines {selected}, Python {PYTHONS}; building the wheel")
    wheel = build_wheel()
    if prepare_only:  # venvs with the wheel installed, e.g. for the browser suite on an older line
        for line in selected:
            for python in PYTHONS:
                log(f"ready: {ensure_venv(line, python, wheel).relative_to(REPO)}/bin/python")
        return 0
    pairs = [(line, python) for line in selected for python in PYTHONS]
    jobs = max(1, min(int(os.environ.get("MATRIX_JOBS", "1")), len(pairs)))
    new = []
    if jobs == 1:
        for line, python in pairs:
            new.append(run_line(line, python, wheel))
            record(new[-1])  # after each line, merged with what is on disk: parallel invocations add up
    else:
        # Side by side (each suite keeps about one core busy): venvs first, one at a time (one uv cache), then
        # the lines, each writing its pytest output to .matrix/log-<line>-py<python>.txt.
        for line, python in pairs:
            ensure_venv(line, python, wheel)
        with ThreadPoolExecutor(max_workers=jobs) as pool:
            futures = [pool.submit(run_line, line, python, wheel, quiet=True) for line, python in pairs]
            for future in futures:
                new.append(future.result())
                record(new[-1])
    shutil.rmtree(wheel.parent, ignore_errors=True)
    print(render_table(new))
    failed = [f"{r['airflow']}/py{r['python']}" for r in new if not r["ok"]]
    if failed:
        print(f"FAILED on {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
