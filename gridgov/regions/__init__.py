"""Administrative units (city → district → street → community) and versioned unit grids."""
