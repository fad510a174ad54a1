"""Process harness for the UI suite: a real Airflow 3 (api-server, scheduler, dag-processor, triggerer)
on SQLite, bound to 127.0.0.1 on a free port, plus a headless Chromium driven by Playwright.

Nothing here imports Airflow: the Airflow processes run as ``python -m airflow ...`` children in their own
process groups (``start_new_session=True``) and are killed as groups on teardown and at interpreter exit.

Can also be used by hand to get a running UI for exploration::

    .venv/bin/python tests/ui/ui_harness.py           # prints URL, user, password; Ctrl-C stops everything
"""

from __future__ import annotations

import atexit
import contextlib
import importlib.util
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_DAGS_FOLDER = REPO_ROOT / "dags"
UI_TEST_DAGS_FOLDER = Path(__file__).resolve().parent / "dags"  # second bundle "ui-tests"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]
# The interpreter that runs Airflow. Default: this one. ``ZOHO_AEP_UI_AIRFLOW_PYTHON`` points at another venv's
# python, e.g. a ``make test-matrix`` venv (``.matrix/airflow-3.1-py3.11/bin/python``) holding another Airflow line
# and the provider's wheel; the browser and the tests stay in this interpreter.
AIRFLOW_PYTHON = os.environ.get("ZOHO_AEP_UI_AIRFLOW_PYTHON") or sys.executable
UI_USER = "admin"
UI_PASSWORD = "ui-tests-admin-password"  # written to the passwords file before Airflow starts

# Every process group we started; killed on teardown and, as a safety net, at interpreter exit.
_LIVE_GROUPS: set[int] = set()


def _group_alive(pgid: int) -> bool:
    """True while any non-zombie process is left in the process group."""
    proc = Path("/proc")
    if not proc.is_dir():
        try:
            os.killpg(pgid, 0)
            return True
        except ProcessLookupError:
            return False
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        if fields[0] != "Z" and int(fields[2]) == pgid:
            return True
    return False


def kill_groups(pgids: list[int], grace: float = 10.0, reap: list[subprocess.Popen] | None = None) -> None:
    """SIGTERM every group at once, wait up to ``grace`` seconds, then SIGKILL what is left."""
    for pgid in pgids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pgid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    pending = list(pgids)
    while pending and time.monotonic() < deadline:
        for p in reap or []:
            p.poll()
        pending = [g for g in pending if _group_alive(g)]
        if pending:
            time.sleep(0.1)
    for pgid in pending:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pgid, signal.SIGKILL)
    for p in reap or []:
        with contextlib.suppress(subprocess.TimeoutExpired):
            p.wait(timeout=5)
    for pgid in pgids:
        _LIVE_GROUPS.discard(pgid)


def _kill_group(pgid: int, grace: float = 8.0) -> None:
    kill_groups([pgid], grace=grace)


@atexit.register
def _kill_all_groups() -> None:
    kill_groups(list(_LIVE_GROUPS), grace=3.0)


def _die_with_parent() -> None:  # runs in the child between fork and exec (Linux)
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except Exception:
        pass


def _on_signal(signum, frame) -> None:
    # Kill our Airflow process groups first: pytest may swallow the exception when it lands inside a
    # Playwright call, and a SIGTERM'd interpreter would otherwise leave them running.
    _kill_all_groups()
    if signum == signal.SIGINT:
        raise KeyboardInterrupt
    os._exit(128 + signum)  # Chromium dies with the Playwright driver when our pipes close


def _install_signal_handlers() -> None:
    import threading

    if threading.current_thread() is not threading.main_thread():
        return
    if signal.getsignal(signal.SIGTERM) in (signal.SIG_DFL, None):
        signal.signal(signal.SIGTERM, _on_signal)
    if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
        signal.signal(signal.SIGINT, _on_signal)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def provider_info_importable() -> bool:
    """Whether the provider's entry-point target exists (without it every ``airflow`` command crashes)."""
    try:
        return importlib.util.find_spec("airflow_provider_zoho_aep.get_provider_info") is not None
    except (ImportError, ValueError):
        return False


