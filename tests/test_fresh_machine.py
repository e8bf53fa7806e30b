"""The README's `pytest` passes on a machine with only Python; on CI a missing tool fails instead.

Each scenario is a real pytest run in a subprocess on a tiny selection (on SQLite, whatever this
run uses), started all at once; the plugins that only the fuzzer and property tests use are left
out of those runs to keep this quick.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright

from funding.settings import ROOT
from tests.browser import conftest as browser_conftest

NO_BROWSER = {"FUNDING_CHROMIUM": "/nonexistent"}
NO_REDIS = "redis://127.0.0.1:9/0"
REDIS_TEST = "tests/web/test_rate_limit.py::test_with_redis_two_processes_share_one_count"
BROWSER_TESTS = ["tests/browser/test_walk.py", "tests/browser/test_accessibility.py", "tests/browser/test_forms.py"]
RUNS = {
    "no browser": ({}, [*BROWSER_TESTS, "tests/unit/test_money.py"]),
    "no browser on CI": ({"CI": "true"}, BROWSER_TESTS),
    "SQLite on CI": ({"CI": "true"}, ["tests/ledger/test_concurrency.py"]),
    "no PostgreSQL server": ({"DATABASE_URL": "postgresql://postgres@127.0.0.1:9/postgres"}, ["tests/unit"]),
    "no Redis": ({"REDIS_URL": NO_REDIS}, [REDIS_TEST]),
    "no Redis on CI": ({"REDIS_URL": NO_REDIS, "CI": "true"}, [REDIS_TEST]),
}
QUICK = ["-q", "-p", "no:cacheprovider", "-p", "no:schemathesis", "-p", "no:faker", "-p", "no:hypothesispytest"]


def pytest_run(extra_env: dict[str, str], selection: list[str]) -> subprocess.CompletedProcess:
    env = {name: value for name, value in os.environ.items() if name not in ("CI", "DATABASE_URL", "PYTEST_ADDOPTS")}
    return subprocess.run(
        [sys.executable, "-m", "pytest", *selection, *QUICK],
        env=env | NO_BROWSER | extra_env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture(scope="module")
def runs() -> dict[str, subprocess.CompletedProcess]:
    with ThreadPoolExecutor(len(RUNS)) as pool:
        started = {name: pool.submit(pytest_run, *how) for name, how in RUNS.items()}
    return {name: future.result() for name, future in started.items()}


def skip_lines(output: str) -> list[str]:
    return re.findall(r"^SKIPPED \[\d+\] .*$", output, re.MULTILINE)


def test_without_a_browser_the_browser_tests_skip_on_one_line_that_says_how_to_enable_them(runs):
    run = runs["no browser"]
    assert run.returncode == 0, run.stdout + run.stderr
    [line] = skip_lines(run.stdout)
    assert "FUNDING_CHROMIUM=/nonexistent" in line
    assert "apt-get install chromium" in line and "python -m playwright install chromium" in line
    assert re.search(r"\b\d+ passed, \d+ skipped\b", run.stdout)  # and the rest of the selection runs


def test_on_ci_a_missing_browser_fails_the_run(runs):
    run = runs["no browser on CI"]
    assert run.returncode == pytest.ExitCode.USAGE_ERROR, run.stdout + run.stderr
    assert "no Chromium (FUNDING_CHROMIUM=/nonexistent does not exist), and CI must not skip" in run.stdout


def test_on_ci_the_sqlite_run_still_skips_the_postgresql_only_tests(runs):
    run = runs["SQLite on CI"]
    assert run.returncode == 0, run.stdout + run.stderr
    [line] = skip_lines(run.stdout)
    assert "needs PostgreSQL: run with DATABASE_URL=postgresql://" in line


def test_a_postgresql_url_without_a_server_fails_with_one_clear_line(runs):
    run = runs["no PostgreSQL server"]
    assert run.returncode == pytest.ExitCode.USAGE_ERROR, run.stdout + run.stderr
    assert "DATABASE_URL names PostgreSQL at 127.0.0.1:9/postgres, which cannot be used" in run.stderr
    assert "INTERNALERROR" not in run.stdout + run.stderr


def test_without_redis_the_shared_rate_limit_test_skips_and_says_where_it_looked(runs):
    run = runs["no Redis"]
    assert run.returncode == 0, run.stdout + run.stderr
    [line] = skip_lines(run.stdout)
    assert f"needs Redis at {NO_REDIS} (set REDIS_URL)" in line


def test_on_ci_a_missing_redis_fails_the_run(runs):
    run = runs["no Redis on CI"]
    assert run.returncode == pytest.ExitCode.TESTS_FAILED, run.stdout + run.stderr
    assert f"needs Redis at {NO_REDIS} (set REDIS_URL)" in run.stdout and not skip_lines(run.stdout)


def test_without_debian_chromium_playwrights_own_build_is_looked_for(monkeypatch):
    monkeypatch.delenv("FUNDING_CHROMIUM", raising=False)
    monkeypatch.setattr(browser_conftest, "DEBIAN_CHROMIUM", "/nonexistent/chromium")
    with sync_playwright() as playwright:
        own = playwright.chromium.executable_path
    chromium, missing = browser_conftest.find_chromium()
    if Path(own).exists():
        assert chromium == own
    else:
        assert chromium is None and missing == f"neither /nonexistent/chromium nor Playwright's {own}"
