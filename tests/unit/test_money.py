from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from funding.money import Money, MoneyError, total


def test_parse_reads_dutch_and_english_notation():
    assert Money.parse("1.000,50") == Money(100050)
    assert Money.parse("€ 1.000,50") == Money(100050)
    assert Money.parse("1,000.50", locale="en") == Money(100050)
    assert Money.parse("25") == Money(2500)


@pytest.mark.parametrize("text", ["", "abc", "1,005", "12.345,678", "1e3", "NaN"])
def test_parse_refuses_what_is_not_an_amount_in_cents(text):
    with pytest.raises(MoneyError):
        Money.parse(text)


def test_fractional_cents_and_floats_are_refused():
    with pytest.raises(MoneyError):
        Money.euros("0.001")
    with pytest.raises(MoneyError):
        Money.euros(0.1)  # type: ignore[arg-type]
    with pytest.raises(MoneyError):
        Money(1.5)  # type: ignore[arg-type]
    with pytest.raises(MoneyError):
        Money(True)  # type: ignore[arg-type]


def test_formatting_follows_the_locale():
    assert Money(100000).format("nl") == "€\xa01.000,00"
    assert Money(100000).format("en") == "€1,000.00"
    assert Money(-1250).format("nl") == "€\xa0-12,50"


def test_format_number_is_what_a_person_types_and_parses_back():
    assert Money(100000).format_number("nl") == "1.000,00"
    assert Money(100050).format_number("en") == "1,000.50"
    assert Money(5).format_number("nl") == "0,05"


@given(st.integers(min_value=0, max_value=10**15), st.sampled_from(["nl", "en"]))
def test_format_number_round_trips_through_parse(cents, locale):
    assert Money.parse(Money(cents).format_number(locale), locale) == Money(cents)


def test_mollie_amounts_round_trip_as_strings():
    assert Money(2500).to_mollie() == {"currency": "EUR", "value": "25.00"}
    assert Money.from_mollie({"currency": "EUR", "value": "12.50"}) == Money(1250)
    with pytest.raises(MoneyError):
        Money.from_mollie({"currency": "USD", "value": "12.50"})


def test_arithmetic_stays_in_money():
    assert Money(150) + Money(50) == Money(200)
    assert Money(150) - Money(200) == Money(-50)
    assert -Money(5) == Money(-5)
    assert Money(5) * 3 == Money(15)
    assert total([Money(1), Money(2)]) == Money(3)
    assert Money(1).to_decimal() == Decimal("0.01")


@given(
    cents=st.integers(min_value=-(10**12), max_value=10**12),
    weights=st.lists(st.integers(min_value=0, max_value=10**6), min_size=1, max_size=50).filter(any),
)
def test_split_parts_always_sum_to_the_whole(cents, weights):
    parts = Money(cents).split(weights)
    assert total(parts) == Money(cents)
    whole = sum(weights)
    for part, weight in zip(parts, weights, strict=True):
        assert abs(part.cents * whole - cents * weight) < whole  # within a cent of the exact share
