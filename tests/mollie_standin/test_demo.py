"""`funding serve --demo` without a Mollie endpoint brings its own stand-in."""

from __future__ import annotations

import re

import httpx

from tests.live import LiveServer

STANDIN = re.compile(r"demo payments go to the Mollie stand-in on (http://127\.0\.0\.1:\d+)")


def test_the_demo_starts_a_stand_in_and_says_where(database, tmp_path, monkeypatch):
    monkeypatch.delenv("MOLLIE_API_ENDPOINT", raising=False)
    log = tmp_path / "server.log"

    with LiveServer(database, demo=True, log_path=log):
        found = STANDIN.search(log.read_text())
        assert found, log.read_text()
        settings = httpx.get(f"{found.group(1)}/_standin/settings", timeout=5)

    assert settings.json() == {"webhook_mode": "auto", "duplicates": 1}
