"""Cheap argon2 parameters for the tests: the hashes are real, only less costly to make."""

import pytest
from argon2 import PasswordHasher

from funding.accounts import service


@pytest.fixture(autouse=True)
def cheap_hashes(monkeypatch):
    monkeypatch.setattr(service, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
