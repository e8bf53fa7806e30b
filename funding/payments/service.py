"""Paying pledges online through Mollie, booked exactly once.

A payment's truth is what Mollie's API says now, never what a webhook's body or a redirect
claims. `sync` asks the API, then, in one transaction with the attempt's row locked, moves the
attempt's status forward and books what changed since the last sync: the payment once paid,
each refund and chargeback once, each failed refund or reversed chargeback once more. Every
booking has a unique key (`MollieBooking.key`, and the same string as the journal entry's
idempotency key), so a webhook delivered twice, concurrently or late books nothing twice. A
sync that finds everything booked and the status as it is (most repeated webhooks) writes
nothing and takes no lock: it reads, and answers. The webhook, the return page, `funding
payments reconcile` and the app's own periodic reconcile all call `sync`.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from funding.db import as_datetime, exclusive, is_postgres, lock_transaction, write_transaction
from funding.i18n import _
from funding.ledger.service import LedgerService
from funding.money import Money
from funding.payments.mollie import Mollie, MollieRefused, MollieUnavailable, PaymentState, UnexpectedPayment
from funding.payments.tables import (
    FINAL_STATUSES,
    UNFINISHED_STATUSES,
    BookingKind,
    MollieBooking,
    MolliePayment,
    PaymentStatus,
    RefundRequest,
)
from funding.pledges.service import PledgeRecord, PledgeService, Receipt
from funding.pledges.tables import PledgeStatus

log = logging.getLogger(__name__)

MOLLIE = "assets:mollie"
PAYABLE = (PledgeStatus.due, PledgeStatus.partially_paid)
PLEDGE_PAYMENT_LOCK = 40_000_000
"""Plus the pledge's id: serialises 'pay now' clicks for one pledge, so a double click makes one attempt."""
RECONCILE_LOCK = 39_999_999
"""Held while a reconcile runs: with several app processes, one reconciles at a time."""
REUSE_OPEN_FOR = timedelta(minutes=10)
"""An open attempt younger than this, for the same amount, is offered again instead of a new one."""
RECENT = timedelta(days=120)
"""Paid payments this young are still asked about in a reconcile: refunds and chargebacks come late."""
_RANK = {PaymentStatus.new: 0, PaymentStatus.open: 1, PaymentStatus.pending: 2, PaymentStatus.authorized: 3}


class PaymentError(ValueError):
    """A payment that cannot be made or refunded as asked; the message is for the person."""


class PaymentUnavailable(PaymentError):
    """Mollie cannot be reached just now: nothing was booked; try again."""


class PaymentNotFound(PaymentError):
    pass


class PaymentMismatch(Exception):
    """Mollie's payment does not match our attempt (its pledge, amount or currency): never booked."""


@dataclass(frozen=True)
class PaymentRecord:
    id: int
    pledge_id: int
    attempt: int
    idempotency_key: str
    mollie_id: str | None
    amount: Money
    status: PaymentStatus
    checkout_url: str | None
    created_at: datetime

    @property
    def is_final(self) -> bool:
        return self.status in FINAL_STATUSES


@dataclass(frozen=True)
class Booked:
    """What one sync booked (for logs and tests): kind and amount per new booking."""

    payment: PaymentRecord
    bookings: tuple[tuple[BookingKind, Money], ...]


