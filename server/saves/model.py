"""The content of a save file as frozen values, and the problems found in one.

A save is a :class:`Header`, the initial :class:`~server.engine.state.GameState` and a
sequence of records: :class:`PhaseRecord` (one adjudicated phase: the orders as canonical
text with who entered them, their outcomes, the digest of the resulting state) and
:class:`EventRecord` (what the server logs: press released for publication, host actions).
How these values become file bytes is :mod:`server.saves.format`'s business (a phase
record keeps its orders packed in memory, see :class:`PhaseRecord`).

Errors::

    KessenError
     +-- SaveError (ValueError)     a save is unreadable, altered or does not replay; carries
                                    the Problem naming the record index (or header field)
     +-- MilaError (ValueError)     a MILA game cannot be imported (server.saves.mila);
                                    names the game id and phase

(``server.saves.entries.Bad`` is internal: a plain form that does not fit the schema; the
readers turn it into a Problem.)
"""

from __future__ import annotations

import sys
from typing import Any, Iterable, Mapping, Union

import attrs
import msgpack

from .. import __version__
from ..engine.errors import KessenError
from ..engine.outcome import Reason
from ..engine.state import GameState
from .entries import entry_plain, entry_values

FORMAT_VERSION = 1
ENGINE_VERSION = __version__

# Event kinds the server logs. Only "rollback" and "board" change the board on replay.
PRESS, PAUSE, RESUME, EXTEND, ROLLBACK, REPLACEMENT, BOARD, NOTE = (
    "press", "pause", "resume", "extend", "rollback", "replacement", "board", "note",
)
EVENT_KINDS = (PRESS, PAUSE, RESUME, EXTEND, ROLLBACK, REPLACEMENT, BOARD, NOTE)


@attrs.frozen
class Problem:
    """One thing wrong with a save, located by record index or header field.

    ``where`` is ``"file"``, ``"magic"``, ``"header"``, ``"initial state"``, ``"record"`` or
    ``"trailer"``; ``index`` is the record index (records count from 0 after the initial
    state); ``field`` names a header field; ``phase`` the phase of the record when known.

    >>> str(Problem("record", "chain mismatch", index=17, phase="F1903M"))
    'record 17 (phase F1903M): chain mismatch'
    >>> str(Problem("header", "version 2 is newer than this Kessen reads (1)", field="format"))
    "header field 'format': version 2 is newer than this Kessen reads (1)"
    """

    where: str
    message: str
    index: int | None = None
    phase: str | None = None
    field: str | None = None

    @property
    def location(self) -> str:
        if self.where == "record":
            text = f"record {self.index}"
            return f"{text} (phase {self.phase})" if self.phase else text
        if self.where == "header" and self.field:
            return f"header field {self.field!r}"
        return self.where

    def __str__(self) -> str:
        return f"{self.location}: {self.message}"


class SaveError(KessenError, ValueError):
    """A save file is unreadable, altered, or does not replay; ``problem`` locates it."""

    def __init__(self, problem: Problem) -> None:
        self.problem = problem
        super().__init__(str(problem))


@attrs.frozen
class Header:
    """What a save says about its game before the first phase.

    ``nations`` pairs each nation id with its player's display name (``None`` if unnamed);
    ``ruleset_files`` holds the embedded ruleset (``{file name: text}``) or ``None`` when
    the save relies on an installed ruleset with digest ``ruleset_digest``. ``settings`` is
    plain data (strings, integers, booleans, lists, string-keyed maps; no floats).
    ``created`` is integer UTC seconds.
    """

    game_id: str
    title: str
    ruleset_id: str
    ruleset_digest: str
    nations: tuple[tuple[str, str | None], ...]
    created: int
    seed: int | None = None
    settings: Mapping[str, Any] = attrs.field(factory=dict)
    ruleset_files: Mapping[str, str] | None = None
    engine: str = ENGINE_VERSION
    format: int = FORMAT_VERSION

    @property
    def nation_ids(self) -> tuple[str, ...]:
        return tuple(n for n, _ in self.nations)


