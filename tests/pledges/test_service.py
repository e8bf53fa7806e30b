"""The life of a pledge through the service, on the backend under test."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from funding.ledger.service import LedgerService
from funding.money import Money
from funding.organisations.service import OrganisationService, RowRejected
from funding.organisations.tables import Organisation, OrganisationKind
from funding.pledges.keys import CostSharingKey, KeyKind, Member, Tier, suggested_share
from funding.pledges.service import (
    ANONYMOUS,
    AlreadyCovered,
    Change,
    NewPledge,
    NotChangeable,
    PledgeError,
    PledgeNotFound,
    PledgeService,
    RoundNotFound,
    RoundNotOpen,
)
from funding.pledges.tables import (
    ContributionForm,
    Pledge,
    PledgeCover,
    PledgeMember,
    PledgeSource,
    PledgeStatus,
    RoundModel,
    RoundStatus,
)
from tests.pledges.conftest import EQUAL, cash, make_round


async def balances(ledger: LedgerService) -> dict[str, int]:
    return {name: money.cents for name, money in (await ledger.balances()).items() if money}


class RecordingNotices:
    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []

    async def confirmed(self, pledge, fund) -> None:
        self.sent.append(("confirmed", pledge.contact_email))

    async def released(self, pledge, fund) -> None:
        self.sent.append(("released", pledge.contact_email))

    async def again(self, pledge, fund) -> None:
        self.sent.append(("again", pledge.contact_email))


async def test_a_keep_it_all_pledge_is_due_and_booked_once_naming_the_organisation_not_the_person(
    pledges, ledger, year, orgs
):
    await make_round(pledges, year)
    pledge = await pledges.pledge("2026", cash(orgs["amsterdam"], 1000, contact_name="Els de Vries"))
    assert pledge.status is PledgeStatus.due
    assert pledge.reference.startswith("RF") and len(pledge.token) >= 40
    assert await balances(ledger) == {"assets:receivable:pledges": 100_000, "income:contributions": -100_000}
    entry = await ledger.entry(pledge.booked_seq)
    assert entry.kind == "pledge_due" and "Gemeente Amsterdam" in entry.description
    assert "Els" not in entry.description and "example.nl" not in entry.description
    assert entry.reference == pledge.reference
    assert [event.action for event in pledge.history] == ["pledged"]
    assert (await ledger.verify()).ok


async def test_an_all_or_nothing_round_that_meets_its_target_turns_its_pledges_due_at_the_close(
    pledges, ledger, year, orgs, clock
):
    await make_round(pledges, year, model=RoundModel.all_or_nothing, target=2_000)
    first = await pledges.pledge("2026", cash(orgs["amsterdam"], 1500))
    second = await pledges.pledge("2026", cash(orgs["utrecht"], 500))
    assert first.status is PledgeStatus.conditional and first.booked_seq is None
    assert await balances(ledger) == {}, "conditional pledges are shown, not booked"
    summary = await pledges.summary("2026")
    assert summary.pledged_conditional == Money.euros(2_000) and summary.target_met

    clock.set(date(2026, 7, 1))
    assert [r.slug for r in await pledges.close_due_rounds()] == ["2026"]
    fund = await pledges.round("2026")
    assert fund.status is RoundStatus.succeeded and fund.decided_at is not None
    for pledge in (first, second):
        after = await pledges.pledge_by_token(pledge.token)
        assert after.status is PledgeStatus.due
        assert [e.action for e in after.history] == ["pledged", "became_due"]
        assert (await ledger.entry(after.booked_seq)).occurred_on == date(2026, 6, 30)
    assert await balances(ledger) == {"assets:receivable:pledges": 200_000, "income:contributions": -200_000}
    assert [(e["from_status"], e["to_status"]) for e in await pledges.round_events(fund.id)] == [
        ("", "open"),
        ("open", "succeeded"),
    ]
    # Deciding again changes nothing.
    assert (await pledges.close_round("2026", reason="again")).status is RoundStatus.succeeded
    assert len(await ledger.entries_after(0)) == 2


async def test_an_all_or_nothing_round_that_misses_releases_its_pledges_and_tells_the_pledgers(
    ledger, year, orgs, clock
):
    notices = RecordingNotices()
    pledges = PledgeService(ledger, notices=notices, clock=clock)
    await make_round(pledges, year, model=RoundModel.all_or_nothing, target=50_000)
    pledge = await pledges.pledge("2026", cash(orgs["amsterdam"], 1500, contact_email="a@example.nl"))
    fund = await pledges.close_round("2026", reason="closed early by staff")
    assert fund.status is RoundStatus.failed
    released = await pledges.pledge_by_token(pledge.token)
    assert released.status is PledgeStatus.released
    assert released.history[-1].note == "closed early by staff"
    assert notices.sent == [("confirmed", "a@example.nl"), ("released", "a@example.nl")]
    assert await balances(ledger) == {}
    with pytest.raises(RoundNotOpen):
        await pledges.pledge("2026", cash(orgs["utrecht"]))


async def test_a_second_pledge_for_the_same_organisation_is_refused_without_its_link(pledges, year, orgs):
    await make_round(pledges, year)
    first = await pledges.pledge("2026", cash(orgs["amsterdam"]))
    with pytest.raises(AlreadyCovered) as refused:
        await pledges.pledge("2026", cash(orgs["amsterdam"], 2000, contact_email="other@example.nl"))
    assert first.token not in str(refused.value) and first.reference not in str(refused.value)
    assert refused.value.field == "organisation"
    # Cancelled, the organisation may pledge again.
    await pledges.cancel(first.token, reason="wrong amount")
    again = await pledges.pledge("2026", cash(orgs["amsterdam"], 2000))
    assert again.status is PledgeStatus.due


async def test_the_link_is_sent_again_only_to_the_contact_on_record(ledger, year, orgs, clock):
    notices = RecordingNotices()
    pledges = PledgeService(ledger, notices=notices, clock=clock)
    await make_round(pledges, year)
    await pledges.pledge("2026", cash(orgs["amsterdam"], contact_email="on-record@example.nl"))
    assert await pledges.resend_link("2026", orgs["amsterdam"])
    assert not await pledges.resend_link("2026", orgs["utrecht"])
    assert notices.sent[-1] == ("again", "on-record@example.nl")


async def test_a_round_takes_pledges_only_between_its_dates(pledges, year, orgs, clock):
    await make_round(pledges, year, opens_on=date(2026, 4, 1), closes_on=date(2026, 4, 30))
    with pytest.raises(RoundNotOpen, match="opent op 1 april 2026"):
        await pledges.pledge("2026", cash(orgs["amsterdam"]))
    clock.set(date(2026, 5, 1))
    with pytest.raises(RoundNotOpen, match="gesloten"):
        await pledges.pledge("2026", cash(orgs["amsterdam"]))
    clock.set(date(2026, 4, 30))
    assert (await pledges.pledge("2026", cash(orgs["amsterdam"]))).status is PledgeStatus.due


async def test_in_kind_hours_and_goods_book_to_the_budget_lines_in_kind_accounts(pledges, ledger, year, orgs):
    await make_round(pledges, year)
    hours = await pledges.pledge(
        "2026",
        NewPledge(
            organisation_id=orgs["utrecht_p"],
            contact_name="Piet",
            contact_email="piet@example.nl",
            form=ContributionForm.hours,
            hours=40,
            hourly_rate=Money.euros(80),
            in_kind_description="40 uur eindredactie",
            budget_line="magazine",
        ),
    )
    goods = await pledges.pledge(
        "2026",
        NewPledge(
            organisation_id=orgs["utrecht"],
            contact_name="Anna",
            contact_email="anna@example.nl",
            form=ContributionForm.goods,
            amount=Money.euros("1800.00"),
            in_kind_description="zaal en catering",
            budget_line="events",
        ),
    )
    assert hours.amount == Money.euros(3_200) and goods.amount == Money.euros(1_800)
    assert await balances(ledger) == {
        "expenses:in-kind:magazine": 320_000,
        "expenses:in-kind:events": 180_000,
        "income:in-kind": -500_000,
    }
    summary = await pledges.summary("2026")
    assert summary.in_kind == Money.euros(5_000) and summary.pledged == Money.zero()
    assert {item.budget_line for item in await pledges.in_kind_items(summary.round)} == {"magazine", "events"}
    with pytest.raises(PledgeError) as refused:
        await pledges.pledge(
            "2026",
            NewPledge(
                organisation_id=orgs["vlieland"],
                contact_name="X",
                contact_email="x@example.nl",
                form=ContributionForm.goods,
                amount=Money.euros(10),
                in_kind_description="koffie",
                budget_line="no-such-line",
            ),
        )
    assert refused.value.field == "budget_line"


async def test_an_umbrella_pledge_covers_its_members_who_cannot_be_asked_twice(pledges, year, orgs):
    await make_round(pledges, year)
    umbrella = await pledges.pledge("2026", cash(orgs["vng"], 3000, members=(orgs["vlieland"], orgs["utrecht"])))
    assert {name for _, name in umbrella.members} == {"Gemeente Vlieland", "Gemeente Utrecht"}
    with pytest.raises(AlreadyCovered) as refused:
        await pledges.pledge("2026", cash(orgs["utrecht"]))
    assert refused.value.organisation_ids == (orgs["utrecht"],)
    with pytest.raises(AlreadyCovered) as overlapping:
        await pledges.pledge("2026", cash(orgs["bzk"], members=(orgs["vlieland"],), source=PledgeSource.staff))
    assert overlapping.value.field == "members"
    rows = {row.name: row for row in await pledges.fair_share("2026")}
    assert rows["Gemeente Utrecht"].status == "covered"
    assert rows["Gemeente Utrecht"].covered_by == "Vereniging van Nederlandse Gemeenten"
    assert rows["Vereniging van Nederlandse Gemeenten"].pledged == Money.euros(3000)
    assert rows["Gemeente Amsterdam"].status == "none"


async def test_changing_a_due_pledge_reverses_and_books_again_and_cancelling_reverses_it(pledges, ledger, year, orgs):
    await make_round(pledges, year)
    pledge = await pledges.pledge("2026", cash(orgs["amsterdam"], 1000))
    changed = await pledges.change(pledge.token, Change(amount=Money.euros(1500)))
    assert changed.amount == Money.euros(1500) and changed.booked_seq != pledge.booked_seq
    assert await balances(ledger) == {"assets:receivable:pledges": 150_000, "income:contributions": -150_000}
    cancelled = await pledges.cancel(changed.token, reason="raad besloot anders")
    assert cancelled.status is PledgeStatus.cancelled and cancelled.booked_seq is None
    assert await balances(ledger) == {}
    kinds = [entry.kind for entry in await ledger.entries_after(0)]
    assert kinds == ["pledge_due", "reversal", "pledge_due", "reversal"]
    assert [e.action for e in cancelled.history] == ["pledged", "amount_changed", "cancelled"]
    assert cancelled.history[1].amount == Money.euros(1500)
    reversal = (await ledger.entries_after(0))[-1]
    assert "raad" not in reversal.description, "the pledger's words stay out of the public journal"
    with pytest.raises(NotChangeable):
        await pledges.change(cancelled.token, Change(amount=Money.euros(10)))
    assert (await ledger.verify()).ok


async def bank_transfer(pledges: PledgeService, pledge, euros: int, line: int, day: date = date(2026, 3, 1)):
    """Money for `pledge` on bank statement line `line`: the same line twice is one transfer."""
    receipt = await pledges.receive(
        pledge.id,
        Money.euros(euros),
        occurred_on=day,
        kind="bank_transfer",
        account="assets:bank",
        reference=f"bank:{line}",
        idempotency_key=f"bank-line:{line}",
    )
    return receipt.pledge


async def test_a_paid_pledge_cannot_be_changed_or_cancelled(pledges, ledger, year, orgs):
    await make_round(pledges, year)
    pledge = await pledges.pledge("2026", cash(orgs["amsterdam"], 1000))
    part = await bank_transfer(pledges, pledge, 400, 1)
    again = await bank_transfer(pledges, pledge, 400, 1)
    assert part.status is PledgeStatus.partially_paid and again.paid == Money.euros(400)
    for attempt in (
        pledges.change(pledge.token, Change(amount=Money.euros(5))),
        pledges.cancel(pledge.token, reason="x"),
    ):
        with pytest.raises(NotChangeable):
            await attempt
    paid = await bank_transfer(pledges, pledge, 600, 2, date(2026, 3, 2))
    assert paid.status is PledgeStatus.paid and paid.open_amount == Money.zero()
    assert await balances(ledger) == {"assets:bank": 100_000, "income:contributions": -100_000}


async def test_money_a_pledge_cannot_take_is_held_for_a_person_never_dropped(pledges, ledger, year, orgs):
    """An overpayment keeps the surplus on liabilities:refunds; money for a cancelled pledge is
    held whole; a retry reports the split the first booking made."""
    await make_round(pledges, year)
    pledge = await pledges.pledge("2026", cash(orgs["amsterdam"], 1000))
    over = await bank_transfer(pledges, pledge, 1200, 1)
    assert over.status is PledgeStatus.paid and over.paid == Money.euros(1000)
    cancelled = await pledges.pledge("2026", cash(orgs["utrecht"], 500))
    await pledges.cancel(cancelled.token, reason="raad wees het af")
    kept = await pledges.receive(
        cancelled.id,
        Money.euros(500),
        occurred_on=date(2026, 3, 1),
        kind="bank_transfer",
        account="assets:bank",
        reference=None,
        idempotency_key="bank-line:2",
    )
    assert (kept.applied, kept.held, kept.new) == (Money.zero(), Money.euros(500), True)
    assert kept.pledge.status is PledgeStatus.cancelled and kept.pledge.paid == Money.zero()
    assert await balances(ledger) == {
        "assets:bank": 170_000,
        "income:contributions": -100_000,
        "liabilities:refunds": -70_000,
    }
    again = await pledges.receive(
        pledge.id,
        Money.euros(1200),
        occurred_on=date(2026, 3, 1),
        kind="bank_transfer",
        account="assets:bank",
        reference="bank:1",
        idempotency_key="bank-line:1",
    )
    assert (again.applied, again.held, again.new) == (Money.euros(1000), Money.euros(200), False)


async def test_money_paid_back_comes_from_what_is_held_first_then_from_the_pledge(pledges, ledger, year, orgs):
    await make_round(pledges, year)
    pledge = await pledges.pledge("2026", cash(orgs["amsterdam"], 1000))
    await bank_transfer(pledges, pledge, 1200, 1)

    def refund(euros: int, held: int, key: str):
        return pledges.repay(
            pledge.id,
            Money.euros(euros),
            held=Money.euros(held),
            occurred_on=date(2026, 3, 2),
            kind="refund",
            account="assets:bank",
            reference=None,
            idempotency_key=key,
            what="Terugbetaald",
        )

    first = await refund(500, 200, "refund:1")
    assert (first.applied, first.held) == (Money.euros(300), Money.euros(200))
    assert first.pledge.status is PledgeStatus.partially_paid and first.pledge.paid == Money.euros(700)
    assert (await refund(500, 200, "refund:1")).new is False, "the same refund twice is booked once"
    rest = await refund(700, 0, "refund:2")
    assert rest.pledge.status is PledgeStatus.due and rest.pledge.paid == Money.zero()
    assert await balances(ledger) == {"assets:receivable:pledges": 100_000, "income:contributions": -100_000}
    events = [e.action for e in (await pledges.pledge_by_token(pledge.token)).history]
    assert events[-3:] == ["payment_held", "payment_returned", "payment_returned"]


async def test_equal_split_shares_are_recomputed_as_organisations_join_and_leave(pledges, year, orgs, clock):
    await make_round(pledges, year, model=RoundModel.all_or_nothing, key=EQUAL, target=200_000)
    joined = []
    for name in ("amsterdam", "utrecht", "vlieland"):
        joined.append(await pledges.pledge("2026", cash(orgs[name])))
    amounts = [(await pledges.pledge_by_token(p.token)).amount for p in joined]
    assert amounts == [Money.euros("66666.67"), Money.euros("66666.67"), Money.euros("66666.66")]
    summary = await pledges.summary("2026")
    assert summary.pledged == Money.euros(200_000)
    assert [share for _, share in summary.share_history] == [
        Money.euros(200_000),
        Money.euros(100_000),
        Money.euros("66666.67"),
    ]
    await pledges.cancel(joined[0].token, reason="x")
    assert [(await pledges.pledge_by_token(p.token)).amount for p in joined[1:]] == [Money.euros(100_000)] * 2
    # Each change of a share is in that pledge's own history: from what, to what, and why.
    history = [
        (e.action, e.previous, e.amount, e.note) for e in (await pledges.pledge_by_token(joined[1].token)).history
    ]
    assert history == [
        ("pledged", None, Money.euros(100_000), ""),
        ("share_recomputed", Money.euros(100_000), Money.euros("66666.67"), "joined"),
        ("share_recomputed", Money.euros("66666.67"), Money.euros(100_000), "left"),
    ]
    last = (await pledges.pledge_by_token(joined[2].token)).history
    assert [e.action for e in last] == ["pledged", "share_recomputed"], "its own joining is its first event"
    with pytest.raises(NotChangeable):
        await pledges.change(joined[1].token, Change(amount=Money.euros(5)))
    clock.set(date(2026, 7, 1))
    await pledges.close_due_rounds()
    assert (await pledges.round("2026")).status is RoundStatus.succeeded


async def test_an_equal_split_with_a_cap_fails_when_too_few_join(pledges, ledger, year, orgs):
    key = CostSharingKey(kind=KeyKind.equal_split, cap_cents=Money.euros(60_000).cents)
    await make_round(pledges, year, model=RoundModel.all_or_nothing, key=key, target=200_000)
    for name in ("amsterdam", "utrecht", "vlieland"):
        await pledges.pledge("2026", cash(orgs[name]))
    assert not (await pledges.summary("2026")).target_met, "three shares of 66,666.67 exceed the cap"
    assert (await pledges.close_round("2026", reason="staff")).status is RoundStatus.failed
    assert await balances(ledger) == {}


async def test_an_ended_umbrella_pledge_still_lists_its_members_who_may_pledge_again(pledges, year, orgs):
    await make_round(pledges, year)
    umbrella = await pledges.pledge("2026", cash(orgs["vng"], 3000, members=(orgs["vlieland"], orgs["utrecht"])))
    ended = await pledges.cancel(umbrella.token, reason="besluit ingetrokken")
    assert ended.status is PledgeStatus.cancelled
    assert [name for _, name in ended.members] == ["Gemeente Vlieland", "Gemeente Utrecht"], "as it was made"
    again = await pledges.pledge("2026", cash(orgs["vng"], 2000, members=(orgs["utrecht"],)))
    assert [name for _, name in again.members] == ["Gemeente Utrecht"], "the cover is free: only standing ones count"
    assert [name for _, name in (await pledges.pledge_by_token(umbrella.token)).members] == [
        "Gemeente Vlieland",
        "Gemeente Utrecht",
    ]
    with pytest.raises(Exception, match=r"(?i)append-only"):
        await PledgeMember.delete().where(PledgeMember.pledge == umbrella.id)


async def test_equal_split_needs_the_all_or_nothing_model(pledges, year):
    with pytest.raises(PledgeError, match="alles-of-niets"):
        await make_round(pledges, year, key=EQUAL)


async def test_the_fair_share_table_names_public_bodies_and_aggregates_the_rest(pledges, year, orgs):
    await make_round(pledges, year)
    await pledges.pledge("2026", cash(orgs["amsterdam"], 1200))
    await pledges.pledge("2026", cash(orgs["bakker"], 800, publish_name=False))
    await pledges.pledge("2026", cash(orgs["jan"], 50, publish_name=True))
    rows = await pledges.fair_share("2026")
    names = [row.name for row in rows]
    assert "Jan Jansen" not in names and "Bakkerij De Korenaar BV" not in names
    assert rows[-1].name == ANONYMOUS and rows[-1].count == 2 and rows[-1].pledged == Money.euros(850)
    assert (rows[-1].organisation_id, rows[-1].kind, rows[-1].covered_by) == (None, "", "")
    amsterdam = next(row for row in rows if row.name == "Gemeente Amsterdam")
    assert (amsterdam.suggested, amsterdam.pledged, amsterdam.status) == (Money.euros(1000), Money.euros(1200), "due")
    summary = await pledges.summary("2026")
    assert (summary.named_count, summary.anonymous_count) == (1, 2)
    journal = " ".join(e.description for e in await pledges.ledger.entries_after(0))
    assert "Jan Jansen" not in journal and "Bakkerij" not in journal and ANONYMOUS in journal
    kinds = {t.kind: t for t in await pledges.totals_by_kind("2026")}
    assert kinds["gemeente"].pledges == 1 and kinds["gemeente"].pledged == Money.euros(1200)
    assert kinds["individual"].pledged == Money.euros(50)


async def test_a_public_body_the_rounds_ask_cannot_pledge_anonymously(pledges, year, orgs):
    """Its row is in the table pledged or not, so leaving it for the anonymous row would name it."""
    await make_round(pledges, year)
    for short in ("utrecht", "utrecht_p", "bzk"):
        with pytest.raises(PledgeError, match="Wet open overheid") as refused:
            await pledges.pledge("2026", cash(orgs[short], 800, publish_name=False, source=PledgeSource.staff))
        assert refused.value.field == "publish_name"
    with pytest.raises(PledgeError, match="Wet open overheid"):  # nor through an umbrella that hides
        await pledges.pledge("2026", cash(orgs["vng"], 800, publish_name=False, members=(orgs["vlieland"],)))
    assert await pledges.pledges((await pledges.round("2026")).id) == []
    # An umbrella body alone, a company: not listed unless they pledge, so they may stay unnamed.
    await pledges.pledge("2026", cash(orgs["vng"], 800, publish_name=False))
    await pledges.pledge("2026", cash(orgs["bakker"], 700, publish_name=False))
    rows = await pledges.fair_share("2026")
    assert rows[-1].name == ANONYMOUS and rows[-1].count == 2


async def test_an_anonymous_pledge_gives_away_no_name_by_elimination(pledges, year, orgs):
    """Who the table names is the same before and after an anonymous pledge: nothing leaves the
    list, and the aggregated row carries no kind, id or umbrella, even when it counts one."""
    await make_round(pledges, year)
    await pledges.pledge("2026", cash(orgs["amsterdam"], 1200))

    def named(rows) -> list[tuple[int | None, str, str]]:
        return [(row.organisation_id, row.name, row.kind) for row in rows if row.organisation_id is not None]

    before = await pledges.fair_share("2026")
    await pledges.pledge("2026", cash(orgs["bakker"], 800, publish_name=False))
    after = await pledges.fair_share("2026")
    assert named(after) == named(before) and ANONYMOUS not in [row.name for row in before]
    (hidden,) = [row for row in after if row.organisation_id is None]
    assert (hidden.kind, hidden.covered_by, hidden.status, hidden.count) == ("", "", "anonymous", 1)


async def test_an_older_anonymous_pledge_of_an_asked_body_is_named_all_the_same(pledges, year, orgs):
    """Pledges made before the rule keep their `publish_name`, but pages and journal name them."""
    await make_round(pledges, year)
    made = await pledges.pledge("2026", cash(orgs["utrecht"], 800))
    await Pledge.update({Pledge.publish_name: False}).where(Pledge.id == made.id)
    rows = {row.name: row for row in await pledges.fair_share("2026")}
    assert rows["Gemeente Utrecht"].status == "due" and ANONYMOUS not in rows
    summary = await pledges.summary("2026")
    assert (summary.named_count, summary.anonymous_count) == (1, 0)


async def test_the_registry_keeps_the_public_bodies_rounds_ask_public(pledges, orgs):
    with pytest.raises(RowRejected, match="Woo"):
        await OrganisationService().add(kind=OrganisationKind.waterschap, name="Waterschap Stil", is_public=False)
    for short in ("amsterdam", "utrecht_p", "bzk"):
        with pytest.raises(Exception, match=r"(?i)check constraint|violates check|constraint failed"):
            await Organisation.update({Organisation.is_public: False}).where(Organisation.id == orgs[short])
    await Organisation.update({Organisation.is_public: False}).where(Organisation.id == orgs["vng"])
    assert not (await OrganisationService().get(orgs["vng"]))["is_public"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"amount": Money.zero()}, "amount"),
        ({"amount": Money.euros(1_000_001)}, "amount"),
        ({"contact_email": "not-an-address"}, "contact_email"),
        ({"contact_email": "a@b.nl\nBcc: x@y.nl"}, "contact_email"),
        ({"contact_name": "  "}, "contact_name"),
        ({"buyer_reference": "x" * 101}, "buyer_reference"),
    ],
)
async def test_bad_pledges_name_their_field_and_change_nothing(pledges, ledger, year, orgs, change, field):
    await make_round(pledges, year)
    fields = {"contact_name": "Els", "contact_email": "els@example.nl", "amount": Money.euros(10), **change}
    with pytest.raises(PledgeError) as refused:
        await pledges.pledge("2026", NewPledge(organisation_id=orgs["amsterdam"], **fields))
    assert refused.value.field == field
    assert await pledges.pledges((await pledges.round("2026")).id) == []
    assert await ledger.entries_after(0) == []


async def test_an_equal_share_never_exceeds_the_cap_so_too_few_joiners_fall_short(pledges, year, orgs):
    key = CostSharingKey(kind=KeyKind.equal_split, cap_cents=Money.euros(1_000).cents)
    await make_round(pledges, year, model=RoundModel.all_or_nothing, key=key, target=10_000)
    first = await pledges.pledge("2026", cash(orgs["amsterdam"]))
    assert (await pledges.pledge_by_token(first.token)).amount == Money.euros(1_000), "the cap, not the target"
    summary = await pledges.summary("2026")
    assert summary.pledged == Money.euros(1_000) and summary.percent == 10 and not summary.target_met


async def test_after_the_close_date_a_pledge_is_no_longer_changed_or_cancelled_by_its_pledger(
    pledges, ledger, year, orgs, clock
):
    await make_round(pledges, year, model=RoundModel.all_or_nothing, target=1_000)
    pledge = await pledges.pledge("2026", cash(orgs["amsterdam"], 1000))
    clock.set(date(2026, 7, 1))  # past the close, not decided yet
    with pytest.raises(NotChangeable, match="gesloten"):
        await pledges.change(pledge.token, Change(amount=Money.euros(5)))
    with pytest.raises(NotChangeable, match="gesloten"):
        await pledges.cancel(pledge.token, reason="too late")
    assert (await pledges.close_round("2026", reason="close")).status is RoundStatus.succeeded
    assert (await pledges.cancel(pledge.token, reason="raadsbesluit", by_staff=True)).status is PledgeStatus.cancelled


async def test_only_an_umbrella_body_pledges_for_members_through_the_form(pledges, year, orgs):
    await make_round(pledges, year)
    with pytest.raises(PledgeError) as refused:
        await pledges.pledge("2026", cash(orgs["vlieland"], members=(orgs["amsterdam"], orgs["utrecht"])))
    assert refused.value.field == "members"
    assert await pledges.pledges((await pledges.round("2026")).id) == []
    recorded = cash(orgs["utrecht_p"], members=(orgs["amsterdam"],), source=PledgeSource.staff)
    assert (await pledges.pledge("2026", recorded)).members == ((orgs["amsterdam"], "Gemeente Amsterdam"),)


@pytest.mark.parametrize("slug", ["no\x00pe", "../2026", "2026 ", ""])
async def test_a_slug_that_cannot_be_a_rounds_is_no_round(pledges, year, slug):
    await make_round(pledges, year)
    with pytest.raises(RoundNotFound):
        await pledges.round(slug)
    with pytest.raises(PledgeNotFound):
        await pledges.pledge_by_token(slug)


async def test_dates_are_dutch_days(pledges, year, orgs, clock):
    """A round's last day ends at midnight in the Netherlands, not in UTC."""
    await make_round(pledges, year, closes_on=date(2026, 6, 30))
    clock.now = datetime(2026, 6, 30, 22, 30, tzinfo=UTC)  # 00:30 on 1 July in Amsterdam
    with pytest.raises(RoundNotOpen):
        await pledges.pledge("2026", cash(orgs["amsterdam"]))


