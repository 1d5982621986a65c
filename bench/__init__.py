"""Benchmarks, each reporting the ratio of its wall time to a theoretical bound.

Each module prints human-readable lines, then one JSON object (with a ``ratio`` key) as its last
line. Results and the commands that reproduce them are in BENCHMARKS.md.
"""
