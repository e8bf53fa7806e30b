"""The `funding` command: serve, migrate, verify, export, import-organisations, rounds, pledges,
payments, mollie-standin."""

from __future__ import annotations

import asyncio
import logging
import os
import re
import sys
from pathlib import Path

import click
import httpx

from funding import db
from funding.ledger.chain import Verification
from funding.logs import escaping_handler, uvicorn_log_config
from funding.settings import Settings

log = logging.getLogger("funding")

# What uvicorn itself bounds. It has no timeout for reading a request's headers or body, and
# httptools (which uvicorn[standard] picks) no limit on their size: in production a reverse
# proxy in front bounds those (docker-compose.yml; README "Slow clients").
LIMIT_CONCURRENCY = 100
"""Per process: well above what ten pooled database connections serve at once, low enough that
a flood of connections is refused with a 503 rather than queued without end."""
TIMEOUT_KEEP_ALIVE = 5
"""Seconds an idle kept-alive connection stays open after a response (uvicorn's default, said)."""
TIMEOUT_GRACEFUL_SHUTDOWN = 10
"""Seconds a shutdown waits for open requests: slow clients cannot hold up a restart."""
MAX_HEADER_BYTES = 16 * 1024
"""Request line and headers, when uvicorn runs h11 (httptools has no such setting)."""
MOLLIE_STANDIN_PORT = 8001
DEMO_MOLLIE_API_KEY = "test_standin"
"""The stand-in takes any test key; the `mollie` client insists on that shape."""


def _bind(settings: Settings) -> None:
    db.bind(db.engine_for_url(settings.database_url))


async def _migrate(settings: Settings) -> None:
    """Migrate as the owner (`DATABASE_OWNER_URL`, if set), granting the app's role its rights;
    then bind the app's own URL again."""
    db.bind(db.engine_for_url(settings.migration_url))
    try:
        await db.migrate(app_role=settings.app_role)
    finally:
        _bind(settings)


@click.group()
def main() -> None:
    """funding: a cost-sharing contribution ledger."""
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s", handlers=[escaping_handler()])


@main.command()
def migrate() -> None:
    """Apply migrations to DATABASE_URL (as DATABASE_OWNER_URL's role, if set)."""
    settings = Settings.from_env()
    asyncio.run(_migrate(settings))
    click.echo(f"migrated {db.describe(settings.migration_url)}")
    if settings.app_role:
        click.echo(f"granted the app's role {settings.app_role!r} read and append rights")


@main.command()
@click.option("--demo", is_flag=True, help="Load demo data into the configured database first.")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option(
    "--workers", default=1, show_default=True, type=int, help="App processes (PostgreSQL only for more than one)."
)
@click.option(
    "--limit-concurrency",
    default=LIMIT_CONCURRENCY,
    show_default=True,
    type=int,
    help="Connections and requests per process at once; past that, new requests get a 503.",
)
@click.option(
    "--timeout-keep-alive",
    default=TIMEOUT_KEEP_ALIVE,
    show_default=True,
    type=int,
    help="Seconds an idle kept-alive connection stays open.",
)
def serve(demo: bool, host: str, port: int, workers: int, limit_concurrency: int, timeout_keep_alive: int) -> None:
    """Apply migrations and serve the app (behind a reverse proxy in production: see README).

    With `--demo` and no MOLLIE_API_ENDPOINT, payments go to a local Mollie stand-in."""
    import uvicorn

    from funding.demo import load_demo

    if demo and not os.environ.get("MOLLIE_API_ENDPOINT"):
        _start_mollie_standin()
    if not os.environ.get("FUNDING_BASE_URL"):
        # Links in mail and Mollie's return and webhook URLs must reach this server, on its port.
        local = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
        os.environ["FUNDING_BASE_URL"] = f"http://{local}:{port}"
    settings = Settings.from_env()
    if workers > 1 and not settings.uses_postgres:
        raise click.UsageError("several workers need PostgreSQL (DATABASE_URL=postgresql://…)")

    async def prepare() -> None:
        await _migrate(settings)
        if demo and await load_demo():
            log.info("demo data loaded")

    asyncio.run(prepare())
    click.echo(f"funding on http://{host}:{port}/ ({db.describe(settings.database_url)})")
    uvicorn.run(
        "funding.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="info",
        log_config=uvicorn_log_config(),
        proxy_headers=True,
        limit_concurrency=limit_concurrency,
        timeout_keep_alive=timeout_keep_alive,
        timeout_graceful_shutdown=TIMEOUT_GRACEFUL_SHUTDOWN,
        h11_max_incomplete_event_size=MAX_HEADER_BYTES,
    )


