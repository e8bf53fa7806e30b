"""Pledges: what organisations promise a funding round, and the keys that suggest how much."""
