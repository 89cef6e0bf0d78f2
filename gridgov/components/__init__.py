"""City components (城市部件, CJ/T 214): inventory, 16-digit ids, state history, import."""
