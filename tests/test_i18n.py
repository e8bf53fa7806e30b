"""Every string the app shows is in the Dutch catalog, with the same placeholders."""

import re

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from funding.i18n import catalog_path, gettext, negotiate, translations, use_locale
from funding.settings import ROOT

PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def extracted_messages() -> set[str]:
    method_map = [("funding/**.py", "python"), ("templates/**.html", "jinja2")]
    options = {"templates/**.html": {"extensions": "jinja2.ext.i18n"}}
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(ROOT), method_map=method_map, options_map=options
    ):
        found.add(message if isinstance(message, str) else message[0])
    return found


def test_every_message_has_a_dutch_translation_with_the_same_placeholders():
    catalog = read_po(catalog_path("nl").open("rb"), locale="nl")
    messages = extracted_messages()
    assert len(messages) > 50
    missing = sorted(m for m in messages if not (catalog.get(m) and catalog.get(m).string))
    assert missing == [], f"untranslated (update funding/locale/nl): {missing}"
    for message in messages:
        translated = catalog.get(message).string
        assert set(PLACEHOLDER.findall(message)) == set(PLACEHOLDER.findall(translated)), message


def test_the_english_catalog_lists_every_message_too():
    catalog = read_po(catalog_path("en").open("rb"), locale="en")
    assert {m for m in extracted_messages() if not catalog.get(m)} == set()


def test_translations_compile_and_switch_with_the_locale():
    assert translations("nl").gettext("Public ledger") == "Openbaar grootboek"
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
