"""Fakes of outside services, run as real local HTTP servers (never a fake database)."""
