"""Patrol (巡查): supervisors' GPS tracks, live positions and grid coverage (DESIGN §3.7)."""
