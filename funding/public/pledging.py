"""The pledge flow on the web: find the organisation, pledge, and the pledger's own page.

No account is needed: the pledge page's address holds an unguessable token, so that page is
never stored for anyone else, never indexed, and sends no Referer onward (`funding.web.security`).
Everything works without JavaScript. A submission that fails is shown again with status 400 in
the GOV.UK pattern (`templates/macros/forms.html`): an error summary linking to each field, each
message at its field, and everything as it was typed.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Annotated

from litestar import Controller, Response, get, post
from litestar.background_tasks import BackgroundTask
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.params import FromPath, QueryParameter, URLEncodedBody
from litestar.response import Redirect, Template
from stdnum import iban

from funding.i18n import _, current_locale
from funding.invoicing.service import InvoiceService, IssuedDocument
from funding.money import Money
from funding.organisations.service import always_public
from funding.organisations.tables import OrganisationKind
from funding.payments.service import PaymentError, PaymentRecord, PaymentService, PaymentUnavailable
from funding.payments.tables import PaymentStatus
from funding.pledges.forms import (
    CancelForm,
    ChangeForm,
    PledgeForm,
    ResendForm,
    change_from_form,
    error_field,
    ordered,
    parse_id,
    pledge_from_form,
    resolve_members,
)
from funding.pledges.keys import KeyKind
from funding.pledges.service import (
    UMBRELLA_KINDS,
    AlreadyCovered,
    PledgeError,
    PledgeNotFound,
    PledgeRecord,
    PledgeService,
    Round,
    RoundNotFound,
    RoundNotOpen,
)
from funding.pledges.tables import ContributionForm, PaymentPreference, PledgeStatus, RoundStatus
from funding.programme.service import ProgrammeService
from funding.settings import Settings
from funding.web.errors import page_error_responses
from funding.web.security import PRIVATE

FORM = {"cache-control": "private"}
"""An empty form carries the visitor's own CSRF token: never to be stored by a shared cache."""
SEARCH_LIMIT = 20
"""Matches listed at most; more means the search should be narrowed."""

SearchQuery = Annotated[
    str | None, QueryParameter(max_length=100, description="Part of an organisation's name, or its CBS code")
]
OrganisationQuery = Annotated[int | None, QueryParameter(ge=1, le=999_999_999, description="The organisation chosen")]
DoneQuery = Annotated[
    str | None,
    QueryParameter(
        max_length=20,
        description="What was just done: changed, cancelled, paid, payment_pending, payment_failed, invoiced",
    ),
]
DONE = ("changed", "cancelled", "paid", "payment_pending", "payment_failed", "invoiced")
RETURNED = {
    PaymentStatus.paid: "paid",
    PaymentStatus.failed: "payment_failed",
    PaymentStatus.canceled: "payment_failed",
    PaymentStatus.expired: "payment_failed",
}
"""What the page says after Mollie's checkout, by the latest attempt's status (others: still pending)."""