def _start_mollie_standin() -> None:
    """A Mollie stand-in in a daemon thread of this process, named in the environment that the
    app factory (and every worker process) reads its settings from."""
    from funding.mollie_standin import MollieStandin

    standin = MollieStandin().start()
    os.environ["MOLLIE_API_ENDPOINT"] = standin.url
    os.environ.setdefault("MOLLIE_API_KEY", DEMO_MOLLIE_API_KEY)
    log.info("demo payments go to the Mollie stand-in on %s (its control API: %s/_standin/)", standin.url, standin.url)


@main.command(name="mollie-standin")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=MOLLIE_STANDIN_PORT, show_default=True, type=int)
def mollie_standin(host: str, port: int) -> None:
    """Run a local stand-in of Mollie's API (test mode, no real payments) in the foreground.

    Point the app at it with MOLLIE_API_ENDPOINT=http://HOST:PORT and any MOLLIE_API_KEY=test_…;
    drive it through its control API at /_standin/."""
    from funding.mollie_standin import MollieStandin

    MollieStandin().serve(host, port)


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
@click.option(
    "--checkpoint",
    "checkpoint_file",
    type=click.Path(exists=True, dir_okay=False),
    help="A checkpoint saved earlier (GET /checkpoint): prove the ledger only grew since.",
)
@click.option("--entry", type=click.IntRange(min=1), help="Also prove that entry SEQ is in the log (inclusion proof).")
@click.option("--key", help="The log's verifier key (see /verify), or a file holding it, to check checkpoints with.")
def verify_command(source: str | None, checkpoint_file: str | None, entry: int | None, key: str | None) -> None:
    """Recompute the hash chain from the database, or from a /ledger.json file or URL.

    From the database, also every monthly total (from the postings), the published head, the
    stored Merkle tree and the latest checkpoint issued. A /ledger.json is read as a stream
    (memory stays flat). With --checkpoint, the saved checkpoint's signature is checked with
    --key, its root against the tree of the ledger's first entries, and, from a URL or the
    database, the consistency proof to today's tree. Exit 0 when intact; otherwise exit 1 and
    name the first bad seq, total, or what differs from the checkpoint.
    """
    from funding.ledger.audit import LogReport, TreeWatch
    from funding.ledger.notes import Checkpoint, NoteError, Verifier, open_checkpoint

    verifier: Verifier | None = None
    settings = Settings.from_env() if source is None else None
    try:
        if key:
            verifier = Verifier.parse(_text_or_file(key))
        elif settings is not None and checkpoint_file:
            verifier = _own_verifier(settings)
    except (OSError, NoteError) as exc:
        raise click.ClickException(f"cannot read the verifier key: {exc}") from exc
    if checkpoint_file and verifier is None:
        raise click.UsageError("--checkpoint needs --key: the log's verifier key, as /verify shows it")
    report = LogReport()
    saved: Checkpoint | None = None
    if checkpoint_file:
        assert verifier is not None
        try:
            with open(checkpoint_file, "rb") as handle:
                saved, _ = open_checkpoint(handle.read(), verifier)
        except (OSError, NoteError) as exc:
            click.echo(f"BROKEN: the saved checkpoint {checkpoint_file} does not open: {exc}", err=True)
            sys.exit(1)
    site = _site(source)
    latest: Checkpoint | None = None
    if site and verifier is not None:
        latest = _site_checkpoint(site, verifier, report)
    watch = TreeWatch([c.size for c in (saved, latest) if c is not None], entry)
    if source is None:
        assert settings is not None
        _bind(settings)

        async def pooled() -> Verification:
            async with db.connection_pool(3):
                return await _verify_database(watch, saved, entry, report)

        result = asyncio.run(pooled())
        where = db.describe(settings.database_url)
    else:
        result, where = _verify_export(source, watch), source
    if result.first_bad_seq is None and source is not None:
        _check_log(watch, saved, latest, entry, site, report)
    _report(result, where, report)


