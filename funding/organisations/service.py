"""Loading and updating the organisation registry from parsed rows (`importing.parse_csv`).

Each row is written in a transaction of its own: a rejected row rolls back only itself, and a
row the database refuses (two imports adding the same code at once) is reported like a bad one.
A database that fails otherwise stops the import with its error; the rows before it stay.
"""

from __future__ import annotations

import functools
import operator
import sqlite3
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

import asyncpg
from piccolo.columns import Column, Varchar
from piccolo.columns.combination import Where

from funding.db import is_postgres, write_transaction
from funding.organisations.importing import ParsedRow, RowError
from funding.organisations.tables import ALWAYS_PUBLIC, Organisation, OrganisationKind

Status = Literal["added", "updated", "unchanged", "rejected"]
STATUSES: tuple[Status, ...] = ("added", "updated", "unchanged", "rejected")


class RowRejected(ValueError):
    pass


@dataclass(frozen=True)
class RowOutcome:
    line: int
    status: Status
    name: str = ""
    organisation_id: int | None = None
    changed: tuple[str, ...] = ()
    """For an update: the columns that changed."""
    reason: str = ""
    """For a rejection: why."""

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}" if self.status == "rejected" else f"line {self.line}: {self.status}"


@dataclass
class ImportReport:
    outcomes: list[RowOutcome] = field(default_factory=list)

    def of(self, status: Status) -> list[RowOutcome]:
        return [outcome for outcome in self.outcomes if outcome.status == status]

    @property
    def rejected(self) -> list[RowOutcome]:
        return self.of("rejected")

    @property
    def ok(self) -> bool:
        return not self.rejected

    def summary(self) -> str:
        return ", ".join(f"{len(self.of(status))} {status}" for status in STATUSES)


def public_by_default(kind: OrganisationKind) -> bool:
    """Individuals are anonymous unless they choose otherwise; organisations are public."""
    return kind is not OrganisationKind.individual


def always_public(kind: str) -> bool:
    """Whether the registry must show it by name and every pledge of it names it (`ALWAYS_PUBLIC`)."""
    return kind in _ALWAYS_PUBLIC_KINDS


_ALWAYS_PUBLIC_KINDS = frozenset(k.value for k in ALWAYS_PUBLIC)
"""Made once: a round page asks for each of its rows (the set made per call was a twentieth of it)."""


PROFILE = (
    Organisation.id,
    Organisation.kind,
    Organisation.name,
    Organisation.cbs_code,
    Organisation.population,
    Organisation.is_public,
    Organisation.is_demo,
)
"""What pages and cost-sharing keys need of an organisation: no address, no billing contact."""

DEFAULTS: dict[str, Any] = {"address": "", "postcode": "", "city": "", "billing_email": "", "vat_number": ""}


