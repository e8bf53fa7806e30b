from piccolo.columns import BigInt, Boolean, Date, ForeignKey, Integer, Text, Varchar
from piccolo.table import Table


class Programme(Table):
    slug = Varchar(length=80, unique=True)
    name = Varchar(length=200)
    description = Text(default="")
    is_demo = Boolean(default=False, help_text="Demo data is labelled as such on every page")


class BudgetPeriod(Table):
    """Usually a calendar year."""

    programme = ForeignKey(references=Programme, index=True)
    name = Varchar(length=80)
    starts_on = Date()
    ends_on = Date()


class BudgetLine(Table):
    """What the period plans to spend on one thing; spending books to `expenses:<code>`."""

    period = ForeignKey(references=BudgetPeriod, index=True)
    code = Varchar(length=60)
    name = Varchar(length=200)
    name_en = Varchar(length=200, default="")
    amount_cents = BigInt(help_text="Budgeted euro cents")
    position = Integer(default=0)