@attrs.frozen
class OrderEntry:
    """One order as entered and as adjudicated: ``OrderEntry("A par - bur", "succeeds")``.

    ``by`` names who entered it; ``""`` means the nation's own player.
    """

    text: str
    result: str
    reason: Reason | None = None
    by: str = ""


@attrs.frozen(repr=False)
class PhaseRecord:
    """One adjudicated phase.

    ``orders`` pairs each nation that gave orders (header order) with its entries in the
    order entered; ``digest`` is the hex SHA-256 of the canonical state after the phase
    (:func:`server.engine.canonical.state_digest`). Build one with :meth:`build`.

    In memory the orders are kept packed: ``packed`` is the msgpack of
    ``[[nation, [stored entry, ...]], ...]`` (entries in the stored form of
    :mod:`server.saves.entries`), decoded on access. A game held in memory is then a few
    dozen small objects, not thousands; equal records have equal bytes.
    """

    phase: str
    packed: bytes
    digest: str
    kind = "phase"

    @classmethod
    def build(cls, phase: str, orders: Iterable[tuple[str, Iterable[OrderEntry]]], digest: str) -> PhaseRecord:
        """``PhaseRecord.build("S1901M", [("france", [OrderEntry(...)])], digest)``; nations
        without entries are left out.

        Raises:
            ValueError: an unknown result, or text fields that are not text.
        """
        plain = []
        for nation, entries in orders:
            lst = [entry_plain(e.text, e.result, e.reason, e.by) for e in entries]
            if lst:
                plain.append([nation, lst])
        return cls(sys.intern(phase), msgpack.packb(plain, use_bin_type=True), digest)

    def entries_plain(self) -> tuple[tuple[str, tuple[tuple[Any, ...], ...]], ...]:
        """The orders in stored form: ``((nation, ((text, result code, ...), ...)), ...)``."""
        return msgpack.unpackb(self.packed, raw=False, use_list=False)  # type: ignore[no-any-return]

    @property
    def orders(self) -> tuple[tuple[str, tuple[OrderEntry, ...]], ...]:
        return tuple((n, tuple(OrderEntry(*entry_values(e, "orders")) for e in lst))
                     for n, lst in self.entries_plain())

    def orders_of(self, nation: str) -> tuple[OrderEntry, ...]:
        for n, entries in self.orders:
            if n == nation:
                return entries
        return ()

    @property
    def order_count(self) -> int:
        return sum(len(e) for _, e in self.entries_plain())

    def __repr__(self) -> str:
        return f"PhaseRecord.build({self.phase!r}, {self.orders!r}, {self.digest!r})"


@attrs.frozen
class EventRecord:
    """Something the server logged: ``EventRecord("pause", by="host", reason="holiday")``.

    ``data`` holds the kind's details as plain data: press ``{"from", "to", "text",
    "phase"}``; extend ``{"seconds"}``; replacement ``{"nation", "old", "new"}``; rollback
    ``{"to": phase id}`` (replay returns to the board at the start of the latest recorded
    phase with that id); board ``{"state": plain state}`` (replay continues from that board:
    a host's correction, or an import where the source engine adjudicated differently).
    ``time`` is integer UTC seconds when known.
    """

    event: str
    by: str = ""
    reason: str = ""
    time: int | None = None
    data: Mapping[str, Any] = attrs.field(factory=dict)
    kind = "event"


Record = Union[PhaseRecord, EventRecord]


@attrs.frozen
class Save:
    """A whole game: header, initial board and records in order."""

    header: Header
    initial: GameState
    records: tuple[Record, ...]

    @property
    def phases(self) -> tuple[PhaseRecord, ...]:
        return tuple(r for r in self.records if isinstance(r, PhaseRecord))

    @property
    def phase_count(self) -> int:
        return sum(1 for r in self.records if isinstance(r, PhaseRecord))


__all__ = [
    "FORMAT_VERSION", "ENGINE_VERSION", "EVENT_KINDS", "Problem", "SaveError", "Header",
    "OrderEntry", "PhaseRecord", "EventRecord", "Record", "Save",
    "PRESS", "PAUSE", "RESUME", "EXTEND", "ROLLBACK", "REPLACEMENT", "BOARD", "NOTE",
]
