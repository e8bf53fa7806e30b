"""Spending through the service, on the backend under test: the life of an expense and its
bookings, four eyes, the budget override, rejection, reversal and corrections, each in the
audit trail."""

from __future__ import annotations

import re
from datetime import date

import pytest

from funding.accounts.tables import AuditEvent
from funding.i18n import gettext, use_locale
from funding.ledger.service import LedgerService
from funding.money import Money
from funding.spending.errors import ExpenseNotFound, NotAllowed, ReceiptError, SpendingError
from funding.spending.service import SpendingService
from funding.spending.tables import Expense, ExpenseEvent, ExpenseStatus
from tests.factories import book_contribution, book_salary
from tests.spending.conftest import PDF, PNG


def said(message: str) -> str:
    with use_locale("nl"):
        return re.escape(gettext(message))


FOUR_EYES = said("Four eyes: someone other than the submitter approves or rejects an expense.")


async def submitted(spending: SpendingService, by, period: int, euros: int | str = 1250, **changes):
    fields = {
        "payee": "Zaal De Observant BV",
        "occurred_on": date(2026, 5, 20),
        "amount": Money.euros(euros),
        "period_id": period,
        "budget_line": "events",
        "description": "Zaalhuur voorjaarsbijeenkomst",
        "receipt": PDF,
        "receipt_name": "factuur-2026-117 J. de Vries.pdf",
    }
    return await spending.submit(by, **{**fields, **changes})


async def actions(subject: str) -> list[tuple[str, str]]:
    rows = await AuditEvent.select(AuditEvent.actor, AuditEvent.action).where(AuditEvent.subject == subject)
    return [(row["actor"].split("@")[0], row["action"]) for row in rows]


async def test_the_life_of_an_expense_books_approval_then_payment_with_a_public_text(
    spending, staff, period, ledger: LedgerService
):
    expense = await submitted(spending, staff["treasurer"], period)
    assert expense.status is ExpenseStatus.submitted and expense.seqs == ()
    assert [e.id for e in await spending.awaiting_approval()] == [expense.id]
    assert (await ledger.head()).seq == 0  # nothing booked until approved

    approved = await spending.approve(expense.id, staff["approver"])
    assert (approved.status, approved.decided_by, approved.override_by) == (
        ExpenseStatus.approved,
        staff["approver"].id,
        None,
    )
    entry = await ledger.entry(approved.approved_seq)
    assert entry.kind == "expense_approved" and entry.reference == f"expense:{expense.id}"
    assert entry.description == "Uitgave events: Zaal De Observant BV – Zaalhuur voorjaarsbijeenkomst"
    for private in ("treasurer", "approver", "example.nl", "Vries", "factuur-2026"):
        assert private not in entry.description
    balances = await ledger.balances()
    assert (balances["expenses:events"], balances["liabilities:payables"]) == (Money.euros(1250), -Money.euros(1250))
    assert await spending.remaining(period, "events") == Money.euros(18_000 - 1250)
    assert await spending.awaiting_approval() == []

    paid = await spending.mark_paid(expense.id, staff["treasurer"], date(2026, 6, 1))
    assert (paid.status, paid.paid_on) == (ExpenseStatus.paid, date(2026, 6, 1))
    payment = await ledger.entry(paid.paid_seq)
    assert payment.kind == "expense_paid" and payment.occurred_on == date(2026, 6, 1)
    assert payment.description.startswith("Betaling: Uitgave events: Zaal De Observant BV")
    balances = await ledger.balances()
    assert balances["liabilities:payables"] == Money.zero()
    assert (balances["expenses:events"], balances["assets:bank"]) == (Money.euros(1250), -Money.euros(1250))
    assert (await ledger.verify()).ok

    again = await spending.mark_paid(expense.id, staff["treasurer"], date(2026, 6, 1))
    assert again.paid_seq == paid.paid_seq and (await ledger.head()).seq == 2
    history = [(e.actor.split("@")[0], e.action, e.from_status, e.to_status) for e in again.history]
    assert history == [
        ("treasurer", "submitted", "", "submitted"),
        ("approver", "approved", "submitted", "approved"),
        ("treasurer", "paid", "approved", "paid"),
    ]
    assert await actions(f"expense:{expense.id}") == [
        ("treasurer", "expense_submitted"),
        ("approver", "expense_approved"),
        ("treasurer", "expense_paid"),
    ]


