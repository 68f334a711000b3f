"""Protocol errors: one class, a code from a closed list, a human message, the offending field.

::

    KessenError
     +-- ProtocolError (ValueError)   a frame or request is refused; ``code``, ``message``,
                                      ``field`` are sent to the client as an ``error`` reply

Clients branch on ``code``; ``message`` is for people; ``field`` names the offending field
(``"phase"``, ``"settings.deadlines.movement"``) or is ``None``. Never a stack trace.
"""

from __future__ import annotations

from typing import Any

from ..engine.errors import KessenError

CODES: dict[str, str] = {
    "bad_frame": "the frame is not one msgpack map within the limits (size, depth, lengths)",
    "bad_message": "a field is missing, unknown or of the wrong type",
    "unknown_type": "no message of that type",
    "unsupported_version": "no protocol version in common",
    "auth_required": "the first message must be a hello that authenticates",
    "auth_failed": "the token or invite code is not valid",
    "auth_timeout": "no hello within the time allowed",
    "forbidden": "your role or seat does not allow this request",
    "not_found": "no such game, nation or ruleset",
    "name_taken": "that user name is taken",
    "nation_taken": "that nation already has a player",
    "already_seated": "you already play a nation in this game",
    "not_seated": "you play no nation in this game",
    "not_started": "the game has not started yet",
    "game_over": "the game has ended",
    "quarantined": "the game is quarantined after an adjudication error",
    "stale_phase": "the request names a phase that is not the game's current phase",
    "nothing_to_do": "your nation has no orders to give this phase",
    "press_refused": "the game's press rules do not allow that message (the message names the rule)",
    "bad_state": "the game is not in a state that allows this (not paused, nothing to roll back, not in civil disorder)",
    "over_limit": "a bound the host set is exceeded (extensions per phase, absence length)",
    "bad_settings": "the game settings are invalid",
    "overloaded": "the server is shutting down or the connection is too slow",
    "rate_limited": "more requests than the connection's rate limit allows; slow down",
    "internal": "the server failed; the request was not applied",
}


class ProtocolError(KessenError, ValueError):
    """A refused frame or request: ``ProtocolError("stale_phase", "game is at F1901M", "phase")``."""

    def __init__(self, code: str, message: str, field: str | None = None) -> None:
        if code not in CODES:
            raise AssertionError(f"unknown protocol error code {code!r}")
        self.code, self.message, self.field = code, message, field
        self.re: int | None = None  # the request id, when the frame had a usable one
        super().__init__(f"{code}: {message}" + (f" (field {field!r})" if field else ""))

    def reply(self, re: int | None) -> dict[str, Any]:
        """The ``error`` message sent back for the request with id ``re``."""
        return {"type": "error", "re": re, "code": self.code, "message": self.message, "field": self.field}


__all__ = ["CODES", "ProtocolError"]
