"""Services handed to controllers by Litestar's dependency injection."""

from pathlib import Path

from litestar import Request
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide

from funding.accounts.service import AccountService
from funding.invoicing.peppol import OutboxAccessPoint
from funding.invoicing.service import InvoiceService, Seller
from funding.ledger.log import LogKey, LogService
from funding.ledger.notes import CosignatureVerifier
from funding.ledger.service import LedgerService
from funding.mail import Mailer
from funding.money import Money
from funding.payments.mollie import Mollie
from funding.payments.service import PaymentService
from funding.pledges.notices import PledgeNotices
from funding.pledges.service import PledgeService
from funding.programme.service import ProgrammeService
from funding.settings import Settings
from funding.web.ratelimit import LOGIN_STORE


def provide_ledger() -> LedgerService:
    return LedgerService()


def log_key(settings: Settings) -> LogKey:
    return LogKey(settings.log_signing_key, settings.log_key_file, settings.checkpoint_origin)


def provide_log(state: State) -> LogService:
    witnesses = tuple(CosignatureVerifier.parse(key) for key in state.settings.witnesses)
    return LogService(state.log_key.signer(), witnesses)


def provide_programmes(ledger: NamedDependency[LedgerService]) -> ProgrammeService:
    return ProgrammeService(ledger)


def pledge_service(settings: Settings, ledger: LedgerService | None = None) -> PledgeService:
    """The pledge service as the app and the command line use it: mail through `settings`, and
    invoices issued as pledges become due (see `invoice_service`)."""
    return invoice_service(settings, ledger).pledges


def invoice_service(settings: Settings, ledger: LedgerService | None = None) -> InvoiceService:
    mailer = Mailer(settings)
    notices = PledgeNotices(
        mailer,
        base_url=settings.base_url,
        bank_name=settings.bank_name,
        bank_iban=settings.bank_iban,
        online=bool(settings.mollie_api_key),
    )
    pledges = PledgeService(ledger, notices=notices, max_pledge=Money.euros(settings.max_pledge_euros))
    outbox = Path(settings.peppol_outbox_dir or Path(settings.outbox_dir) / "peppol")
    return InvoiceService(
        pledges, Seller.from_settings(settings), mailer=mailer, access_point=OutboxAccessPoint(outbox)
    )


def provide_accounts(request: Request) -> AccountService:
    """Staff accounts, counting failed logins in the store every app process shares."""
    return AccountService(request.app.stores.get(LOGIN_STORE))


def provide_invoices(state: State, ledger: NamedDependency[LedgerService]) -> InvoiceService:
    return invoice_service(state.settings, ledger)


def provide_pledges(invoices: NamedDependency[InvoiceService]) -> PledgeService:
    return invoices.pledges


def payment_service(settings: Settings, mollie: Mollie, ledger: LedgerService | None = None) -> PaymentService:
    """The payment service as the app and the command line use it."""
    return PaymentService(pledge_service(settings, ledger), mollie, base_url=settings.base_url)


def mollie_api(settings: Settings) -> Mollie:
    """One per process: its worker threads each keep their own client."""
    return Mollie(settings.mollie_api_key, settings.mollie_api_endpoint)


def provide_payments(state: State, ledger: NamedDependency[LedgerService]) -> PaymentService:
    return payment_service(state.settings, state.mollie, ledger)


async def provide_programme(state: State, programmes: NamedDependency[ProgrammeService]) -> dict | None:
    """The programme the site is about (its name and demo label are on every page), read again
    only when the programme table changes."""
    return await state.programme.get(state.data_version, programmes.first_programme)


async def provide_budget(state: State, programmes: NamedDependency[ProgrammeService]) -> list[dict]:
    """The programme's budget periods and lines (`ProgrammeService.budget`), read again only
    when the programme, period or line tables change: a journal append leaves them as they are."""
    return await state.budget.get(state.data_version, programmes.budget)


SERVICES = {
    "ledger": Provide(provide_ledger, sync_to_thread=False),
    "programmes": Provide(provide_programmes, sync_to_thread=False),
    "log": Provide(provide_log, sync_to_thread=False),
    "programme": Provide(provide_programme),
    "invoices": Provide(provide_invoices, sync_to_thread=False),
    "accounts": Provide(provide_accounts, sync_to_thread=False),
    "budget": Provide(provide_budget),
    "pledges": Provide(provide_pledges, sync_to_thread=False),
    "payments": Provide(provide_payments, sync_to_thread=False),
}
