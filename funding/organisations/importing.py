"""Reading organisation CSV files: pure functions, no database, so every rule has a fast test.

Two layouts, told apart by the header (README "Organisations"):

- the registry's own: a `kind` column and any of `FIELDS`; a column left out, or a cell left
  empty, leaves what the registry holds as it is (a new organisation gets the default);
- a CBS municipality list: a code column (`Code`, `Gemeentecode`, `GemeentecodeGM`, `RegioS` …),
  a name column (`Naam`, `Gemeentenaam` …) and optionally the population (`Inwoners`,
  `Bevolking` …); every row is a gemeente, other columns are ignored. Codes may come as `GM0363`,
  `0363` or `363` (a spreadsheet drops leading zeros).

Files may be `;`-, `,`- or tab-separated (the header's most frequent one is taken), with or
without a UTF-8 byte order mark. A row that breaks a rule becomes a `RowError` naming its line
and every reason; the other rows are unaffected.

Validation uses python-stdnum where it has a module: postcodes (`stdnum.nl.postcode`) and VAT
numbers (`stdnum.eu.vat`). It has none for CBS codes, OINs or KvK numbers, which are checked
for their form: `GM` and 4 digits, 20 digits, 8 digits (KvK numbers carry no check digit).
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, fields
from typing import Any

from stdnum.eu import vat
from stdnum.exceptions import ValidationError
from stdnum.nl import postcode as nl_postcode

from funding.organisations.tables import ALWAYS_PUBLIC, OrganisationKind

FIELDS = (
    "kind",
    "name",
    "cbs_code",
    "oin",
    "kvk",
    "population",
    "address",
    "postcode",
    "city",
    "billing_email",
    "vat_number",
    "public",
)
"""The registry's own layout, in this order when written; only `kind` and `name` are required."""

IDENTIFIERS = ("cbs_code", "oin", "kvk")
"""How a row finds its organisation again, in this order of preference."""

CBS_CODE_COLUMNS = ("gemeentecodegm", "gemeentecode", "code", "cbscode", "regios", "regiocode")
CBS_NAME_COLUMNS = ("gemeentenaam", "naam", "name", "gemeente", "regionaam", "regio")
CBS_POPULATION_PREFIXES = ("inwoners", "aantalinwoners", "inwonertal", "bevolking", "population")

LIMITS = {"name": 200, "city": 100, "billing_email": 254}
TRUE = frozenset({"yes", "ja", "true", "1", "public", "publiek", "y", "j"})
FALSE = frozenset({"no", "nee", "false", "0", "anonymous", "anoniem", "n"})
EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
NUMBER = re.compile(r"-?(\d{1,3}([. \u00a0]\d{3})+|\d+)")
"""Whole numbers, with Dutch or English thousands grouping (`931.298`, `931 298`)."""


@dataclass(frozen=True)
class RowError:
    line: int
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}"


@dataclass(frozen=True)
class ParsedRow:
    """A valid row. `None` means "not given": the registry keeps what it has."""

    line: int
    kind: OrganisationKind
    name: str
    cbs_code: str | None = None
    oin: str | None = None
    kvk: str | None = None
    population: int | None = None
    address: str | None = None
    postcode: str | None = None
    city: str | None = None
    billing_email: str | None = None
    vat_number: str | None = None
    is_public: bool | None = None

    @property
    def identifiers(self) -> dict[str, str]:
        return {name: value for name in IDENTIFIERS if (value := getattr(self, name)) is not None}

    def given(self) -> dict[str, Any]:
        """The registry's columns this row sets, with their values."""
        values = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "line"}
        return {name: value for name, value in values.items() if value is not None}


