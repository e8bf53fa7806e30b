"""What the fuzzer and the web hygiene checks share: an app on a fresh demo database, the routes
it serves (found in its own route table, so a new page is covered without anyone listing it),
and a snapshot of everything stored, to prove that reading changes nothing.
"""

from __future__ import annotations

import asyncio
import os
import random
import re
import tempfile
from collections import Counter, defaultdict
from dataclasses import dataclass

from litestar import Litestar

from funding import db
from funding.app import create_app
from funding.demo import load_demo
from funding.piccolo_app import APP_CONFIG
from funding.settings import Settings
from tests.conftest import DATABASES
from tests.factories import STAFF_TOKEN

SECRET_KEY = "test-secret-key-not-for-production"

SLOW = os.environ.get("FUNDING_SLOW", "") not in ("", "0")
"""`FUNDING_SLOW=1`: the longer fuzzing profile (more examples per operation)."""
EXAMPLES_PER_OPERATION = int(os.environ.get("FUNDING_FUZZ_EXAMPLES") or (1000 if SLOW else 100))
FUZZ_SEED = int(os.environ.get("FUNDING_FUZZ_SEED") or random.SystemRandom().getrandbits(32))
"""A fresh seed per run, printed after it: `FUNDING_FUZZ_SEED=<seed>` replays that run."""

TALLY: dict[str, Counter] = defaultdict(Counter)
"""Operation label -> response status, and phase (coverage, fuzzing) -> requests the fuzzer sent."""

NOT_PAGES = ("/schema", "/static")
"""Route prefixes that are not the app's own pages: the OpenAPI viewer and files."""


@dataclass
class DemoSite:
    """An app with the demo loaded on a database of its own, and an event loop to query it from."""

    app: Litestar
    url: str
    engine: object
    runner: asyncio.Runner

    def bind(self) -> None:
        """Point the tables at this site's database again (per-test fixtures elsewhere move them)."""
        db.bind(self.engine)

    def snapshot(self) -> dict[str, object]:
        self.bind()
        return self.runner.run(stored_state())

    def head_seq(self) -> int:
        return self.snapshot()["journal_entry"]  # seq runs 1, 2, 3 … without gaps


def open_demo_site(**settings: object) -> DemoSite:
    runner = asyncio.Runner()
    url = runner.run(DATABASES.fresh())
    app = create_app(
        Settings(
            database_url=url,
            secret_key=SECRET_KEY,
            staff_api_token=STAFF_TOKEN,
            database_pool_size=0,  # the app runs on the test client's event loop, queries come from ours
            # The fuzzer posts thousands of forms: past the limit every answer would be a 429 and
            # no handler would be reached (the limit itself: tests/web/test_rate_limit.py).
            **{"rate_limit_per_minute": 1_000_000, "outbox_dir": tempfile.mkdtemp(prefix="funding-fuzz-"), **settings},
        )
    )
    site = DemoSite(app=app, url=url, engine=db.current_engine(), runner=runner)
    assert runner.run(load_demo())
    return site


def close_demo_site(site: DemoSite) -> None:
    try:
        site.runner.run(DATABASES.drop(site.url))
    finally:
        site.runner.close()


async def stored_state() -> dict[str, object]:
    """Row counts of every table and the journal's head, in one query: equal snapshots mean
    nothing was written."""
    tables = APP_CONFIG.table_classes
    counts = [f'(SELECT count(*) FROM "{t._meta.tablename}") AS "{t._meta.tablename}"' for t in tables]
    head = '(SELECT hash FROM "journal_entry" ORDER BY seq DESC LIMIT 1) AS head_hash'
    [row] = await tables[0].raw(f"SELECT {', '.join([*counts, head])}")
    return row


def page_paths(app: Litestar) -> list[str]:
    """Every GET route of the app that takes no path parameter, pages and API alike."""
    return sorted(
        route.path
        for route in app.routes
        if "GET" in getattr(route, "methods", ()) and not route.path.startswith(NOT_PAGES) and "{" not in route.path
    )


def routes_with_parameters(app: Litestar) -> list[str]:
    """GET routes (outside /schema and /static) that need a path parameter: the harness cannot
    guess a value for those, so a test fails until someone teaches it one."""
    return sorted(
        route.path
        for route in app.routes
        if "GET" in getattr(route, "methods", ())
        and not route.path.startswith(NOT_PAGES)
        and re.search(r"\{[^}]+\}", route.path)
    )
