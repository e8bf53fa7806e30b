"""Reading a pledge's private page (`templates/public/pledge.html`) as its visitor sees it."""

from __future__ import annotations

from playwright.sync_api import Page


def words(text: str) -> str:
    return " ".join(text.split())  # no-break spaces in amounts and line breaks in cells alike


def details(page: Page) -> dict[str, str]:
    """The pledge's facts (the first list of terms in its status section), term to value."""
    pairs = page.eval_on_selector_all(
        "section[aria-labelledby=status-heading] dl.details > div",
        "rows => rows.map(row => [row.querySelector('dt').innerText, row.querySelector('dd').innerText])",
    )
    return {words(term): words(value) for term, value in pairs}


def table_rows(page: Page, selector: str) -> list[list[str]]:
    """The body rows of the table `selector`, each as its cells' text."""
    rows = page.eval_on_selector_all(
        f"{selector} tbody tr", "rows => rows.map(row => [...row.cells].map(cell => cell.innerText))"
    )
    return [[words(cell) for cell in row] for row in rows]


def history(page: Page) -> list[list[str]]:
    """The history table's rows: when, what, status, amount."""
    return table_rows(page, "section[aria-labelledby=history-heading] table.history")


def payments(page: Page) -> list[list[str]]:
    """The online payments table's rows: started, Mollie's id, status, amount."""
    return table_rows(page, "section[aria-labelledby=payments-heading] table.history")
