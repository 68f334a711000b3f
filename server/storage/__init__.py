"""Durable storage (I/O): the SQLite schema, hashed secrets and the single-writer repository."""