def _text_or_file(value: str) -> str:
    """A key given on the command line, or the path of a file holding it."""
    if "+" in value and not os.path.exists(value):
        return value.strip()
    with open(value) as handle:
        return handle.read().strip()


def _own_verifier(settings: Settings):
    """The verifier key of the key this site signs with, when there is one (never makes one)."""
    from funding.ledger.log import load_signer

    if not settings.log_signing_key and not os.path.exists(settings.log_key_file):
        return None
    return load_signer(settings.log_signing_key, settings.log_key_file, settings.checkpoint_origin).verifier


def _site(source: str | None) -> str | None:
    """The site a /ledger.json URL comes from, to ask for its checkpoint and proofs."""
    if source and source.startswith(("http://", "https://")):
        return source.split("?", 1)[0].removesuffix("/ledger.json").rstrip("/")
    return None


def _site_checkpoint(site: str, verifier, report):
    from funding.ledger.notes import NoteError, open_checkpoint

    try:
        response = httpx.get(f"{site}/checkpoint", timeout=60, follow_redirects=True)
        if response.status_code == 404:
            report.lines.append(f"{site} has issued no checkpoint yet")
            return None
        response.raise_for_status()
        checkpoint, _ = open_checkpoint(response.content, verifier)
    except httpx.HTTPError as exc:
        raise click.ClickException(f"cannot read the checkpoint of {site}: {exc}") from exc
    except NoteError as exc:
        report.problems.append(f"the checkpoint {site}/checkpoint serves does not open with the key: {exc}")
        return None
    return checkpoint


def _verify_export(source: str, watch) -> Verification:
    """Stream the export: entries are verified and dropped one by one."""
    from funding.ledger.stream import ExportError, ExportReader

    reader = ExportReader(_chunks(source))
    result = Verification()
    try:
        for entry in reader.entries():
            if not result.feed(entry):
                return result
            watch.add(entry)
    except (OSError, httpx.HTTPError, ExportError, UnicodeDecodeError) as exc:
        raise click.ClickException(f"cannot read a ledger export from {source}: {exc}") from exc
    assert reader.head_seq is not None and reader.head_hash is not None
    return result.end((reader.head_seq, reader.head_hash))


async def _verify_database(watch, saved, entry: int | None, report) -> Verification:
    """The chain (with the monthly totals), then the stored tree and checkpoints against the
    tree of the entries just read, and the proofs from the stored tree."""
    from funding.ledger.audit import check_consistency, check_inclusion, check_saved
    from funding.ledger.log import LogService
    from funding.ledger.notes import Checkpoint
    from funding.ledger.service import LedgerService

    log = LogService()
    issued = await log.latest()
    if issued is not None:
        watch.wanted.add(issued.tree_size)
    if db.is_postgres():
        # PostgreSQL checks the stored tree (its own sha256) while Python checks the chain.
        head = await LedgerService().head()
        result, problem = await asyncio.gather(LedgerService().verify(), log.check_tree_in_database(head.seq))
        if result.first_bad_seq is not None:
            return result
        if problem is None:
            await watch.from_stored_tree(log, result.head_seq)
    else:
        result = await LedgerService().verify()
        if result.first_bad_seq is not None:
            return result
        problem = await log.check_tree(watch.add_hash, size=result.head_seq)
    if problem is not None:
        report.problems.append(problem)
        return result
    root = watch.root()
    if saved is not None:
        check_saved(saved, watch, report)
    if issued is not None:
        last = Checkpoint("", issued.tree_size, issued.root_hash)
        check_saved(last, watch, report, what="the latest checkpoint issued")
    if saved is not None and 0 < saved.size <= watch.size:
        proof = await log.consistency(saved.size, watch.size)
        check_consistency(saved, watch.size, root, proof.hashes, report, "from the stored tree")
    if entry is not None and entry <= watch.size:
        inclusion = await log.inclusion(entry, watch.size)
        check_inclusion(entry, watch.size, watch.leaf, root, inclusion.hashes, report, "from the stored tree")
    elif entry is not None:
        report.problems.append(f"there is no entry {entry}: the ledger has {watch.size}")
    return result


