"""Reading organisation CSV files: both layouts, separators, a byte order mark, and each rule a
bad row can break (pure: no database)."""

import pytest

from funding.organisations.importing import ParsedRow, RowError, decode, parse_csv
from funding.organisations.tables import OrganisationKind

AMSTERDAM_KVK = "34366966"
AMSTERDAM_OIN = "00000001002564440000"
OWN_HEADER = "kind,name,cbs_code,oin,kvk,population,address,postcode,city,billing_email,vat_number,public"


def only(text: str) -> ParsedRow | RowError:
    (result,) = parse_csv(text)
    return result


def own(row: str, header: str = OWN_HEADER) -> ParsedRow | RowError:
    return only(f"{header}\n{row}\n")


def test_a_cbs_list_with_semicolons_and_a_byte_order_mark():
    text = decode(
        "Gemeentecode;Gemeentenaam;Inwoners\r\nGM0363;Amsterdam;931298\r\nGM0344;Utrecht;374238\r\n".encode("utf-8-sig")
    )
    assert parse_csv(text) == [
        ParsedRow(line=2, kind=OrganisationKind.gemeente, name="Amsterdam", cbs_code="GM0363", population=931_298),
        ParsedRow(line=3, kind=OrganisationKind.gemeente, name="Utrecht", cbs_code="GM0344", population=374_238),
    ]


def test_a_cbs_list_with_commas_english_names_and_codes_without_gm():
    rows = parse_csv("code,name,population\n363,Amsterdam,931.298\n0344,Utrecht,374 238\n")
    assert [(row.cbs_code, row.population) for row in rows if isinstance(row, ParsedRow)] == [
        ("GM0363", 931_298),
        ("GM0344", 374_238),
    ]


def test_a_cbs_list_keeps_its_other_columns_out_and_may_lack_the_population():
    text = "GemeentecodeGM;Gemeentenaam;Provinciecode;Provincienaam\nGM0363;Amsterdam;27;Noord-Holland\n"
    assert only(text) == ParsedRow(line=2, kind=OrganisationKind.gemeente, name="Amsterdam", cbs_code="GM0363")


def test_the_own_layout_with_every_column():
    row = own(
        f'gemeente,Gemeente Amsterdam,GM0363,{AMSTERDAM_OIN},{AMSTERDAM_KVK},931298,"Amstel 1",1011pn,Amsterdam,'
        "facturen@amsterdam.nl,NL002564440B01,yes"
    )
    assert row == ParsedRow(
        line=2,
        kind=OrganisationKind.gemeente,
        name="Gemeente Amsterdam",
        cbs_code="GM0363",
        oin=AMSTERDAM_OIN,
        kvk=AMSTERDAM_KVK,
        population=931_298,
        address="Amstel 1",
        postcode="1011 PN",
        city="Amsterdam",
        billing_email="facturen@amsterdam.nl",
        vat_number="NL002564440B01",
        is_public=True,
    )


def test_empty_cells_and_missing_columns_are_not_given():
    row = own(f"company,Voorbeeld BV,{AMSTERDAM_KVK}", header="kind,name,kvk")
    assert isinstance(row, ParsedRow)
    assert row.given() == {"kind": OrganisationKind.company, "name": "Voorbeeld BV", "kvk": AMSTERDAM_KVK}


def test_an_address_may_span_lines_and_the_next_row_keeps_its_line_number():
    rows = parse_csv(f'kind,name,kvk,address\ncompany,A,{AMSTERDAM_KVK},"Straat 1\nPostbus 2"\ncompany,B,12345678,\n')
    assert [(row.line, row.address) for row in rows if isinstance(row, ParsedRow)] == [
        (2, "Straat 1\nPostbus 2"),
        (4, None),
    ]


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        (
            "gemeente,Amsterdam,GM363,,,,,,,,,",
            'cbs_code "GM363" is not a CBS municipality code (GM and 4 digits, like GM0363)',
        ),
        ("gemeente,Amsterdam,GM03633,,,,,,,,,", 'cbs_code "GM03633" is not a CBS municipality code'),
        ("gemeente,Utrecht,PV26,,,,,,,,,", 'cbs_code "PV26" is a CBS region code, not a municipality\'s'),
        ("company,Voorbeeld BV,,,3436696X,,,,,,,", 'kvk "3436696X" is not a KvK number (8 digits)'),
        ("company,Voorbeeld BV,,,4366966,,,,,,,", "a spreadsheet may have dropped a leading zero"),
        ("ministerie,BZK,,0000000100,,,,,,,,", 'oin "0000000100" is not an OIN (20 digits)'),
        (f"company,Voorbeeld BV,,,{AMSTERDAM_KVK},,,1011 SA,,,,", 'postcode "1011 SA" is not a Dutch postcode'),
        (f"company,Voorbeeld BV,,,{AMSTERDAM_KVK},,,0123 AB,,,,", 'postcode "0123 AB" is not a Dutch postcode'),
        ("gemeente,Amsterdam,GM0363,,,-5,,,,,,", 'population "-5" is negative'),
        ("gemeente,Amsterdam,GM0363,,,abc,,,,,,", 'population "abc" is not a number'),
        ("gemeente,Amsterdam,GM0363,,,1.5,,,,,,", 'population "1.5" is not a number'),
        (f"stichting,Voorbeeld,,,{AMSTERDAM_KVK},,,,,,,", 'kind "stichting" is not one of gemeente, provincie'),
        (f",Voorbeeld,,,{AMSTERDAM_KVK},,,,,,,", "kind is empty"),
        ("gemeente,  ,GM0363,,,,,,,,,", "name is empty"),
        (f"company,Voorbeeld BV,,,{AMSTERDAM_KVK},,,,,facturen-at-example.nl,,", "is not an e-mail address"),
        (f"company,Voorbeeld BV,,,{AMSTERDAM_KVK},,,,,,NL002564441B01,", "is not a valid EU VAT number"),
        (f"company,Voorbeeld BV,,,{AMSTERDAM_KVK},,,,,,,perhaps", 'public "perhaps" is neither yes nor no'),
        (
            "provincie,Provincie Utrecht,GM0344,,,,,,,,,",
            "cbs_code GM0344 is a municipality's code, but kind is provincie",
        ),
        ("individual,Jan Jansen,,,,,,,,,,", "no identifier: give a cbs_code, oin or kvk"),
        ("gemeente,Amsterdam,GM0363,,,,,,,,,nee", "a gemeente is a public body the rounds ask: it is always named"),
        ("gemeente,Amsterdam,GM0363,,,,,,,,,,surplus", "13 cells, but the header has 12"),
    ],
)
def test_a_bad_row_is_an_error_with_its_line_and_reason(row, reason):
    result = own(row)
    assert isinstance(result, RowError)
    assert result.line == 2
    assert reason in result.reason


