"""Cost-sharing keys, told as worked examples, with properties for the splitting and storage."""

import re
from decimal import ROUND_HALF_UP, Decimal, localcontext

import pytest
from hypothesis import given
from hypothesis import strategies as st

from funding.money import Money
from funding.organisations.tables import OrganisationKind
from funding.pledges.keys import (
    CostSharingKey,
    CostSharingKeyError,
    KeyKind,
    Member,
    Tier,
    equal_shares,
    equal_split_reached,
    share_history,
    suggested_share,
)

AMSTERDAM = Member(organisation_id=1, kind="gemeente", population=872_757)
SCHIERMONNIKOOG = Member(organisation_id=2, kind="gemeente", population=947)
WATERSCHAP = Member(organisation_id=3, kind="waterschap", population=200_000)
COMPANY = Member(organisation_id=4, kind="company")
TARGET = Money.euros(200_000)


def share(key: CostSharingKey, member: Member, joined: int = 0, target: Money = TARGET) -> Money:
    return suggested_share(key, member, target=target, joined=joined)


def per_capita(rate: str = "0.05", floor: int | None = 50_000, cap: int | None = 2_500_000) -> CostSharingKey:
    return CostSharingKey(kind=KeyKind.per_capita, rate=rate, floor_cents=floor, cap_cents=cap)


# -- flat -------------------------------------------------------------------------------------------


def test_a_flat_key_asks_every_organisation_the_same_amount():
    key = CostSharingKey(kind=KeyKind.flat, amount_cents=100_000)
    assert {share(key, m, joined=5) for m in (AMSTERDAM, SCHIERMONNIKOOG, COMPANY)} == {Money.euros(1000)}
    assert key.describe() == "€\xa01.000,00 per organisatie"
    assert key.describe("en") == "€1,000.00 per organisation"


# -- per capita -------------------------------------------------------------------------------------


def test_a_large_municipality_is_capped():
    assert share(per_capita(cap=None), AMSTERDAM) == Money.euros("43637.85")  # 0.05 × 872,757
    assert share(per_capita(), AMSTERDAM) == Money.euros(25_000)


def test_a_small_municipality_is_floored():
    assert share(per_capita(), SCHIERMONNIKOOG) == Money.euros(500)  # 0.05 × 947 = 47.35
    assert share(per_capita(floor=None), SCHIERMONNIKOOG) == Money.euros("47.35")


def test_without_a_population_the_floor_is_asked_or_nothing():
    assert share(per_capita(), COMPANY) == Money.euros(500)
    assert share(per_capita(floor=None), COMPANY) == Money.zero()


def test_exactly_half_a_cent_rounds_up():
    key = per_capita(rate="0.025", floor=None, cap=None)
    assert share(key, Member(1, "gemeente", population=1)) == Money(3)  # 2.5 cents; banker's rounding gives 2
    assert share(key, Member(1, "gemeente", population=3)) == Money(8)  # 7.5 cents
    tiny = per_capita(rate="0.000049", floor=None, cap=None)
    assert share(tiny, Member(1, "gemeente", population=100)) == Money(0)  # 0.49 cents
    assert share(tiny, Member(1, "gemeente", population=103)) == Money(1)  # 0.5047 cents


def test_a_per_capita_key_reads_as_a_rate_with_its_limits():
    assert per_capita().describe() == "€\xa00,05 per inwoner, minimaal €\xa0500,00, maximaal €\xa025.000,00"
    assert per_capita().describe("en") == "€0.05 per inhabitant, at least €500.00, at most €25,000.00"
    assert per_capita(rate="0.0125", floor=None, cap=None).describe() == "€\xa00,0125 per inwoner"


# -- tiered -----------------------------------------------------------------------------------------

TIERED = CostSharingKey(
    kind=KeyKind.tiered,
    amount_cents=25_000,
    tiers=(
        Tier(amount_cents=100_000),
        Tier(amount_cents=500_000, min_population=100_000),
        Tier(amount_cents=50_000, kind="gemeente"),
        Tier(amount_cents=250_000, kind="gemeente", min_population=100_000),
        Tier(amount_cents=1_000_000, kind="provincie"),
    ),
)


