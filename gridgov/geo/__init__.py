"""Geometry services: projections, the grid index, geocoding, grid division and topology checks.

This package imports no domain package above it.
"""
