"""What a Dutch public buyer's Peppol access point checks an e-invoice against, as a test helper.

A document passes when it is valid against the OASIS UBL 2.1 XML Schema (lxml) and neither the
CEN EN 16931 rules nor the Peppol BIS 3 rules (NL-R-* included) report a `failed-assert` of flag
`fatal`. The rules are Schematron compiled to XSLT 2, run with Saxon-HE (`saxonche`); their SVRL
report is read with lxml. Warnings are collected, and shown only when a document fails.

The artefacts are test data outside the repository: the folder `FUNDING_PEPPOL_RULES` names,
else `shared/data/peppol-bis-3` beside the repository (`rules_folder()`). Compiling them takes
about half a second (a document's check then about 10 ms), so a test session builds one
`PeppolValidator` (`PeppolValidator.load`, cached) and shares it through the `peppol` fixture;
`tests/invoicing/conftest.py` skips the tests that ask for it when the folder is missing, and
stops a CI run instead.

    def test_issued_invoice_is_peppol(peppol: PeppolValidator) -> None:
        peppol.assert_valid(render_ubl(document))
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import pytest
from lxml import etree
from saxonche import PySaxonProcessor, PyXsltExecutable

from funding.settings import ROOT
from tests.conftest import ON_CI

RULES_ENV = "FUNDING_PEPPOL_RULES"
DEFAULT_RULES = ROOT.parent / "shared" / "data" / "peppol-bis-3"
SCHEMAS = {"Invoice": "ubl-2.1/maindoc/UBL-Invoice-2.1.xsd", "CreditNote": "ubl-2.1/maindoc/UBL-CreditNote-2.1.xsd"}
STYLESHEETS = ("CEN-EN16931-UBL.xslt", "PEPPOL-EN16931-UBL.xslt")
"""The order an access point runs them in: EN 16931 first, then Peppol's own."""
UBL_NAMESPACE = "urn:oasis:names:specification:ubl:schema:xsd:{}-2"
SVRL = {"svrl": "http://purl.oclc.org/dsdl/svrl"}


def rules_folder() -> Path:
    """Where the artefacts are looked for (they may be missing: see `missing_rules`)."""
    return Path(os.environ.get(RULES_ENV) or DEFAULT_RULES)


def missing_rules(folder: Path | None = None) -> str:
    """Why the rules cannot be loaded from `folder`, or "" when they can."""
    folder = folder or rules_folder()
    where = f"{RULES_ENV}={folder}" if os.environ.get(RULES_ENV) else str(folder)
    if not folder.is_dir():
        return f"no Peppol BIS 3 rules: {where} is not a folder (set {RULES_ENV} to the rules folder)"
    absent = [name for name in (*SCHEMAS.values(), *STYLESHEETS) if not (folder / name).is_file()]
    return f"no Peppol BIS 3 rules: {where} lacks {', '.join(absent)}" if absent else ""


@dataclass(frozen=True)
class Failure:
    """One `svrl:failed-assert`: the rule's id (`BR-CO-15`), its flag, where, and its text."""

    rule: str
    flag: str
    location: str
    text: str

    def __str__(self) -> str:
        return f"[{self.flag}] {self.rule} at {self.location}: {self.text}"


@dataclass
class Report:
    """What the checks found in one document. Valid when there are no schema errors and no fatals."""

    schema_errors: list[str] = field(default_factory=list)
    fatal: list[Failure] = field(default_factory=list)
    warnings: list[Failure] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        return not self.schema_errors and not self.fatal

    @property
    def fatal_rules(self) -> set[str]:
        return {failure.rule for failure in self.fatal}

    def __str__(self) -> str:
        lines = [f"schema: {error}" for error in self.schema_errors]
        lines += [str(failure) for failure in self.fatal + self.warnings]
        return "\n".join(lines) or "valid, no warnings"


class PeppolValidator:
    """The UBL schemas and both rule sets, compiled once. Not thread-safe (one Saxon processor)."""

    def __init__(self, folder: Path) -> None:
        if reason := missing_rules(folder):
            raise FileNotFoundError(reason)
        self.folder = folder
        self._schemas = {root: etree.XMLSchema(etree.parse(str(folder / path))) for root, path in SCHEMAS.items()}
        self._saxon = PySaxonProcessor(license=False)
        compiler = self._saxon.new_xslt30_processor()
        self._rules: list[PyXsltExecutable] = [
            compiler.compile_stylesheet(stylesheet_file=str(folder / name)) for name in STYLESHEETS
        ]

    @classmethod
    @cache
    def load(cls, folder: Path | None = None) -> PeppolValidator:
        """The validator for `folder` (default `rules_folder()`), built on first use only."""
        return cls(folder or rules_folder())

    def check(self, xml: bytes) -> Report:
        """Every finding for `xml`: schema errors first; the rules run only on a schema-valid
        document (they assume its structure)."""
        report = Report()
        try:
            tree = etree.fromstring(xml)
        except etree.XMLSyntaxError as error:
            report.schema_errors.append(f"not well-formed: {error}")
            return report
        root = etree.QName(tree)
        schema = next(
            (s for name, s in self._schemas.items() if root.text == f"{{{UBL_NAMESPACE.format(name)}}}{name}"), None
        )
        if schema is None:
            report.schema_errors.append(f"root element {root.text} is neither a UBL 2.1 Invoice nor a CreditNote")
            return report
        if not schema.validate(tree):
            report.schema_errors += [f"line {e.line}: {e.message}" for e in schema.error_log]
            return report
        node = self._saxon.parse_xml(xml_text=xml.decode("utf-8"))
        for rules in self._rules:
            svrl = etree.fromstring(rules.transform_to_string(xdm_node=node).encode("utf-8"))
            for failed in svrl.iterfind("svrl:failed-assert", SVRL):
                failure = Failure(
                    rule=failed.get("id", "?"),
                    flag=failed.get("flag", "fatal"),
                    location=failed.get("location", ""),
                    text=" ".join(failed.findtext("svrl:text", "", SVRL).split()),
                )
                (report.warnings if failure.flag == "warning" else report.fatal).append(failure)
        return report

    def assert_valid(self, xml: bytes, name: str = "document") -> Report:
        """Fails the test unless `xml` passes; the message lists every error and warning."""
        report = self.check(xml)
        assert report.valid, f"{name} is not valid Peppol BIS 3:\n{report}"
        return report


@pytest.fixture(scope="session")
def peppol() -> PeppolValidator:
    """The session's validator. Skips (or, on CI, fails) when the rules are missing, also where
    `tests/invoicing/conftest.py` did not skip the test first (a conftest elsewhere that imports
    this fixture)."""
    if reason := missing_rules():
        if ON_CI:
            pytest.fail(f"{reason}; CI must not skip the Peppol validation", pytrace=False)
        pytest.skip(reason)
    return PeppolValidator.load()
