"""Every string the app shows is in the Dutch catalog, with the same placeholders."""

import re

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from funding.i18n import catalog_path, gettext, negotiate, translations, use_locale
from funding.settings import ROOT

PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def extracted_messages() -> set[str]:
    """Every msgid the code and templates use; for ngettext, the singular (the catalog's key)."""
    return set(extracted_forms())


def extracted_forms() -> dict[str, tuple[str, ...]]:
    """msgid -> the message's forms: itself, or ngettext's singular and plural."""
    # The site's templates, and those a package ships (the invoice's, in funding/invoicing/templates).
    templates = ("templates/**.html", "funding/**/templates/**.html")
    method_map = [("funding/**.py", "python"), *((pattern, "jinja2") for pattern in templates)]
    options = {pattern: {"extensions": "jinja2.ext.i18n"} for pattern in templates}
    found = {}
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(ROOT), method_map=method_map, options_map=options
    ):
        forms = (message,) if isinstance(message, str) else tuple(message[:2])
        found[forms[0]] = forms
    return found


def translated_forms(catalog, message: str) -> tuple[str, ...]:
    """The catalog's translation of `message`, every plural form of it, or () if it has none."""
    entry = catalog.get(message)
    strings = () if entry is None else (entry.string,) if isinstance(entry.string, str) else tuple(entry.string)
    return strings if strings and all(strings) else ()


def test_every_message_has_a_dutch_translation_with_the_same_placeholders():
    catalog = read_po(catalog_path("nl").open("rb"), locale="nl")
    forms = extracted_forms()
    assert len(forms) > 50
    missing = sorted(m for m in forms if not translated_forms(catalog, m))
    assert missing == [], f"untranslated (update funding/locale/nl): {missing}"
    for message, originals in forms.items():
        expected = set().union(*(PLACEHOLDER.findall(form) for form in originals))
        for translated in translated_forms(catalog, message):
            assert set(PLACEHOLDER.findall(translated)) == expected, message


def test_plural_messages_are_plural_in_both_catalogs():
    """An ngettext message written as a plain msgid would lose its plural (and vice versa)."""
    plurals = {m for m, forms in extracted_forms().items() if len(forms) == 2}
    assert plurals, "no plural messages: the check proves nothing"
    for locale in ("nl", "en"):
        catalog = read_po(catalog_path(locale).open("rb"), locale=locale)
        assert {m for m in plurals if not (catalog.get(m) and catalog.get(m).pluralizable)} == set(), locale


def test_the_english_catalog_lists_every_message_too():
    catalog = read_po(catalog_path("en").open("rb"), locale="en")
    assert {m for m in extracted_messages() if not catalog.get(m)} == set()


def test_translations_compile_and_switch_with_the_locale():
    assert translations("nl").gettext("Public ledger") == "Openbaar grootboek"
    anonymous = ("%(num)s anonymous contributor", "%(num)s anonymous contributors")
    assert [translations("nl").ngettext(*anonymous, n) for n in (1, 2)] == [
        "%(num)s anonieme bijdrager",
        "%(num)s anonieme bijdragers",
    ]
    assert [translations("en").ngettext(*anonymous, n) for n in (1, 2)] == list(anonymous), "English: the msgids"
    with use_locale("en"):
        assert gettext("Public ledger") == "Public ledger"
    with use_locale("nl"):
        assert gettext("Public ledger") == "Openbaar grootboek"


@pytest.mark.parametrize(
    ("requested", "locale"),
    [
        ("en", "en"),
        ("EN-gb", "en"),
        ("en_GB", "en"),
        (" NL ", "nl"),
        ("nl-BE", "nl"),
        ("de", None),
        ("english", None),
        ("e", None),
        ("", None),
        (None, None),
    ],
)
def test_negotiate_maps_language_tags_onto_the_supported_locales(requested, locale):
    assert negotiate(requested) == locale


@pytest.mark.parametrize("locale", ["nl", "en"])
def test_each_catalog_parses_without_a_broken_entry(locale):
    """A msgid without its msgstr would otherwise be skipped with only a warning."""
    with catalog_path(locale).open("rb") as po:
        catalog = read_po(po, locale=locale, abort_invalid=True)
    assert len(catalog) > 50
