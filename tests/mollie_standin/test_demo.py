"""The stand-in from the command line: `funding mollie-standin`, and inside `funding serve --demo`."""

from __future__ import annotations

import re
import subprocess
import sys
import time

import httpx

from funding.settings import ROOT
from tests.live import LiveServer, free_port

STANDIN = re.compile(r"demo payments go to the Mollie stand-in on (http://127\.0\.0\.1:\d+)")


def test_the_command_runs_a_stand_in_in_the_foreground():
    port = free_port()
    command = [sys.executable, "-m", "funding", "mollie-standin", "--port", str(port)]
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                answer = httpx.get(f"http://127.0.0.1:{port}/v2/payments", headers={"Authorization": "Bearer test_x"})
                break
            except httpx.ConnectError:
                assert time.monotonic() < deadline and process.poll() is None, "the stand-in did not start"
                time.sleep(0.05)
    finally:
        process.terminate()
        process.wait(10)
    assert answer.status_code == 200 and answer.json()["count"] == 0


def test_the_demo_starts_a_stand_in_and_says_where(database, tmp_path, monkeypatch):
    monkeypatch.delenv("MOLLIE_API_ENDPOINT", raising=False)
    log = tmp_path / "server.log"

    with LiveServer(database, demo=True, log_path=log):
        found = STANDIN.search(log.read_text())
        assert found, log.read_text()
        settings = httpx.get(f"{found.group(1)}/_standin/settings", timeout=5)

    assert settings.json() == {"webhook_mode": "auto", "duplicates": 1}
