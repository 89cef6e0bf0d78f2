"""gridgov: open-source grid governance platform (网格化城市治理平台)."""

__version__ = "0.1.0"