def _check_log(watch, saved, latest, entry: int | None, site: str | None, report) -> None:
    """A saved checkpoint against the entries read; from a site, its latest checkpoint and
    proofs too."""
    import base64

    from funding.ledger.audit import check_consistency, check_inclusion, check_saved

    if saved is not None:
        check_saved(saved, watch, report)
    if latest is not None:
        if watch.size >= latest.size:
            check_saved(latest, watch, report, what=f"the site's checkpoint ({site}/checkpoint)")
        else:
            report.lines.append(f"the site's checkpoint is of {latest.size} entries, newer than the export read")
    if site is None:
        if entry is not None:
            if watch.leaf is None:
                report.problems.append(f"there is no entry {entry}: the ledger has {watch.size}")
            else:
                report.lines.append(f"entry {entry} is in the verified ledger (leaf {watch.leaf.hex()})")
        return

    def proof(path: str) -> dict:
        try:
            response = httpx.get(f"{site}{path}", timeout=60, follow_redirects=True)
        except httpx.HTTPError as exc:
            raise click.ClickException(f"cannot read {site}{path}: {exc}") from exc
        if response.status_code >= 400:
            report.problems.append(f"{site}{path} answers {response.status_code}: {response.text[:200]}")
            return {}
        return response.json()

    def hashes(body: dict) -> list[bytes]:
        return [base64.b64decode(h) for h in body.get("hashes", [])]

    target_size, target_root = (latest.size, latest.root) if latest is not None else (watch.size, watch.root())
    if saved is not None and latest is not None and 0 < saved.size <= latest.size:
        body = proof(f"/api/v1/proofs/consistency?from={saved.size}&to={latest.size}")
        if body:
            check_consistency(saved, latest.size, latest.root, hashes(body), report, f"from {site}")
    elif saved is not None and latest is not None and saved.size > latest.size:
        report.problems.append(
            f"the site's checkpoint is of {latest.size} entries, older than the saved one of {saved.size}: "
            "the log went back"
        )
    if entry is not None and target_size >= entry:
        body = proof(f"/api/v1/proofs/inclusion?seq={entry}&size={target_size}")
        if body:
            check_inclusion(entry, target_size, watch.leaf, target_root, hashes(body), report, f"from {site}")
    elif entry is not None:
        report.problems.append(f"there is no entry {entry} in the log of {target_size} entries")


@main.command(name="checkpoint")
@click.option("--key-only", is_flag=True, help="Print the verifier key only, issuing nothing.")
def checkpoint_command(key_only: bool) -> None:
    """Issue a signed checkpoint of the Merkle tree now (if it grew) and print the latest.

    The key is FUNDING_LOG_SIGNING_KEY (or the file it names); without one, the site's own in
    FUNDING_LOG_KEY_FILE, made there the first time."""
    from funding.dependencies import log_key
    from funding.ledger.log import LogService

    settings = Settings.from_env()
    signer = log_key(settings).signer()
    if key_only:
        click.echo(str(signer.verifier))
        return
    _bind(settings)
    log = LogService(signer)

    async def issue():
        await log.issue()
        return await log.latest()

    latest = asyncio.run(issue())
    assert latest is not None
    click.echo(latest.note, nl=False)
    click.echo(f"(verifier key: {signer.verifier})", err=True)


