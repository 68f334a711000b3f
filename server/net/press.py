"""Press: private, broadcast and host messages under each game's press policy."""

from __future__ import annotations


class PressMixin:
    """``on_press``, ``on_inbox`` for :class:`server.net.service.Service`."""
