"""Which bookings a Mollie payment's state calls for, and when a repeated webhook may skip the
lock: never when a booking made meanwhile (by another sync, not yet seen) could make one due."""

import itertools

from hypothesis import given, settings
from hypothesis import strategies as st

from funding.money import Money
from funding.payments.mollie import LIVE_REFUND_STATUSES, ChargebackState, PaymentState, RefundState
from funding.payments.service import _settled, _wanted
from funding.payments.tables import BookingKind

PAID = "mollie:tr_a:paid"
REFUND = "mollie:re_a:refund"
UNDONE = "mollie:re_a:refund_undone"
CHARGEBACK = "mollie:chb_a:chargeback"
REVERSED = "mollie:chb_a:chargeback_reversed"


def state(*, paid: bool = True, refunds=(), chargebacks=()) -> PaymentState:
    return PaymentState(
        id="tr_a",
        status="paid" if paid else "open",
        amount=Money.euros(100),
        metadata={},
        checkout_url=None,
        paid=paid,
        refunds=tuple(refunds),
        chargebacks=tuple(chargebacks),
    )


def test_a_paid_payment_is_booked_once():
    assert _wanted(state(), set()) == [(BookingKind.paid, "tr_a", Money.euros(100))]
    assert _wanted(state(), {PAID}) == []
    assert not _settled(state(), set())
    assert _settled(state(), {PAID})


def test_an_open_payment_calls_for_nothing():
    assert _wanted(state(paid=False), set()) == []
    assert _settled(state(paid=False), set())


def test_a_failed_refund_is_booked_back_only_if_it_was_booked():
    failed = state(refunds=[RefundState("re_a", Money.euros(10), "failed")])
    assert _wanted(failed, {PAID}) == []
    assert _wanted(failed, {PAID, REFUND}) == [(BookingKind.refund_undone, "re_a", Money.euros(10))]


def test_a_failed_refund_is_settled_only_once_its_failure_is_booked():
    """Read without the lock, {PAID} may be out of date: the refund may have been booked since
    (by a sync that saw it live), and then its failure is due."""
    failed = state(refunds=[RefundState("re_a", Money.euros(10), "failed")])
    assert not _settled(failed, {PAID})
    assert not _settled(failed, {PAID, REFUND})
    assert _settled(failed, {PAID, REFUND, UNDONE})


def test_refunds_and_chargebacks_are_settled_once_all_are_booked():
    live = state(
        refunds=[RefundState("re_a", Money.euros(10), "refunded")],
        chargebacks=[ChargebackState("chb_a", Money.euros(5), reversed=True)],
    )
    assert [kind for kind, _, _ in _wanted(live, {PAID})] == [
        BookingKind.refund,
        BookingKind.chargeback,
        BookingKind.chargeback_reversed,
    ]
    assert _settled(live, {PAID, REFUND, CHARGEBACK, REVERSED})
    assert not _settled(live, {PAID, REFUND, CHARGEBACK})


REFUND_STATUSES = [*LIVE_REFUND_STATUSES, "failed", "canceled"]


@settings(max_examples=300)
@given(
    paid=st.booleans(),
    refund_statuses=st.lists(st.sampled_from(REFUND_STATUSES), max_size=2),
    chargebacks=st.lists(st.booleans(), max_size=1),
    data=st.data(),
)
def test_settled_stays_settled_whatever_was_booked_meanwhile(paid, refund_statuses, chargebacks, data):
    """If the keys read say settled, the keys as they really are (those and any more) want nothing."""
    refunds = [RefundState(f"re_{'ab'[n]}", Money.euros(10), status) for n, status in enumerate(refund_statuses)]
    payment = state(
        paid=paid,
        refunds=refunds,
        chargebacks=[ChargebackState("chb_a", Money.euros(5), reversed=reversed_) for reversed_ in chargebacks],
    )
    keys = [PAID, *(f"mollie:{r.id}:{kind}" for r in refunds for kind in ("refund", "refund_undone"))]
    keys += [f"mollie:chb_a:{kind}" for _ in chargebacks for kind in ("chargeback", "chargeback_reversed")]
    read = data.draw(st.sets(st.sampled_from(keys)))
    if not _settled(payment, read):
        return
    others = [key for key in keys if key not in read]
    for meanwhile in itertools.chain.from_iterable(itertools.combinations(others, n) for n in range(len(others) + 1)):
        assert _wanted(payment, read | set(meanwhile)) == []
