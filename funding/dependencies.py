"""Services handed to controllers by Litestar's dependency injection."""

from litestar.datastructures import State
from litestar.di import NamedDependency, Provide

from funding.ledger.service import LedgerService
from funding.programme.service import ProgrammeService


def provide_ledger() -> LedgerService:
    return LedgerService()


def provide_programmes(ledger: NamedDependency[LedgerService]) -> ProgrammeService:
    return ProgrammeService(ledger)


async def provide_programme(state: State, programmes: NamedDependency[ProgrammeService]) -> dict | None:
    """The programme the site is about (its name and demo label are on every page), read again
    only when the programme table changes."""
    return await state.programme.get(state.data_version, programmes.first_programme)


SERVICES = {
    "ledger": Provide(provide_ledger, sync_to_thread=False),
    "programmes": Provide(provide_programmes, sync_to_thread=False),
    "programme": Provide(provide_programme),
}
