"""Registry of buildings, houses, households, persons and organisations (人地事物组织)."""
