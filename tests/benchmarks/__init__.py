"""Benchmarks, run on their own (`python -m tests.benchmarks.ledger_pages`); pytest skips this folder."""