def test_a_tiered_key_asks_by_kind_and_size_class():
    assert share(TIERED, SCHIERMONNIKOOG) == Money.euros(500)  # the gemeente tier beats any kind's at 0
    assert share(TIERED, AMSTERDAM) == Money.euros(2_500)  # and at 100,000
    assert share(TIERED, WATERSCHAP) == Money.euros(5_000)  # no waterschap tiers: any kind's, by size
    assert share(TIERED, Member(5, "provincie")) == Money.euros(10_000)
    assert share(TIERED, COMPANY) == Money.euros(1_000)  # no population counts as 0


def test_the_largest_size_class_reached_comes_before_the_kind():
    key = CostSharingKey(
        kind=KeyKind.tiered,
        tiers=(Tier(amount_cents=50_000, kind="gemeente"), Tier(amount_cents=500_000, min_population=100_000)),
    )
    assert share(key, AMSTERDAM) == Money.euros(5_000)


def test_when_no_tier_fits_the_default_is_asked_or_nothing():
    gemeenten_only = (Tier(amount_cents=50_000, kind="gemeente", min_population=10_000),)
    with_default = CostSharingKey(kind=KeyKind.tiered, amount_cents=25_000, tiers=gemeenten_only)
    without = CostSharingKey(kind=KeyKind.tiered, tiers=gemeenten_only)
    assert share(with_default, COMPANY) == share(with_default, SCHIERMONNIKOOG) == Money.euros(250)
    assert share(without, COMPANY) == Money.zero()
    assert share(without, AMSTERDAM) == Money.euros(500)


def test_a_tiered_key_reads_as_by_kind_and_size():
    assert TIERED.describe() == "naar soort en grootte, anders €\xa0250,00"
    assert TIERED.describe("en") == "by kind and size, otherwise €250.00"


# -- equal split ------------------------------------------------------------------------------------

EQUAL = CostSharingKey(kind=KeyKind.equal_split)


def test_the_target_is_shared_by_the_organisations_that_joined_earlier_ones_take_the_odd_cents():
    assert equal_shares(TARGET, 3) == [Money.euros("66666.67"), Money.euros("66666.67"), Money.euros("66666.66")]
    assert equal_shares(TARGET, 0) == []


def test_the_suggested_share_falls_as_more_join():
    asked = [share(EQUAL, COMPANY, joined=joined) for joined in range(4)]
    assert asked == [Money.euros(200_000), Money.euros(100_000), Money.euros("66666.67"), Money.euros(50_000)]
    assert share_history(TARGET, 4) == list(enumerate(asked, start=1))


def test_a_capped_equal_split_never_asks_more_than_the_cap_and_is_reached_once_the_cap_covers_the_target():
    capped = CostSharingKey(kind=KeyKind.equal_split, cap_cents=6_000_000)
    assert share(capped, COMPANY, joined=0) == Money.euros(60_000)
    assert share(capped, COMPANY, joined=3) == Money.euros(50_000)
    assert [equal_split_reached(capped, TARGET, n) for n in (0, 3, 4)] == [False, False, True]
    assert [equal_split_reached(EQUAL, TARGET, n) for n in (0, 1)] == [False, True]
    assert capped.describe() == "het doel gedeeld door de deelnemers, maximaal €\xa060.000,00 per deelnemer"
    assert capped.describe("en") == "the target shared among the participants, at most €60,000.00 each"


def test_only_an_equal_split_key_is_reached_by_joining():
    with pytest.raises(CostSharingKeyError, match="only equal_split keys are reached by joining, not tiered keys"):
        equal_split_reached(TIERED, TARGET, 3)


def test_a_negative_population_or_joined_count_is_refused():
    with pytest.raises(ValueError, match="negative population"):
        share(per_capita(), Member(9, "gemeente", population=-1))
    with pytest.raises(ValueError, match="joined"):
        share(EQUAL, COMPANY, joined=-1)


