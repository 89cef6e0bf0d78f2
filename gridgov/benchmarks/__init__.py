"""Benchmarks run by the scripts in ``bench/``; each module has a ``main(argv) -> int``."""
