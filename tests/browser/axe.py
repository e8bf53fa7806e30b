"""axe-core in the test browser: WCAG 2.0/2.1 A and AA rules, violations as readable lines.

The axe-core build is the one the `axe-playwright-python` package ships; it is evaluated in each
page through the DevTools protocol (not a <script> tag), so the site's CSP stays as it is.
"""

from __future__ import annotations

import json
from collections import Counter

from axe_playwright_python.base import AXE_SCRIPT
from playwright.sync_api import Page

from tests.browser.site import Check, ReflowCheck, Visit, save_artifacts

WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
OPTIONS = {"runOnly": {"type": "tag", "values": WCAG_TAGS}, "resultTypes": ["violations"]}
VERSION = AXE_SCRIPT[AXE_SCRIPT.index("axe v") + 5 :].split()[0]

# Started on a timer so `start` returns at once and several pages run axe at the same time;
# the promise is kept on the page and awaited by `finish`.
_START = "() => { window.__axeResults = new Promise(ok => setTimeout(ok, 0)).then(() => axe.run(document, %s)); }"
_RESULTS = "() => window.__axeResults"


def start(page: Page) -> None:
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(AXE_SCRIPT)
    page.evaluate(_START % json.dumps(OPTIONS))


def results(page: Page) -> list[dict]:
    return page.evaluate(_RESULTS)["violations"]


def violations(page: Page) -> list[dict]:
    start(page)
    return results(page)


def describe(violation: dict) -> list[str]:
    """One line per offending element: rule, impact, selector, what axe says is wrong."""
    lines = []
    for node in violation["nodes"]:
        checks = node.get("any", []) + node.get("all", []) + node.get("none", [])
        why = "; ".join(check["message"] for check in checks) or violation["help"]
        lines.append(
            f"{violation['id']} ({violation['impact']}) at {', '.join(map(str, node['target']))}: {why}"
            f" — {node['html'][:160]}"
        )
    return lines


class AxeCheck(Check):
    """Runs axe on every crawled page; counts violations and saves each offending page."""

    def __init__(self, name: str) -> None:
        super().__init__()
        self.name = name
        self.pages = 0
        self.by_rule: Counter[str] = Counter()
        """Rule id to the number of offending elements, over every page checked."""

    def start(self, visit: Visit) -> None:
        start(visit.page)

    def finish(self, visit: Visit) -> list[str]:
        found = results(visit.page)
        self.pages += 1
        for violation in found:
            self.by_rule[violation["id"]] += len(violation["nodes"])
        if found:
            save_artifacts(visit.page, f"{self.name}-axe-{visit.locale}-{visit.path}")
        return [line for violation in found for line in describe(violation)]


class PageChecks:
    """axe and the reflow check on pages no crawl reaches (after a POST, on another site), one
    page at a time as a test walks through them: `check(page, "what it is", locale)`."""

    def __init__(self, name: str) -> None:
        self.axe, self.reflow = AxeCheck(name), ReflowCheck()
        self.checked: list[str] = []
        """What was checked, in order."""

    def __call__(self, page: Page, what: str, locale: str, status: int = 200) -> None:
        assert page.evaluate("document.documentElement.lang") == locale, f"{what} is not in {locale}"
        visit = Visit(f"{page.url} ({what})", locale, status, page)
        for one in (self.axe, self.reflow):
            one.start(visit)
            one.problems += [f"{visit.path} [{locale}]: {problem}" for problem in one.finish(visit)]
        self.checked.append(what)

    @property
    def problems(self) -> list[str]:
        return self.axe.problems + self.reflow.problems