@main.command(name="witness")
@click.argument("url")
@click.option("--key", required=True, help="The log's verifier key (its /verify page shows it), or a file holding it.")
@click.option(
    "--witness-key",
    envvar="FUNDING_WITNESS_KEY",
    help="This witness's own key (PRIVATE+KEY+…) or a file holding it; default: one made in the state folder.",
)
@click.option("--name", default="funding-witness", show_default=True, help="The name of a witness key made here.")
@click.option(
    "--state",
    envvar="FUNDING_WITNESS_STATE",
    default="witness-state",
    show_default=True,
    type=click.Path(file_okay=False),
    help="Where the last checkpoint cosigned (per log) and the witness's key are kept.",
)
def witness_command(url: str, key: str, witness_key: str | None, name: str, state: str) -> None:
    """Witness the log at URL: check its latest checkpoint's signature and its consistency with
    the last one cosigned, refuse to go back, and cosign it (C2SP tlog-cosignature).

    Exit 0 when cosigned; 1 when refused (a split view, a rewritten or shrunken log)."""
    from pathlib import Path

    from funding.ledger.log import load_signer
    from funding.ledger.notes import NoteError, Verifier, cosigner_verifier
    from funding.witness import SplitView, WitnessRefused, WitnessState, witness

    try:
        log_key = Verifier.parse(_text_or_file(key))
        signer = load_signer(witness_key or "", str(Path(state) / "witness.key"), name)
    except (OSError, NoteError) as exc:
        raise click.ClickException(f"cannot read a key: {exc}") from exc
    try:
        with httpx.Client(timeout=60, follow_redirects=True) as client:
            done = witness(url.rstrip("/"), log_key, signer, WitnessState(state), client)
    except SplitView as exc:
        click.echo("!" * 72, err=True)
        click.echo(str(exc), err=True)
        click.echo("!" * 72, err=True)
        sys.exit(1)
    except WitnessRefused as exc:
        click.echo(f"REFUSED: {exc}", err=True)
        sys.exit(1)
    except httpx.HTTPError as exc:
        raise click.ClickException(f"cannot reach {url}: {exc}") from exc
    since = f" (consistent with {done.previous.size})" if done.previous else " (the first seen)"
    click.echo(f"cosigned {done.checkpoint.origin} at {done.checkpoint.size} entries{since}")
    if not done.accepted:
        click.echo(f"the site did not accept the cosignature: add {cosigner_verifier(signer)} to its FUNDING_WITNESSES")


@main.command(name="import-organisations")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
def import_organisations(file: str) -> None:
    """Load or update the organisation registry from a CSV FILE.

    Either the registry's own layout or a CBS municipality list (code, name, population); see
    README "Organisations". Rows are matched by identifier (CBS code, else OIN, else KvK), so
    importing a file again changes nothing. Each row is imported on its own: a rejected row is
    reported with its line and reason and leaves the others as they are.

    Exit 0 when no row was rejected, 1 otherwise.
    """
    from funding.organisations.importing import decode, parse_csv
    from funding.organisations.service import OrganisationService

    settings = Settings.from_env()
    _bind(settings)
    with open(file, "rb") as handle:
        rows = parse_csv(decode(handle.read()))
    service = OrganisationService()
    if len(rows) >= PROGRESS_FROM_ROWS:
        with click.progressbar(length=len(rows), label="importing", file=sys.stderr) as bar:
            report = asyncio.run(service.import_rows(rows, progress=bar.update))
    else:
        report = asyncio.run(service.import_rows(rows))
    click.echo(f"{report.summary()} ({file} into {db.describe(settings.database_url)})")
    for outcome in report.rejected:
        click.echo(str(outcome))
    if not report.ok:
        sys.exit(1)


PROGRESS_FROM_ROWS = 50
"""Files this long show a progress bar (on standard error, when it is a terminal)."""


