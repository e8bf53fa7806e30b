"""`funding import-organisations FILE.csv`, run as a user runs it: the report and the exit code."""

import os
import subprocess
import sys

from funding.organisations.tables import Organisation
from funding.settings import ROOT


def run(database: str, path) -> subprocess.CompletedProcess:
    env = {**os.environ, "DATABASE_URL": database}
    return subprocess.run(
        [sys.executable, "-m", "funding", "import-organisations", str(path)],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


async def test_a_file_with_a_bad_row_imports_the_rest_reports_the_row_and_exits_1(database, tmp_path):
    path = tmp_path / "gemeenten.csv"
    path.write_text("Code;Naam;Inwoners\nGM0363;Amsterdam;931298\nGM0344;Utrecht;abc\n", encoding="utf-8-sig")
    result = run(database, path)
    assert result.returncode == 1, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("1 added, 0 updated, 0 unchanged, 1 rejected")
    assert lines[1:] == ['line 3: population "abc" is not a number']
    assert [r["cbs_code"] for r in await Organisation.select(Organisation.cbs_code)] == ["GM0363"]


async def test_a_long_clean_file_exits_0_and_again_changes_nothing(database, tmp_path):
    path = tmp_path / "gemeenten.csv"
    path.write_text("code,name,population\n" + "".join(f"GM{n:04},Gemeente {n},{n * 1000}\n" for n in range(1, 61)))
    first = run(database, path)
    assert first.returncode == 0, first.stderr
    assert first.stdout.startswith("60 added, 0 updated, 0 unchanged, 0 rejected")
    assert "importing" in first.stderr, "a file this long shows a progress bar"
    again = run(database, path)
    assert again.returncode == 0 and again.stdout.startswith("0 added, 0 updated, 60 unchanged, 0 rejected")
    assert await Organisation.count() == 60
