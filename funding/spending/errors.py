"""The spending domain's one error type (apart from its subclasses)."""

from __future__ import annotations


class SpendingError(ValueError):
    """An expense, receipt or correction that breaks a rule (the message says what, translated;
    nothing was written); `field` names the form field it is about, if any."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class NotAllowed(SpendingError):
    """The staff account may not do this (its role, or four eyes)."""


class ExpenseNotFound(SpendingError):
    pass


class ReceiptError(SpendingError):
    """An upload that is not a receipt the store takes, or a stored receipt that cannot be read."""

    def __init__(self, message: str, field: str | None = "receipt") -> None:
        super().__init__(message, field)
