"""What the pledge forms send, read into the service's terms.

Every field arrives as text, so a form that cannot be read never fails before it is shown again
with what was typed. This module parses (amounts in the pledger's notation, whole hours, member
lines) and checks presence, collecting every problem at once, keyed by the form field it is
about; the rules themselves (limits, e-mail shape, the round being open) stay in
`PledgeService`, whose `PledgeError.field` names a field of the same forms.
"""

from __future__ import annotations

import re

import msgspec

from funding.i18n import _
from funding.money import Money, MoneyError
from funding.organisations.service import OrganisationService
from funding.organisations.tables import OrganisationKind
from funding.pledges.service import MAX_MEMBERS, Change, NewPledge
from funding.pledges.tables import ContributionForm, PaymentPreference

PLEDGE_FIELDS = (
    "organisation",
    "form",
    "amount",
    "hours",
    "hourly_rate",
    "goods_value",
    "in_kind_description",
    "budget_line",
    "payment_preference",
    "buyer_reference",
    "contact_name",
    "contact_email",
    "publish_name",
    "members",
)
"""The pledge form's fields, in the order the page shows them (and the error summary lists them)."""
CONSENT = "yes"
_ID = re.compile(r"[0-9]{1,9}")
_CBS_CODE = re.compile(r"(?:GM)?(\d{4})", re.IGNORECASE)
MAX_LISTED = 5
"""Member lines named in one message; the rest are counted."""


class _Posted(msgspec.Struct, kw_only=True):
    """Posted text, without NUL characters (PostgreSQL text cannot hold them, and no one types them)."""

    def __post_init__(self) -> None:
        for name in self.__struct_fields__:
            value = getattr(self, name)
            if "\x00" in value:
                setattr(self, name, value.replace("\x00", ""))

    def values(self) -> dict[str, str]:
        """Field name to what was typed, to show the form again."""
        return {name: getattr(self, name) for name in self.__struct_fields__}


class PledgeForm(_Posted, kw_only=True):
    """The pledge form as posted: text only, each field defaulting to what an empty form sends."""

    organisation: str = ""
    contact_name: str = ""
    contact_email: str = ""
    form: str = ContributionForm.cash.value
    amount: str = ""
    """Cash."""
    hours: str = ""
    hourly_rate: str = ""
    goods_value: str = ""
    """In kind: what the goods or services are worth (the pledge's amount)."""
    in_kind_description: str = ""
    budget_line: str = ""
    payment_preference: str = PaymentPreference.invoice.value
    buyer_reference: str = ""
    publish_name: str = ""
    """`yes` when the consent box is ticked; browsers send nothing for an unticked box."""
    members: str = ""
    """An umbrella pledge's members, one CBS code or name per line."""


class ChangeForm(_Posted, kw_only=True):
    amount: str = ""
    hours: str = ""


class CancelForm(_Posted, kw_only=True):
    reason: str = ""


class ResendForm(_Posted, kw_only=True):
    organisation: str = ""


def error_field(service_field: str | None, form: str) -> str | None:
    """The form field a `PledgeError.field` is shown at: goods have their value in a field of
    their own, which the service calls the amount."""
    if service_field == "amount" and form == ContributionForm.goods.value:
        return "goods_value"
    return service_field


def ordered(errors: dict[str, str]) -> dict[str, str]:
    """Errors in the order of the form's fields (errors of no field first)."""
    position = {name: index for index, name in enumerate(PLEDGE_FIELDS)}
    return dict(sorted(errors.items(), key=lambda item: position.get(item[0], -1)))


def parse_amount(text: str, locale: str) -> Money | None:
    """An amount typed in the pledger's notation; None if nothing was typed.
    Raises `ValueError` with the message to show."""
    if not text.strip():
        return None
    try:
        return Money.parse(text, locale)
    except MoneyError:
        raise ValueError(
            _("Enter an amount in euros, like %(example)s.") % {"example": example_amount(locale)}
        ) from None


def parse_hours(text: str) -> int | None:
    if not text.strip():
        return None
    try:
        return int(text.strip())
    except ValueError:
        raise ValueError(_("Enter a whole number of hours from 1 to 10,000.")) from None


def example_amount(locale: str) -> str:
    return Money.euros(1000).format_number(locale)


