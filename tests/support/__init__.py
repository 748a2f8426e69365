"""Helpers the tests share: real Redis, the vendors' specs, servers on free ports, polling."""
