"""Importing into the registry: matched by identifier, so a second import changes nothing; each
row on its own, so a bad row leaves the good ones as they are."""

from funding.organisations.importing import parse_csv
from funding.organisations.service import OrganisationService
from funding.organisations.tables import Organisation

CBS = "Code;Naam;Inwoners\nGM0363;Amsterdam;931298\nGM0344;Utrecht;374238\n"
AMSTERDAM_KVK = "34366966"


async def load(text: str):
    return await OrganisationService().import_rows(parse_csv(text))


async def test_a_cbs_list_adds_public_gemeenten(database):
    report = await load(CBS)
    assert report.summary() == "2 added, 0 updated, 0 unchanged, 0 rejected" and report.ok
    rows = await Organisation.select().order_by(Organisation.id)
    assert [(r["kind"], r["name"], r["cbs_code"], r["population"], r["is_public"]) for r in rows] == [
        ("gemeente", "Amsterdam", "GM0363", 931_298, True),
        ("gemeente", "Utrecht", "GM0344", 374_238, True),
    ]


async def test_importing_the_same_file_twice_changes_nothing_the_second_time(database):
    await load(CBS)
    before = await Organisation.select().order_by(Organisation.id)
    report = await load(CBS)
    assert report.summary() == "0 added, 0 updated, 2 unchanged, 0 rejected"
    assert await Organisation.select().order_by(Organisation.id) == before


async def test_an_update_changes_only_the_organisation_and_columns_that_changed(database):
    await load(
        "kind,name,cbs_code,postcode,city,billing_email\n"
        "gemeente,Gemeente Amsterdam,GM0363,1011 PN,Amsterdam,facturen@amsterdam.nl\n"
        "gemeente,Gemeente Utrecht,GM0344,3521 AZ,Utrecht,facturen@utrecht.nl\n"
    )
    utrecht_before = await OrganisationService().find(cbs_code="GM0344")
    report = await load("Gemeentecode;Gemeentenaam;Bevolking\nGM0363;Gemeente Amsterdam;931298\n")
    assert [(o.status, o.changed) for o in report.outcomes] == [("updated", ("population",))]
    amsterdam = await OrganisationService().find(cbs_code="GM0363")
    assert (amsterdam["population"], amsterdam["postcode"], amsterdam["billing_email"]) == (
        931_298,
        "1011 PN",
        "facturen@amsterdam.nl",
    ), "the CBS list sets the population and leaves the billing details alone"
    assert await OrganisationService().find(cbs_code="GM0344") == utrecht_before


async def test_a_bad_row_among_good_ones_is_rejected_alone(database):
    report = await load("Code;Naam;Inwoners\nGM0363;Amsterdam;931298\nGM0344;Utrecht;veel\nGM0599;Rotterdam;670610\n")
    assert report.summary() == "2 added, 0 updated, 0 unchanged, 1 rejected"
    assert [str(o) for o in report.rejected] == ['line 3: population "veel" is not a number']
    assert {r["cbs_code"] for r in await Organisation.select(Organisation.cbs_code)} == {"GM0363", "GM0599"}


async def test_a_duplicate_identifier_in_one_file_adds_the_first_row_only(database):
    report = await load("Code;Naam\nGM0363;Amsterdam\nGM0363;Amsterdam (tweede keer)\n")
    assert [(o.line, o.status) for o in report.outcomes] == [(2, "added"), (3, "rejected")]
    assert [r["name"] for r in await Organisation.select(Organisation.name)] == ["Amsterdam"]


async def test_a_row_whose_identifiers_name_two_organisations_is_rejected(database):
    await load(f"kind,name,cbs_code,kvk\ngemeente,Amsterdam,GM0363,\ncompany,Voorbeeld BV,,{AMSTERDAM_KVK}\n")
    report = await load(f"kind,name,cbs_code,kvk\ngemeente,Amsterdam,GM0363,{AMSTERDAM_KVK}\n")
    (rejected,) = report.rejected
    assert rejected.reason == (
        "its identifiers belong to different organisations: cbs_code GM0363 is organisation #1 (Amsterdam), "
        f"kvk {AMSTERDAM_KVK} is organisation #2 (Voorbeeld BV)"
    )
    assert (await OrganisationService().find(cbs_code="GM0363"))["kvk"] is None


async def test_a_later_identifier_joins_the_organisation_an_earlier_one_found(database):
    await load("Code;Naam\nGM0363;Amsterdam\n")
    report = await load(f"kind,name,cbs_code,kvk\ngemeente,Amsterdam,GM0363,{AMSTERDAM_KVK}\n")
    assert [(o.status, o.changed) for o in report.outcomes] == [("updated", ("kvk",))]
    assert (await OrganisationService().find(kvk=AMSTERDAM_KVK))["cbs_code"] == "GM0363"


async def test_individuals_are_anonymous_and_organisations_public_unless_the_file_says_otherwise(database):
    await load(
        "kind,name,kvk,public\n"
        "individual,Jan Jansen,12345678,\n"
        "individual,Els de Vries,23456789,ja\n"
        "company,Voorbeeld BV,34366966,\n"
        "company,Stille BV,45678901,nee\n"
    )
    rows = await Organisation.select(Organisation.name, Organisation.is_public).order_by(Organisation.id)
    assert [(r["name"], r["is_public"]) for r in rows] == [
        ("Jan Jansen", False),
        ("Els de Vries", True),
        ("Voorbeeld BV", True),
        ("Stille BV", False),
    ]


async def test_progress_is_reported_once_per_row(database):
    steps: list[int] = []
    await OrganisationService().import_rows(parse_csv(CBS + "GM12;Nergens;1\n"), progress=steps.append)
    assert steps == [1, 1, 1]