def decode(data: bytes) -> str:
    """UTF-8 (with or without a byte order mark), else Windows-1252 as older Excel saves CSV."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def parse_csv(text: str) -> list[ParsedRow | RowError]:
    """Every data row of `text` as a `ParsedRow` or a `RowError`, in file order.

    A header that fits neither layout gives one `RowError` for line 1 and no rows. A row whose
    identifier an earlier row of the file has already is an error: which one is meant is unclear."""
    text = text.removeprefix("\ufeff")
    first_line = next((line for line in text.splitlines() if line.strip()), "")
    delimiter = max((";", ",", "\t"), key=first_line.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header: list[str] | None = None
    results: list[ParsedRow | RowError] = []
    read_until = 0
    layout: _Layout | None = None
    while True:
        line = read_until + 1
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as error:  # the reader goes on with the next line
            read_until = reader.line_num
            results.append(RowError(line, f"not readable as CSV: {error}"))
            continue
        read_until = reader.line_num
        if not any(cell.strip() for cell in cells):
            continue
        if header is None:
            header = [cell.strip() for cell in cells]
            found = _layout(header)
            if isinstance(found, RowError):
                return [RowError(line, found.reason)]
            layout = found
            continue
        assert layout is not None
        if read_until > line and any("\n" in cell for index, cell in enumerate(cells) if index != layout.address):
            reason = f"a quoted cell runs over lines {line}–{read_until}: is a closing quote missing?"
            results.append(RowError(line, reason))
            continue
        results.append(layout.parse(line, cells))
    if header is None:
        return [RowError(1, "the file is empty: no header")]
    return _without_duplicates(results)


def _normal(column: str) -> str:
    return re.sub(r"[^a-z0-9]", "", column.lower())


@dataclass(frozen=True)
class _Layout:
    columns: dict[str, int]
    """Our field name → the column it is read from."""
    width: int
    cbs: bool

    @property
    def address(self) -> int | None:
        """The one column whose cells may run over several lines."""
        return self.columns.get("address")

    def parse(self, line: int, cells: list[str]) -> ParsedRow | RowError:
        extra = [cell for cell in cells[self.width :] if cell.strip()]
        if extra:
            return RowError(line, f"{len(cells)} cells, but the header has {self.width}")
        raw = {name: (cells[index].strip() if index < len(cells) else "") for name, index in self.columns.items()}
        if self.cbs:
            raw["kind"] = OrganisationKind.gemeente.value
        return _row(line, raw)


def _layout(header: list[str]) -> _Layout | RowError:
    normal = [_normal(column) for column in header]
    if "kind" in normal:
        unknown = [column for column in header if column.lower() not in FIELDS]
        if unknown:
            known = ", ".join(FIELDS)
            return RowError(1, f"unknown column {unknown[0]!r} (the registry's layout has {known})")
        columns = {column.lower(): index for index, column in enumerate(header)}
        if len(columns) < len(header):
            return RowError(1, "a column is named twice")
        if "name" not in columns:
            return RowError(1, "no name column")
        return _Layout(columns=columns, width=len(header), cbs=False)

    def find(names: tuple[str, ...], prefix: bool = False) -> int | None:
        for name in names:
            for index, column in enumerate(normal):
                if column == name or (prefix and column.startswith(name)):
                    return index
        return None

    code, name, population = find(CBS_CODE_COLUMNS), find(CBS_NAME_COLUMNS), find(CBS_POPULATION_PREFIXES, True)
    if code is None or name is None:
        return RowError(
            1,
            "neither layout: the registry's has a kind column, a CBS municipality list a code "
            "and a name column (e.g. Code;Naam;Inwoners)",
        )
    columns = {"cbs_code": code, "name": name}
    if population is not None:
        columns["population"] = population
    return _Layout(columns=columns, width=len(header), cbs=True)


def _row(line: int, raw: dict[str, str]) -> ParsedRow | RowError:
    problems: list[str] = []
    values: dict[str, Any] = {}

    def check(field: str, parse) -> None:
        text = raw.get(field, "")
        if not text:
            return
        try:
            values[field] = parse(text)
        except ValueError as problem:
            shown = text if len(text) <= 40 else text[:40] + "…"
            problems.append(f'{field} "{shown}" {problem}')

    kind_text = raw.get("kind", "").lower()
    kind = next((k for k in OrganisationKind if k.value == kind_text), None)
    if kind is None:
        choices = ", ".join(k.value for k in OrganisationKind)
        problems.append(f'kind "{raw.get("kind", "")}" is not one of {choices}' if kind_text else "kind is empty")
    name = " ".join(raw.get("name", "").split())
    if not name:
        problems.append("name is empty")
    check("cbs_code", _cbs_code)
    check("oin", _oin)
    check("kvk", _kvk)
    check("population", _population)
    check("postcode", _postcode)
    check("billing_email", _email)
    check("vat_number", _vat_number)
    check("public", _public)
    for field in ("address", "city"):
        if raw.get(field):
            values[field] = raw[field]
    for field, limit in LIMITS.items():
        text = name if field == "name" else raw.get(field, "")
        if len(text) > limit:
            problems.append(f"{field} is longer than {limit} characters")
    if values.get("cbs_code") and kind is not None and kind is not OrganisationKind.gemeente:
        problems.append(f"cbs_code {values['cbs_code']} is a municipality's code, but kind is {kind.value}")
    if values.get("public") is False and kind in ALWAYS_PUBLIC:
        problems.append(f"public is no, but a {kind.value} is a public body the rounds ask: it is always named (Woo)")
    if not problems and not any(values.get(identifier) for identifier in IDENTIFIERS):
        problems.append("no identifier: give a cbs_code, oin or kvk, so a later import finds the organisation again")
    if problems:
        return RowError(line, "; ".join(problems))
    assert kind is not None
    values["is_public"] = values.pop("public", None)
    return ParsedRow(line=line, kind=kind, name=name, **values)


def _cbs_code(text: str) -> str:
    code = text.replace(" ", "").upper()
    if code.isdigit() and len(code) <= 4:
        code = "GM" + code.zfill(4)
    if re.fullmatch(r"(NL|LD|PV|CR|COROP|WK|BU)\d+", code):
        raise ValueError("is a CBS region code, not a municipality's (GM and 4 digits)")
    if not re.fullmatch(r"GM\d{4}", code):
        raise ValueError("is not a CBS municipality code (GM and 4 digits, like GM0363)")
    return code


def _oin(text: str) -> str:
    oin = text.replace(" ", "")
    if not re.fullmatch(r"\d{20}", oin):
        raise ValueError("is not an OIN (20 digits)")
    return oin


def _kvk(text: str) -> str:
    kvk = re.sub(r"[ .]", "", text)
    if not re.fullmatch(r"\d{8}", kvk):
        hint = " (a spreadsheet may have dropped a leading zero)" if re.fullmatch(r"\d{1,7}", kvk) else ""
        raise ValueError(f"is not a KvK number (8 digits){hint}")
    return kvk


def _population(text: str) -> int:
    if not NUMBER.fullmatch(text):
        raise ValueError("is not a number")
    number = int(re.sub(r"[. \u00a0]", "", text))
    if number < 0:
        raise ValueError("is negative")
    if number > 2**31 - 1:
        raise ValueError("is too large")
    return number


def _postcode(text: str) -> str:
    try:
        return nl_postcode.validate(text)
    except ValidationError:
        raise ValueError("is not a Dutch postcode (like 1011 PN)") from None


def _email(text: str) -> str:
    if not EMAIL.fullmatch(text):
        raise ValueError("is not an e-mail address")
    return text


def _vat_number(text: str) -> str:
    try:
        return vat.validate(text)
    except ValidationError as error:
        raise ValueError(f"is not a valid EU VAT number: {error}") from None


def _public(text: str) -> bool:
    if text.lower() in TRUE:
        return True
    if text.lower() in FALSE:
        return False
    raise ValueError("is neither yes nor no")


def _without_duplicates(results: list[ParsedRow | RowError]) -> list[ParsedRow | RowError]:
    seen: dict[tuple[str, str], int] = {}
    kept: list[ParsedRow | RowError] = []
    for result in results:
        if isinstance(result, ParsedRow):
            earlier = [(key, seen[key]) for key in result.identifiers.items() if key in seen]
            if earlier:
                (field, value), first = earlier[0]
                kept.append(RowError(result.line, f"{field} {value} is on line {first} already"))
                continue
            seen.update(dict.fromkeys(result.identifiers.items(), result.line))
        kept.append(result)
    return kept
