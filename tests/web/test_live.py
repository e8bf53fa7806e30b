"""The README's serve command really serves: a real process, a real socket."""

import subprocess
import sys

import httpx


def test_serve_demo_answers_and_its_published_chain_verifies(live_server):
    home = httpx.get(live_server.url + "/")
    assert home.status_code == 200 and "Kennisnetwerk" in home.text
    result = subprocess.run(
        [sys.executable, "-m", "funding", "verify", live_server.url + "/ledger.json"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "intact" in result.stdout
