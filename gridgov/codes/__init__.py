"""Standard codes: administrative divisions (GB/T 2260, statistics codes), unit grids (CJ/T 213)."""
