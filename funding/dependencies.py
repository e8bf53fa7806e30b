"""Services handed to controllers by Litestar's dependency injection."""

from litestar.di import NamedDependency, Provide

from funding.ledger.service import LedgerService
from funding.programme.service import ProgrammeService


def provide_ledger() -> LedgerService:
    return LedgerService()


def provide_programmes(ledger: NamedDependency[LedgerService]) -> ProgrammeService:
    return ProgrammeService(ledger)


SERVICES = {
    "ledger": Provide(provide_ledger, sync_to_thread=False),
    "programmes": Provide(provide_programmes, sync_to_thread=False),
}