@given(cents=st.integers(min_value=-(10**12), max_value=10**12), count=st.integers(min_value=1, max_value=500))
def test_equal_shares_sum_to_the_target_and_differ_by_a_cent_at_most(cents, count):
    shares = equal_shares(Money(cents), count)
    assert len(shares) == count
    assert sum(s.cents for s in shares) == cents
    assert max(shares).cents - min(shares).cents <= 1
    assert [abs(s) for s in shares] == sorted((abs(s) for s in shares), reverse=True)  # earlier joiners first


@given(cents=st.integers(min_value=-(10**12), max_value=10**12), count=st.integers(min_value=0, max_value=200))
def test_share_history_is_each_rounds_largest_share_and_never_rises(cents, count):
    history = share_history(Money(cents), count)
    assert history == [(n, equal_shares(Money(cents), n)[0]) for n in range(1, count + 1)]
    magnitudes = [abs(s) for _, s in history]
    assert magnitudes == sorted(magnitudes, reverse=True)


# -- storage and validation -------------------------------------------------------------------------

cents = st.integers(min_value=1, max_value=10**12)
rates = st.builds(
    lambda whole, fraction: f"{whole}.{fraction}" if fraction else str(whole),
    st.integers(min_value=0, max_value=1_000),
    st.text("0123456789", max_size=6),
).filter(lambda rate: rate.strip("0.") != "")
limits = st.tuples(st.none() | st.integers(0, 10**12), st.none() | st.integers(0, 10**12)).map(
    lambda pair: tuple(sorted(pair)) if None not in pair else pair
)
tiers = st.builds(
    Tier,
    amount_cents=cents,
    kind=st.none() | st.sampled_from([k.value for k in OrganisationKind]),
    min_population=st.integers(0, 20_000_000),
)
valid_keys = st.one_of(
    st.builds(CostSharingKey, kind=st.just(KeyKind.flat), amount_cents=cents),
    st.builds(lambda rate, limits: per_capita(rate, *limits), rates, limits),
    st.builds(
        CostSharingKey,
        kind=st.just(KeyKind.tiered),
        amount_cents=st.none() | cents,
        tiers=st.lists(tiers, min_size=1, max_size=8, unique_by=lambda t: (t.kind, t.min_population)).map(tuple),
    ),
    st.builds(CostSharingKey, kind=st.just(KeyKind.equal_split), cap_cents=st.none() | cents),
)


@given(key=valid_keys)
def test_a_stored_key_reads_back_as_itself_and_is_stored_the_same_way_again(key):
    text = key.to_json()
    assert CostSharingKey.from_json(text) == key
    assert CostSharingKey.from_json(text).to_json() == text
    assert key.describe("nl") and key.describe("en")  # every valid key can be described


@given(rate=rates, limits=limits, population=st.none() | st.integers(0, 20_000_000))
def test_a_per_capita_share_is_the_exact_product_rounded_half_up_then_floored_and_capped(rate, limits, population):
    floor, cap = limits
    asked = share(per_capita(rate, floor, cap), Member(1, "gemeente", population=population))
    with localcontext() as exact:
        exact.prec = 100
        product = Decimal(population or 0) * Decimal(rate) * 100
        expected = int(product.quantize(Decimal(1), rounding=ROUND_HALF_UP)) if population is not None else 0
    if floor is not None:
        expected = max(expected, floor)
    if cap is not None:
        expected = min(expected, cap)
    assert asked == Money(expected)


