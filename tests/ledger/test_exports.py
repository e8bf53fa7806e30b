"""Open data: the exports carry every posting, agree with each other, and Beancount can read ours."""

import csv
import io
import os
import subprocess
import sys

from funding.ledger.exports import beancount_account


async def test_csv_has_one_row_per_posting_and_balances(demo, client, ledger):
    response = await client.get("/ledger.csv")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    head = await ledger.head()
    assert {int(r["seq"]) for r in rows} == set(range(1, head.seq + 1))
    assert sum(int(r["amount_cents"]) for r in rows) == 0
    bank = sum(int(r["amount_cents"]) for r in rows if r["account"] == "assets:bank")
    assert bank == (await ledger.balances())["assets:bank"].cents


async def test_beancount_reads_our_export_without_errors_and_agrees_on_balances(demo, client, ledger):
    from beancount import loader
    from beancount.core import data, realization

    text = (await client.get("/ledger.beancount")).text
    entries, errors, _options = loader.load_string(text)
    assert errors == []
    transactions = [e for e in entries if isinstance(e, data.Transaction)]
    assert len(transactions) == (await ledger.head()).seq
    real = realization.realize(entries)
    bank = realization.get(real, "Assets:Bank").balance.get_currency_units("EUR").number
    assert bank == (await ledger.balances())["assets:bank"].to_decimal()


def test_beancount_account_names_are_capitalised():
    assert beancount_account("expenses:in-kind:magazine") == "Expenses:In-kind:Magazine"


async def test_funding_export_writes_the_same_as_the_site(demo, client, database, tmp_path):
    out = tmp_path / "ledger.json"
    subprocess.run(
        [sys.executable, "-m", "funding", "export", "--format", "json", "--out", str(out)],
        check=True,
        env={**os.environ, "DATABASE_URL": database},
        timeout=60,
    )
    assert out.read_bytes() == (await client.get("/ledger.json")).content