class PledgeController(Controller):
    path = "/"
    tags = ("pledging",)

    @get("/rounds/{slug:str}/pledge", name="pledge_form", responses=page_error_responses(400, 404))
    async def pledge_form(
        self,
        pledges: NamedDependency[PledgeService],
        programmes: NamedDependency[ProgrammeService],
        programme: NamedDependency[dict | None],
        slug: FromPath[str],
        q: SearchQuery = None,
        organisation: OrganisationQuery = None,
    ) -> Template:
        """Step 1 finds the organisation (`?q=`); step 2 (`?organisation=`) is the form for it."""
        page = await FormPages.of(pledges, programmes, programme, slug)
        if not page.is_open:
            return page.closed()
        if organisation is None:
            return await page.search(q)
        chosen = await page.organisation(organisation)
        if chosen is None:
            return await page.search(q, {"q": _("Choose your organisation from the registry.")})
        return await page.form(chosen)

    @post(
        "/rounds/{slug:str}/pledge",
        name="pledge_submit",
        status_code=303,
        responses=page_error_responses(400, 403, 404, 429),
    )
    async def pledge_submit(
        self,
        pledges: NamedDependency[PledgeService],
        programmes: NamedDependency[ProgrammeService],
        programme: NamedDependency[dict | None],
        slug: FromPath[str],
        data: URLEncodedBody[PledgeForm],
    ) -> Response:
        """Make the pledge and go to its page, or show the form again with what is wrong (400)."""
        page = await FormPages.of(pledges, programmes, programme, slug)
        if not page.is_open:
            return page.closed(status=400)
        chosen = await page.organisation(parse_id(data.organisation))
        if chosen is None:
            return await page.search("", {"q": _("Choose your organisation from the registry.")})
        outcome = await page.pledge(chosen, data)
        if isinstance(outcome, PledgeRecord):
            return Redirect(path=f"/pledges/{outcome.token}", status_code=303)
        return outcome

    @post(
        "/rounds/{slug:str}/pledge/resend",
        name="pledge_resend",
        status_code=200,
        responses=page_error_responses(400, 403, 404, 429),
    )
    async def pledge_resend(
        self,
        pledges: NamedDependency[PledgeService],
        programmes: NamedDependency[ProgrammeService],
        programme: NamedDependency[dict | None],
        slug: FromPath[str],
        data: URLEncodedBody[ResendForm],
    ) -> Template:
        """Mail a standing pledge's link to the contact on record. The answer is the same, and as
        quick, whether there is such a pledge or not: the mail goes out after it."""
        page = await FormPages.of(pledges, programmes, programme, slug)
        organisation_id = parse_id(data.organisation)
        task = BackgroundTask(pledges.resend_link, page.fund.slug, organisation_id) if organisation_id else None
        return page.render("resent", background=task)

    @get("/pledges/{token:str}", name="pledge", responses=page_error_responses(400, 404))
    async def pledge(
        self,
        pledges: NamedDependency[PledgeService],
        payments: NamedDependency[PaymentService],
        invoices: NamedDependency[InvoiceService],
        programmes: NamedDependency[ProgrammeService],
        programme: NamedDependency[dict | None],
        state: State,
        token: FromPath[str],
        done: DoneQuery = None,
    ) -> Template:
        """The pledger's own page: status, reference, amounts, history and how to pay; while
        nothing is paid, forms to change the amount or cancel."""
        page = await PledgePage.of(pledges, payments, programmes, programme, state.settings, token, invoices)
        return page.render(done=done if done in DONE else None)

    @post(
        "/pledges/{token:str}/pay",
        name="pledge_pay",
        status_code=303,
        responses=page_error_responses(400, 403, 404, 429, 503),
    )
    async def pledge_pay(
        self,
        pledges: NamedDependency[PledgeService],
        payments: NamedDependency[PaymentService],
        invoices: NamedDependency[InvoiceService],
        programmes: NamedDependency[ProgrammeService],
        programme: NamedDependency[dict | None],
        state: State,
        token: FromPath[str],
    ) -> Response:
        """Pay now: on to Mollie's checkout for what the pledge still owes. If Mollie is away
        the page says so, and nothing is booked."""
        page = await PledgePage.of(pledges, payments, programmes, programme, state.settings, token, invoices)
        try:
            payment = await payments.start(page.pledge.token)
        except PaymentUnavailable as away:
            return page.render(errors={"pay": str(away)}, status=503)
        except PaymentError as refused:
            return page.render(errors={"pay": str(refused)}, status=400)
        if payment.checkout_url and payment.status is PaymentStatus.open:
            return Redirect(path=payment.checkout_url, status_code=303)
        return Redirect(path=f"/pledges/{page.pledge.token}/return", status_code=303)

    @get("/pledges/{token:str}/return", name="pledge_return", status_code=303, responses=page_error_responses(404))
    async def pledge_return(
        self, pledges: NamedDependency[PledgeService], payments: NamedDependency[PaymentService], token: FromPath[str]
    ) -> Redirect:
        """Back from Mollie's checkout: ask Mollie now, as the webhook does (the two may come
        in any order, and book once), then show the pledge with what became of the payment."""
        pledge = await pledges.pledge_by_token(token)
        attempts = await payments.sync_pledge(pledge.token)
        done = RETURNED.get(attempts[-1].status, "payment_pending") if attempts else None
        return Redirect(path=f"/pledges/{pledge.token}" + (f"?done={done}" if done else ""), status_code=303)

    @post(
        "/pledges/{token:str}/amount",
        name="pledge_change",
        status_code=303,
        responses=page_error_responses(400, 403, 404, 429),
    )
    async def pledge_change(
        self,
        pledges: NamedDependency[PledgeService],
        payments: NamedDependency[PaymentService],
        invoices: NamedDependency[InvoiceService],
        programmes: NamedDependency[ProgrammeService],
        programme: NamedDependency[dict | None],
        state: State,
        token: FromPath[str],
        data: URLEncodedBody[ChangeForm],
    ) -> Response:
        """A new amount (or number of hours), then back to the page."""
        page = await PledgePage.of(pledges, payments, programmes, programme, state.settings, token, invoices)
        hours = page.pledge.form is ContributionForm.hours
        change, errors = change_from_form(data, hours=hours, locale=current_locale())
        if not errors:
            try:
                changed = await pledges.change(page.pledge.token, change)
            except PledgeNotFound:
                raise
            except PledgeError as refused:
                errors = {refused.field or "": str(refused)}
            else:  # the same amount again changes nothing, and says nothing
                done = "?done=changed" if len(changed.history) > len(page.pledge.history) else ""
                return Redirect(path=f"/pledges/{page.pledge.token}{done}", status_code=303)
        return page.render(errors=errors, values=data.values(), status=400)

    @post(
        "/pledges/{token:str}/cancel",
        name="pledge_cancel",
        status_code=303,
        responses=page_error_responses(400, 403, 404, 429),
    )
    async def pledge_cancel(
        self,
        pledges: NamedDependency[PledgeService],
        payments: NamedDependency[PaymentService],
        invoices: NamedDependency[InvoiceService],
        programmes: NamedDependency[ProgrammeService],
        programme: NamedDependency[dict | None],
        state: State,
        token: FromPath[str],
        data: URLEncodedBody[CancelForm],
    ) -> Response:
        """Withdraw the pledge, with the pledger's reason if given, then back to the page."""
        page = await PledgePage.of(pledges, payments, programmes, programme, state.settings, token, invoices)
        try:
            await pledges.cancel(page.pledge.token, reason=data.reason)
        except PledgeNotFound:
            raise
        except PledgeError as refused:
            return page.render(errors={refused.field or "": str(refused)}, values=data.values(), status=400)
        return Redirect(path=f"/pledges/{page.pledge.token}?done=cancelled", status_code=303)