@pytest.mark.parametrize(
    "key",
    [
        CostSharingKey(kind=KeyKind.flat, amount_cents=100_000),
        CostSharingKey(kind=KeyKind.per_capita, rate="0.05", floor_cents=50_000, cap_cents=2_500_000),
        CostSharingKey(
            kind=KeyKind.tiered,
            amount_cents=10_000,
            tiers=(Tier(amount_cents=50_000, kind="gemeente"), Tier(amount_cents=90_000, min_population=500_000)),
        ),
        CostSharingKey(kind=KeyKind.equal_split, cap_cents=Money.euros(3_000).cents),
    ],
    ids=lambda key: key.kind,
)
async def test_each_page_of_the_table_asks_what_the_key_asks(pledges, year, orgs, key):
    """Page by page (two rows a page here), each row's suggestion is the key's for that
    organisation: an equal split's joiners their shares as they joined, the others the next
    share, capped."""
    model = RoundModel.all_or_nothing if key.kind is KeyKind.equal_split else RoundModel.keep_it_all
    fund = await make_round(pledges, year, model=model, key=key, target=10_000)
    await pledges.pledge("2026", cash(orgs["amsterdam"], 1000))
    await pledges.pledge("2026", cash(orgs["vng"], 1000, members=(orgs["vlieland"],)))
    await pledges.pledge("2026", cash(orgs["bakker"], 1000, publish_name=False))
    summary = await pledges.summary("2026")
    rows, after = [], None
    while True:
        page = await pledges.fair_share_page(summary, after=after, limit=2)
        rows += page.rows
        if (after := page.next_after) is None:
            break
    assert [row.name for row in rows] == [row.name for row in (await pledges.fair_share("2026"))[:-1]]
    registry = await pledges.organisations.get_many(row.organisation_id for row in rows)
    covers = {
        c["organisation"]: c["share_cents"] for c in await PledgeCover.select().where(PledgeCover.round == fund.id)
    }
    for row in rows:
        organisation = registry[row.organisation_id]
        if key.kind is KeyKind.equal_split and row.organisation_id in covers:
            expected = Money(covers[row.organisation_id])
        else:
            member = Member(
                organisation_id=organisation["id"], kind=organisation["kind"], population=organisation["population"]
            )
            expected = suggested_share(key, member, target=fund.target, joined=len(covers))
        assert row.suggested == expected, row.name
    if key.kind is KeyKind.equal_split:
        assert {row.suggested for row in rows if row.status == "none"} == {Money.euros(2_000)}, "a fifth, under the cap"
        assert summary.anonymous is not None and summary.anonymous.pledged == Money.euros(2_500)
