"""Draw votes, concession, and what happens when a game ends (summary, released press)."""

from __future__ import annotations

from typing import Any


class VoteMixin:
    """``on_vote`` and :meth:`game_ended` for :class:`server.net.service.Service`."""

    def game_ended(self, room: Any) -> None:
        """Called once a game's end has committed (victory, draw, concession)."""
