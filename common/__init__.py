"""Neutral building blocks every package may import: errors, secrets, column types, dates."""