async def test_four_eyes_the_submitter_never_decides_and_roles_are_kept(spending, staff, period, accounts):
    by_admin = await submitted(spending, staff["admin"], period)
    with pytest.raises(NotAllowed, match=FOUR_EYES):
        await spending.approve(by_admin.id, staff["admin"])
    with pytest.raises(NotAllowed, match=FOUR_EYES):
        await spending.reject(by_admin.id, staff["admin"], "zelf ingediend")
    expense = await submitted(spending, staff["treasurer"], period)
    for who in ("treasurer", "treasurer2", "auditor"):
        with pytest.raises(NotAllowed):
            await spending.approve(expense.id, staff[who])
    for who in ("approver", "auditor"):
        with pytest.raises(NotAllowed):
            await submitted(spending, staff[who], period)
    with pytest.raises(NotAllowed):
        await spending.reject(expense.id, staff["auditor"], "nee")
    # A role changed since the page was loaded: the account as the database has it counts.
    await accounts.change_role(staff["approver"].id, "auditor", actor="cli")
    with pytest.raises(NotAllowed):
        await spending.approve(expense.id, staff["approver"])
    await accounts.disable(staff["approver2"].id, actor="cli")
    with pytest.raises(NotAllowed):
        await spending.approve(expense.id, staff["approver2"])
    approved = await spending.approve(expense.id, staff["admin"])  # an admin who did not submit it may
    assert approved.status is ExpenseStatus.approved
    for who in ("auditor", "approver2"):
        with pytest.raises(NotAllowed):
            await spending.mark_paid(expense.id, staff[who], date(2026, 6, 1))
        with pytest.raises(NotAllowed):
            await spending.reverse(expense.id, staff[who], "fout")
    assert (await spending.expense(expense.id)).status is ExpenseStatus.approved


async def test_the_database_refuses_an_approval_by_the_submitter_too(spending, staff, period):
    expense = await submitted(spending, staff["treasurer"], period)
    with pytest.raises(Exception, match="four_eyes"):
        await Expense.update({Expense.status: "rejected", Expense.decided_by: staff["treasurer"].id}).where(
            Expense.id == expense.id
        )
    with pytest.raises(Exception, match=r"fixed|facts"):
        await Expense.update({Expense.amount_cents: 1}).where(Expense.id == expense.id)
    with pytest.raises(Exception, match=r"append-only|refused"):
        await ExpenseEvent.delete().where(ExpenseEvent.expense == expense.id)
    with pytest.raises(Exception, match=r"refused|kept"):
        await Expense.delete().where(Expense.id == expense.id)


async def test_spending_beyond_the_remaining_budget_needs_a_third_persons_override(spending, staff, period, ledger):
    first = await submitted(spending, staff["treasurer"], period, 4000, budget_line="magazine")
    await spending.approve(first.id, staff["approver"])
    assert await spending.remaining(period, "magazine") == Money.euros(1000)
    exact = await submitted(spending, staff["treasurer"], period, 1000, budget_line="magazine")
    await spending.approve(exact.id, staff["approver"])  # the whole rest: no override
    over = await submitted(spending, staff["treasurer"], period, "0.01", budget_line="magazine")
    head = (await ledger.head()).seq
    with pytest.raises(SpendingError) as refused:
        await spending.approve(over.id, staff["approver"])
    assert refused.value.field == "override_by"
    for who in ("approver", "treasurer", "auditor"):  # the approver itself, the submitter, no approver
        with pytest.raises(NotAllowed):
            await spending.approve(over.id, staff["approver"], override_by=staff[who])
    assert (await ledger.head()).seq == head and (await spending.expense(over.id)).status is ExpenseStatus.submitted
    approved = await spending.approve(over.id, staff["approver"], override_by=staff["approver2"])
    assert approved.override_by == staff["approver2"].id
    assert await spending.remaining(period, "magazine") == -Money(1)
    assert [(e.actor.split("@")[0], e.action) for e in approved.history][-2:] == [
        ("approver2", "override"),
        ("approver", "approved"),
    ]
    assert ("approver2", "expense_override") in await actions(f"expense:{over.id}")