_LOCAL_BUNDLE = "airflow.dag_processing.bundles.local.LocalDagBundle"

_STUB_PROVIDER_INFO = """\
def get_provider_info():
    # Written by tests/ui/harness.py only while the real provider module is missing, so that Airflow
    # (whose provider discovery crashes on a missing entry-point target) can still start.
    return {"package-name": "airflow-provider-zoho-aep", "name": "placeholder",
            "description": "placeholder: airflow_provider_zoho_aep.get_provider_info does not exist yet"}
"""


class AirflowUnderTest:
    """Airflow 3 api-server + scheduler + dag-processor + triggerer in a throw-away AIRFLOW_HOME."""

    COMPONENTS = ("api-server", "scheduler", "dag-processor", "triggerer")

    def __init__(
        self,
        dags_folder: Path | str = DEFAULT_DAGS_FOLDER,
        extra_dag_folders: dict[str, Path | str] | None = None,
        home: Path | str | None = None,
        port: int | None = None,
        extra_env: dict[str, str] | None = None,
        extra_pythonpath: list[str] | None = None,
    ) -> None:
        self.home = Path(home or tempfile.mkdtemp(prefix="zoho-aep-ui-airflow-"))
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.dags_folder = str(dags_folder)
        self.extra_dag_folders = {k: str(v) for k, v in (extra_dag_folders or {}).items()}
        self.user = UI_USER
        self.password = UI_PASSWORD
        self.extra_env = dict(extra_env or {})
        self.extra_pythonpath = list(extra_pythonpath or [])
        self.procs: dict[str, subprocess.Popen] = {}
        self.used_provider_stub = False
        self.startup_seconds: float | None = None
        self._token: str | None = None

    # ----------------------------------------------------------------- environment
    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
        if sys.executable != AIRFLOW_PYTHON:
            # Another venv runs Airflow: it imports the provider it has installed, not this checkout's source.
            kept = [p for p in env.get("PYTHONPATH", "").split(os.pathsep)
                    if p and Path(p).resolve() != REPO_ROOT]
            env["PYTHONPATH"] = os.pathsep.join(kept)
        pythonpath = list(self.extra_pythonpath)
        stub_needed = not provider_info_importable() and not any(
            (Path(p) / "airflow_provider_zoho_aep" / "get_provider_info.py").exists() for p in pythonpath
        )
        if stub_needed:
            stub = self.home / "provider_stub"
            (stub / "airflow_provider_zoho_aep").mkdir(parents=True, exist_ok=True)
            (stub / "airflow_provider_zoho_aep" / "__init__.py").write_text("")
            (stub / "airflow_provider_zoho_aep" / "get_provider_info.py").write_text(_STUB_PROVIDER_INFO)
            pythonpath.append(str(stub))
            self.used_provider_stub = True
        if pythonpath:
            env["PYTHONPATH"] = os.pathsep.join([*pythonpath, env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
        env.update(
            {
                "AIRFLOW_HOME": str(self.home),
                "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
                "AIRFLOW__CORE__TEST_CONNECTION": "Enabled",
                "AIRFLOW__CORE__DAGS_FOLDER": self.dags_folder,
                "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
                # No schedule-driven runs (the example DAG is @daily, max_active_runs=1): only what a test
                # triggers runs. Manual triggers still work.
                "AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE": "False",
                "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
                "AIRFLOW__CORE__AUTH_MANAGER": (
                    "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager"
                ),
                "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{self.user}:admin",
                "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(self.home / "passwords.json"),
                # One secret for every component, so tokens minted by the api-server validate everywhere.
                "AIRFLOW__API_AUTH__JWT_SECRET": "zoho-aep-ui-tests-" + os.urandom(8).hex(),
                "AIRFLOW__API__SECRET_KEY": "zoho-aep-ui-tests-" + os.urandom(8).hex(),
                "AIRFLOW__API__HOST": "127.0.0.1",
                "AIRFLOW__API__PORT": str(self.port),
                "AIRFLOW__API__BASE_URL": self.url,
                "AIRFLOW__API__WORKERS": "1",
                "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{self.url}/execution/",
                "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{self.home / 'airflow.db'}",
                "AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK": "False",
                "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port()),
                "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(free_port()),
                "NO_PROXY": "127.0.0.1,localhost",
                "no_proxy": "127.0.0.1,localhost",
                "PYTHONUNBUFFERED": "1",
            }
        )
        if self.extra_dag_folders:
            bundles = [{"name": "dags-folder", "classpath": _LOCAL_BUNDLE, "kwargs": {}}]
            bundles += [
                {"name": name, "classpath": _LOCAL_BUNDLE, "kwargs": {"path": path}}
                for name, path in self.extra_dag_folders.items()
            ]
            env["AIRFLOW__DAG_PROCESSOR__DAG_BUNDLE_CONFIG_LIST"] = json.dumps(bundles)
        env.update(self.extra_env)
        return env

    def _airflow(self, *args: str) -> list[str]:
        return [AIRFLOW_PYTHON, "-m", "airflow", *args]

    def _spawn(self, name: str, args: list[str], env: dict[str, str]) -> subprocess.Popen:
        log = open(self.home / f"{name}.log", "wb")  # noqa: SIM115 - closed with the process
        proc = subprocess.Popen(
            args,
            env=env,
            cwd=self.home,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None,
        )
        log.close()
        _LIVE_GROUPS.add(proc.pid)
        self.procs[name] = proc
        return proc

    # ----------------------------------------------------------------- lifecycle
    def start(self, timeout: float = 90.0) -> AirflowUnderTest:
        t0 = time.monotonic()
        _install_signal_handlers()
        self.home.mkdir(parents=True, exist_ok=True)
        (self.home / "passwords.json").write_text(json.dumps({self.user: self.password}) + "\n")
        env = self.env()
        migrate = self._spawn("db-migrate", self._airflow("db", "migrate"), env)
        try:
            rc = migrate.wait(timeout=120)
        finally:
            kill_groups([migrate.pid], grace=1, reap=[migrate])
            self.procs.pop("db-migrate", None)
        if rc != 0:
            raise RuntimeError(f"airflow db migrate failed (rc={rc}):\n{self.log_tail('db-migrate')}")
        # --skip-serve-logs: the log servers bind 0.0.0.0 unconditionally in 3.3.2; the api-server reads the
        # task logs straight from AIRFLOW_HOME/logs because everything runs on this host.
        self._spawn(
            "api-server",
            self._airflow("api-server", "--host", "127.0.0.1", "--port", str(self.port), "--workers", "1"),
            env,
        )
        self._spawn("scheduler", self._airflow("scheduler", "--skip-serve-logs"), env)
        self._spawn("dag-processor", self._airflow("dag-processor"), env)
        self._spawn("triggerer", self._airflow("triggerer", "--skip-serve-logs"), env)
        self.wait_healthy(timeout=timeout - (time.monotonic() - t0))
        self.startup_seconds = time.monotonic() - t0
        return self

    def stop(self) -> None:
        procs = list(self.procs.values())
        kill_groups([p.pid for p in procs], grace=10.0, reap=procs)
        self.procs.clear()

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(self.home, ignore_errors=True)

    def log_tail(self, name: str, lines: int = 40) -> str:
        path = self.home / f"{name}.log"
        if not path.exists():
            return f"<no {path}>"
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])

    def all_log_tails(self, lines: int = 25) -> str:
        return "\n".join(f"----- {n} -----\n{self.log_tail(n, lines)}" for n in self.procs)

    # ----------------------------------------------------------------- HTTP helpers
    def health(self) -> dict | None:
        try:
            with urllib.request.urlopen(f"{self.url}/api/v2/monitor/health", timeout=2) as r:
                return json.load(r)
        except (urllib.error.URLError, OSError, ValueError):
            return None

    def wait_healthy(self, timeout: float = 90.0) -> dict:
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            for name, proc in self.procs.items():
                if proc.poll() is not None:
                    raise RuntimeError(f"airflow {name} exited with {proc.returncode}:\n{self.log_tail(name)}")
            last = self.health()
            if last and all(
                (last.get(c) or {}).get("status") == "healthy"
                for c in ("metadatabase", "scheduler", "dag_processor", "triggerer")
            ):
                return last
            time.sleep(0.25)
        raise TimeoutError(f"Airflow not healthy after {timeout:.0f}s: {last}\n{self.all_log_tails()}")

    def token(self) -> str:
        if self._token is None:
            req = urllib.request.Request(
                f"{self.url}/auth/token",
                data=json.dumps({"username": self.user, "password": self.password}).encode(),
                headers={"Content-Type": "application/json"},
                method="POST",
            )
            with urllib.request.urlopen(req, timeout=10) as r:
                self._token = json.load(r)["access_token"]
        return self._token

    def api(self, method: str, path: str, body: dict | None = None, timeout: float = 15) -> tuple[int, dict]:
        """Call the public REST API (``path`` starting at ``/api/v2/...``) as the admin user."""
        req = urllib.request.Request(
            f"{self.url}{path}",
            data=None if body is None else json.dumps(body).encode(),
            headers={"Authorization": f"Bearer {self.token()}", "Content-Type": "application/json"},
            method=method,
        )
        try:
            with urllib.request.urlopen(req, timeout=timeout) as r:
                raw = r.read()
                return r.status, (json.loads(raw) if raw else {})
        except urllib.error.HTTPError as e:
            raw = e.read()
            try:
                return e.code, json.loads(raw)
            except ValueError:
                return e.code, {"detail": raw.decode(errors="replace")}

    def wait_for_dag(self, dag_id: str, timeout: float = 60.0) -> dict:
        deadline = time.monotonic() + timeout
        status, body = 0, {}
        while time.monotonic() < deadline:
            status, body = self.api("GET", f"/api/v2/dags/{dag_id}")
            if status == 200:
                return body
            time.sleep(0.5)
        _, errors = self.api("GET", "/api/v2/importErrors")
        raise TimeoutError(
            f"DAG {dag_id!r} not parsed after {timeout:.0f}s (last {status}: {body}); import errors: {errors}\n"
            f"{self.log_tail('dag-processor')}"
        )


