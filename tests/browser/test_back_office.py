"""The back office with the keyboard alone, as each role, in Dutch and English.

On a demo server of this module's own, with one staff account per role made by `funding users
create` (as staff make them). In each language: the login page, a wrong password (the error
summary takes focus, the e-mail stays), then each role logs in by keyboard, reaches every page
its navigation offers, and logs out; the treasurer opens a pledge and cancels it without a reason
and sends the record-a-pledge form empty,
the administrator sends the new-account form empty (their error states). axe and the reflow
check look at every one of those pages.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from playwright.sync_api import Page, expect

from funding.accounts.tables import Role
from funding.i18n import LOCALES
from funding.settings import ROOT
from tests.browser import keyboard
from tests.browser.axe import PageChecks
from tests.browser.keyboard import press_and_follow, type_into
from tests.browser.site import SUMMARY, t
from tests.live import LiveServer

pytestmark = pytest.mark.browser

PASSWORD = "correct horse battery staple"
PLEDGES = (("/staff/pledges", "Pledges"),)
READERS = (*PLEDGES, ("/staff/users", "Staff accounts"), ("/staff/audit", "Audit trail"))
NAVIGATION = {Role.admin: READERS, Role.auditor: READERS, Role.treasurer: PLEDGES, Role.approver: PLEDGES}
"""What each role's navigation offers besides the dashboard."""


@pytest.fixture(scope="module")
def staff_server(own_demo_server: LiveServer) -> LiveServer:
    env = {**os.environ, "DATABASE_URL": own_demo_server.database_url, "FUNDING_NEW_PASSWORD": PASSWORD}
    for role in Role:
        made = subprocess.run(
            [
                sys.executable,
                "-m",
                "funding",
                "users",
                "create",
                "--email",
                f"{role.value}@example.org",
                "--role",
                role,
            ],
            env=env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert made.returncode == 0, made.stderr
    return own_demo_server


def log_in(page: Page, email: str, password: str) -> None:
    type_into(page, "#email", email)
    type_into(page, "#password", password)
    keyboard.tab_to(page, "form[action$='/staff/login'] button[type=submit]")
    press_and_follow(page)


@pytest.mark.parametrize("locale", LOCALES)
def test_each_role_walks_the_back_office_with_the_keyboard_alone(open_context, staff_server, locale):
    page = open_context(staff_server.url).new_page()
    check = PageChecks(f"back-office-{locale}")
    page.goto(f"/staff/login?lang={locale}")
    expect(page.locator("h1")).to_have_text(t(locale, "Log in to the back office"))
    check(page, "the login page", locale)

    log_in(page, "admin@example.org", "not the password at all")
    expect(page.locator(".error-summary")).to_be_focused()
    expect(page.locator("#email")).to_have_value("admin@example.org")
    check(page, "the login page after a wrong password", locale, 400)

    for role in Role:
        page.goto("/staff/login")
        log_in(page, f"{role.value}@example.org", PASSWORD)
        expect(page).to_have_url(f"{staff_server.url}/staff/")
        expect(page.locator("h1")).to_have_text(t(locale, "Back office"))
        check(page, f"the dashboard, as {role.value}", locale)
        for href, item in NAVIGATION[role]:
            keyboard.tab_to(page, f".staff-nav a[href='{href}']")
            press_and_follow(page)
            expect(page.locator("h1")).to_have_text(t(locale, item))
            check(page, f"{item}, as {role.value}", locale)
        if role is Role.treasurer:
            page.goto("/staff/pledges")
            unpaid = page.locator("table a[href^='/staff/pledges/']").last  # the newest round's last: nothing paid
            keyboard.tab_to(page, f"a[href='{unpaid.get_attribute('href')}']")
            press_and_follow(page)
            check(page, "a pledge, with the actions a treasurer may take", locale)
            keyboard.tab_to(page, "form[action$='/cancel'] button[type=submit]")
            press_and_follow(page)
            expect(page.locator(".error-summary")).to_be_focused()
            check(page, "cancelling a pledge without a reason", locale, 400)
            page.goto("/staff/pledges")
            keyboard.tab_to(page, "a[href='/staff/pledges/new']")
            press_and_follow(page)
            check(page, "recording a decided pledge", locale)
            keyboard.tab_to(page, "form[action='/staff/pledges/new'] button[type=submit]")
            press_and_follow(page)
            expect(page.locator(".error-summary")).to_be_focused()
            check(page, "recording a pledge with nothing filled in", locale, 400)
        if role is Role.admin:
            page.goto("/staff/users")
            keyboard.tab_to(page, "form[action='/staff/users'] button[type=submit]")
            press_and_follow(page)
            expect(page.locator(".error-summary")).to_be_focused()
            check(page, "the new-account form sent empty", locale, 400)
        keyboard.tab_to(page, ".staff-logout button[type=submit]")
        press_and_follow(page)
        expect(page).to_have_url(f"{staff_server.url}/staff/login")

    SUMMARY.append(f"back office [{locale}]: axe-core on {check.axe.pages} pages, {len(check.axe.problems)} violations")
    assert len(check.checked) == 2 + len(Role) + sum(len(items) for items in NAVIGATION.values()) + 5
    assert not check.problems, "\n".join(check.problems)
