"""The `funding` command: serve, migrate, verify, export."""

from __future__ import annotations

import asyncio
import logging
import sys

import click
import httpx
import msgspec

from funding import db
from funding.ledger.chain import LedgerExport, Verification, verify
from funding.logs import escaping_handler, uvicorn_log_config
from funding.settings import Settings

log = logging.getLogger("funding")


def _bind(settings: Settings) -> None:
    db.bind(db.engine_for_url(settings.database_url))


@click.group()
def main() -> None:
    """funding: a cost-sharing contribution ledger."""
    logging.basicConfig(
        level=logging.INFO, format="%(levelname)s %(name)s: %(message)s", handlers=[escaping_handler()]
    )


@main.command()
def migrate() -> None:
    """Apply migrations to DATABASE_URL."""
    settings = Settings.from_env()
    _bind(settings)
    asyncio.run(db.migrate())
    click.echo(f"migrated {db.describe(settings.database_url)}")


@main.command()
@click.option("--demo", is_flag=True, help="Load demo data into the configured database first.")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", default=1, show_default=True, type=int, help="App processes (PostgreSQL only for more than one).")
def serve(demo: bool, host: str, port: int, workers: int) -> None:
    """Apply migrations and serve the app."""
    import uvicorn

    from funding.demo import load_demo

    settings = Settings.from_env()
    if workers > 1 and not settings.uses_postgres:
        raise click.UsageError("several workers need PostgreSQL (DATABASE_URL=postgresql://…)")
    _bind(settings)

    async def prepare() -> None:
        await db.migrate()
        if demo and await load_demo():
            log.info("demo data loaded")

    asyncio.run(prepare())
    click.echo(f"funding on http://{host}:{port}/ ({db.describe(settings.database_url)})")
    uvicorn.run(
        "funding.app:create_app", factory=True, host=host, port=port, workers=workers,
        log_level="info", log_config=uvicorn_log_config(), proxy_headers=True,
    )


@main.command()
@click.option("--format", "fmt", type=click.Choice(["csv", "json", "beancount"]), default="json", show_default=True)
@click.option("--out", type=click.Path(dir_okay=False, writable=True), help="File to write (default: standard output).")
def export(fmt: str, out: str | None) -> None:
    """Export the whole ledger."""
    from funding.ledger.exports import FORMATS
    from funding.ledger.service import LedgerService

    _bind(Settings.from_env())

    async def write(handle) -> None:
        async for chunk in FORMATS[fmt](LedgerService()):
            handle.write(chunk)

    if out:
        with open(out, "wb") as handle:
            asyncio.run(write(handle))
    else:
        asyncio.run(write(sys.stdout.buffer))


@main.command(name="verify")
@click.argument("source", required=False)
def verify_command(source: str | None) -> None:
    """Recompute the hash chain from the database, or from a /ledger.json file or URL.

    Exit 0 when intact; otherwise exit 1 and name the first bad seq.
    """
    if source is None:
        settings = Settings.from_env()
        _bind(settings)
        from funding.ledger.service import LedgerService

        result = asyncio.run(LedgerService().verify())
        where = db.describe(settings.database_url)
    else:
        try:
            export = msgspec.json.decode(_read(source), type=LedgerExport)
        except (OSError, httpx.HTTPError, msgspec.DecodeError) as exc:
            raise click.ClickException(f"cannot read a ledger export from {source}: {exc}") from exc
        result = verify(export.entries, expected_head=(export.head_seq, export.head_hash))
        where = source
    _report(result, where)


def _read(source: str) -> bytes:
    if source.startswith(("http://", "https://")):
        response = httpx.get(source, timeout=60, follow_redirects=True)
        response.raise_for_status()
        return response.content
    with open(source, "rb") as handle:
        return handle.read()


def _report(result: Verification, where: str) -> None:
    if result.ok:
        click.echo(f"intact: {result.checked} entries, head #{result.head_seq} {result.head_hash} ({where})")
        return
    click.echo(
        f"BROKEN at seq {result.first_bad_seq}: {result.problem} "
        f"({result.checked} entries before it are intact; {where})",
        err=True,
    )
    sys.exit(1)
