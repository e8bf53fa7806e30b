"""A tally of what the fuzzer sent, shown after the run."""

from __future__ import annotations

from tests.fuzz.harness import EXAMPLES_PER_OPERATION, FUZZ_SEED, SLOW, TALLY


def pytest_terminal_summary(terminalreporter) -> None:
    if not TALLY:
        return
    write = terminalreporter.write_line
    terminalreporter.section("API fuzzing")
    write(
        f"profile: {'slow' if SLOW else 'default'}, up to {EXAMPLES_PER_OPERATION} generated examples per operation"
        f" (plus coverage cases); replay with FUNDING_FUZZ_SEED={FUZZ_SEED}"
    )
    total = 0
    for label, counts in sorted(TALLY.items()):
        statuses = {key: n for key, n in counts.items() if isinstance(key, int)}
        phases = ", ".join(f"{key} {n}" for key, n in sorted((k, n) for k, n in counts.items() if isinstance(k, str)))
        spread = ", ".join(f"{status}: {n}" for status, n in sorted(statuses.items()))
        total += sum(statuses.values())
        write(f"{label:52} {sum(statuses.values()):5} requests ({phases}; {spread})")
    write(f"{len(TALLY)} operations, {total} requests")
