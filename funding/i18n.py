"""Dutch first, English second: Babel catalogs, the request's locale, and locale formatting.

Catalogs live as `.po` files under `funding/locale/` and are compiled in memory at first use, so
there is no build step and no binary in the repository. Message ids are English; the Dutch
catalog translates them, the English one is the identity.
"""

from __future__ import annotations

import gettext as _gettext
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date, datetime
from functools import cache
from io import BytesIO
from pathlib import Path

from babel import negotiate_locale
from babel.dates import format_date, format_datetime, get_timezone
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from funding.money import babel_locale

LOCALES = ("nl", "en")
DEFAULT_LOCALE = "nl"
LOCALE_NAMES = {"nl": "Nederlands", "en": "English"}
CATALOG_DIR = Path(__file__).parent / "locale"

_current: ContextVar[str] = ContextVar("funding_locale", default=DEFAULT_LOCALE)


def catalog_path(locale: str) -> Path:
    return CATALOG_DIR / locale / "LC_MESSAGES" / "messages.po"


@cache
def translations(locale: str) -> _gettext.GNUTranslations:
    with catalog_path(locale).open("rb") as po:
        catalog = read_po(po, locale=locale)
    compiled = BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return _gettext.GNUTranslations(compiled)


def negotiate(requested: str | None) -> str | None:
    """A supported locale for `requested` (`en`, `en-GB`, `en_GB`, `NL`), or None."""
    if not requested:
        return None
    # Babel compares case-insensitively but answers in the caller's case, and splits on one
    # separator: hand it `en_gb`, whichever way it was written.
    return negotiate_locale([requested.strip().lower().replace("-", "_")], LOCALES, aliases={})


def current_locale() -> str:
    return _current.get()


@contextmanager
def use_locale(locale: str):
    token = _current.set(locale if locale in LOCALES else DEFAULT_LOCALE)
    try:
        yield
    finally:
        _current.reset(token)


def set_locale(locale: str) -> None:
    """Set the locale for the rest of the current request (its own context)."""
    _current.set(locale if locale in LOCALES else DEFAULT_LOCALE)


def gettext(message: str) -> str:
    return translations(current_locale()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return translations(current_locale()).ngettext(singular, plural, n)


_ = gettext


def format_day(day: date, style: str = "long") -> str:
    return format_date(day, format=style, locale=babel_locale(current_locale()))


def format_moment(moment: datetime, style: str = "medium") -> str:
    return format_datetime(
        moment, format=style, locale=babel_locale(current_locale()), tzinfo=get_timezone("Europe/Amsterdam")
    )