def listed(organisation: dict) -> bool:
    """Whether the public form may show it: never a private person, and no organisation the
    registry keeps anonymous (whose name walking `?organisation=1, 2, …` would otherwise give
    away); those pledge through staff (`funding pledges record`)."""
    return bool(organisation["is_public"]) and organisation["kind"] != OrganisationKind.individual


@dataclass
class FormPages:
    """The pages of one round's pledge form: closed, search, the form itself, link re-sent."""

    pledges: PledgeService
    programmes: ProgrammeService
    programme: dict | None
    fund: Round

    @classmethod
    async def of(
        cls, pledges: PledgeService, programmes: ProgrammeService, programme: dict | None, slug: str
    ) -> FormPages:
        return cls(pledges, programmes, programme, await pledges.round(slug))

    @property
    def is_open(self) -> bool:
        return self.fund.accepts_pledges(self.pledges.today())

    def render(
        self,
        step: str,
        *,
        status: int = 200,
        errors: dict[str, str] | None = None,
        background: BackgroundTask | None = None,
        **context: object,
    ) -> Template:
        typed = step == "form" and status >= 400
        return Template(
            "public/pledge_form.html",
            context={
                "programme": self.programme,
                "fund": self.fund,
                "title": self.fund.title(current_locale()),
                "step": step,
                "errors": ordered(errors or {}),
                **context,
            },
            status_code=status,
            headers=PRIVATE if typed or step == "resent" else FORM,
            background=background,
        )

    def closed(self, status: int = 200) -> Template:
        today = self.pledges.today()
        opens_later = self.fund.status is RoundStatus.open and today < self.fund.opens_on
        return self.render("closed", status=status, opens_later=opens_later)

    async def search(self, q: str | None, errors: dict[str, str] | None = None) -> Template:
        q = q.replace("\x00", "").strip() if q is not None else None
        if q == "" and not errors:
            errors = {"q": _("Enter part of your organisation's name, or its CBS code.")}
        found = await self.pledges.organisations.search(q, limit=SEARCH_LIMIT) if q else []
        results = [o for o in found if listed(o)]
        more = len(found) >= SEARCH_LIMIT
        return self.render("search", status=400 if errors else 200, errors=errors, q=q, results=results, more=more)

    async def organisation(self, organisation_id: int | None) -> dict | None:
        """The registry's organisation, if the public may see its name (see `listed`)."""
        found = await self.pledges.organisations.get(organisation_id) if organisation_id else None
        return found if found and listed(found) else None

    async def form(
        self,
        organisation: dict,
        values: dict[str, str] | None = None,
        errors: dict[str, str] | None = None,
        *,
        duplicate: bool = False,
    ) -> Template:
        locale = current_locale()
        suggested = await self.pledges.suggested(self.fund, organisation)
        if values is None:
            values = {
                "form": ContributionForm.cash.value,
                "payment_preference": PaymentPreference.invoice.value,
                "amount": suggested.format_number(locale) if suggested else "",
            }
        lines = await self.programmes.budget_lines(self.fund.period_id)
        return self.render(
            "form",
            status=400 if errors else 200,
            errors=errors,
            organisation=organisation,
            suggested=suggested,
            equal_split=self.fund.key.kind is KeyKind.equal_split,
            key_description=self.fund.key.describe(locale),
            amount_example=(suggested or Money.euros(1000)).format_number(locale),
            show_members=organisation["kind"] in UMBRELLA_KINDS or bool(values.get("members")),
            always_named=always_public(organisation["kind"]),
            budget_lines=[(line["code"], _line_name(line, locale)) for line in lines],
            values=values,
            duplicate=duplicate,
        )

    async def pledge(self, organisation: dict, data: PledgeForm) -> PledgeRecord | Template:
        """The pledge made, or the form again with every problem found."""
        members, members_problem = await resolve_members(data.members, self.pledges.organisations)
        members = tuple(m for m in members if m != organisation["id"])  # naming itself adds nothing
        new, errors = pledge_from_form(
            data,
            organisation_id=organisation["id"],
            members=members,
            locale=current_locale(),
            equal_split=self.fund.key.kind is KeyKind.equal_split,
        )
        if members_problem:
            errors["members"] = members_problem
        if always_public(organisation["kind"]):
            new = replace(new, publish_name=True)  # the form offers it no choice: it is always named
        duplicate = False
        if not errors:
            try:
                return await self.pledges.pledge(self.fund.slug, new)
            except RoundNotOpen:
                return self.closed(status=400)
            except RoundNotFound:
                raise
            except AlreadyCovered as covered:
                # Says only that there is one: the first pledge's page is offered to its own contact.
                duplicate = covered.field == "organisation"
                errors[covered.field or "organisation"] = str(covered)
            except PledgeError as refused:
                errors[error_field(refused.field, data.form) or ""] = str(refused)
        return await self.form(organisation, data.values(), errors, duplicate=duplicate)


