"""Analysis over replayed games: :mod:`.stats` (PURE, numpy); :mod:`.plot` (I/O, matplotlib)."""
