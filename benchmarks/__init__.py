"""Benchmarks for lexer-activity: ``python benchmarks/run.py [--quick] [--json PATH]``."""