@contextlib.contextmanager
def chromium_page(viewport: tuple[int, int] = (1440, 1000)) -> Iterator:
    """A fresh headless Chromium (system binary, throw-away profile) and one page."""
    from playwright.sync_api import sync_playwright

    profile = tempfile.mkdtemp(prefix="zoho-aep-ui-chromium-")
    try:
        with sync_playwright() as pw:
            ctx = pw.chromium.launch_persistent_context(
                profile,
                executable_path=CHROMIUM,
                headless=True,
                args=CHROMIUM_ARGS,
                viewport={"width": viewport[0], "height": viewport[1]},
                locale="en-US",
                timezone_id="UTC",
            )
            try:
                yield ctx.pages[0] if ctx.pages else ctx.new_page()
            finally:
                ctx.close()
    finally:
        shutil.rmtree(profile, ignore_errors=True)


def main() -> None:  # pragma: no cover - manual exploration helper
    import argparse

    ap = argparse.ArgumentParser()
    ap.add_argument("--dags-folder", default=str(DEFAULT_DAGS_FOLDER))
    ap.add_argument("--port", type=int, default=None)
    ap.add_argument("--no-ui-test-dags", action="store_true")
    ap.add_argument("--pythonpath", action="append", default=[])
    ns = ap.parse_args()
    af = AirflowUnderTest(
        dags_folder=ns.dags_folder,
        extra_dag_folders=None if ns.no_ui_test_dags else {"ui-tests": UI_TEST_DAGS_FOLDER},
        port=ns.port,
        extra_pythonpath=ns.pythonpath,
    )
    try:
        af.start()
        print(
            f"URL={af.url} USER={af.user} PASSWORD={af.password} HOME={af.home} "
            f"startup={af.startup_seconds:.1f}s stub={af.used_provider_stub}",
            flush=True,
        )
        signal.sigwait({signal.SIGINT, signal.SIGTERM})
    finally:
        af.cleanup()


if __name__ == "__main__":  # pragma: no cover
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
    main()
