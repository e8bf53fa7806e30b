"""`funding serve` as it runs in production: what its log holds, and how long it keeps idle
connections. Each test runs a real process (tests/live.py) and talks to its socket."""

import httpx

from tests.live import LiveServer


def test_a_request_cannot_write_a_line_into_the_server_log(database, tmp_path):
    log_path = tmp_path / "server.log"
    forged = "ERROR funding.errors: forged"
    with LiveServer(database, log_path=log_path) as server:
        httpx.get(server.url + "/static/%0A" + forged.replace(" ", "%20") + "%00")
        httpx.get(server.url + "/nergens%0A" + forged.replace(" ", "%20"))
    log = log_path.read_bytes()
    assert b"\x00" not in log
    lines = log.decode().splitlines()
    assert not [line for line in lines if line.lstrip(" |").startswith(forged)], lines
    assert any("GET /static/" in line for line in lines), "the access log did not log the request"


def test_head_is_answered_over_a_real_socket(database):
    with LiveServer(database) as server, httpx.Client(base_url=server.url) as client:
        for path in ("/", "/api/v1/ledger", "/ledger.json", "/static/site.css"):
            get, head = client.get(path), client.head(path)
            assert (path, head.status_code, head.content) == (path, get.status_code, b"")
            assert head.headers.get("content-length") == get.headers.get("content-length")