def test_the_stored_form_leaves_defaults_out():
    assert per_capita().to_json() == '{"kind":"per_capita","rate":"0.05","floor_cents":50000,"cap_cents":2500000}'
    assert CostSharingKey(kind=KeyKind.tiered, tiers=(Tier(100),)).to_json() == (
        '{"kind":"tiered","tiers":[{"amount_cents":100}]}'
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "not a cost-sharing key"),
        ("{", "not a cost-sharing key"),
        ("[]", "Expected `object`"),
        ("{}", "missing required field `kind`"),
        ('{"kind": "by_mood"}', "Invalid enum value 'by_mood'"),
        ('{"kind": "flat", "amount_cents": "1000"}', "Expected `int | null`, got `str` - at `$.amount_cents`"),
        ('{"kind": "flat", "amount_cents": 10.5}', "got `float`"),
        ('{"kind": "flat", "amount_cents": 1000, "colour": "red"}', "unknown field `colour`"),
        ('{"kind": "tiered", "tiers": [{"amount_cents": 1, "size": "L"}]}', "unknown field `size` - at `$.tiers[0]`"),
        ('{"kind": "flat", "amount_cents": 1000, "rate": "0.05"}', "flat keys take no rate"),
        ('{"kind": "per_capita", "rate": "0.05", "tiers": [{"amount_cents": 1}]}', "per_capita keys take no tiers"),
        ('{"kind": "tiered", "tiers": [{"amount_cents": 1}], "cap_cents": 5}', "tiered keys take no cap_cents"),
        ('{"kind": "equal_split", "floor_cents": 5}', "equal_split keys take no floor_cents"),
        ('{"kind": "equal_split", "amount_cents": 5}', "equal_split keys take no amount_cents"),
    ],
)
def test_unreadable_or_misplaced_json_is_refused_with_a_reason(text, message):
    with pytest.raises(CostSharingKeyError, match=re.escape(message)):
        CostSharingKey.from_json(text)


@pytest.mark.parametrize(
    ("key", "message"),
    [
        (CostSharingKey(kind=KeyKind.flat), "amount_cents is required"),
        (CostSharingKey(kind=KeyKind.flat, amount_cents=0), "amount_cents must be a whole number of cents, more than"),
        (CostSharingKey(kind=KeyKind.flat, amount_cents=True), "not True"),
        (CostSharingKey(kind="weighted", amount_cents=1), "kind must be one of flat, per_capita"),  # type: ignore[arg-type]
        (CostSharingKey(kind=KeyKind.per_capita), "rate is required"),
        (per_capita(rate="0,05"), "not '0,05'"),
        (per_capita(rate="1e-3"), "written like"),
        (per_capita(rate="-0.05"), "written like"),
        (per_capita(rate="0.0000001"), "at most 6 decimals"),
        (per_capita(rate="0.000000"), "rate must be more than zero"),
        (per_capita(floor=-1, cap=None), "floor_cents must be a whole number of cents, zero or more"),
        (per_capita(floor=5_000, cap=4_999), r"floor_cents \(5000\) must not exceed cap_cents \(4999\)"),
        (CostSharingKey(kind=KeyKind.tiered), "at least one tier"),
        (CostSharingKey(kind=KeyKind.tiered, tiers=(Tier(0),)), "tier 1: amount_cents must be"),
        (CostSharingKey(kind=KeyKind.tiered, tiers=(Tier(1, kind="gemeenten"),)), "tier 1: kind must be one of"),
        (CostSharingKey(kind=KeyKind.tiered, tiers=(Tier(1, min_population=-5),)), "min_population must be"),
        (
            CostSharingKey(kind=KeyKind.tiered, tiers=(Tier(1, "gemeente", 10), Tier(2, "gemeente", 10))),
            "two tiers for gemeente from 10 inhabitants",
        ),
        (CostSharingKey(kind=KeyKind.equal_split, cap_cents=0), "cap_cents must be"),
    ],
)
def test_values_that_break_a_kinds_rules_are_refused_with_a_reason(key, message):
    with pytest.raises(CostSharingKeyError, match=message):
        key.validate()


def test_every_problem_is_named_at_once_and_an_invalid_key_is_neither_stored_nor_applied():
    key = CostSharingKey(kind=KeyKind.flat, amount_cents=0, rate="0.05", tiers=(Tier(1),))
    with pytest.raises(CostSharingKeyError) as refused:
        key.to_json()
    assert str(refused.value) == (
        "flat keys take no rate; flat keys take no tiers; "
        "amount_cents must be a whole number of cents, more than zero, not 0"
    )
    with pytest.raises(CostSharingKeyError):
        share(key, COMPANY)


def test_only_the_app_locales_are_described():
    with pytest.raises(ValueError, match="locale must be one of nl, en"):
        EQUAL.describe("de")
