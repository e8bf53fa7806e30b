"""Programmes, their budget periods and lines, and the budget-versus-actual overview."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from funding.db import as_date, write_transaction
from funding.ledger.service import LedgerService
from funding.money import Money, total
from funding.programme.tables import BudgetLine, BudgetPeriod, Programme


class ProgrammeError(ValueError):
    pass


@dataclass(frozen=True)
class LineSummary:
    code: str
    name: str
    name_en: str
    budget: Money
    spent: Money
    spent_in_kind: Money

    @property
    def remaining(self) -> Money:
        """Cash left on the line; in-kind help comes on top of the budget, not out of it."""
        return self.budget - self.spent

    @property
    def percent_used(self) -> int:
        if not self.budget:
            return 0
        return self.spent.cents * 100 // self.budget.cents


@dataclass(frozen=True)
class Overview:
    """What `GET /` shows: one period's budget against what came in and went out."""

    period: dict
    lines: list[LineSummary]
    unbudgeted_spent: Money
    contributions: Money
    in_kind: Money
    cash: Money

    @property
    def budget(self) -> Money:
        return total(line.budget for line in self.lines)

    @property
    def spent(self) -> Money:
        return total(line.spent + line.spent_in_kind for line in self.lines) + self.unbudgeted_spent

    @property
    def income(self) -> Money:
        return self.contributions + self.in_kind


def current_period(periods: list[dict], today: date) -> dict | None:
    """The period containing `today`, else the latest one that started before it, else the first
    (`periods` ordered by start)."""
    containing = [p for p in periods if p["starts_on"] <= today <= p["ends_on"]]
    started = [p for p in periods if p["starts_on"] <= today]
    candidates = containing or started[-1:] or periods[:1]
    return candidates[0] if candidates else None


def expense_account(code: str) -> str:
    return f"expenses:{code}"


def in_kind_account(code: str) -> str:
    return f"expenses:in-kind:{code}"


class ProgrammeService:
    def __init__(self, ledger: LedgerService | None = None) -> None:
        self.ledger = ledger or LedgerService()

    async def create_programme(self, *, slug: str, name: str, description: str = "", is_demo: bool = False) -> int:
        async with write_transaction():
            if await Programme.exists().where(Programme.slug == slug):
                raise ProgrammeError(f"programme {slug!r} exists already")
            rows = await Programme.insert(Programme(slug=slug, name=name, description=description, is_demo=is_demo))
        return rows[0]["id"]

    async def add_period(self, programme_id: int, *, name: str, starts_on: date, ends_on: date) -> int:
        if ends_on < starts_on:
            raise ProgrammeError("a period cannot end before it starts")
        rows = await BudgetPeriod.insert(
            BudgetPeriod(programme=programme_id, name=name, starts_on=starts_on, ends_on=ends_on)
        )
        return rows[0]["id"]

    async def add_budget_line(
        self, period_id: int, *, code: str, name: str, amount: Money, name_en: str = "", position: int = 0
    ) -> int:
        """A budget line, with its expense accounts opened in the journal."""
        if amount.cents < 0:
            raise ProgrammeError("a budget cannot be negative")
        await self.ledger.open_account(expense_account(code), name)
        await self.ledger.open_account(in_kind_account(code), name)
        rows = await BudgetLine.insert(
            BudgetLine(
                period=period_id,
                code=code,
                name=name,
                name_en=name_en,
                amount_cents=amount.cents,
                position=position,
            )
        )
        return rows[0]["id"]

    async def period(self, period_id: int) -> dict | None:
        return await BudgetPeriod.select().where(BudgetPeriod.id == period_id).first()

    async def periods(self) -> list[dict]:
        return await BudgetPeriod.select().order_by(BudgetPeriod.starts_on)

    async def budget_lines(self, period_id: int) -> list[dict]:
        """A period's lines in their order: what in-kind help can be given for."""
        return (
            await BudgetLine.select(BudgetLine.code, BudgetLine.name, BudgetLine.name_en)
            .where(BudgetLine.period == period_id)
            .order_by(BudgetLine.position, BudgetLine.id)
        )

    async def budget_line(self, period_id: int, code: str) -> dict | None:
        """One of a period's lines by its code, with its budget (`amount_cents`)."""
        return (
            await BudgetLine.select(BudgetLine.code, BudgetLine.name, BudgetLine.name_en, BudgetLine.amount_cents)
            .where((BudgetLine.period == period_id) & (BudgetLine.code == code))
            .first()
        )

    async def first_programme(self) -> dict | None:
        return await Programme.select().order_by(Programme.id).first()

    async def budget(self) -> list[dict]:
        """The first programme's periods in order of start, each with its budget lines in their
        order (`lines`): one query. They change with a budget, not with the journal, so pages
        read them once per version of those tables (`Memo` in app.py); treat them as read-only."""
        rows = await BudgetPeriod.raw(
            "SELECT bp.id AS period_id, bp.name AS period_name, bp.starts_on, bp.ends_on, "
            "bl.code, bl.name AS line_name, bl.name_en, bl.amount_cents "
            "FROM budget_period bp LEFT JOIN budget_line bl ON bl.period = bp.id "
            "WHERE bp.programme = (SELECT min(id) FROM programme) "
            "ORDER BY bp.starts_on, bp.id, bl.position, bl.id"
        )
        periods: dict[int, dict] = {}
        for row in rows:
            found = periods.setdefault(
                row["period_id"],
                {
                    "id": row["period_id"],
                    "name": row["period_name"],
                    "starts_on": as_date(row["starts_on"]),
                    "ends_on": as_date(row["ends_on"]),
                    "lines": [],
                },
            )
            if row["code"] is not None:
                found["lines"].append(row)
        return list(periods.values())

    async def overview(self, today: date, budget: list[dict] | None = None) -> Overview | None:
        """The period `today` falls in (see `current_period`) against its balances from the
        monthly totals: one query however long the ledger, and one more for `budget` (what
        `budget()` returns) unless given."""
        chosen = current_period(await self.budget() if budget is None else budget, today)
        if chosen is None:
            return None
        period = {name: value for name, value in chosen.items() if name != "lines"}
        lines = chosen["lines"]
        balances, closing = await self.ledger.period_balances(period["starts_on"], period["ends_on"])

        def balance(account: str) -> Money:
            return balances.get(account, Money.zero())

        summaries = [
            LineSummary(
                code=line["code"],
                name=line["line_name"],
                name_en=line["name_en"],
                budget=Money(line["amount_cents"]),
                spent=balance(expense_account(line["code"])),
                spent_in_kind=balance(in_kind_account(line["code"])),
            )
            for line in lines
        ]
        budgeted_accounts = {expense_account(summary.code) for summary in summaries} | {
            in_kind_account(summary.code) for summary in summaries
        }
        unbudgeted = total(
            amount
            for account, amount in balances.items()
            if account.startswith("expenses:") and account not in budgeted_accounts
        )
        return Overview(
            period=period,
            lines=summaries,
            unbudgeted_spent=unbudgeted,
            contributions=-total(a for n, a in balances.items() if n.startswith("income:contributions")),
            in_kind=-total(a for n, a in balances.items() if n.startswith("income:in-kind")),
            cash=total(a for n, a in closing.items() if n in ("assets:bank", "assets:mollie")),
        )