async def test_rejecting_needs_a_reason_and_books_nothing(spending, staff, period, ledger):
    expense = await submitted(spending, staff["treasurer"], period)
    for reason in ("", "   ", "regel\nnog een"):
        with pytest.raises(SpendingError) as refused:
            await spending.reject(expense.id, staff["approver"], reason)
        assert refused.value.field == "reason"
    rejected = await spending.reject(expense.id, staff["approver"], "  Geen bonnetje van de leverancier ")
    assert (rejected.status, rejected.reason) == (ExpenseStatus.rejected, "Geen bonnetje van de leverancier")
    assert (await ledger.head()).seq == 0
    with pytest.raises(SpendingError):
        await spending.approve(expense.id, staff["approver2"])
    with pytest.raises(SpendingError):
        await spending.mark_paid(expense.id, staff["treasurer"], date(2026, 6, 1))
    with pytest.raises(SpendingError):
        await spending.reverse(expense.id, staff["treasurer"], "fout")
    assert ("approver", "expense_rejected") in await actions(f"expense:{expense.id}")


async def test_reversing_an_expense_undoes_what_it_booked_once(spending, staff, period, ledger):
    expense = await submitted(spending, staff["treasurer"], period)
    await spending.approve(expense.id, staff["approver"])
    await spending.mark_paid(expense.id, staff["treasurer"], date(2026, 6, 1))
    with pytest.raises(SpendingError):
        await spending.reverse(expense.id, staff["treasurer"], " ")
    reversed_ = await spending.reverse(expense.id, staff["treasurer2"], "Dubbel betaald, terugbetaald door de zaal")
    assert reversed_.status is ExpenseStatus.reversed
    assert reversed_.seqs == (1, 2, 3, 4)
    assert (await ledger.entry(3)).reverses == 2 and (await ledger.entry(4)).reverses == 1
    assert "Dubbel betaald" in (await ledger.entry(4)).description
    assert all(amount == Money.zero() for amount in (await ledger.balances()).values())
    again = await spending.reverse(expense.id, staff["treasurer"], "nog eens")
    assert again.seqs == reversed_.seqs and (await ledger.head()).seq == 4
    assert await spending.remaining(period, "events") == Money.euros(18_000)
    assert (await actions(f"expense:{expense.id}")).count(("treasurer2", "expense_reversed")) == 1
    assert (await ledger.verify()).ok


async def test_a_large_reversal_needs_a_second_person(spending, staff, period, ledger):
    expense = await submitted(spending, staff["treasurer"], period, "10000.01")
    await spending.approve(expense.id, staff["approver"])
    with pytest.raises(SpendingError) as refused:
        await spending.reverse(expense.id, staff["treasurer"], "verkeerde post")
    assert refused.value.field == "second"
    for who in ("treasurer", "auditor"):
        with pytest.raises(NotAllowed):
            await spending.reverse(expense.id, staff["treasurer"], "verkeerde post", second=staff[who])
    done = await spending.reverse(expense.id, staff["treasurer"], "verkeerde post", second=staff["approver2"])
    assert done.status is ExpenseStatus.reversed
    assert ("approver2", "reversal_agreed") in await actions(f"expense:{expense.id}")


