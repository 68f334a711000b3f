"""Kessen terminal client, ``kessen-client`` (see PROTOCOL.md for the wire protocol).

``connection`` (I/O: one websocket, requests by id, pushes per game), ``config`` (the
per-user config file), ``app`` (I/O: the sub-commands), ``interactive`` (I/O: the shell);
``commands`` and ``view`` are PURE and reuse :mod:`server.engine.notation`.
"""