def _chunks(source: str):
    """The bytes of a file or URL, a chunk at a time."""
    from funding.ledger.stream import file_chunks

    if not source.startswith(("http://", "https://")):
        yield from file_chunks(source)
        return
    with httpx.stream("GET", source, timeout=60, follow_redirects=True) as response:
        response.raise_for_status()
        yield from response.iter_bytes(1 << 20)


def _report(result: Verification, where: str, log=None) -> None:
    problems = list(log.problems) if log is not None else []
    if result.ok and not problems:
        click.echo(f"intact: {result.checked} entries, head #{result.head_seq} {result.head_hash} ({where})")
        for line in log.lines if log is not None else []:
            click.echo(f"  {line}")
        return
    if result.first_bad_seq is not None:
        click.echo(
            f"BROKEN at seq {result.first_bad_seq}: {result.problem} "
            f"({result.checked} entries before it are intact; {where})",
            err=True,
        )
    for problem in [*result.other_problems, *problems]:
        click.echo(f"BROKEN: {problem} ({where})", err=True)
    sys.exit(1)


@main.group()
def rounds() -> None:
    """Funding rounds."""


@rounds.command(name="close")
@click.argument("slug", required=False)
@click.option("--reason", default="", help="Why, for the round's history (default: the close date, or this command).")
def close_rounds(slug: str | None, reason: str) -> None:
    """Decide the round SLUG now, or every open round whose close date has passed.

    An all-or-nothing round that met its target turns its pledges due (booked in the journal);
    one that missed releases them and mails their pledgers; a keep-it-all round stops taking
    pledges. A round decided before stays as it was."""
    from funding.dependencies import pledge_service
    from funding.pledges.service import RoundNotFound

    settings = Settings.from_env()
    _bind(settings)
    service = pledge_service(settings)

    async def close() -> list:
        if slug is None:
            return await service.close_due_rounds()
        return [await service.close_round(slug, reason=reason or "closed with `funding rounds close`")]

    try:
        decided = asyncio.run(close())
    except RoundNotFound as missing:
        raise click.ClickException(str(missing)) from missing
    if not decided:
        click.echo("no open round is past its close date")
    for fund in decided:
        click.echo(f"{fund.slug}: {fund.status.value}")


@main.group()
def pledges() -> None:
    """Pledges."""


@pledges.command(name="record")
@click.option("--organisation", "identifier", required=True, help="CBS code (GM0363), OIN or KvK number.")
@click.option("--round", "slug", required=True, help="The round's slug.")
@click.option("--amount", required=True, help="Euros: 25000, 25000.50 or 25.000,50.")
@click.option("--decision-ref", required=True, help="The council or board decision, e.g. 'raadsbesluit 2026-14'.")
@click.option("--decision-date", required=True, type=click.DateTime(formats=["%Y-%m-%d"]), help="YYYY-MM-DD.")
@click.option("--contact-name", default="", help="Default: the organisation's name.")
@click.option("--contact-email", default="", help="Default: the organisation's billing address.")
@click.option("--buyer-reference", default="", help="Purchase-order number or buyer reference for the invoice.")
@click.option("--members", default="", help="Umbrella pledge: the covered members' identifiers, comma-separated.")
@click.option("--anonymous", is_flag=True, help="Do not name the organisation on public pages.")
def record_pledge(
    identifier: str,
    slug: str,
    amount: str,
    decision_ref: str,
    decision_date,
    contact_name: str,
    contact_email: str,
    buyer_reference: str,
    members: str,
    anonymous: bool,
) -> None:
    """Record a pledge an organisation committed to by a decision, with the life of any other."""
    from funding.dependencies import pledge_service
    from funding.money import MoneyError
    from funding.pledges.service import NewPledge, PledgeError
    from funding.pledges.tables import PledgeSource

    settings = Settings.from_env()
    _bind(settings)
    service = pledge_service(settings)
    try:
        euros = _typed_euros(amount)
    except MoneyError as bad:
        raise click.BadParameter(str(bad), param_hint="--amount") from bad

    async def record():
        organisation = await _organisation(service.organisations, identifier)
        covered = [await _organisation(service.organisations, code) for code in members.split(",") if code.strip()]
        return await service.pledge(
            slug,
            NewPledge(
                organisation_id=organisation["id"],
                contact_name=contact_name or organisation["name"],
                contact_email=contact_email or organisation["billing_email"],
                amount=euros,
                buyer_reference=buyer_reference,
                publish_name=not anonymous,
                members=tuple(member["id"] for member in covered),
                source=PledgeSource.staff,
                decision_reference=decision_ref,
                decision_date=decision_date.date(),
            ),
        )

    try:
        pledge = asyncio.run(record())
    except PledgeError as refused:
        option = {"publish_name": "anonymous"}.get(refused.field or "", refused.field or "")
        hint = f" (--{option.replace('_', '-')})" if option else ""
        raise click.ClickException(f"{refused}{hint}") from refused
    click.echo(
        f"recorded {pledge.formatted_reference}: {pledge.organisation_name}, {pledge.amount}, {pledge.status.value}"
    )
    click.echo(f"the pledge's page: {settings.base_url}/pledges/{pledge.token}")


