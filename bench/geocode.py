"""Geocoding benchmark: point → unit grid at Beijing scale. See gridgov.benchmarks.geocode."""

from gridgov.benchmarks.geocode import main

if __name__ == "__main__":
    raise SystemExit(main())
