"""Kessen terminal client (to come: issue 7)."""