async def test_corrections_reverse_any_entry_with_a_reason_and_a_second_person_over_the_threshold(
    spending, staff, period, ledger
):
    small = await book_contribution(ledger, 10_000)
    large = await book_salary(ledger, "10000.01")
    with pytest.raises(NotAllowed):
        await spending.correct(small.seq, staff["approver"], "fout")
    with pytest.raises(SpendingError):
        await spending.correct(small.seq, staff["treasurer"], "")
    reversal = await spending.correct(small.seq, staff["treasurer"], "Dubbel ingelezen")
    assert (reversal.reverses, reversal.description) == (
        small.seq,
        f"Correctie van boeking {small.seq}: Dubbel ingelezen",
    )
    assert await spending.correct(small.seq, staff["treasurer"], "Dubbel ingelezen") == reversal  # a retry
    with pytest.raises(SpendingError):
        await spending.correct(small.seq, staff["treasurer"], "Andere reden")
    with pytest.raises(SpendingError):
        await spending.correct(reversal.seq, staff["admin"], "terug")
    with pytest.raises(SpendingError) as refused:
        await spending.correct(large.seq, staff["treasurer"], "Verkeerd bedrag")
    assert refused.value.field == "second"
    with pytest.raises(NotAllowed):
        await spending.correct(large.seq, staff["treasurer"], "Verkeerd bedrag", second=staff["treasurer"])
    booked = await spending.correct(large.seq, staff["treasurer"], "Verkeerd bedrag", second=staff["admin"])
    assert booked.reverses == large.seq
    with pytest.raises(SpendingError):
        await spending.correct(999, staff["treasurer"], "bestaat niet")
    assert await actions(f"entry:{small.seq}") == [("treasurer", "entry_reversed")]
    assert await actions(f"entry:{large.seq}") == [("treasurer", "entry_reversed"), ("admin", "reversal_agreed")]
    expense = await submitted(spending, staff["treasurer"], period)
    approved = await spending.approve(expense.id, staff["approver"])
    with pytest.raises(SpendingError, match=said("This entry belongs to an expense: reverse the expense instead.")):
        await spending.correct(approved.approved_seq, staff["treasurer"], "fout")


async def test_bad_input_is_refused_with_its_field(spending, staff, period):
    cases = [
        ({"payee": " "}, "payee"),
        ({"payee": "x" * 201}, "payee"),
        ({"description": ""}, "description"),
        ({"amount": Money(0)}, "amount"),
        ({"amount": Money(-100)}, "amount"),
        ({"budget_line": "salaries"}, "budget_line"),
        ({"period_id": period + 99}, "period"),
        ({"occurred_on": date(2025, 12, 31)}, "occurred_on"),
        ({"occurred_on": date(2026, 6, 16)}, "occurred_on"),  # tomorrow, by the service's clock
        ({"receipt": b"<html>"}, "receipt"),
        ({"receipt_name": "../../bon.pdf"}, "receipt"),
    ]
    for change, field in cases:
        with pytest.raises(SpendingError) as refused:
            await submitted(spending, staff["treasurer"], period, **change)
        assert refused.value.field == field, change
    assert await Expense.count() == 0
    with pytest.raises(ExpenseNotFound):
        await spending.expense(12345)


async def test_a_receipt_is_public_only_when_marked_and_booked(spending, staff, period, receipts):
    expense = await submitted(spending, staff["treasurer"], period, receipt=PNG, receipt_name="bon.png")
    assert (await spending.receipt(expense.id, staff["auditor"]))[1] == PNG
    marked = await spending.set_receipt_public(expense.id, staff["treasurer"], True)
    assert marked.receipt_public
    with pytest.raises(ExpenseNotFound):
        await spending.public_receipt(expense.id)  # not approved: not in the public ledger
    await spending.approve(expense.id, staff["approver"])
    receipt, data = await spending.public_receipt(expense.id)
    assert (receipt.media_type.value, data) == ("image/png", PNG)
    await spending.set_receipt_public(expense.id, staff["treasurer"], False)
    with pytest.raises(ExpenseNotFound):
        await spending.public_receipt(expense.id)
    with pytest.raises(NotAllowed):
        await spending.set_receipt_public(expense.id, staff["approver"], True)
    assert [a for _, a in await actions(f"expense:{expense.id}")] == [
        "expense_submitted",
        "receipt_published",
        "expense_approved",
        "receipt_withdrawn",
    ]
    with pytest.raises(ReceiptError):
        receipts.open("../" + expense.receipt.sha256[3:])
