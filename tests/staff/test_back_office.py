"""The back office's pages: every route against every role (and nobody), logging in and out,
CSRF, and the audit trail of what was done there."""

from __future__ import annotations

import re

import pytest
from litestar.handlers import HTTPRouteHandler

from funding.accounts.service import AccountService
from funding.accounts.tables import Role
from funding.staff.guards import STAFF_COOKIE, require_staff
from tests.staff.conftest import PASSWORD, log_in

HOST = "testserver.local"
"""The test client's host: a cookie planted for it is the one the app's replaces."""
OPEN = {"/staff/login", "/staff/logout"}
"""The back-office routes without a role: logging in and out."""


def staff_routes(app) -> list[tuple[str, str, HTTPRouteHandler]]:
    """(method, path, handler) of every back-office route (the bearer-token API apart)."""
    found = []
    for route in app.routes:
        if not route.path.startswith("/staff") or route.path.startswith("/staff/api"):
            continue
        for handler in route.route_handlers:
            for method in sorted(handler.http_methods - {"HEAD", "OPTIONS"}):
                found.append((method, route.path, handler))
    return found


def test_every_back_office_route_has_the_guard_and_names_its_roles(client):
    routes = staff_routes(client.app)
    assert len(routes) >= 6, routes
    for method, path, handler in routes:
        if path in OPEN:
            continue
        assert require_staff in handler.resolve_guards(), f"{method} {path} has no require_staff guard"
        roles = handler.opt.get("roles")
        assert roles and set(roles) <= set(Role), f"{method} {path} names no roles"


async def test_each_route_lets_in_exactly_the_roles_it_names_and_nobody_else(client, staff_users):
    routes = [r for r in staff_routes(client.app) if r[1] not in OPEN]
    target = await AccountService().create_user("doel@example.nl", Role.auditor, PASSWORD, actor="cli")
    checked = 0
    for who in [None, *Role]:
        client.cookies.clear()
        if who is not None:
            assert (await log_in(client, who)).status_code == 303
        else:
            await client.get("/staff/login")  # a CSRF cookie, so the forms are refused for the role, not the token
        for method, path, handler in routes:
            url = re.sub(r"\{user_id:int\}", str(target.id), path)
            url = url.replace("{pledge_id:int}", "999999").replace("{file:str}", "2026-0001.pdf")
            data = {"_csrf_token": client.cookies["csrftoken"], "role": "approver"}
            answer = await (client.get(url) if method == "GET" else client.post(url, data=data, follow_redirects=False))
            allowed = who is not None and who in handler.opt["roles"]
            expected = "let in" if allowed else ("401" if who is None else "403")
            got = "let in" if answer.status_code not in (401, 403) else str(answer.status_code)
            assert got == expected, f"{who} {method} {url}: {answer.status_code}"
            checked += 1
    assert checked == len(routes) * (len(Role) + 1)


async def test_an_auditor_reads_the_users_and_the_trail_and_changes_nothing(client, staff_users):
    await log_in(client, Role.auditor)
    page = await client.get("/staff/users/")
    assert page.status_code == 200 and "admin@example.nl" in page.text and 'name="password"' not in page.text
    assert (await client.get("/staff/audit/")).status_code == 200
    refused = await client.post(
        "/staff/users/",
        data={
            "_csrf_token": client.cookies["csrftoken"],
            "email": "x@example.nl",
            "role": "admin",
            "password": PASSWORD,
        },
    )
    assert refused.status_code == 403
    assert len(await AccountService().users()) == len(Role)


async def test_logging_in_rotates_the_session_and_logging_out_ends_it(client, staff_users):
    client.cookies.set(STAFF_COOKIE, "planted-by-someone-else-0123456789", domain=HOST)
    answer = await log_in(client, Role.admin)
    assert answer.status_code == 303 and answer.headers["location"] == "/staff/"
    cookie = answer.headers["set-cookie"]
    assert cookie.startswith(f"{STAFF_COOKIE}=") and "HttpOnly" in cookie and "SameSite=strict" in cookie
    token = client.cookies[STAFF_COOKIE]
    assert token != "planted-by-someone-else-0123456789"
    assert (await client.get("/staff/")).status_code == 200
    out = await client.post("/staff/logout", data={"_csrf_token": client.cookies["csrftoken"]}, follow_redirects=False)
    assert out.status_code == 303
    client.cookies.set(STAFF_COOKIE, token, domain=HOST)  # the old cookie, replayed
    assert (await client.get("/staff/")).status_code == 401


async def test_a_wrong_password_or_unknown_account_reads_alike_and_keeps_the_email(client, staff_users):
    wrong = await log_in(client, Role.admin, password="not the password")
    await client.get("/staff/login")
    unknown = await client.post(
        "/staff/login",
        data={"_csrf_token": client.cookies["csrftoken"], "email": "nobody@example.nl", "password": PASSWORD},
    )
    assert wrong.status_code == unknown.status_code == 400
    message = re.compile(r'<p id="email-error" class="field-error">(.*?)</p>', re.S)
    assert message.search(wrong.text).group(1) == message.search(unknown.text).group(1)
    assert 'value="admin@example.nl"' in wrong.text and PASSWORD not in unknown.text
    assert STAFF_COOKIE not in client.cookies


async def test_forms_without_the_csrf_token_are_refused(client, staff_users):
    await log_in(client, Role.admin)
    for url, data in [
        ("/staff/users/", {"email": "x@example.nl", "role": "admin", "password": PASSWORD}),
        ("/staff/logout", {}),
        ("/staff/login", {"email": "admin@example.nl", "password": PASSWORD}),
    ]:
        assert (await client.post(url, data=data)).status_code == 403, url
    assert len(await AccountService().users()) == len(Role)


async def test_admins_manage_accounts_and_each_action_is_in_the_audit_trail(client, staff_users):
    await log_in(client, Role.admin)
    token = client.cookies["csrftoken"]
    made = await client.post(
        "/staff/users/",
        data={"_csrf_token": token, "email": "nieuw@example.nl", "role": "treasurer", "password": PASSWORD},
        follow_redirects=False,
    )
    assert made.status_code == 303
    short = await client.post(
        "/staff/users/",
        data={"_csrf_token": token, "email": "kort@example.nl", "role": "treasurer", "password": "kort"},
    )
    assert short.status_code == 400 and 'id="password-error"' in short.text and 'value="kort@example.nl"' in short.text
    user = next(u for u in await AccountService().users() if u.email == "nieuw@example.nl")
    await client.post(f"/staff/users/{user.id}/role", data={"_csrf_token": token, "role": "approver"})
    await client.post(f"/staff/users/{user.id}/disable", data={"_csrf_token": token})
    await client.post("/staff/logout", data={"_csrf_token": token})
    actions = [e["action"] for e in reversed(await AccountService().events(actor="admin@example.nl"))]
    assert actions[-5:] == ["login", "user_created", "role_changed", "user_disabled", "logout"]
    trail = await client.get("/staff/audit/")
    assert trail.status_code == 401, "logged out"


@pytest.mark.parametrize("role", list(Role))
async def test_the_dashboard_shows_what_needs_attention(client, staff_users, demo, role):
    await log_in(client, role)
    page = await client.get("/staff/")
    assert page.status_code == 200
    assert 'id="owed-heading"' in page.text and 'id="rounds-heading"' in page.text
    assert f"{role.value}@example.nl" in page.text