def pledge_from_form(
    data: PledgeForm, *, organisation_id: int, members: tuple[int, ...], locale: str, equal_split: bool
) -> tuple[NewPledge, dict[str, str]]:
    """The pledge the form asks for, and the problems found reading it (field -> message); a
    pledge with problems is not to be made."""
    errors: dict[str, str] = {}
    if not data.contact_name.strip():
        errors["contact_name"] = _("Enter the name of a contact person (at most 200 characters).")
    if not data.contact_email.strip():
        errors["contact_email"] = _("Enter an e-mail address like name@example.nl.")
    try:
        form = ContributionForm(data.form)
    except ValueError:
        errors["form"] = _("Choose how you contribute.")
        form = ContributionForm.cash
    try:
        preference = PaymentPreference(data.payment_preference)
    except ValueError:
        errors["payment_preference"] = _("Choose how you would like to pay.")
        preference = PaymentPreference.invoice
    amount = hours = rate = None
    if equal_split:
        form = ContributionForm.cash  # the share is the amount; the service says so if asked otherwise
        if data.form != ContributionForm.cash.value:
            errors["form"] = _("This round shares its target equally: it takes cash pledges only.")
    else:
        amount, hours, rate = _contribution(data, form, locale, errors)
    pledge = NewPledge(
        organisation_id=organisation_id,
        contact_name=data.contact_name,
        contact_email=data.contact_email,
        form=form,
        amount=amount,
        hours=hours,
        hourly_rate=rate,
        in_kind_description=data.in_kind_description if form is not ContributionForm.cash else "",
        budget_line=data.budget_line if form is not ContributionForm.cash else "",
        payment_preference=preference,
        buyer_reference=data.buyer_reference,
        publish_name=data.publish_name == CONSENT,
        locale=locale,
        members=members,
    )
    return pledge, errors


def _contribution(
    data: PledgeForm, form: ContributionForm, locale: str, errors: dict[str, str]
) -> tuple[Money | None, int | None, Money | None]:
    """Amount, hours and hourly rate of the contribution form chosen; only its own fields are read."""
    amount = hours = rate = None
    typed = {
        ContributionForm.cash: ("amount",),
        ContributionForm.hours: ("hours", "hourly_rate"),
        ContributionForm.goods: ("goods_value",),
    }[form]
    for name in typed:
        try:
            if name == "hours":
                hours = parse_hours(data.hours)
                if hours is None:
                    errors[name] = _("Enter a whole number of hours from 1 to 10,000.")
                continue
            value = parse_amount(getattr(data, name), locale)
            if value is None:
                errors[name] = _("Enter an amount of more than € 0.")
            elif name == "hourly_rate":
                rate = value
            else:
                amount = value
        except ValueError as problem:
            errors[name] = str(problem)
    if form is not ContributionForm.cash:
        if not data.in_kind_description.strip():
            errors["in_kind_description"] = _("Describe what you give in kind (at most 500 characters).")
        if not data.budget_line:
            errors["budget_line"] = _("Choose what your contribution in kind is for.")
    return amount, hours, rate


def change_from_form(data: ChangeForm, *, hours: bool, locale: str) -> tuple[Change, dict[str, str]]:
    """A pledger's new amount (or, for a pledge of hours, the new number of hours)."""
    try:
        if hours:
            value = parse_hours(data.hours)
            if value is None:
                return Change(), {"hours": _("Enter a whole number of hours from 1 to 10,000.")}
            return Change(hours=value), {}
        amount = parse_amount(data.amount, locale)
        if amount is None:
            return Change(), {"amount": _("Enter an amount of more than € 0.")}
        return Change(amount=amount), {}
    except ValueError as problem:
        return Change(), {"hours" if hours else "amount": str(problem)}


async def resolve_members(text: str, organisations: OrganisationService) -> tuple[tuple[int, ...], str | None]:
    """The organisations an umbrella pledge names, one CBS code (`GM0363` or `0363`) or full name
    per line, and the message to show if any line names none, or more than one."""
    lines = list(dict.fromkeys(line.strip() for line in text.splitlines() if line.strip()))
    if len(lines) > MAX_MEMBERS:
        return (), _("An umbrella pledge covers at most 500 other organisations.")
    found: list[int] = []
    unknown: list[str] = []
    ambiguous: list[str] = []
    for line in lines:
        code = _CBS_CODE.fullmatch(line)
        if code:
            organisation = await organisations.find(cbs_code=f"GM{code.group(1)}")
            matches = [organisation] if organisation else []
        else:
            matches = [o for o in await organisations.search(line, limit=50) if o["name"].casefold() == line.casefold()]
        matches = [o for o in matches if o["kind"] != OrganisationKind.individual]
        if len(matches) == 1:
            found.append(matches[0]["id"])
        else:
            (ambiguous if matches else unknown).append(line)
    if unknown:
        return (), _(
            "We could not find %(lines)s in the registry. Write one CBS code (like GM0363) or full name per line."
        ) % {"lines": _listed(unknown)}
    if ambiguous:
        return (), _("More than one organisation is called %(lines)s: write their CBS codes instead.") % {
            "lines": _listed(ambiguous)
        }
    return tuple(dict.fromkeys(found)), None


def _listed(lines: list[str]) -> str:
    shown = ", ".join(f"“{line[:100]}”" for line in lines[:MAX_LISTED])
    if len(lines) > MAX_LISTED:
        shown += " " + _("and %(count)s more") % {"count": len(lines) - MAX_LISTED}
    return shown


def parse_id(text: str) -> int | None:
    """An organisation's id as a form sends it back, or None for anything else."""
    return int(text) if _ID.fullmatch(text.strip()) else None
