"""The back office's pages, under `/staff/`, server-rendered and usable without JavaScript.

Each controller names the roles that may use it (`opt["roles"]`) and carries the
`require_staff` guard, so a route cannot be added without saying who it is for (the route × role
test in tests/staff reads them from the app). An auditor reads everything and changes nothing:
every form posts to a route for the roles that change things. Forms carry Litestar's CSRF token.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Annotated

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.params import PathParameter, QueryParameter, URLEncodedBody
from litestar.response import Redirect, Template

from funding.accounts.service import ABSOLUTE_TIMEOUT, AccountError, AccountService, StaffAccount
from funding.accounts.tables import Role
from funding.i18n import _
from funding.invoicing.service import InvoiceNotFound, InvoiceService
from funding.ledger.service import LedgerService
from funding.money import Money, MoneyError
from funding.payments.service import PaymentError, PaymentService
from funding.pledges.service import REFUNDS, Change, NewPledge, PledgeError, PledgeService
from funding.pledges.tables import BOOKED_STATUSES, PledgeSource
from funding.staff.guards import require_staff, staff_cookie
from funding.web.documents import stored_file
from funding.web.errors import page_error_responses
from funding.web.requests import client_address
from funding.web.security import PRIVATE

EVERYONE = tuple(Role)
READERS = (Role.admin, Role.auditor)
"""Who reads the users and the audit trail."""


class LoginForm(msgspec.Struct):
    email: str = ""
    password: str = ""


class NewUserForm(msgspec.Struct):
    email: str = ""
    role: str = ""
    password: str = ""


class RoleForm(msgspec.Struct):
    role: str = ""


def staff_of(request: Request) -> StaffAccount:
    """The user `require_staff` found for this request."""
    return request.state.staff


def page(name: str, request: Request, programme: dict | None, status: int = 200, **context: object) -> Template:
    return Template(
        f"staff/{name}.html",
        context={"programme": programme, "staff": getattr(request.state, "staff", None), **context},
        status_code=status,
        headers=PRIVATE,
    )


class StaffLoginController(Controller):
    """Logging in and out: the only back-office routes without a role."""

    path = "/staff"
    tags = ("back office",)

    @get("/login", name="staff_login")
    async def login_form(self, request: Request, programme: NamedDependency[dict | None]) -> Template:
        return page("login", request, programme, errors={}, values={})

    @post("/login", name="staff_login_submit", status_code=303, responses=page_error_responses(400, 403, 429))
    async def login(
        self,
        request: Request,
        state: State,
        accounts: NamedDependency[AccountService],
        programme: NamedDependency[dict | None],
        data: URLEncodedBody[LoginForm],
    ) -> Response:
        """A new session at every login (the cookie's old token, if any, ends), then the dashboard."""
        cookie = staff_cookie(state.settings)
        address = client_address(request)
        try:
            account = await accounts.authenticate(data.email, data.password, address=address)
        except AccountError as refused:
            return page(
                "login", request, programme, 400, errors={"email": str(refused)}, values={"email": data.email[:254]}
            )
        token = await accounts.start_session(account, address=address, replaces=request.cookies.get(cookie))
        response = Redirect(path="/staff/", status_code=303)
        response.set_cookie(
            key=cookie,
            value=token,
            path="/",
            max_age=int(ABSOLUTE_TIMEOUT.total_seconds()),
            secure=state.settings.secure_cookies,
            httponly=True,
            samesite="strict",
        )
        return response

    @post("/logout", name="staff_logout", status_code=303, responses=page_error_responses(403, 429))
    async def logout(self, request: Request, state: State, accounts: NamedDependency[AccountService]) -> Response:
        cookie = staff_cookie(state.settings)
        if token := request.cookies.get(cookie):
            await accounts.end_session(token, address=client_address(request))
        response = Redirect(path="/staff/login", status_code=303)
        response.delete_cookie(cookie, path="/")
        return response


@dataclass(frozen=True)
class Owed:
    """A booked cash pledge that still owes money, for the dashboard."""

    organisation: str
    round_title: str
    open: Money
    reference: str
    invoice: str | None
    overdue: bool


class StaffHomeController(Controller):
    path = "/staff"
    tags = ("back office",)
    guards = (require_staff,)
    opt = {"roles": EVERYONE}  # noqa: RUF012 (Litestar reads it as the controller's options)

    @get("/", name="staff_home", responses=page_error_responses(401, 403))
    async def dashboard(
        self,
        request: Request,
        pledges: NamedDependency[PledgeService],
        ledger: NamedDependency[LedgerService],
        invoices: NamedDependency[InvoiceService],
        programme: NamedDependency[dict | None],
    ) -> Template:
        """What needs attention: money owed (overdue invoices first), money held for a person to
        refund or reassign, and each round against its target."""
        today = pledges.today()
        owed: list[Owed] = []
        rounds = await pledges.rounds()
        for fund in rounds:
            open_pledges = [
                pledge
                for pledge in await pledges.pledges(fund.id)
                if pledge.status in BOOKED_STATUSES and not pledge.is_in_kind and pledge.open_amount
            ]
            billed = await invoices.latest_invoices([pledge.id for pledge in open_pledges])
            for pledge in open_pledges:
                invoice = billed.get(pledge.id)
                owed.append(
                    Owed(
                        organisation=pledge.organisation_name,
                        round_title=fund.title(request.state.locale),
                        open=pledge.open_amount,
                        reference=pledge.formatted_reference,
                        invoice=invoice.number if invoice else None,
                        overdue=invoice is not None and invoice.due_date < today,
                    )
                )
        owed.sort(key=lambda o: (not o.overdue, o.organisation))
        held = -(await ledger.balances()).get(REFUNDS, Money.zero())
        summaries = [(fund, await pledges.summary(fund.slug)) for fund in rounds]
        return page("home", request, programme, owed=owed, held=held, summaries=summaries)


class StaffUsersController(Controller):
    path = "/staff/users"
    tags = ("back office",)
    guards = (require_staff,)
    opt = {"roles": (Role.admin,)}  # noqa: RUF012 (Litestar reads it as the controller's options)

    @get("/", name="staff_users", opt={"roles": READERS}, responses=page_error_responses(401, 403))
    async def users(
        self, request: Request, accounts: NamedDependency[AccountService], programme: NamedDependency[dict | None]
    ) -> Template:
        return await self._page(request, accounts, programme)

    @post("/", name="staff_user_create", status_code=303, responses=page_error_responses(400, 401, 403, 429))
    async def create(
        self,
        request: Request,
        accounts: NamedDependency[AccountService],
        programme: NamedDependency[dict | None],
        data: URLEncodedBody[NewUserForm],
    ) -> Response:
        admin = staff_of(request)
        try:
            await accounts.create_user(
                data.email, data.role, data.password, actor=admin.email, address=client_address(request)
            )
        except AccountError as refused:
            values = {"email": data.email[:254], "role": data.role[:20]}
            return await self._page(request, accounts, programme, {refused.field or "email": str(refused)}, values)
        return Redirect(path="/staff/users/?done=created", status_code=303)

    @post(
        "/{user_id:int}/role",
        name="staff_user_role",
        status_code=303,
        responses=page_error_responses(400, 401, 403, 404),
    )
    async def change_role(
        self,
        request: Request,
        accounts: NamedDependency[AccountService],
        programme: NamedDependency[dict | None],
        user_id: Annotated[int, msgspec.Meta(ge=1, le=2**31)],
        data: URLEncodedBody[RoleForm],
    ) -> Response:
        admin = staff_of(request)
        try:
            await accounts.change_role(user_id, data.role, actor=admin.email, address=client_address(request))
        except AccountError as refused:
            return await self._page(request, accounts, programme, {"role": str(refused)})
        return Redirect(path="/staff/users/?done=changed", status_code=303)

    @post(
        "/{user_id:int}/disable",
        name="staff_user_disable",
        status_code=303,
        responses=page_error_responses(401, 403, 404),
    )
    async def disable(
        self,
        request: Request,
        accounts: NamedDependency[AccountService],
        user_id: Annotated[int, msgspec.Meta(ge=1, le=2**31)],
    ) -> Response:
        admin = staff_of(request)
        await accounts.disable(user_id, actor=admin.email, address=client_address(request))
        return Redirect(path="/staff/users/?done=disabled", status_code=303)

    async def _page(
        self,
        request: Request,
        accounts: AccountService,
        programme: dict | None,
        errors: dict[str, str] | None = None,
        values: dict[str, str] | None = None,
    ) -> Template:
        return page(
            "users",
            request,
            programme,
            400 if errors else 200,
            users=await accounts.users(),
            roles=[role.value for role in Role],
            errors=errors or {},
            values=values or {},
            done=request.query_params.get("done", "") if not errors else "",
        )


ActorQuery = Annotated[str | None, QueryParameter(max_length=254, description="Only what this staff user did")]
ActionQuery = Annotated[str | None, QueryParameter(max_length=40, description="Only this kind of action")]


class StaffAuditController(Controller):
    path = "/staff/audit"
    tags = ("back office",)
    guards = (require_staff,)
    opt = {"roles": READERS}  # noqa: RUF012 (Litestar reads it as the controller's options)

    @get("/", name="staff_audit", responses=page_error_responses(400, 401, 403))
    async def audit(
        self,
        request: Request,
        accounts: NamedDependency[AccountService],
        programme: NamedDependency[dict | None],
        actor: ActorQuery = None,
        action: ActionQuery = None,
    ) -> Template:
        """The audit trail, newest first; filtered by who and what."""
        events = await accounts.events(actor=actor, action=action, limit=200)
        return page("audit", request, programme, events=events, actor=actor or "", action=action or "")


CHANGERS = (Role.admin, Role.treasurer)
"""Who records, changes, cancels, invoices, reminds and refunds."""


class AmountForm(msgspec.Struct):
    amount: str = ""


class ReasonForm(msgspec.Struct):
    reason: str = ""


class RecordForm(msgspec.Struct):
    organisation: str = ""
    round: str = ""
    amount: str = ""
    decision_reference: str = ""
    decision_date: str = ""
    contact_name: str = ""
    contact_email: str = ""
    buyer_reference: str = ""

    def values(self) -> dict[str, str]:
        return {name: str(getattr(self, name))[:300] for name in self.__struct_fields__}


class RefundForm(msgspec.Struct):
    payment: str = ""
    refund_amount: str = ""
    refund_reason: str = ""


CHANGE_RESPONSES = page_error_responses(400, 401, 403, 404, 429)
RoundQuery = Annotated[str | None, QueryParameter(max_length=80, description="The round's slug")]
PledgeId = Annotated[int, msgspec.Meta(ge=1, le=2**31)]
DocumentFile = Annotated[
    str,
    PathParameter(pattern=r"^[0-9]{4}-[0-9]{4,6}\.(pdf|xml)$", description="`2026-0001.pdf` or `2026-0001.xml`"),
]


class StaffPledgesController(Controller):
    """Pledges and their payments, as staff handle them: every change through the services
    pledgers use, with staff's name in the audit trail."""

    path = "/staff/pledges"
    tags = ("back office",)
    guards = (require_staff,)
    opt = {"roles": CHANGERS}  # noqa: RUF012 (Litestar reads it as the controller's options)

    @get("/", name="staff_pledges", opt={"roles": EVERYONE}, responses=page_error_responses(400, 401, 403, 404))
    async def pledges_page(
        self,
        request: Request,
        pledges: NamedDependency[PledgeService],
        programme: NamedDependency[dict | None],
        round: RoundQuery = None,
    ) -> Template:
        """A round's pledges (the newest round unless one is asked for)."""
        rounds = await pledges.rounds()
        fund = await pledges.round(round) if round else (rounds[-1] if rounds else None)
        listed = await pledges.pledges(fund.id) if fund else []
        return page("pledges", request, programme, rounds=rounds, fund=fund, pledges=listed)

    @get("/new", name="staff_pledge_new", responses=page_error_responses(401, 403))
    async def record_form(
        self, request: Request, pledges: NamedDependency[PledgeService], programme: NamedDependency[dict | None]
    ) -> Template:
        """Record a pledge a council or board decided on (the page of `funding pledges record`)."""
        return page("record", request, programme, rounds=await pledges.rounds(), errors={}, values={})

    @post("/new", name="staff_pledge_record", status_code=303, responses=CHANGE_RESPONSES)
    async def record(
        self,
        request: Request,
        pledges: NamedDependency[PledgeService],
        accounts: NamedDependency[AccountService],
        programme: NamedDependency[dict | None],
        data: URLEncodedBody[RecordForm],
    ) -> Response:
        errors: dict[str, str] = {}
        organisation = await pledges.organisations.by_identifier(data.organisation)
        if organisation is None:
            errors["organisation"] = _("Enter the organisation's CBS code, OIN or KvK number, as the registry has it.")
        amount = decided = None
        try:
            amount = Money.parse(data.amount, request.state.locale)
        except MoneyError as bad:
            errors["amount"] = str(bad)
        try:
            decided = date.fromisoformat(data.decision_date.strip())
        except ValueError:
            errors["decision_date"] = _("Enter the decision's date as YYYY-MM-DD, e.g. 2026-11-14.")
        if not data.decision_reference.strip():
            errors["decision_reference"] = _("Enter the decision's reference, e.g. raadsbesluit 2026-14.")
        pledge = None
        if not errors and organisation is not None:
            try:
                pledge = await pledges.pledge(
                    data.round,
                    NewPledge(
                        organisation_id=organisation["id"],
                        contact_name=data.contact_name.strip() or organisation["name"],
                        contact_email=data.contact_email.strip() or organisation["billing_email"],
                        amount=amount,
                        buyer_reference=data.buyer_reference,
                        source=PledgeSource.staff,
                        decision_reference=data.decision_reference,
                        decision_date=decided,
                    ),
                )
            except PledgeError as refused:
                field = refused.field if refused.field in RecordForm.__struct_fields__ else "organisation"
                errors[field] = str(refused)
        if pledge is None:
            rounds = await pledges.rounds()
            return page("record", request, programme, 400, rounds=rounds, errors=errors, values=data.values())
        await self._audit(request, accounts, "pledge_recorded", pledge.id, data.decision_reference.strip()[:200])
        return Redirect(path=f"/staff/pledges/{pledge.id}?done=recorded", status_code=303)

    @get(
        "/{pledge_id:int}",
        name="staff_pledge",
        opt={"roles": EVERYONE},
        responses=page_error_responses(400, 401, 403, 404),
    )
    async def pledge_page(
        self,
        request: Request,
        pledges: NamedDependency[PledgeService],
        invoices: NamedDependency[InvoiceService],
        payments: NamedDependency[PaymentService],
        programme: NamedDependency[dict | None],
        pledge_id: PledgeId,
    ) -> Template:
        return await self._pledge(request, pledges, invoices, payments, programme, pledge_id)

    @get(
        "/{pledge_id:int}/invoices/{file:str}",
        name="staff_pledge_document",
        opt={"roles": EVERYONE},
        responses=page_error_responses(400, 401, 403, 404),
    )
    async def document(
        self, invoices: NamedDependency[InvoiceService], pledge_id: PledgeId, file: DocumentFile
    ) -> Response:
        """One of the pledge's invoices or credit notes, its stored PDF or XML as issued."""
        number, _dot, suffix = file.partition(".")
        issued = await invoices.get(number)
        if issued.pledge_id != pledge_id:
            raise InvoiceNotFound(_("There is no invoice with this number."))
        return await stored_file(invoices, issued, suffix)

    @post("/{pledge_id:int}/amount", name="staff_pledge_amount", status_code=303, responses=CHANGE_RESPONSES)
    async def change_amount(
        self,
        request: Request,
        pledges: NamedDependency[PledgeService],
        invoices: NamedDependency[InvoiceService],
        payments: NamedDependency[PaymentService],
        accounts: NamedDependency[AccountService],
        programme: NamedDependency[dict | None],
        pledge_id: PledgeId,
        data: URLEncodedBody[AmountForm],
    ) -> Response:
        pledge = await pledges.pledge_by_id(pledge_id)
        try:
            amount = Money.parse(data.amount, request.state.locale)
            await pledges.change(pledge.token, Change(amount=amount), note=_("changed by staff"), by_staff=True)
        except (MoneyError, PledgeError) as refused:
            errors = {"amount": str(refused)}
            return await self._pledge(request, pledges, invoices, payments, programme, pledge_id, errors)
        await self._audit(request, accounts, "pledge_changed", pledge_id, f"{pledge.amount} → {amount}")
        return Redirect(path=f"/staff/pledges/{pledge_id}?done=changed", status_code=303)

    @post("/{pledge_id:int}/cancel", name="staff_pledge_cancel", status_code=303, responses=CHANGE_RESPONSES)
    async def cancel(
        self,
        request: Request,
        pledges: NamedDependency[PledgeService],
        invoices: NamedDependency[InvoiceService],
        payments: NamedDependency[PaymentService],
        accounts: NamedDependency[AccountService],
        programme: NamedDependency[dict | None],
        pledge_id: PledgeId,
        data: URLEncodedBody[ReasonForm],
    ) -> Response:
        pledge = await pledges.pledge_by_id(pledge_id)
        errors = {}
        if not data.reason.strip():
            errors = {"reason": _("Say why the pledge is cancelled.")}
        else:
            try:
                await pledges.cancel(pledge.token, reason=data.reason, by_staff=True)
            except PledgeError as refused:
                errors = {"reason": str(refused)}
        if errors:
            return await self._pledge(request, pledges, invoices, payments, programme, pledge_id, errors)
        await self._audit(request, accounts, "pledge_cancelled", pledge_id, data.reason.strip()[:500])
        return Redirect(path=f"/staff/pledges/{pledge_id}?done=cancelled", status_code=303)

    @post("/{pledge_id:int}/invoice", name="staff_pledge_invoice", status_code=303, responses=CHANGE_RESPONSES)
    async def invoice(
        self,
        request: Request,
        pledges: NamedDependency[PledgeService],
        invoices: NamedDependency[InvoiceService],
        payments: NamedDependency[PaymentService],
        accounts: NamedDependency[AccountService],
        programme: NamedDependency[dict | None],
        pledge_id: PledgeId,
    ) -> Response:
        try:
            issued = await invoices.issue(pledge_id)
        except PledgeError as refused:
            errors = {"invoice": str(refused)}
            return await self._pledge(request, pledges, invoices, payments, programme, pledge_id, errors)
        await self._audit(request, accounts, "invoice_issued", pledge_id, issued.number)
        return Redirect(path=f"/staff/pledges/{pledge_id}?done=invoiced", status_code=303)

    @post("/{pledge_id:int}/reminder", name="staff_pledge_reminder", status_code=303, responses=CHANGE_RESPONSES)
    async def reminder(
        self,
        request: Request,
        pledges: NamedDependency[PledgeService],
        invoices: NamedDependency[InvoiceService],
        payments: NamedDependency[PaymentService],
        accounts: NamedDependency[AccountService],
        programme: NamedDependency[dict | None],
        pledge_id: PledgeId,
    ) -> Response:
        try:
            await pledges.remind(pledge_id)
        except PledgeError as refused:
            errors = {"reminder": str(refused)}
            return await self._pledge(request, pledges, invoices, payments, programme, pledge_id, errors)
        await self._audit(request, accounts, "reminder_sent", pledge_id, "")
        return Redirect(path=f"/staff/pledges/{pledge_id}?done=reminded", status_code=303)

    @post("/{pledge_id:int}/refund", name="staff_pledge_refund", status_code=303, responses=CHANGE_RESPONSES)
    async def refund(
        self,
        request: Request,
        pledges: NamedDependency[PledgeService],
        invoices: NamedDependency[InvoiceService],
        payments: NamedDependency[PaymentService],
        accounts: NamedDependency[AccountService],
        programme: NamedDependency[dict | None],
        pledge_id: PledgeId,
        data: URLEncodedBody[RefundForm],
    ) -> Response:
        """Refund a Mollie payment of this pledge, in full or in part (empty amount: all that is left)."""
        ours = {a.mollie_id for a in await payments.attempts(pledge_id) if a.mollie_id}
        errors: dict[str, str] = {}
        if data.payment not in ours:
            errors["payment"] = _("Choose one of this pledge's payments.")
        if not data.refund_reason.strip():
            errors["refund_reason"] = _("Give the reason for the refund.")
        amount = None
        if not errors and data.refund_amount.strip():
            try:
                amount = Money.parse(data.refund_amount, request.state.locale)
            except MoneyError as bad:
                errors["refund_amount"] = str(bad)
        if not errors:
            try:
                await payments.refund(data.payment, amount, reason=data.refund_reason)
            except PaymentError as refused:
                errors["refund_amount"] = str(refused)
        if errors:
            return await self._pledge(request, pledges, invoices, payments, programme, pledge_id, errors)
        await self._audit(request, accounts, "refund", pledge_id, f"{data.payment} {amount or 'all'}")
        return Redirect(path=f"/staff/pledges/{pledge_id}?done=refunded", status_code=303)

    async def _audit(
        self, request: Request, accounts: AccountService, action: str, pledge_id: int, detail: str
    ) -> None:
        await accounts.audit(staff_of(request).email, action, f"pledge:{pledge_id}", detail, client_address(request))

    async def _pledge(
        self,
        request: Request,
        pledges: PledgeService,
        invoices: InvoiceService,
        payments: PaymentService,
        programme: dict | None,
        pledge_id: int,
        errors: dict[str, str] | None = None,
    ) -> Template:
        pledge = await pledges.pledge_by_id(pledge_id)
        attempts = [a for a in await payments.attempts(pledge.id) if a.mollie_id]
        return page(
            "pledge",
            request,
            programme,
            400 if errors else 200,
            pledge=pledge,
            fund=await pledges.round_by_id(pledge.round_id),
            documents=await invoices.of_pledge(pledge.id),
            attempts=attempts,
            errors=errors or {},
            done=request.query_params.get("done", "") if not errors else "",
            changes=staff_of(request).role in CHANGERS,
        )
