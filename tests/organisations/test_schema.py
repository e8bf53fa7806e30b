"""The registry's table says its rules on both backends: identifiers unique where present, a row
never filled in with a default it did not choose."""

import pytest

from funding.organisations.tables import Organisation


def organisation(**values) -> Organisation:
    return Organisation(**{"kind": "company", "name": "Voorbeeld BV", "is_public": True, **values})


async def test_identifiers_are_unique_where_present_and_may_be_absent_many_times(database):
    await Organisation.insert(organisation(kvk="34366966"), organisation(kvk="12345678"))
    with pytest.raises(Exception, match=r"(?i)unique"):
        await Organisation.insert(organisation(kvk="34366966"))
    assert await Organisation.count().where(Organisation.cbs_code.is_null()) == 2


async def test_kind_name_and_publicness_are_required(database):
    for missing in ("kind", "name", "is_public"):
        columns = ", ".join(column for column in ("kind", "name", "is_public") if column != missing)
        values = {"kind": "'company'", "name": "'Voorbeeld BV'", "is_public": "true"}
        row = ", ".join(value for column, value in values.items() if column != missing)
        with pytest.raises(Exception, match=r"(?i)not null|null value"):
            await Organisation.raw(f"INSERT INTO organisation ({columns}) VALUES ({row})")
