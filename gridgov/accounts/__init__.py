"""Users, roles and jurisdictions."""