def test_a_row_with_several_problems_names_them_all():
    result = own("gemeente,Amsterdam,GM36,,,abc,,,,,,")
    assert str(result) == (
        'line 2: cbs_code "GM36" is not a CBS municipality code (GM and 4 digits, like GM0363); '
        'population "abc" is not a number'
    )


def test_bad_rows_leave_the_good_ones_around_them():
    rows = parse_csv("Code;Naam;Inwoners\nGM0363;Amsterdam;931298\nGM0344;Utrecht;veel\n\nGM0599;Rotterdam;670610\n")
    assert [type(row).__name__ for row in rows] == ["ParsedRow", "RowError", "ParsedRow"]
    assert [row.line for row in rows] == [2, 3, 5]


def test_an_identifier_twice_in_one_file_rejects_the_later_row():
    rows = parse_csv(
        f"kind,name,cbs_code,kvk\ngemeente,Amsterdam,GM0363,\ngemeente,Amsterdam (again),GM0363,\n"
        f"company,A,,{AMSTERDAM_KVK}\ncompany,B,,{AMSTERDAM_KVK}\n"
    )
    assert [str(row) for row in rows if isinstance(row, RowError)] == [
        "line 3: cbs_code GM0363 is on line 2 already",
        f"line 5: kvk {AMSTERDAM_KVK} is on line 4 already",
    ]


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "the file is empty"),
        ("kind,naam\n", "unknown column 'naam'"),
        ("kind,cbs_code\n", "no name column"),
        ("foo;bar\n1;2\n", "neither layout"),
    ],
)
def test_a_header_that_fits_no_layout_rejects_the_file_at_line_1(text, reason):
    (result,) = parse_csv(text)
    assert isinstance(result, RowError) and result.line == 1 and reason in result.reason


def test_windows_1252_files_are_read_too():
    assert decode("Gemeentecode;Gemeentenaam\nGM1731;Súdwest-Fryslân\n".encode("cp1252")).endswith("Súdwest-Fryslân\n")


def test_the_readme_examples_parse_without_errors():
    from funding.settings import ROOT

    section = (ROOT / "README.md").read_text().split("## Organisations", 1)[1].split("\n## ", 1)[0]
    examples = [block.split("\n", 1)[1] for block in section.split("```")[1::2] if not block.startswith("sh")]
    examples = ["\n".join(line.strip() for line in example.splitlines()) for example in examples]
    assert len(examples) == 2
    for example in examples:
        rows = parse_csv(example)
        assert rows and all(isinstance(row, ParsedRow) for row in rows), rows


def test_a_missing_closing_quote_is_reported_where_it_opens():
    rows = parse_csv('Code;Naam\nGM0363;"Amsterdam\nGM0344;Utrecht\n')
    assert [str(row) for row in rows] == ["line 2: a quoted cell runs over lines 2–3: is a closing quote missing?"]


def test_an_unreadable_row_leaves_the_next_ones():
    rows = parse_csv("Code;Naam\nGM0363;" + "x" * 200_000 + "\nGM0344;Utrecht\n")
    assert [type(row).__name__ for row in rows] == ["RowError", "ParsedRow"]
    assert rows[0] == RowError(2, "not readable as CSV: field larger than field limit (131072)")


def test_a_column_named_twice_rejects_the_file():
    assert parse_csv("kind,name,name\n") == [RowError(1, "a column is named twice")]


def test_long_cells_are_cut_short_in_reasons():
    (row,) = parse_csv("Code;Naam\n" + "G" * 100 + ";Amsterdam\n")
    assert isinstance(row, RowError) and len(row.reason) < 120
