"""The example DAG under ``airflow dags test`` on an embedded SQLite Airflow, against the emulator.

Every credential gets a distinct, recognisable secret value; after each run the test scans the CLI output,
every file under AIRFLOW_HOME (task logs) and the whole SQLite metadata DB (XCom, rendered template fields,
task instances...) for those values and for every IMS and Zoho token the emulator minted (it lists them).

The emulator mints opaque tokens here: Airflow's log processors rewrite anything starting with ``eyJ`` (a
JWT, like a real IMS token) to ``eyJ***`` on their own, which would hide a token the provider forgot to mask.
The runs log at INFO: with ``logging_level=DEBUG`` Airflow itself prints the Connections' client secrets in
the CLI output, and ``namespace_levels`` does not reach stdlib loggers such as the package's. Every logger of
the package at DEBUG is scanned in process instead (``tests/integration/test_token_secrets.py``).
"""

from __future__ import annotations

import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from airflow_provider_zoho_aep import ZOHO_CRM_CONNECTION_SPEC_ID
from airflow_provider_zoho_aep.version_compat import AIRFLOW_V_3_1_PLUS
from emulator import Emulator, EmulatorCredentials
from tests.conftest import REPO

sys.path.insert(0, str(REPO / "scripts"))
from demo import DAG_ID, airflow_env, xcom_values

# Each test waits on real Airflow processes (their own subprocess timeouts bound them): on a loaded machine,
# with another Airflow line's suite beside it, they outlast the suite's default 300 s ceiling.
pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]
AIRFLOW = str(Path(sys.executable).parent / "airflow")


def distinct_credentials() -> EmulatorCredentials:
    tag = uuid.uuid4().hex[:10]
    return EmulatorCredentials(
        ims_client_id=f"aep-client-id-{tag}",
        ims_client_secret=f"AEPSECRET-{tag}-client-secret",
        zoho_client_id=f"1000.ZOHOCLIENT{tag}",
        zoho_client_secret=f"ZOHOSECRET-{tag}-client-secret",
        zoho_refresh_token=f"1000.ZOHOREFRESH-{tag}-refresh-token",
    )


@pytest.fixture(scope="module")
def airflow_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("airflow-home")


@pytest.fixture(scope="module")
def world(airflow_home: Path) -> Iterator[tuple[Emulator, EmulatorCredentials]]:
    creds = distinct_credentials()
    with Emulator(credentials=creds, run_duration=0.05, token_format="opaque") as emu:
        env = airflow_env(emu.url, airflow_home, creds)
        subprocess.run([AIRFLOW, "db", "migrate"], env=env, check=True, capture_output=True)
        yield emu, creds


def dags_test(
    emu: Emulator, creds: EmulatorCredentials, home: Path, **conn_changes: str
) -> subprocess.CompletedProcess:
    env = airflow_env(emu.url, home, creds)
    env.update(conn_changes)
    return subprocess.run([AIRFLOW, "dags", "test", DAG_ID], env=env, capture_output=True, text=True, timeout=600)


def secrets_seen(emu: Emulator, creds: EmulatorCredentials) -> set[str]:
    """The configured secrets plus every IMS and Zoho access token the emulator minted so far (its own list,
    not the Authorization headers: the Zoho token travels only inside the create body)."""
    minted = emu.minted_tokens()
    return {creds.ims_client_secret, creds.zoho_client_secret, creds.zoho_refresh_token,
            *minted["ims"], *minted["zoho"]}


def cli_output(text: str) -> str:
    """The console output of ``airflow dags test`` to scan: all of it from Airflow 3.1 on.

    Airflow 3.0's ``dags test`` console is not secret-safe whatever the task does: it prints its in-process
    supervisor's debug line for every request a task sends, and a masking request carries the very secret it
    asks to hide (``Sending request msg=MaskSecret(value=...)``), and it renders a failed task's traceback with
    every frame's local variables, unmasked. There only the files under AIRFLOW_HOME (task logs) and the
    metadata DB are scanned; both still must hold no secret.
    """
    return text if AIRFLOW_V_3_1_PLUS else ""


