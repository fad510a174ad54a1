"""``python -m emulator`` starts, announces itself, serves and stops cleanly."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
from pathlib import Path

import requests


def test_cli_starts_serves_and_stops(tmp_path: Path) -> None:
    ready = tmp_path / "emulator.url"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "emulator",
            "--port",
            "0",
            "--run-duration",
            "0.5",
            "--ready-file",
            str(ready),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = process.stdout.readline().strip()  # type: ignore[union-attr]
        match = re.fullmatch(r"emulator listening on (http://127\.0\.0\.1:\d+)", line)
        assert match, line
        url = match.group(1)
        assert ready.read_text().strip() == url
        assert requests.get(f"{url}/__emulator__/health", timeout=5).json()["status"] == "ok"
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=5) == 0
        assert process.stderr.read() == ""  # type: ignore[union-attr]
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_cli_refuses_non_loopback_host() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "emulator", "--host", "0.0.0.0", "--port", "0"],
        capture_output=True,
        text=True,
        timeout=10,
    )
    assert result.returncode == 2
    assert "loopback" in result.stderr


def test_state_file_keeps_resources_across_restarts(tmp_path):
    import requests as http

    from emulator import Emulator

    state = tmp_path / "state.json"
    with Emulator(state_file=str(state)) as first:
        first.store.connections["c1"] = {"id": "c1", "name": "kept", "createdAt": 1}
    assert state.exists()
    with Emulator(state_file=str(state)) as second:
        assert second.store.connections["c1"]["name"] == "kept"
        assert http.get(f"{second.url}/__emulator__/health", timeout=5).ok
