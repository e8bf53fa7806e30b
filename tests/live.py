"""Real app servers for tests that need a socket: browsers, several processes, crashes.

`LiveServer` runs `funding serve` (the command the README gives) in its own process on a free
loopback port against the database it is given, and can stop it politely or kill it hard.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from funding.settings import ROOT


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class LiveServer:
    def __init__(
        self,
        database_url: str,
        *,
        demo: bool = False,
        workers: int = 1,
        port: int | None = None,
        env: dict[str, str] | None = None,
        log_path: Path | None = None,
        args: list[str] | None = None,
    ) -> None:
        self.database_url = database_url
        self.demo, self.workers = demo, workers
        self.port = port or free_port()
        self.extra_env = env or {}
        self.log_path = log_path
        self.extra_args = args or []
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30) -> LiveServer:
        env = {
            **os.environ,
            "DATABASE_URL": self.database_url,
            "FUNDING_SECRET_KEY": "live-test-secret",
            "FUNDING_BASE_URL": self.url,
            **self.extra_env,
        }
        args = [sys.executable, "-m", "funding", "serve", "--port", str(self.port), "--workers", str(self.workers)]
        if self.demo:
            args.append("--demo")
        args += self.extra_args
        # The server writes to its own copy of the log's descriptor: ours closes once it started.
        with open(self.log_path, "ab") if self.log_path else contextlib.nullcontext(subprocess.DEVNULL) as log:
            self.process = subprocess.Popen(
                args, env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"funding serve exited with {self.process.returncode}")
            try:
                if httpx.get(f"{self.url}/health/ready", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        self.kill()
        raise TimeoutError(f"funding serve did not become ready on {self.url} in {timeout} s")

    def stop(self, timeout: float = 10) -> None:
        """SIGTERM the whole process group (uvicorn and its workers), then SIGKILL if need be."""
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill()

    def kill(self) -> None:
        """SIGKILL, as a crash would: no shutdown code runs."""
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)

    def __enter__(self) -> LiveServer:
        return self.start()

    def __exit__(self, *_exc) -> None:
        self.stop()
