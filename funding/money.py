"""Money: integer euro cents, the one amount type used everywhere.

Floats never touch an amount. Text and `Decimal` exist only at the edges (forms, Mollie's
`{"currency": "EUR", "value": "12.50"}`, display); inside, an amount is a `Money` of whole cents.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import cache, lru_cache

from babel import Locale
from babel.numbers import NumberFormatError, format_currency, format_decimal, parse_decimal

CURRENCY = "EUR"
CENT = Decimal("0.01")
_TYPED_AMOUNT = re.compile(r"-?\d[\d., ]*")


class MoneyError(ValueError):
    """An amount that cannot be money: not a number, fractional cents, or out of range."""


@dataclass(frozen=True, slots=True, order=True)
class Money:
    cents: int

    def __post_init__(self) -> None:
        if type(self.cents) is not int:  # bool and float are refused on purpose
            raise MoneyError(f"an amount is a whole number of cents, not {self.cents!r}")

    # -- construction at the edges ------------------------------------------------------------
    @classmethod
    def zero(cls) -> Money:
        return cls(0)

    @classmethod
    def euros(cls, value: int | str | Decimal) -> Money:
        """`Money.euros(1000)`, `Money.euros("12.50")`: exact, or `MoneyError`."""
        if isinstance(value, float):
            raise MoneyError("floats are not accepted for money; pass a string or Decimal")
        try:
            amount = Decimal(value)
        except (InvalidOperation, TypeError) as exc:
            raise MoneyError(f"{value!r} is not an amount") from exc
        if not amount.is_finite():
            raise MoneyError(f"{value!r} is not an amount")
        cents = amount * 100
        if cents != cents.to_integral_value():
            raise MoneyError(f"{value} has more than two decimals")
        return cls(int(cents))

    @classmethod
    def parse(cls, text: str, locale: str = "nl") -> Money:
        """Parse what a person typed, in their locale: `1.000,50` in Dutch, `1,000.50` in English."""
        cleaned = text.replace("€", "").replace("EUR", "").replace("\u00a0", " ").strip()
        if not _TYPED_AMOUNT.fullmatch(cleaned):
            raise MoneyError(f"{text!r} is not an amount")
        try:
            amount = parse_decimal(cleaned.replace(" ", ""), locale=locale, strict=True)
        except NumberFormatError as exc:
            raise MoneyError(f"{text!r} is not an amount") from exc
        return cls.euros(amount)

    @classmethod
    def from_mollie(cls, amount: dict) -> Money:
        if amount.get("currency") != CURRENCY:
            raise MoneyError(f"only {CURRENCY} is supported, not {amount.get('currency')!r}")
        return cls.euros(str(amount["value"]))

    # -- conversion ---------------------------------------------------------------------------
    def to_decimal(self) -> Decimal:
        return (Decimal(self.cents) / 100).quantize(CENT)

    def to_mollie(self) -> dict[str, str]:
        return {"currency": CURRENCY, "value": f"{self.to_decimal():.2f}"}

    def format(self, locale: str = "nl") -> str:
        """`€ 1.000,00` in Dutch, `€1,000.00` in English."""
        return _formatted(self.cents, locale)

    def format_number(self, locale: str = "nl") -> str:
        """The amount as a person types it, without the currency: `1.000,00` in Dutch,
        `1,000.00` in English; `Money.parse` reads it back."""
        return format_decimal(self.to_decimal(), format="#,##0.00", locale=babel_locale(locale))

    def __str__(self) -> str:
        return f"{CURRENCY} {self.to_decimal():.2f}"

    # -- arithmetic ---------------------------------------------------------------------------
    def __add__(self, other: Money) -> Money:
        if not isinstance(other, Money):
            return NotImplemented
        return Money(self.cents + other.cents)

    def __sub__(self, other: Money) -> Money:
        if not isinstance(other, Money):
            return NotImplemented
        return Money(self.cents - other.cents)

    def __neg__(self) -> Money:
        return Money(-self.cents)

    def __abs__(self) -> Money:
        return Money(abs(self.cents))

    def __mul__(self, factor: int) -> Money:
        if type(factor) is not int:
            return NotImplemented
        return Money(self.cents * factor)

    __rmul__ = __mul__

    def __bool__(self) -> bool:
        return self.cents != 0

    def split(self, weights: Sequence[int]) -> list[Money]:
        """Split by integer weights with the largest-remainder method: the parts always add up
        to the whole, and no part differs from its exact share by a cent or more.

        >>> [m.cents for m in Money(100).split([1, 1, 1])]
        [34, 33, 33]
        """
        if not weights or any(type(w) is not int or w < 0 for w in weights) or sum(weights) == 0:
            raise MoneyError("weights must be non-negative whole numbers, not all zero")
        total = sum(weights)
        sign = -1 if self.cents < 0 else 1
        whole = abs(self.cents)
        shares = [whole * w // total for w in weights]
        remainders = [(whole * w % total, -i) for i, w in enumerate(weights)]
        for _, neg_index in sorted(remainders, reverse=True)[: whole - sum(shares)]:
            shares[-neg_index] += 1
        return [Money(sign * s) for s in shares]


@cache
def babel_locale(code: str) -> Locale:
    """Parsed once: Babel otherwise re-parses the locale name on every amount it formats."""
    return Locale.parse(code)


@lru_cache(maxsize=65_536)
def _formatted(cents: int, locale: str) -> str:
    """Babel takes ~0.1 ms per amount, and pages show the same amounts again and again."""
    return format_currency(Money(cents).to_decimal(), CURRENCY, locale=babel_locale(locale))


def total(amounts: Iterable[Money]) -> Money:
    return sum(amounts, Money.zero())