@dataclass
class PledgePage:
    """One pledge's private page, with its forms."""

    programme: dict | None
    settings: Settings
    pledge: PledgeRecord
    fund: Round
    budget_line: str
    """The in-kind pledge's budget line by name."""
    changeable: bool
    """Nothing paid yet and the round still taking pledges: the pledger may change or cancel it."""
    payable: bool
    """Due cash with something still to pay, and Mollie configured: the page offers 'pay now'."""
    attempts: list[PaymentRecord]
    documents: list[IssuedDocument]
    """Its invoices and credit notes, oldest first."""

    @classmethod
    async def of(
        cls,
        pledges: PledgeService,
        payments: PaymentService,
        programmes: ProgrammeService,
        programme: dict | None,
        settings: Settings,
        token: str,
        invoices: InvoiceService,
    ) -> PledgePage:
        pledge = await pledges.pledge_by_token(token)
        fund = await pledges.round_by_id(pledge.round_id)
        lines = {line["code"]: line for line in await programmes.budget_lines(fund.period_id)}
        line = lines.get(pledge.budget_line)
        name = _line_name(line, current_locale()) if line else pledge.budget_line
        changeable = pledge.changeable and fund.accepts_pledges(pledges.today())
        attempts = await payments.attempts(pledge.id)
        documents = await invoices.of_pledge(pledge.id)
        return cls(programme, settings, pledge, fund, name, changeable, payments.payable(pledge), attempts, documents)

    def render(
        self,
        *,
        done: str | None = None,
        errors: dict[str, str] | None = None,
        values: dict[str, str] | None = None,
        status: int = 200,
    ) -> Template:
        locale = current_locale()
        pledge, changeable = self.pledge, self.changeable
        if values is None:
            values = {"amount": pledge.amount.format_number(locale), "hours": str(pledge.hours or "")}
        return Template(
            "public/pledge.html",
            context={
                "programme": self.programme,
                "pledge": pledge,
                "fund": self.fund,
                "round_title": self.fund.title(locale),
                "budget_line": self.budget_line,
                "changeable": changeable,
                "payable": self.payable,
                "attempts": [a for a in self.attempts if a.status is not PaymentStatus.new],
                "documents": self.documents,
                "invoiceable": invoiceable(pledge),
                "changeable_amount": changeable and self.fund.key.kind is not KeyKind.equal_split,
                "bank_name": self.settings.bank_name,
                "bank_iban": iban.format(self.settings.bank_iban),
                "done": done,
                "errors": errors or {},
                "values": values,
            },
            status_code=status,
            headers=PRIVATE,
        )


def invoiceable(pledge: PledgeRecord) -> bool:
    """The page offers an invoice for a due cash pledge with nothing paid and none issued."""
    return pledge.status is PledgeStatus.due and not pledge.is_in_kind and not pledge.billed


def _line_name(line: dict, locale: str) -> str:
    return line["name_en"] if locale == "en" and line["name_en"] else line["name"]
