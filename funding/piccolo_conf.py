"""Piccolo's configuration module (found through PICCOLO_CONF, set in `funding/__init__.py`):
the engine `DATABASE_URL` names, and the app registry. It knows no table; `funding.db` binds the
registered tables to the engine a process or test chooses."""

from __future__ import annotations

import os

from piccolo.conf.apps import AppRegistry
from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine

from funding.settings import DEFAULT_DATABASE_URL, is_postgres_url


class DatabaseURLError(ValueError):
    pass


def sqlite_path(url: str) -> str:
    if not url.startswith("sqlite:///"):
        raise DatabaseURLError(f"DATABASE_URL must be sqlite:///PATH or postgresql://…, not {url!r}")
    return url.removeprefix("sqlite:///")


PLANNER_SETTINGS = {"random_page_cost": "1.1"}
"""Our reads are small index lookups into data held in memory or on SSD. With PostgreSQL's
default (4, for spinning disks) a page of 100 entries was joined to its postings by scanning the
whole posting table: 4.9 ms instead of 0.4 ms at 10,000 entries (EXPLAIN ANALYZE)."""


def engine_for_url(url: str) -> Engine:
    if is_postgres_url(url):
        return PostgresEngine(config={"dsn": url, "server_settings": PLANNER_SETTINGS}, log_queries=False)
    # A busy timeout instead of immediate "database is locked" when two writers meet.
    return SQLiteEngine(path=sqlite_path(url), timeout=30)


def engine_from_env() -> Engine:
    return engine_for_url(os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL)


DB = engine_from_env()

APP_REGISTRY = AppRegistry(apps=["funding.piccolo_app"])
"""The single Piccolo app: one migration unit, so every migration lives in `migrations/`."""
