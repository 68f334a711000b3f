"""Save files that replay whole games (see SAVES.md).

Pure: :mod:`.model` (the values), :mod:`.format` (bytes and the chain), :mod:`.verify`
(re-adjudication), :mod:`.builder` (recording a game as it is played), :mod:`.replay`
(boards, JSON export, CSV tables), :mod:`.mila` (importing MILA games).
I/O: :mod:`.files` (``save_game``, ``load_game``, ``verify_file``).
"""

from __future__ import annotations

from .builder import GameRecord, new_save, record_game_from_turns
from .format import SaveEncoder, parse, to_bytes
from .model import EventRecord, Header, OrderEntry, PhaseRecord, Problem, Save, SaveError
from .verify import VerifyReport, replay_steps, verify_bytes, verify_save

__all__ = [
    "GameRecord", "new_save", "record_game_from_turns", "SaveEncoder", "parse", "to_bytes",
    "EventRecord", "Header", "OrderEntry", "PhaseRecord", "Problem", "Save", "SaveError",
    "VerifyReport", "replay_steps", "verify_bytes", "verify_save",
]
