"""The Peppol validator for the invoicing tests (`tests/invoicing/peppol.py`).

As with the browser tests: when the rules folder is missing, every test that asks for `peppol`
skips on one summary line; with `CI` set the run stops instead.
"""

from __future__ import annotations

import pytest

from tests.conftest import ON_CI
from tests.invoicing.peppol import PeppolValidator, missing_rules, peppol
from tests.pledges.conftest import clock, year

__all__ = ["clock", "peppol", "year"]

NO_RULES = pytest.StashKey[str]()
"""Why the Peppol tests skip, when the rules were not found."""


def pytest_collection_modifyitems(config, items) -> None:
    if not any("peppol" in getattr(item, "fixturenames", ()) for item in items):
        return
    if not (reason := missing_rules()):
        return
    if ON_CI:
        pytest.exit(f"{reason}; CI must not skip the Peppol validation", returncode=pytest.ExitCode.USAGE_ERROR)
    config.stash[NO_RULES] = reason


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item) -> None:
    if "peppol" in item.fixturenames and NO_RULES in item.config.stash:
        pytest.skip(item.config.stash[NO_RULES])  # raised here: one summary line for all, no setup


@pytest.fixture
async def every_issued_document_validates(database: str, request):
    """After each test with a database: every invoice and credit note it issued passes the UBL
    schema and the CEN and Peppol rules. The fixtures of the tests that issue documents use it."""
    yield
    if NO_RULES in request.config.stash or missing_rules():
        return
    from funding.invoicing.tables import Invoice

    validator = PeppolValidator.load()
    for row in await Invoice.select(Invoice.number, Invoice.xml):
        report = validator.check(bytes(row["xml"]))
        assert report.valid, f"{row['number']}: {report}"
