"""Intake benchmark: case creation via the HTTP API and a Beijing-scale day. See
gridgov.benchmarks.intake."""

from gridgov.benchmarks.intake import main

if __name__ == "__main__":
    raise SystemExit(main())
