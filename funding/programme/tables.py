from typing import Any

from piccolo.columns import BigInt, Boolean, Date, ForeignKey, Integer, Serial, Text, Varchar
from piccolo.columns.base import OnDelete, OnUpdate
from piccolo.table import Table

REQUIRED: dict[str, Any] = {"null": False, "default": None}
KEPT: dict[str, Any] = {"on_delete": OnDelete.restrict, "on_update": OnUpdate.restrict}
"""A budget is referred to by the journal's reports: its rows are required and never dangle."""


class Programme(Table):
    id: Serial  # Piccolo's default primary key, declared for type checkers
    slug = Varchar(length=80, unique=True, **REQUIRED)
    name = Varchar(length=200, **REQUIRED)
    description = Text(default="")
    is_demo = Boolean(default=False, help_text="Demo data is labelled as such on every page")


class BudgetPeriod(Table):
    """Usually a calendar year."""

    id: Serial
    programme = ForeignKey(references=Programme, index=True, **REQUIRED, **KEPT)
    name = Varchar(length=80, **REQUIRED)
    starts_on = Date(**REQUIRED)
    ends_on = Date(**REQUIRED)


class BudgetLine(Table):
    """What the period plans to spend on one thing; spending books to `expenses:<code>`."""

    id: Serial
    period = ForeignKey(references=BudgetPeriod, index=True, **REQUIRED, **KEPT)
    code = Varchar(length=60, **REQUIRED)
    name = Varchar(length=200, **REQUIRED)
    name_en = Varchar(length=200, default="")
    amount_cents = BigInt(help_text="Budgeted euro cents", **REQUIRED)
    position = Integer(default=0)