@main.group()
def users() -> None:
    """Staff accounts (roles admin, treasurer, approver, auditor)."""


@users.command(name="create")
@click.option("--email", required=True, help="The login name.")
@click.option("--role", required=True, type=click.Choice(["admin", "treasurer", "approver", "auditor"]))
@click.option(
    "--password",
    prompt=True,
    hide_input=True,
    confirmation_prompt=True,
    envvar="FUNDING_NEW_PASSWORD",
    help="At least 12 characters; asked for when not given (or in FUNDING_NEW_PASSWORD).",
)
def create_user(email: str, role: str, password: str) -> None:
    """Create a staff account. A user is never deleted: admins disable one instead."""
    from funding.accounts.service import AccountError, AccountService

    settings = Settings.from_env()
    _bind(settings)
    try:
        account = asyncio.run(AccountService().create_user(email, role, password, actor="cli"))
    except AccountError as refused:
        raise click.ClickException(str(refused)) from refused
    click.echo(f"staff account {account.id}: {account.email}, {account.role.value}")


@main.group()
def invoices() -> None:
    """Invoices and credit notes (PDF and Peppol BIS Billing 3.0 UBL)."""


def _invoices(settings: Settings):
    from funding.dependencies import invoice_service

    _bind(settings)
    return invoice_service(settings)


def _invoice_call(call):
    from funding.invoicing.service import InvoiceError
    from funding.pledges.service import PledgeError

    try:
        return asyncio.run(call)
    except (InvoiceError, PledgeError) as refused:
        raise click.ClickException(str(refused)) from refused


@invoices.command(name="issue")
@click.argument("pledge")
def issue_invoice(pledge: str) -> None:
    """Issue the invoice of the due pledge PLEDGE (its RF reference), mail it and hand it to
    the Peppol outbox. A pledge is invoiced once; a second request is refused."""
    service = _invoices(Settings.from_env())

    async def issue():
        found = await service.pledges.pledge_by_reference(pledge)
        return await service.issue(found.id)

    issued = _invoice_call(issue())
    click.echo(f"invoice {issued.number}: {issued.document.buyer.name}, {issued.amount}, due {issued.due_date}")


@invoices.command(name="credit")
@click.argument("number")
@click.option("--amount", required=True, help="Euros to credit: at most what the invoice still asks.")
@click.option("--reason", required=True, help="Why, as the credit note will say.")
def credit_invoice(number: str, amount: str, reason: str) -> None:
    """Issue a credit note for part or all of invoice NUMBER."""
    from funding.money import MoneyError

    try:
        euros = _typed_euros(amount)
    except MoneyError as bad:
        raise click.BadParameter(str(bad), param_hint="--amount") from bad
    service = _invoices(Settings.from_env())
    issued = _invoice_call(service.credit(number, euros, reason))
    click.echo(f"credit note {issued.number} for invoice {number}: {issued.amount}")


