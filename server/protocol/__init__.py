"""The wire protocol (PURE): frame codec with limits, the message table, the per-connection
session state machine and game settings. No sockets, no clock, no database: see PROTOCOL.md.
"""
