"""Throw-away databases for tests: a migrated template per run, a fresh copy per test.

`DATABASE_URL` picks the backend: unset or `sqlite:///…` runs on SQLite files in a temporary
folder; `postgresql://…` names a database the tests may use to create (and drop) their own.
Copying a migrated template (a file copy, or CREATE DATABASE … TEMPLATE) keeps every test
isolated without replaying migrations, and lets tests commit for real, as concurrency needs.
"""

from __future__ import annotations

import itertools
import os
import shutil
import tempfile
import uuid
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from funding.settings import is_postgres_url


class TestDatabases:
    def __init__(self, admin_url: str | None) -> None:
        self.postgres = bool(admin_url) and is_postgres_url(admin_url)
        self.admin_url = admin_url
        self.run_id = uuid.uuid4().hex[:8]
        self.counter = itertools.count(1)
        self.folder = tempfile.mkdtemp(prefix="funding-tests-")
        self.template_url = self.url_for(f"funding_tpl_{self.run_id}")
        self.created: list[str] = []

    def url_for(self, name: str) -> str:
        if not self.postgres:
            return f"sqlite:///{os.path.join(self.folder, name + '.db')}"
        parts = urlsplit(self.admin_url)
        return urlunsplit(parts._replace(path="/" + name))

    @property
    def backend(self) -> str:
        return "postgresql" if self.postgres else "sqlite"

    async def create_template(self) -> None:
        if self.postgres:
            await self._admin(f'CREATE DATABASE "funding_tpl_{self.run_id}"')

    async def fresh(self) -> str:
        """A new database with every migration applied."""
        name = f"funding_t_{self.run_id}_{next(self.counter)}"
        if self.postgres:
            await self._admin(f'CREATE DATABASE "{name}" TEMPLATE "funding_tpl_{self.run_id}"')
            self.created.append(name)
        else:
            shutil.copyfile(self.template_url.removeprefix("sqlite:///"), self.url_for(name).removeprefix("sqlite:///"))
        return self.url_for(name)

    async def drop(self, url: str) -> None:
        if self.postgres:
            name = urlsplit(url).path.lstrip("/")
            await self._admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        else:
            path = url.removeprefix("sqlite:///")
            for suffix in ("", "-wal", "-shm"):
                if os.path.exists(path + suffix):
                    os.remove(path + suffix)

    async def drop_all(self) -> None:
        if self.postgres:
            await self._admin(f'DROP DATABASE IF EXISTS "funding_tpl_{self.run_id}" WITH (FORCE)')
        shutil.rmtree(self.folder, ignore_errors=True)

    async def _admin(self, sql: str) -> None:
        connection = await asyncpg.connect(dsn=self.admin_url)
        try:
            await connection.execute(sql)
        finally:
            await connection.close()
