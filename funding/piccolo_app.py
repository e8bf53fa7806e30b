"""The single Piccolo app: one migration unit, so every migration lives in `migrations/`."""

from piccolo.conf.apps import AppConfig

from funding.accounts.tables import AuditEvent, StaffSession, StaffUser
from funding.invoicing.tables import Invoice, InvoiceDelivery
from funding.ledger.tables import (
    Account,
    AccountMonthBalance,
    JournalEntry,
    LogCheckpoint,
    LogCosignature,
    MerkleNode,
    Posting,
)
from funding.organisations.tables import Organisation
from funding.payments.tables import MollieBooking, MolliePayment, RefundRequest
from funding.pledges.tables import FundingRound, Pledge, PledgeCover, PledgeEvent, PledgeMember, RoundEvent
from funding.programme.tables import BudgetLine, BudgetPeriod, Programme
from funding.settings import ROOT
from funding.spending.tables import Expense, ExpenseEvent

APP_CONFIG = AppConfig(
    app_name="funding",
    migrations_folder_path=str(ROOT / "migrations"),
    table_classes=[
        Account,
        JournalEntry,
        Posting,
        AccountMonthBalance,
        Programme,
        BudgetPeriod,
        BudgetLine,
        Organisation,
        FundingRound,
        RoundEvent,
        Pledge,
        PledgeCover,
        PledgeMember,
        PledgeEvent,
        MolliePayment,
        MollieBooking,
        RefundRequest,
        MerkleNode,
        LogCheckpoint,
        LogCosignature,
        Invoice,
        InvoiceDelivery,
        StaffUser,
        StaffSession,
        AuditEvent,
        Expense,
        ExpenseEvent,
    ],
    migration_dependencies=[],
    commands=[],
)
