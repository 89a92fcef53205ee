"""Benchmarks: scripts that measure and print, run by hand or with `make bench` (never part of the tests)."""
