"""Schemathesis against the app's own /schema/openapi.json: every operation, every check.

The app runs in-process on a database with the demo loaded. Staff API calls carry the bearer
token (schemathesis' `auth` setting), so the real handlers run; its `ignored_auth` check repeats
a successful staff call without the token and with a wrong one and expects them refused.
Reading operations must leave the database exactly as they found it, and afterwards every page
and export still works on what the fuzzer booked, and the chain still verifies.

`FUNDING_SLOW=1` runs ten times the examples; `FUNDING_FUZZ_SEED=N` replays a run.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import msgspec
import pytest
import schemathesis
from litestar.testing import TestClient
from schemathesis.config import SchemathesisConfig
from schemathesis.generation import GenerationMode
from schemathesis.python import asgi
from schemathesis.specs.openapi.checks import allow_header_conformance

from funding.app import create_app
from funding.ledger.chain import LedgerExport, verify
from funding.ledger.service import LedgerService
from funding.settings import Settings
from tests.factories import STAFF_AUTH, STAFF_TOKEN
from tests.fuzz.harness import (
    EXAMPLES_PER_OPERATION,
    FUZZ_SEED,
    SECRET_KEY,
    TALLY,
    DemoSite,
    close_demo_site,
    open_demo_site,
    page_paths,
)

READING = {"GET", "HEAD", "OPTIONS"}


def fuzz_config() -> SchemathesisConfig:
    return SchemathesisConfig.from_dict(
        {
            "seed": FUZZ_SEED,
            "generation": {"mode": "all", "max-examples": EXAMPLES_PER_OPERATION},
            "auth": {"openapi": {"bearer": {"bearer": STAFF_TOKEN}}},
            "phases": {"examples": {"enabled": True}, "coverage": {"enabled": True}, "fuzzing": {"enabled": True}},
            "checks": {
                "enabled": True,
                # Schema-valid data may still break a ledger rule (postings that do not balance,
                # an account nobody opened): the staff API says 400 with a sentence for those.
                # `validation_agrees_with_schema` below makes sure such a 400 is never the request
                # validation disagreeing with the published schema.
                "positive_data_acceptance": {
                    "expected-statuses": ["2xx", "3xx", "400", "401", "403", "404", "409", "429"],
                },
                # Schemathesis's own list, plus 413: a body over a handler's limit (the webhook's
                # is 1 kB) is refused before it is read, however it breaks the schema.
                "negative_data_rejection": {
                    "expected-statuses": [
                        "400",
                        "401",
                        "403",
                        "404",
                        "405",
                        "406",
                        "409",
                        "413",
                        "415",
                        "422",
                        "428",
                        "429",
                        "5xx",
                    ],
                },
            },
        }
    )


def validation_agrees_with_schema(ctx, response, case) -> None:
    """Data the schema allows never fails the app's own request validation (a 400 with per-field
    `extra`), and every refusal says what is wrong."""
    if case.meta is None or case.meta.generation.mode != GenerationMode.POSITIVE or response.status_code != 400:
        return
    if "json" not in (response.headers.get("content-type") or [""])[0]:
        raise AssertionError(f"{case.operation.label} refused schema-valid input with a non-JSON 400")
    body = response.json()
    if body.get("extra") or not body.get("detail"):
        raise AssertionError(f"schema-valid input failed request validation: {body}")


def aim_at_the_books(accounts: list[str], head: int):
    """A `map_case` hook that turns two in three generated bookings into ones the ledger can take
    (open accounts, postings in balancing pairs) and reversals into ones of existing entries, so
    the fuzzer reaches the append path, not only the rules that guard it. Schemathesis re-checks
    each changed case against the schema, so positive stays positive."""

    def map_case(_context, case):
        if case.meta is None or case.meta.generation.mode != GenerationMode.POSITIVE:
            return case  # a repaired negative case would no longer be negative
        body, path = case.body, case.operation.path
        if path.endswith("/reversal"):
            seq = case.path_parameters.get("seq")
            if isinstance(seq, int) and not isinstance(seq, bool) and seq > head and seq % 3:
                case.path_parameters = {**case.path_parameters, "seq": 1 + seq % head}
        elif path.endswith("/journal/entries") and isinstance(body, dict) and len(str(body.get("description"))) % 3:
            postings = body.get("postings")
            if (
                isinstance(postings, list)
                and len(postings) >= 2
                and all(isinstance(p, dict) and type(p.get("amount")) is int for p in postings)
            ):
                pairs = postings[: len(postings) // 2 * 2]
                balanced = []
                for first, _second in zip(pairs[::2], pairs[1::2], strict=True):
                    amount = first["amount"] or 1
                    balanced += [
                        {**first, "account": accounts[amount % len(accounts)], "amount": amount},
                        {**_second, "account": accounts[(amount // 7) % len(accounts)], "amount": -amount},
                    ]
                case.body = {**body, "postings": balanced}
        return case

    return map_case


def not_really_negative(_context, case) -> bool:
    """A `filter_case` hook that drops "invalid" queries Litestar reads as valid ones, as any
    framework may: `1.0` is the integer 1, `null` leaves a parameter out, and of a repeated key
    the last one counts. Other bad values (text, fractions, out of range) still go out."""
    if case.meta is None or case.meta.generation.mode != GenerationMode.NEGATIVE:
        return True
    return not any(
        value is None or isinstance(value, list) or (isinstance(value, float) and value.is_integer())
        for value in (case.query or {}).values()
    )


@pytest.fixture(scope="module")
def site() -> Iterator[DemoSite]:
    site = open_demo_site()
    yield site
    asgi.shutdown_lifespans()  # schemathesis keeps each app's lifespan running until the process exits
    close_demo_site(site)


@pytest.fixture(autouse=True)
def bound(site: DemoSite) -> None:
    site.bind()


@pytest.fixture(scope="module")
def stored() -> dict:
    """The stored state after the last reading request (None after a write): saves a query."""
    return {}


@pytest.fixture(scope="module")
def api_schema(site: DemoSite):
    loaded = schemathesis.openapi.from_asgi("/schema/openapi.json", site.app, config=fuzz_config())
    accounts = [a["name"] for a in site.runner.run(LedgerService().accounts()) if a["is_open"]]
    loaded.hook("map_case")(aim_at_the_books(accounts, head=site.head_seq()))
    loaded.hook("filter_case")(not_really_negative)
    return loaded


schema = schemathesis.pytest.from_fixture("api_schema")


def shared_path(case) -> bool:
    """Whether another method has a handler at this path too. Litestar 2 answers OPTIONS there
    with the first handler's methods only (litestar-org/litestar#4169, fixed in Litestar 3), so
    the `Allow` check is left out for such paths alone (the pledge form's GET and POST)."""
    return len(case.operation.schema.raw_schema["paths"][case.operation.path]) > 1


@schema.parametrize()
def test_operation_keeps_to_its_schema(case, site: DemoSite, stored: dict) -> None:
    reading = case.method.upper() in READING
    before = (stored.get("state") or site.snapshot()) if reading else None
    response = case.call_and_validate(
        additional_checks=[validation_agrees_with_schema],
        excluded_checks=[allow_header_conformance] if shared_path(case) else [],
    )
    TALLY[case.operation.label][response.status_code] += 1
    TALLY[case.operation.label][case.meta.phase.name.value if case.meta else "explicit"] += 1
    stored["state"] = site.snapshot() if reading else None
    if reading:
        assert stored["state"] == before, f"{case.method} {case.formatted_path} changed stored data"


def test_every_page_and_export_survives_the_fuzzed_bookings(site: DemoSite) -> None:
    app = create_app(Settings(database_url=site.url, secret_key=SECRET_KEY, database_pool_size=0))
    with TestClient(app=app) as client:
        for path in page_paths(app):
            response = client.get(path)
            assert response.status_code < 500, (path, response.status_code)
        head = client.get("/api/v1/ledger/head").json()
        export = msgspec.json.decode(client.get("/ledger.json").content, type=LedgerExport)
    result = verify(export.entries, expected_head=(head["seq"], head["hash"]))
    assert result.ok and result.checked == head["seq"], result
    assert site.runner.run(LedgerService().verify()).ok


@pytest.mark.parametrize("authorization", [None, "Bearer wrong", f"Basic {STAFF_TOKEN}", STAFF_TOKEN, "Bearer"])
def test_secured_operations_refuse_a_missing_or_wrong_token(site: DemoSite, api_schema, authorization) -> None:
    secured = [
        (method.upper(), re.sub(r"\{[^}]+\}", "1", path))
        for path, operations in api_schema.raw_schema["paths"].items()
        for method, operation in operations.items()
        if isinstance(operation, dict) and operation.get("security")
    ]
    assert secured, "the schema declares no secured operation: nothing was checked"
    before = site.snapshot()
    app = create_app(
        Settings(database_url=site.url, secret_key=SECRET_KEY, staff_api_token=STAFF_TOKEN, database_pool_size=0)
    )
    with TestClient(app=app) as client:
        for method, path in secured:
            headers = {"Authorization": authorization} if authorization else {}
            response = client.request(method, path, json={}, headers=headers)
            assert response.status_code == 401, (method, path, response.status_code)
            assert response.headers["www-authenticate"].startswith("Bearer")
    assert site.snapshot() == before


def test_secured_operations_are_off_without_a_configured_token(site: DemoSite, api_schema) -> None:
    app = create_app(Settings(database_url=site.url, secret_key=SECRET_KEY, database_pool_size=0))
    with TestClient(app=app) as client:
        for path, operations in api_schema.raw_schema["paths"].items():
            for method, operation in operations.items():
                if isinstance(operation, dict) and operation.get("security"):
                    url = re.sub(r"\{[^}]+\}", "1", path)
                    response = client.request(method.upper(), url, json={}, headers=STAFF_AUTH)
                    assert response.status_code == 403, (method, path, response.status_code)