def assert_no_secret_anywhere(run: subprocess.CompletedProcess, home: Path, secrets: set[str]) -> None:
    places = {"CLI stdout": cli_output(run.stdout), "CLI stderr": cli_output(run.stderr)}
    for path in home.rglob("*"):
        if path.is_file():
            places[str(path.relative_to(home))] = path.read_bytes().decode("utf-8", "replace")
    leaks = [(where, secret[:12] + "…") for where, text in places.items() for secret in secrets if secret in text]
    assert leaks == []


def test_runs_to_success_twice_reusing_the_base_connection_with_no_secret_anywhere(world, airflow_home):
    emu, creds = world
    first = dags_test(emu, creds, airflow_home)
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
    first_id = xcom_values(airflow_home, DAG_ID)["create_base_connection"]
    second = dags_test(emu, creds, airflow_home)
    assert second.returncode == 0, second.stdout[-3000:]
    assert xcom_values(airflow_home, DAG_ID)["create_base_connection"] == first_id
    assert [c for c in emu.store.connections if emu.store.connections[c]["name"] == "Zoho CRM base connection"] == [
        first_id]
    assert "Reusing the existing base connection" in second.stdout + second.stderr
    minted = emu.minted_tokens()
    assert minted["ims"] and minted["zoho"]  # the first run created the base connection with a Zoho token
    assert not any(token.startswith("eyJ") for token in minted["ims"] + minted["zoho"])
    secrets = secrets_seen(emu, creds)
    assert_no_secret_anywhere(second, airflow_home, secrets)
    assert_no_secret_anywhere(first, airflow_home, secrets)


def test_failures_say_what_is_wrong_and_leak_no_secret(world, airflow_home):
    emu, creds = world
    import json

    # 1. A wrong AEP client secret: IMS refuses.
    aep = json.loads(airflow_env(emu.url, airflow_home, creds)["AIRFLOW_CONN_AEP_DEFAULT"])
    aep["password"] = "WRONGAEPSECRET-" + uuid.uuid4().hex
    run = dags_test(emu, creds, airflow_home, AIRFLOW_CONN_AEP_DEFAULT=json.dumps(aep))
    assert run.returncode != 0 and "invalid_client" in run.stdout + run.stderr
    assert_no_secret_anywhere(run, airflow_home, secrets_seen(emu, creds) | {aep["password"]})

    # 2. A revoked Zoho refresh token: Zoho answers invalid_code with HTTP 200.
    zoho = json.loads(airflow_env(emu.url, airflow_home, creds)["AIRFLOW_CONN_ZOHO_CRM_DEFAULT"])
    zoho["extra"]["refresh_token"] = "1000.REVOKED-" + uuid.uuid4().hex
    emu.reset()  # no base connection yet, so a Zoho token is needed
    run = dags_test(emu, creds, airflow_home, AIRFLOW_CONN_ZOHO_CRM_DEFAULT=json.dumps(zoho))
    assert run.returncode != 0 and "invalid_code" in run.stdout + run.stderr
    assert "refresh token is revoked or invalid" in run.stdout + run.stderr
    assert_no_secret_anywhere(run, airflow_home, secrets_seen(emu, creds) | {zoho["extra"]["refresh_token"]})

    # 3. The Zoho CRM spec is retired: the deprecation is named.
    emu.retire_connection_spec(ZOHO_CRM_CONNECTION_SPEC_ID)
    run = dags_test(emu, creds, airflow_home)
    assert run.returncode != 0 and "deprecated the Zoho CRM source" in run.stdout + run.stderr
    assert_no_secret_anywhere(run, airflow_home, secrets_seen(emu, creds))
    emu.reset()