class OrganisationService:
    async def import_rows(
        self, rows: Iterable[ParsedRow | RowError], progress: Callable[[int], None] | None = None
    ) -> ImportReport:
        """Add or update one organisation per row, matched by its identifiers; `RowError`s are
        reported as rejected. `progress(1)` is called after each row."""
        report = ImportReport()
        for row in rows:
            if isinstance(row, RowError):
                report.outcomes.append(RowOutcome(line=row.line, status="rejected", reason=row.reason))
            else:
                try:
                    report.outcomes.append(await self._import_row(row))
                except RowRejected as rejected:
                    report.outcomes.append(RowOutcome(row.line, "rejected", row.name, reason=str(rejected)))
                except (sqlite3.IntegrityError, asyncpg.IntegrityConstraintViolationError) as refused:
                    reason = f"the database refused it: {refused}"
                    report.outcomes.append(RowOutcome(row.line, "rejected", row.name, reason=reason))
            if progress:
                progress(1)
        return report

    async def _import_row(self, row: ParsedRow) -> RowOutcome:
        given = row.given()
        given["kind"] = row.kind.value
        async with write_transaction():
            conditions = [getattr(Organisation, name) == value for name, value in row.identifiers.items()]
            found = await Organisation.select().where(functools.reduce(operator.or_, conditions))
            if len(found) > 1:
                raise RowRejected(_conflict(row, found))
            if not found:
                values = {**DEFAULTS, "is_public": public_by_default(row.kind), **given}
                inserted = await Organisation.insert(Organisation(**values))
                return RowOutcome(row.line, "added", row.name, inserted[0]["id"])
            existing = found[0]
            changes: dict[Column | str, Any] = {name: value for name, value in given.items() if existing[name] != value}
            if not changes:
                return RowOutcome(row.line, "unchanged", row.name, existing["id"])
            await Organisation.update(changes).where(Organisation.id == existing["id"])
            return RowOutcome(row.line, "updated", row.name, existing["id"], tuple(map(str, changes)))

    async def add(self, *, kind: OrganisationKind, name: str, is_demo: bool = False, **details: Any) -> int:
        """One organisation, as the demo and tests make them (imports go through `import_rows`)."""
        values = {**DEFAULTS, "is_public": public_by_default(kind), **details}
        if not values["is_public"] and always_public(kind):
            raise RowRejected(_ALWAYS_PUBLIC_REASON % kind.value)
        inserted = await Organisation.insert(Organisation(kind=kind.value, name=name, is_demo=is_demo, **values))
        return inserted[0]["id"]

    async def get(self, organisation_id: int) -> dict | None:
        return await Organisation.select().where(Organisation.id == organisation_id).first()

    async def get_many(self, ids: Iterable[int]) -> dict[int, dict]:
        wanted = sorted(set(ids))
        if not wanted:
            return {}
        return {row["id"]: row for row in await Organisation.select().where(Organisation.id.is_in(wanted))}

    async def of_kinds(self, kinds: Iterable[str]) -> list[dict]:
        """Every organisation of these kinds, by name: who a round asks to contribute."""
        return (
            await Organisation.select(*PROFILE).where(Organisation.kind.is_in(list(kinds))).order_by(Organisation.name)
        )

    async def search(self, text: str, limit: int = 20) -> list[dict]:
        """Organisations whose name or CBS code contains `text` (case-insensitive), by name."""
        text = text.strip()[:100]
        if not text:
            return []
        pattern = "%" + text.replace("\\", "").replace("%", "").replace("_", "") + "%"
        return (
            await Organisation.select(*PROFILE)
            .where(_contains(Organisation.name, pattern) | _contains(Organisation.cbs_code, pattern))
            .order_by(Organisation.name)
            .limit(limit)
        )

    async def by_identifier(self, identifier: str) -> dict | None:
        """The organisation with this CBS code (`GM0363`), OIN (20 digits) or KvK number (8), as staff type them."""
        identifier = identifier.strip().upper()
        column = "cbs_code" if identifier.startswith("GM") else {20: "oin", 8: "kvk"}.get(len(identifier))
        return await self.find(**{column: identifier}) if column and identifier.isalnum() else None

    async def find(self, **identifier: str) -> dict | None:
        """The organisation with one identifier, e.g. `find(cbs_code="GM0363")`."""
        ((name, value),) = identifier.items()
        return await Organisation.select().where(getattr(Organisation, name) == value).first()


_ALWAYS_PUBLIC_REASON = "a %s is a public body the rounds ask: it is always shown by name (Woo), never anonymous"


def _contains(column: Varchar, pattern: str) -> Where:
    """Case-insensitive LIKE: ILIKE on PostgreSQL; SQLite's LIKE already ignores ASCII case (and
    Piccolo warns on every ILIKE there)."""
    return column.ilike(pattern) if is_postgres() else column.like(pattern)


def _conflict(row: ParsedRow, found: list[dict]) -> str:
    claims = [
        f"{name} {value} is organisation #{organisation['id']} ({organisation['name']})"
        for name, value in row.identifiers.items()
        for organisation in found
        if organisation[name] == value
    ]
    return "its identifiers belong to different organisations: " + ", ".join(claims)