@invoices.command(name="send")
@click.argument("number")
def send_invoice(number: str) -> None:
    """Send invoice or credit note NUMBER again: mail it with both files and hand it to the
    Peppol outbox (after a mail server was down, or for a new billing address)."""
    service = _invoices(Settings.from_env())

    async def send():
        await service.send(await service.get(number))
        return await service.deliveries(number)

    for delivery in _invoice_call(send()):
        click.echo(
            f"{delivery['at']:%Y-%m-%d %H:%M} {delivery['channel']}: {'sent' if delivery['succeeded'] else 'failed'}"
        )


@invoices.command(name="save")
@click.argument("number")
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
def save_invoice(number: str, folder: Path) -> None:
    """Write invoice NUMBER's stored PDF and XML into FOLDER, byte for byte as issued."""
    service = _invoices(Settings.from_env())

    async def files():
        return [(suffix, *await service.file(number, suffix)) for suffix in ("pdf", "xml")]

    folder.mkdir(parents=True, exist_ok=True)
    for suffix, issued, data in _invoice_call(files()):
        (folder / issued.filename(suffix)).write_bytes(data)
        click.echo(folder / issued.filename(suffix))


@main.group()
def payments() -> None:
    """Payments through Mollie."""


def _payments(settings: Settings):
    from funding.dependencies import mollie_api, payment_service

    if not settings.mollie_api_key:
        raise click.UsageError("MOLLIE_API_KEY is not set")
    _bind(settings)
    return payment_service(settings, mollie_api(settings))


@payments.command(name="reconcile")
def reconcile_payments() -> None:
    """Ask Mollie about every payment not yet final (and recent paid ones, for refunds and
    chargebacks) and book what changed: what the webhooks would have booked, had none been lost."""
    settings = Settings.from_env()
    service = _payments(settings)
    booked = asyncio.run(service.reconcile())
    for done in booked:
        what = ", ".join(f"{kind.value} {amount}" for kind, amount in done.bookings)
        click.echo(f"{done.payment.mollie_id}: {done.payment.status.value}; booked {what}")
    click.echo(f"{len(booked)} payment(s) with something new booked")


@payments.command(name="refund")
@click.argument("payment_id")
@click.option("--amount", default=None, help="Euros (default: all that is left to refund).")
@click.option("--reason", required=True, help="Why; kept by the programme, not published.")
def refund_payment(payment_id: str, amount: str | None, reason: str) -> None:
    """Refund Mollie payment PAYMENT_ID (tr_…) fully or partly. Running it again after an error
    asks Mollie for the same refund, never a second one."""
    from funding.money import MoneyError
    from funding.payments.service import PaymentError

    settings = Settings.from_env()
    service = _payments(settings)
    try:
        euros = _typed_euros(amount) if amount else None
    except MoneyError as bad:
        raise click.BadParameter(str(bad), param_hint="--amount") from bad
    try:
        done = asyncio.run(service.refund(payment_id.strip(), euros, reason=reason))
    except PaymentError as refused:
        raise click.ClickException(str(refused)) from refused
    what = ", ".join(f"{kind.value} {amount}" for kind, amount in done.bookings) or "nothing new"
    click.echo(f"{payment_id}: refund asked; booked {what}")


_PLAIN_EUROS = re.compile(r"\d+(\.\d{1,2})?")


def _typed_euros(text: str):
    """`25000` and `25000.50` as written; anything else as Dutch (`25.000,50`), so `1.000` is a thousand."""
    from funding.money import Money

    text = text.strip()
    return Money.euros(text) if _PLAIN_EUROS.fullmatch(text) else Money.parse(text, "nl")


async def _organisation(registry, identifier: str) -> dict:
    from funding.pledges.service import PledgeError

    found = await registry.by_identifier(identifier)
    if found is None:
        raise PledgeError(f"no organisation in the registry has the identifier {identifier.strip()!r}", "organisation")
    return found
