"""Kessen: a turn-based grand-strategy game server built around a pure adjudicator."""

__version__ = "0.1.0"
