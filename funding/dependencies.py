"""Services handed to controllers by Litestar's dependency injection."""

from litestar.datastructures import State
from litestar.di import NamedDependency, Provide

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
    """The pledge service as the app and the command line use it: mail through `settings`."""
    notices = PledgeNotices(
        Mailer(settings),
        base_url=settings.base_url,
        bank_name=settings.bank_name,
        bank_iban=settings.bank_iban,
        online=bool(settings.mollie_api_key),
    )
    return PledgeService(ledger, notices=notices, max_pledge=Money.euros(settings.max_pledge_euros))


def provide_pledges(state: State, ledger: NamedDependency[LedgerService]) -> PledgeService:
    return pledge_service(state.settings, ledger)


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


SERVICES = {
    "ledger": Provide(provide_ledger, sync_to_thread=False),
    "programmes": Provide(provide_programmes, sync_to_thread=False),
    "log": Provide(provide_log, sync_to_thread=False),
    "programme": Provide(provide_programme),
    "pledges": Provide(provide_pledges, sync_to_thread=False),
    "payments": Provide(provide_payments, sync_to_thread=False),
}
