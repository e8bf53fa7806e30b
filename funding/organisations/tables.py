from enum import StrEnum
from typing import Any

from piccolo.columns import Boolean, Integer, Serial, Text, Varchar
from piccolo.table import Table

REQUIRED: dict[str, Any] = {"null": False, "default": None}
OPTIONAL: dict[str, Any] = {"null": True, "default": None}


class OrganisationKind(StrEnum):
    gemeente = "gemeente"
    provincie = "provincie"
    ministerie = "ministerie"
    waterschap = "waterschap"
    other_public = "other_public"
    company = "company"
    individual = "individual"


ALWAYS_PUBLIC = (
    OrganisationKind.gemeente,
    OrganisationKind.provincie,
    OrganisationKind.ministerie,
    OrganisationKind.waterschap,
)
"""The public bodies funding rounds ask to contribute. Their money is public (Wet open overheid),
and a round's fair-share table lists each of them whether it pledged or not, so none of them can
be anonymous: leaving that list for the anonymous row would name it by elimination. The registry
keeps every one of them public (`is_public`; migration 0008 says so in the database too), and
every pledge of one names it."""


class Organisation(Table):
    """A contributor. Private: never in the public journal (see the package's docstring).

    An organisation is found again by its official identifiers, each unique where present:
    the CBS municipality code (`GM0363`), the OIN (Organisatie-identificatienummer, 20 digits)
    and the KvK number (8 digits)."""

    id: Serial  # Piccolo's default primary key, declared for type checkers
    kind = Varchar(length=20, choices=OrganisationKind, **REQUIRED)
    name = Varchar(length=200, **REQUIRED)
    cbs_code = Varchar(length=6, unique=True, help_text="CBS municipality code, e.g. GM0363", **OPTIONAL)
    oin = Varchar(length=20, unique=True, help_text="Organisatie-identificatienummer (20 digits)", **OPTIONAL)
    kvk = Varchar(length=8, unique=True, help_text="Kamer van Koophandel number (8 digits)", **OPTIONAL)
    population = Integer(help_text="Inhabitants, for per-capita and tiered keys", **OPTIONAL)
    address = Text(default="", help_text="Street lines, one per line")
    postcode = Varchar(length=7, default="", help_text="Dutch postcode as `1011 PN`")
    city = Varchar(length=100, default="")
    billing_email = Varchar(length=254, default="")
    vat_number = Varchar(length=20, default="", help_text="VAT (btw) number, e.g. NL001234567B01")
    is_public = Boolean(help_text="Shown by name on public pages; individuals are anonymous by default", **REQUIRED)
    is_demo = Boolean(default=False, help_text="Demo data is labelled as such on every page")
