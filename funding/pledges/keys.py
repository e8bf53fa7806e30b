"""Cost-sharing keys: how an organisation's suggested contribution to a funding round is computed.

Pure functions and values, no database, so every rule has a fast test. A round stores its key as
JSON (`CostSharingKey.to_json`), and the text is kept stable: default fields are left out, so a
field added later leaves stored keys as they are.

Amounts are integer cents and rates exact decimal strings; a per-capita share is worked out in
integer micro-euros, so no float or Decimal context ever rounds a contribution.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from decimal import Decimal
from enum import StrEnum
from functools import lru_cache
from typing import TypeGuard

import msgspec
from babel.numbers import format_currency

from funding.i18n import LOCALES, translations
from funding.money import CURRENCY, Money, babel_locale
from funding.organisations.tables import OrganisationKind

RATE = re.compile(r"([0-9]+)(?:\.([0-9]{1,6}))?")
"""Euros per inhabitant in plain notation, at most six decimals: `0.05`, `1.234567`."""
MICRO = 10**6
MICROS_PER_CENT = MICRO // 100


class CostSharingKeyError(ValueError):
    """A key that cannot be stored or applied: unreadable JSON, or values that break its rules."""


class KeyKind(StrEnum):
    flat = "flat"
    per_capita = "per_capita"
    tiered = "tiered"
    equal_split = "equal_split"


FIELDS = {
    KeyKind.flat: {"amount_cents"},
    KeyKind.per_capita: {"rate", "floor_cents", "cap_cents"},
    KeyKind.tiered: {"amount_cents", "tiers"},
    KeyKind.equal_split: {"cap_cents"},
}
"""The optional fields each kind reads; any other one set is refused rather than ignored."""


class Tier(msgspec.Struct, frozen=True, forbid_unknown_fields=True, omit_defaults=True):
    """One line of a tiered key: organisations of `kind` (any kind if None) from `min_population`
    inhabitants up are asked `amount_cents`."""

    amount_cents: int
    kind: str | None = None
    min_population: int = 0


class CostSharingKey(msgspec.Struct, frozen=True, forbid_unknown_fields=True, omit_defaults=True):
    kind: KeyKind
    amount_cents: int | None = None
    """flat: what each organisation is asked; tiered: what one no tier fits is asked."""
    rate: str | None = None
    """per_capita: euros per inhabitant as a decimal string (`"0.05"`), exact."""
    floor_cents: int | None = None
    """per_capita: the least asked."""
    cap_cents: int | None = None
    """per_capita: the most asked; equal_split: the most one share may be."""
    tiers: tuple[Tier, ...] = ()

    def to_json(self) -> str:
        """The stored form; only a valid key is written, so every stored key can be read back."""
        self.validate()
        return msgspec.json.encode(self).decode()

    @classmethod
    def from_json(cls, text: str) -> CostSharingKey:
        try:
            key = msgspec.json.decode(text, type=cls)
        except msgspec.DecodeError as error:  # ValidationError (wrong or unknown field) included
            raise CostSharingKeyError(f"not a cost-sharing key: {error}") from error
        key.validate()
        return key

    def validate(self) -> None:
        """Raise `CostSharingKeyError` naming every problem at once, so a form can show them all."""
        try:
            kind = KeyKind(self.kind)
        except ValueError:
            raise CostSharingKeyError(f"kind must be one of {', '.join(KeyKind)}, not {self.kind!r}") from None
        problems = [
            f"{kind} keys take no {name}"
            for name in ("amount_cents", "rate", "floor_cents", "cap_cents", "tiers")
            if getattr(self, name) not in (None, ()) and name not in FIELDS[kind]
        ]
        if kind is KeyKind.flat:
            problems += _cents_problems("amount_cents", self.amount_cents, required=True)
        elif kind is KeyKind.per_capita:
            problems += _rate_problems(self.rate)
            problems += _cents_problems("floor_cents", self.floor_cents, zero_allowed=True)
            problems += _cents_problems("cap_cents", self.cap_cents, zero_allowed=True)
            floor, cap = self.floor_cents, self.cap_cents
            if _is_int(floor) and _is_int(cap) and floor > cap:
                problems.append(f"floor_cents ({floor}) must not exceed cap_cents ({cap})")
        elif kind is KeyKind.tiered:
            problems += _cents_problems("amount_cents", self.amount_cents)
            problems += _tier_problems(self.tiers)
        else:
            problems += _cents_problems("cap_cents", self.cap_cents)
        if problems:
            raise CostSharingKeyError("; ".join(problems))

    def describe(self, locale: str = "nl") -> str:
        """One line for round pages and forms: `€ 0,05 per inwoner, minimaal € 500,00`."""
        if locale not in LOCALES:
            raise ValueError(f"locale must be one of {', '.join(LOCALES)}, not {locale!r}")
        return _description(self, locale)


@lru_cache(maxsize=256)
def _description(key: CostSharingKey, locale: str) -> str:
    """`describe`, worked out once per key and language (keys are frozen): Babel's formatting
    took a twentieth of a round page."""
    key.validate()
    gettext = translations(locale).gettext

    def amount(cents: int) -> dict[str, str]:
        return {"amount": Money(cents).format(locale)}

    if key.kind == KeyKind.flat:
        assert key.amount_cents is not None  # validate() saw to it
        parts = [gettext("%(amount)s per organisation") % amount(key.amount_cents)]
    elif key.kind == KeyKind.per_capita:
        assert key.rate is not None
        # Babel, not Money: a rate may have fractions of a cent (`€ 0,0125`).
        rate = format_currency(Decimal(key.rate), CURRENCY, locale=babel_locale(locale), decimal_quantization=False)
        parts = [gettext("%(rate)s per inhabitant") % {"rate": rate}]
        if key.floor_cents is not None:
            parts.append(gettext("at least %(amount)s") % amount(key.floor_cents))
        if key.cap_cents is not None:
            parts.append(gettext("at most %(amount)s") % amount(key.cap_cents))
    elif key.kind == KeyKind.tiered:
        parts = [gettext("by kind and size")]
        if key.amount_cents is not None:
            parts.append(gettext("otherwise %(amount)s") % amount(key.amount_cents))
    else:
        parts = [gettext("the target shared among the participants")]
        if key.cap_cents is not None:
            parts.append(gettext("at most %(amount)s each") % amount(key.cap_cents))
    return ", ".join(parts)


class Member(msgspec.Struct, frozen=True):
    """What a key needs to know of an organisation."""

    organisation_id: int
    kind: str
    population: int | None = None


@lru_cache(maxsize=256)
def _validated(key: CostSharingKey) -> None:
    """`validate` once per key, not once per organisation of a 400-row fair-share table (keys are
    frozen, so a key that passed once always passes; a failing one raises and is not cached)."""
    key.validate()


def suggested_share(key: CostSharingKey, member: Member, *, target: Money, joined: int) -> Money:
    """What `member` is asked to contribute to a round with this key and `target`, when `joined`
    organisations (`member` not among them) have joined so far."""
    return share_asker(key, target=target, joined=joined)(member)


def share_asker(key: CostSharingKey, *, target: Money, joined: int) -> Callable[[Member], Money]:
    """`suggested_share` for one round's members, one after another: the key is checked and its
    figures worked out once, not once per row of a fair-share table."""
    _validated(key)
    if key.kind == KeyKind.flat:
        assert key.amount_cents is not None  # validate() saw to it
        return _asking(Money(key.amount_cents))
    if key.kind == KeyKind.per_capita:
        assert key.rate is not None
        micro_rate, floor, cap = _micro_euros(key.rate), key.floor_cents, key.cap_cents
        unknown = Money(floor or 0)

        def per_capita(member: Member) -> Money:
            population = _population(member)
            if population is None:
                return unknown
            cents = (population * micro_rate + MICROS_PER_CENT // 2) // MICROS_PER_CENT  # half a cent rounds up
            if floor is not None:
                cents = max(cents, floor)
            if cap is not None:
                cents = min(cents, cap)
            return Money(cents)

        return per_capita
    if key.kind == KeyKind.tiered:
        tiers, otherwise = key.tiers, Money(key.amount_cents or 0)

        def tiered(member: Member) -> Money:
            population = _population(member) or 0
            fitting = [t for t in tiers if t.kind in (None, member.kind) and t.min_population <= population]
            if not fitting:
                return otherwise
            # The tier for the largest size class reached; for one's own kind before any kind's.
            return Money(max(fitting, key=lambda t: (t.min_population, t.kind is not None)).amount_cents)

        return tiered
    if joined < 0:
        raise ValueError(f"joined must not be negative, not {joined}")
    share = equal_shares(target, joined + 1)[0]
    # The cap is the most one share may be: the member is never asked for more, even while too
    # few have joined for the shares to come down to it (`equal_split_reached`).
    return _asking(share if key.cap_cents is None else min(share, Money(key.cap_cents)))


def _asking(amount: Money) -> Callable[[Member], Money]:
    def same(member: Member) -> Money:
        _population(member)
        return amount

    return same


def _population(member: Member) -> int | None:
    if member.population is not None and member.population < 0:
        raise ValueError(f"organisation {member.organisation_id} has a negative population")
    return member.population


def equal_shares(target: Money, count: int) -> list[Money]:
    """`target` split among `count` joiners, summing to it exactly; the cents that do not divide
    go to the earliest joiners, one each."""
    return target.split([1] * count) if count >= 1 else []


def share_history(target: Money, count: int) -> list[tuple[int, Money]]:
    """For n = 1..count, the largest share (`equal_shares(target, n)[0]`) once n had joined: how
    the shares fell as the round grew. One division each, rather than n splits of n."""
    sign = -1 if target.cents < 0 else 1
    whole = abs(target.cents)
    return [(n, Money(sign * -(-whole // n))) for n in range(1, count + 1)]


def equal_split_reached(key: CostSharingKey, target: Money, count: int) -> bool:
    """Whether `count` joiners of an equal-split round meet `target`: with a cap, only once no
    share need exceed it (count × cap >= target); without one, as soon as anyone joins."""
    key.validate()
    if key.kind != KeyKind.equal_split:
        raise CostSharingKeyError(f"only equal_split keys are reached by joining, not {key.kind} keys")
    return count >= 1 and (key.cap_cents is None or count * key.cap_cents >= target.cents)


def _is_int(value: object) -> TypeGuard[int]:
    return type(value) is int  # bool is refused, as Money refuses it


def _cents_problems(name: str, value: int | None, *, required: bool = False, zero_allowed: bool = False) -> list[str]:
    if value is None:
        return [f"{name} is required"] if required else []
    if not _is_int(value) or value < (0 if zero_allowed else 1):
        least = "zero or more" if zero_allowed else "more than zero"
        return [f"{name} must be a whole number of cents, {least}, not {value!r}"]
    return []


def _rate_problems(rate: str | None) -> list[str]:
    if rate is None:
        return ['rate is required: euros per inhabitant, e.g. "0.05"']
    if not isinstance(rate, str) or not RATE.fullmatch(rate):
        return [f'rate must be euros per inhabitant written like "0.05", at most 6 decimals, not {rate!r}']
    if _micro_euros(rate) == 0:
        return ["rate must be more than zero"]
    return []


@lru_cache(maxsize=256)
def _micro_euros(rate: str) -> int:
    """`"0.05"` -> 50_000: the rate in millionths of a euro, exactly."""
    match = RATE.fullmatch(rate)
    assert match is not None  # validate() saw to it
    whole, fraction = match.groups()
    return int(whole) * MICRO + int((fraction or "").ljust(6, "0"))


def _tier_problems(tiers: tuple[Tier, ...]) -> list[str]:
    if not tiers:
        return ["a tiered key needs at least one tier"]
    kinds = tuple(OrganisationKind)
    problems = []
    for number, tier in enumerate(tiers, start=1):
        problems += [f"tier {number}: {p}" for p in _cents_problems("amount_cents", tier.amount_cents, required=True)]
        if tier.kind is not None and tier.kind not in kinds:
            problems.append(f"tier {number}: kind must be one of {', '.join(kinds)} or left out, not {tier.kind!r}")
        if not _is_int(tier.min_population) or tier.min_population < 0:
            problems.append(f"tier {number}: min_population must be a whole number, zero or more")
    repeated = [k for k, n in Counter((t.kind, t.min_population) for t in tiers).items() if n > 1]
    problems += [
        f"two tiers for {kind or 'any kind'} from {minimum} inhabitants: which applies would be unclear"
        for kind, minimum in repeated
    ]
    return problems
