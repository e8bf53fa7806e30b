"""The back office's pages, under `/staff/`, server-rendered and usable without JavaScript.

Each controller names the roles that may use it (`opt["roles"]`) and carries the
`require_staff` guard, so a route cannot be added without saying who it is for (the route × role
test in tests/staff reads them from the app). An auditor reads everything and changes nothing:
every form posts to a route for the roles that change things. Forms carry Litestar's CSRF token.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.params import QueryParameter, URLEncodedBody
from litestar.response import Redirect, Template

from funding.accounts.service import ABSOLUTE_TIMEOUT, AccountError, AccountService, StaffAccount
from funding.accounts.tables import Role
from funding.invoicing.service import InvoiceService
from funding.ledger.service import LedgerService
from funding.money import Money
from funding.pledges.service import REFUNDS, PledgeService
from funding.pledges.tables import BOOKED_STATUSES
from funding.staff.guards import require_staff, staff_cookie
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
            for pledge in await pledges.pledges(fund.id):
                if pledge.status not in BOOKED_STATUSES or pledge.is_in_kind or not pledge.open_amount:
                    continue
                billed = [d for d in await invoices.of_pledge(pledge.id) if not d.is_credit_note]
                owed.append(
                    Owed(
                        organisation=pledge.organisation_name,
                        round_title=fund.title(request.state.locale),
                        open=pledge.open_amount,
                        reference=pledge.formatted_reference,
                        invoice=billed[-1].number if billed else None,
                        overdue=bool(billed) and billed[-1].due_date < today,
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