class PaymentService:
    def __init__(
        self,
        pledges: PledgeService,
        mollie: Mollie,
        *,
        base_url: str,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.pledges, self.mollie, self.base_url, self.clock = pledges, mollie, base_url.rstrip("/"), clock
        self.ledger: LedgerService = pledges.ledger

    # -- paying -------------------------------------------------------------------------------
    def payable(self, pledge: PledgeRecord) -> bool:
        owes = pledge.status in PAYABLE and not pledge.is_in_kind and pledge.open_amount > Money.zero()
        return self.mollie.configured and owes

    async def start(self, token: str) -> PaymentRecord:
        """'Pay now': a Mollie payment for what the pledge still owes. The attempt and its
        idempotency key are stored before Mollie is called, so a double click, or a retry after
        Mollie was away, asks for the same payment again rather than a second one."""
        pledge = await self.pledges.pledge_by_token(token)
        if not self.payable(pledge):
            raise PaymentError(_("This pledge has nothing to pay online."))
        await self.ledger.open_account(MOLLIE, "Tegoed bij Mollie")
        attempt = await self._attempt(pledge)
        if attempt.status is PaymentStatus.open and attempt.mollie_id:
            # Offered again only if Mollie still has it open (the payer may have paid or given
            # up at the checkout before its webhook came): else it is synced and a new one made.
            try:
                await self.sync(attempt.mollie_id)
            except (MollieUnavailable, MollieRefused, PaymentMismatch, UnexpectedPayment) as error:
                log.warning("could not ask Mollie about %s before offering it again: %s", attempt.mollie_id, error)
                return attempt
            attempt = await self._record(attempt.id)
            if attempt.status is PaymentStatus.open:
                return attempt
            pledge = await self.pledges.pledge_by_token(token)
            if not self.payable(pledge):
                return attempt  # it was paid: the return page says so
            attempt = await self._attempt(pledge)
        if attempt.status is not PaymentStatus.new:
            return attempt
        fund = await self.pledges.round_by_id(pledge.round_id)
        data = {
            "amount": attempt.amount.to_mollie(),
            "description": f"{fund.name}: {pledge.organisation_name} ({pledge.formatted_reference})"[:255],
            "redirectUrl": f"{self.base_url}/pledges/{token}/return",
            "webhookUrl": f"{self.base_url}/webhooks/mollie",
            "metadata": {"pledge_id": pledge.id, "reference": pledge.reference, "attempt": attempt.attempt},
            "locale": "nl_NL" if pledge.locale == "nl" else "en_US",
        }
        try:
            state = await self.mollie.create_payment(data, attempt.idempotency_key)
        except MollieUnavailable as error:
            log.warning("Mollie unavailable while creating a payment for pledge %s: %s", pledge.id, error)
            raise PaymentUnavailable(
                _("Online payment is not available right now. Nothing was charged: please try again in a few minutes.")
            ) from error
        except (MollieRefused, UnexpectedPayment) as error:
            log.error("Mollie refused a payment for pledge %s: %s", pledge.id, error)
            await MolliePayment.update({MolliePayment.status: PaymentStatus.failed.value}).where(
                MolliePayment.id == attempt.id
            )
            raise PaymentError(_("Mollie did not accept this payment. Please pay by bank transfer.")) from error
        await MolliePayment.update(
            {
                MolliePayment.mollie_id: state.id,
                MolliePayment.status: _forward(PaymentStatus.new, state).value,
                MolliePayment.checkout_url: state.checkout_url,
                MolliePayment.synced_at: self.clock(),
            }
        ).where((MolliePayment.id == attempt.id) & (MolliePayment.status == PaymentStatus.new.value))
        return await self._record(attempt.id)

    async def _attempt(self, pledge: PledgeRecord) -> PaymentRecord:
        """The attempt to use: a young unfinished one for the same amount, or a new one."""
        async with write_transaction():
            await lock_transaction(PLEDGE_PAYMENT_LOCK + pledge.id)
            rows = (
                await MolliePayment.select()
                .where(MolliePayment.pledge == pledge.id)
                .order_by(MolliePayment.attempt, ascending=False)
            )
            latest = _record(rows[0]) if rows else None
            if (
                latest is not None
                and latest.status in (PaymentStatus.new, PaymentStatus.open)
                and latest.amount == pledge.open_amount
                and (latest.status is PaymentStatus.new or latest.checkout_url)
                and self.clock() - latest.created_at < REUSE_OPEN_FOR
            ):
                return latest
            number = latest.attempt + 1 if latest else 1
            inserted = await MolliePayment.insert(
                MolliePayment(
                    pledge=pledge.id,
                    attempt=number,
                    idempotency_key=f"pledge:{pledge.id}:attempt:{number}",
                    amount_cents=pledge.open_amount.cents,
                    currency="EUR",
                    status=PaymentStatus.new.value,
                    created_at=self.clock(),
                )
            ).returning(MolliePayment.id)
        return await self._record(inserted[0]["id"])

    # -- syncing ------------------------------------------------------------------------------
    async def sync(self, mollie_id: str) -> Booked | None:
        """Ask Mollie about one payment and book what changed; None for a payment that is not
        ours. `MollieUnavailable` means nothing is known yet (the webhook answers 503). When
        nothing changed, nothing is written, `synced_at` included: it is the last sync that
        booked or moved the status."""
        try:
            state = await self.mollie.payment(mollie_id)
        except MollieRefused as error:
            if error.status == 404:
                log.info("Mollie knows no payment %r", mollie_id)
                return None
            raise
        query = MolliePayment.select().where(MolliePayment.mollie_id == state.id)
        row = await query.first()
        if row is None:
            log.warning("Mollie payment %s is not one of ours", state.id)
            return None
        payment = _record(row)
        _check(payment, row["pledge"], state)
        if _forward(payment.status, state) is payment.status and _settled(state, await self._booked(payment.id)):
            # A repeated webhook: all booked and at this status already, so nothing to write and
            # no lock to take (see `_settled` for why a read without the lock is enough).
            return Booked(payment=payment, bookings=())
        async with write_transaction():
            row = await (query.lock_rows() if is_postgres() else query).first()
            if row is None:
                return None
            payment = _record(row)
            _check(payment, row["pledge"], state)
            booked = await self._book(payment, state)
            status = _forward(payment.status, state)
            if booked or status is not payment.status:  # else nothing changed, nothing to write
                await MolliePayment.update(
                    {MolliePayment.status: status.value, MolliePayment.synced_at: self.clock()}
                ).where(MolliePayment.id == payment.id)
        await self.pledges.send_pending()  # credit notes a refund issued, now that they are committed
        return Booked(payment=replace(payment, status=status), bookings=tuple(booked))

    async def sync_pledge(self, token: str) -> list[PaymentRecord]:
        """The return page: sync the pledge's unfinished attempts (Mollie away: as they were)."""
        pledge = await self.pledges.pledge_by_token(token)
        for payment in await self.attempts(pledge.id):
            if payment.mollie_id and not payment.is_final:
                try:
                    await self.sync(payment.mollie_id)
                except (MollieUnavailable, MollieRefused) as error:
                    log.warning("could not ask Mollie about %s on return: %s", payment.mollie_id, error)
        return await self.attempts(pledge.id)

    async def _book(self, payment: PaymentRecord, state: PaymentState) -> list[tuple[BookingKind, Money]]:
        """Book the difference between what Mollie reports and what this payment booked."""
        rows = await MollieBooking.select().where(MollieBooking.payment == payment.id)
        # What liabilities:refunds holds for this payment: refunds take from it first.
        held = Money(sum(row["held_cents"] * (1 if row["amount_cents"] > 0 else -1) for row in rows))
        new: list[tuple[BookingKind, Money]] = []
        for kind, object_id, amount in _wanted(state, {row["key"] for row in rows}):
            key = _key(kind, object_id)
            receipt = await self._post(payment, kind, object_id, amount, key, held)
            held = held + receipt.held if kind in _MONEY_IN else held - receipt.held
            await MollieBooking.insert(
                MollieBooking(
                    payment=payment.id,
                    key=key,
                    kind=kind.value,
                    object_id=object_id,
                    amount_cents=(amount if kind in _MONEY_IN else -amount).cents,
                    held_cents=receipt.held.cents,
                    entry_seq=receipt.seq,
                    at=self.clock(),
                )
            )
            new.append((kind, amount))
        return new

    async def _booked(self, payment_id: int) -> set[str]:
        """The keys of what this payment booked so far."""
        rows = await MollieBooking.select(MollieBooking.key).where(MollieBooking.payment == payment_id)
        return {row["key"] for row in rows}

    async def _post(
        self, payment: PaymentRecord, kind: BookingKind, object_id: str, amount: Money, key: str, held: Money
    ) -> Receipt:
        """Money in goes to the pledge while it owes (the rest is held); money out comes from what
        is held for this payment first."""
        held = min(amount, max(held, Money.zero()))
        book = (
            self.pledges.receive
            if kind in _MONEY_IN
            else functools.partial(self.pledges.repay, held=held, corrects=kind is BookingKind.refund)
        )
        return await book(
            payment.pledge_id,
            amount,
            occurred_on=self.pledges.today(),
            kind=_JOURNAL_KIND[kind],
            account=MOLLIE,
            reference=object_id,
            idempotency_key=key,
            what=_DESCRIPTION[kind],
        )

    # -- refunding ----------------------------------------------------------------------------
    async def refund(self, mollie_id: str, amount: Money | None, *, reason: str) -> Booked:
        """Give money back through Mollie (all that is left, or `amount`), for a reason staff
        keep privately. The request and its key are stored before Mollie is called; running
        the same refund again after a lost answer reuses them, so Mollie refunds once."""
        reason = reason.strip()
        if not reason:
            raise PaymentError(_("Give the reason for the refund."))
        row = await MolliePayment.select().where(MolliePayment.mollie_id == mollie_id).first()
        if row is None:
            raise PaymentNotFound(_("There is no such payment."))
        payment = _record(row)
        try:
            await self.sync(mollie_id)
        except MollieUnavailable as error:
            raise PaymentUnavailable(
                _("Mollie cannot be reached now. Nothing was refunded: try again later.")
            ) from error
        refundable = await self.refundable(payment.id)
        amount = amount or refundable
        if amount <= Money.zero() or amount > refundable:
            limit = refundable.format()
            raise PaymentError(_("At most {amount} of this payment can be refunded.").format(amount=limit))
        request = await self._refund_request(payment, amount, reason)
        try:
            refund = await self.mollie.create_refund(
                mollie_id, amount, f"Terugbetaling {payment.mollie_id}", request["idempotency_key"]
            )
        except MollieUnavailable as error:
            raise PaymentUnavailable(
                _("Mollie cannot be reached now. Nothing was refunded: try again later.")
            ) from error
        except MollieRefused as error:
            raise PaymentError(_("Mollie refused the refund: {detail}").format(detail=str(error))) from error
        await RefundRequest.update({RefundRequest.refund_id: refund.id}).where(RefundRequest.id == request["id"])
        booked = await self.sync(mollie_id)
        assert booked is not None
        return booked

    async def _refund_request(self, payment: PaymentRecord, amount: Money, reason: str) -> dict:
        """An unanswered request for the same payment and amount is this one, asked again."""
        async with write_transaction():
            await lock_transaction(PLEDGE_PAYMENT_LOCK + payment.pledge_id)
            pending = (
                await RefundRequest.select()
                .where(
                    (RefundRequest.payment == payment.id)
                    & (RefundRequest.amount_cents == amount.cents)
                    & RefundRequest.refund_id.is_null()
                )
                .first()
            )
            if pending is not None:
                return pending
            count = await RefundRequest.count().where(RefundRequest.payment == payment.id)
            rows = await RefundRequest.insert(
                RefundRequest(
                    payment=payment.id,
                    amount_cents=amount.cents,
                    reason=reason[:500],
                    idempotency_key=f"refund:{payment.mollie_id}:{count + 1}",
                    requested_at=self.clock(),
                )
            ).returning(*RefundRequest.all_columns())
        return rows[0]

    async def refundable(self, payment_id: int) -> Money:
        """What Mollie received for this payment less what went back (refunds, chargebacks)."""
        rows = await MollieBooking.select(MollieBooking.amount_cents).where(MollieBooking.payment == payment_id)
        return Money(sum(row["amount_cents"] for row in rows))

    # -- reconciling --------------------------------------------------------------------------
    async def reconcile(self) -> list[Booked]:
        """Ask Mollie about every attempt not yet final, and about recently paid ones (refunds
        and chargebacks come later), booking what changed: the webhook's own path, for the
        webhooks that were lost. One process at a time: the others skip this round."""
        async with exclusive(RECONCILE_LOCK) as mine:
            if not mine:
                log.info("another process is reconciling Mollie payments")
                return []
            since = self.clock() - RECENT
            rows = (
                await MolliePayment.select(MolliePayment.mollie_id)
                .where(
                    MolliePayment.mollie_id.is_not_null()
                    & (
                        MolliePayment.status.is_in([s.value for s in UNFINISHED_STATUSES])
                        | ((MolliePayment.status == PaymentStatus.paid.value) & (MolliePayment.created_at >= since))
                    )
                )
                .order_by(MolliePayment.id)
            )
            results = []
            for row in rows:
                try:
                    booked = await self.sync(row["mollie_id"])
                except (MollieUnavailable, MollieRefused, PaymentMismatch, UnexpectedPayment) as error:
                    log.warning("reconcile could not sync %s: %s", row["mollie_id"], error)
                    continue
                if booked is not None and booked.bookings:
                    results.append(booked)
            return results

    # -- reading ------------------------------------------------------------------------------
    async def attempts(self, pledge_id: int) -> list[PaymentRecord]:
        rows = await MolliePayment.select().where(MolliePayment.pledge == pledge_id).order_by(MolliePayment.attempt)
        return [_record(row) for row in rows]

    async def _record(self, payment_id: int) -> PaymentRecord:
        row = await MolliePayment.select().where(MolliePayment.id == payment_id).first()
        if row is None:
            raise PaymentNotFound(_("There is no such payment."))
        return _record(row)


_MONEY_IN = (BookingKind.paid, BookingKind.refund_undone, BookingKind.chargeback_reversed)
_JOURNAL_KIND = {
    BookingKind.paid: "payment",
    BookingKind.refund: "refund",
    BookingKind.refund_undone: "refund_failed",
    BookingKind.chargeback: "chargeback",
    BookingKind.chargeback_reversed: "chargeback_reversed",
}
_DESCRIPTION = {
    BookingKind.paid: "Betaling via Mollie ontvangen",
    BookingKind.refund: "Terugbetaald via Mollie",
    BookingKind.refund_undone: "Terugbetaling via Mollie mislukt, bedrag terug",
    BookingKind.chargeback: "Teruggeboekt door de betaler (chargeback)",
    BookingKind.chargeback_reversed: "Terugboeking ongedaan gemaakt",
}


def _key(kind: BookingKind, object_id: str) -> str:
    """A booking's unique key, also its journal entry's idempotency key."""
    return f"mollie:{object_id}:{kind.value}"


def _wanted(state: PaymentState, done: set[str]) -> list[tuple[BookingKind, str, Money]]:
    """What Mollie's `state` calls for that the keys in `done` do not show as booked yet, in the
    order to book it: the payment once paid, each live refund, a booked refund that failed or
    was canceled once more, each chargeback, and each reversed chargeback once more."""
    keys = set(done)
    wanted: list[tuple[BookingKind, str, Money]] = []

    def want(kind: BookingKind, object_id: str, amount: Money) -> None:
        if _key(kind, object_id) not in keys:
            keys.add(_key(kind, object_id))
            wanted.append((kind, object_id, amount))

    if state.paid:
        want(BookingKind.paid, state.id, state.amount)
    for refund in state.refunds:
        if refund.is_live:
            want(BookingKind.refund, refund.id, refund.amount)
        elif _key(BookingKind.refund, refund.id) in keys:
            want(BookingKind.refund_undone, refund.id, refund.amount)
    for chargeback in state.chargebacks:
        want(BookingKind.chargeback, chargeback.id, chargeback.amount)
        if chargeback.reversed:
            want(BookingKind.chargeback_reversed, chargeback.id, chargeback.amount)
    return wanted


def _settled(state: PaymentState, done: set[str]) -> bool:
    """Whether `state` leaves nothing to book, judged from keys `done` read without the lock,
    which may be out of date. Bookings are only ever added, so more may have been booked since;
    that can make only one more booking due: a refund booked meanwhile whose failure `state`
    reports. So a failed or canceled refund is settled only once its failure is booked too;
    anything else goes through the locked path, which decides again. (Statuses only move
    forward, so `_forward` leaving a status as read leaves a later one as it is too.)"""
    undone = all(_key(BookingKind.refund_undone, refund.id) in done for refund in state.refunds if not refund.is_live)
    return undone and not _wanted(state, done)


def _forward(current: PaymentStatus, state: PaymentState) -> PaymentStatus:
    """Statuses only move forward: paid stays paid; a late `paid` wins over canceled or expired
    (the money is there); a final status is not replaced by another one."""
    if state.paid or current is PaymentStatus.paid:
        return PaymentStatus.paid
    try:
        reported = PaymentStatus(state.status)
    except ValueError:
        return current
    if current in FINAL_STATUSES:
        return current
    if reported in FINAL_STATUSES or _RANK[reported] >= _RANK[current]:
        return reported
    return current


def _check(payment: PaymentRecord, pledge_id: int, state: PaymentState) -> None:
    """The fetched payment must be the one we created: same pledge, amount and currency."""
    problems = []
    if str(state.metadata.get("pledge_id")) != str(pledge_id):
        problems.append(f"pledge {state.metadata.get('pledge_id')!r} is not {pledge_id}")
    if state.amount != payment.amount:
        problems.append(f"amount {state.amount} is not {payment.amount}")
    if problems:
        log.error("Mollie payment %s does not match attempt %s: %s", state.id, payment.id, "; ".join(problems))
        raise PaymentMismatch(f"{state.id}: {'; '.join(problems)}")


def _record(row: dict) -> PaymentRecord:
    return PaymentRecord(
        id=row["id"],
        pledge_id=row["pledge"],
        attempt=row["attempt"],
        idempotency_key=row["idempotency_key"],
        mollie_id=row["mollie_id"],
        amount=Money(row["amount_cents"]),
        status=PaymentStatus(row["status"]),
        checkout_url=row["checkout_url"],
        created_at=as_datetime(row["created_at"]),
    )
