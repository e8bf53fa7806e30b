"""Any form, with the keyboard alone: Tab to each field, fill it, Tab to submit, press Enter, read errors.

Nothing here knows a particular form. Values come from the field itself: a `data-test-value`
attribute when a form needs a specific one, otherwise its type, `inputmode`, `autocomplete` or
name. What a person relying on a keyboard and a screen reader needs is checked on the way: every
field and the submit button are reached by Tab, the submission is accepted by the server (no 5xx,
no CSRF refusal) and every field marked invalid afterwards has its message tied to it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Locator, Page
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from tests.browser.keyboard import MAX_TAB_STOPS, focused
from tests.browser.site import Check, Visit

FIELDS = "input:not([type=hidden]):not([disabled]), select:not([disabled]), textarea:not([disabled])"
SUBMITS = (
    "button:not([type=button]):not([type=reset]):not([disabled]), "
    "input[type=submit]:not([disabled]), input[type=image]:not([disabled])"
)
TEXT_TYPES = {"text", "email", "tel", "url", "number", "password", "search", ""}
ERROR_MESSAGES = "[role=alert], .errors, .error, .field-error"

_DESCRIBE = """el => ({
  tag: el.tagName.toLowerCase(),
  type: (el.getAttribute('type') || '').toLowerCase(),
  name: el.name || el.id || '',
  label: (el.labels && el.labels[0] ? el.labels[0].innerText : el.getAttribute('aria-label') || '').trim(),
  testValue: el.dataset.testValue ?? null,
  inputmode: el.inputMode || '',
  autocomplete: el.autocomplete || '',
  checked: !!el.checked,
  readOnly: !!el.readOnly,
  min: el.min || '',
})"""


def sample_value(info: dict) -> str:
    """A plausible value for a text-like field."""
    if info["testValue"] is not None:
        return info["testValue"]
    kind, name = info["type"], info["name"].lower()
    if kind == "email" or "email" in info["autocomplete"]:
        return "test@example.org"
    if kind == "tel":
        return "+31201234567"
    if kind == "url":
        return "https://example.org/"
    if kind == "password":
        return "correct horse battery staple"
    if kind == "number":
        return info["min"] or "1"
    if "iban" in name:
        return "NL91ABNA0417164300"
    if info["inputmode"] == "decimal" or any(word in name for word in ("amount", "bedrag", "euro")):
        return "10.00"
    if info["inputmode"] == "numeric":
        return "1"
    return "Test"


@dataclass
class FormOutcome:
    where: str
    filled: dict[str, str] = field(default_factory=dict)
    """Field name to what was typed or chosen."""
    status: int | None = None
    """The status of the page the submission led to; None if the browser did not submit."""
    errors: list[str] = field(default_factory=list)
    """Error messages on the page after submitting."""
    problems: list[str] = field(default_factory=list)


def tab_to_element(page: Page, target: Locator) -> bool:
    for _ in range(MAX_TAB_STOPS):
        page.keyboard.press("Tab")
        if target.evaluate("el => el === document.activeElement"):
            return True
    return False


def submit_by_keyboard(page: Page, path: str, index: int) -> FormOutcome:
    """Opens `path`, fills its `index`-th form with the keyboard, submits it and reads what came back."""
    page.goto(path)
    outcome = FormOutcome(f"{path} form #{index + 1}")
    form = page.locator("form").nth(index)
    fields = form.locator(FIELDS)
    radio_groups = set()
    for number in range(fields.count()):
        target = fields.nth(number)
        info = target.evaluate(_DESCRIBE)
        label = info["label"] or info["name"] or f"field {number + 1}"
        if info["type"] == "radio":
            if info["name"] in radio_groups:
                continue  # one tab stop per radio group; arrows move within it
            radio_groups.add(info["name"])
        if not tab_to_element(page, target):
            outcome.problems.append(f"{outcome.where}: Tab never reaches {label!r} (last focus {focused(page)})")
            target.focus()
        outcome.filled[info["name"]] = _fill(page, target, info, outcome)
    submit = form.locator(SUBMITS).first
    if submit.count() == 0:
        outcome.problems.append(f"{outcome.where}: no submit button (Enter in a field is not enough for everyone)")
        return outcome
    if not tab_to_element(page, submit):
        outcome.problems.append(f"{outcome.where}: Tab never reaches the submit button")
        submit.focus()
    try:
        with page.expect_navigation(timeout=5_000) as navigation:
            page.keyboard.press("Enter")
        response = navigation.value
        outcome.status = response.status if response else None
    except PlaywrightTimeout:
        invalid = form.evaluate(
            "f => [...f.querySelectorAll(':invalid')].map(el => (el.name || el.id) + ': ' + el.validationMessage)"
        )
        outcome.errors += invalid
        outcome.problems.append(
            f"{outcome.where}: Enter on the submit button did not submit; the browser says {invalid}"
        )
        return outcome
    if outcome.status is None or outcome.status >= 500:
        outcome.problems.append(f"{outcome.where}: submitting answered {outcome.status}")
    elif outcome.status == 403:
        outcome.problems.append(f"{outcome.where}: submitting was refused (403): is the CSRF token in the form?")
    _read_errors(page, outcome)
    return outcome


def _fill(page: Page, target: Locator, info: dict, outcome: FormOutcome) -> str:
    if info["readOnly"]:
        return ""
    if info["tag"] == "select":
        page.keyboard.press("ArrowDown")
        return target.input_value()
    if info["type"] in ("checkbox", "radio"):
        if not info["checked"]:
            page.keyboard.press("Space")
        if not target.is_checked():
            outcome.problems.append(f"{outcome.where}: Space does not tick {info['name']!r}")
        return target.get_attribute("value") or "on"
    if info["type"] in ("file", "color"):
        return ""  # reaching it is what the keyboard can do; the picker is the browser's own
    if info["type"] == "range":
        page.keyboard.press("ArrowRight")
        return target.input_value()
    if info["type"] == "date":
        page.keyboard.type("06152026")  # month, day, year: the en-US order the test browser uses
        return target.input_value()
    if info["tag"] == "textarea" or info["type"] in TEXT_TYPES:
        value = sample_value(info)
        page.keyboard.press("ControlOrMeta+A")
        page.keyboard.type(value)
        return value
    outcome.problems.append(f"{outcome.where}: no keyboard recipe for a {info['type']!r} field ({info['name']!r})")
    return ""


def _read_errors(page: Page, outcome: FormOutcome) -> None:
    try:
        outcome.errors += [text.strip() for text in page.locator(ERROR_MESSAGES).all_inner_texts() if text.strip()]
        for described in page.locator("[aria-invalid=true]").evaluate_all(
            """fields => fields.map(el => ({
                 name: el.name || el.id,
                 message: (el.getAttribute('aria-describedby') || '').split(/\\s+/)
                   .map(id => document.getElementById(id)).filter(Boolean)
                   .map(node => node.innerText.trim()).join(' '),
               }))"""
        ):
            if not described["message"]:
                outcome.problems.append(
                    f"{outcome.where}: {described['name']!r} is marked invalid, but no message is tied to it"
                    " with aria-describedby"
                )
            elif described["message"] not in outcome.errors:
                outcome.errors.append(described["message"])
    except PlaywrightError as exc:
        outcome.problems.append(f"{outcome.where}: could not read the page after submitting: {exc}")


class FormCount(Check):
    """Counts the forms on every crawled page."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: dict[str, int] = {}
        """Path to the number of forms on it."""

    def finish(self, visit: Visit) -> list[str]:
        if count := visit.page.locator("form").count():
            self.forms[visit.path] = count
        return []
