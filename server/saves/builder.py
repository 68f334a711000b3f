"""Build a save while a game is played (PURE): the API the server and self-play call::

    rec = new_save(ruleset, "g1", "Friday game", created=1_700_000_000)
    turn = step(ruleset, state, orders)
    rec.add_turn(ruleset, orders, turn, entered_by={"france": "host"})
    rec.add_event("pause", by="host", reason="holiday", time=1_700_100_000)
    data = rec.to_bytes()

For a server that appends to an open file, :class:`server.saves.format.SaveEncoder` writes
the same bytes frame by frame.
"""

from __future__ import annotations

from typing import Any, Iterable, Mapping, Sequence, Union

from ..engine import canonical
from ..engine.notation import format_order
from ..engine.orders import Order
from ..engine.outcome import OrderResult
from ..engine.ruleset import Ruleset
from ..engine.state import GameState, initial_state, phase_name
from ..engine.turn import Turn
from .format import check_plain, to_bytes
from .model import EVENT_KINDS, EventRecord, Header, OrderEntry, PhaseRecord, Record, Save

EnteredOrder = Union[str, tuple[str, str]]
"""An order as entered: its canonical text, or ``(text, entered_by)``."""


class GameRecord:
    """The records of one game, appended as it is played.

    Not a value: a builder. :meth:`to_save` gives the frozen :class:`Save`,
    :meth:`to_bytes` the file's bytes.
    """

    def __init__(self, header: Header, initial: GameState) -> None:
        self.header, self.initial = header, initial
        self._records: list[Record] = []

    @property
    def records(self) -> tuple[Record, ...]:
        return tuple(self._records)

    def add_phase(
        self,
        phase: str,
        orders_by_nation: Mapping[str, Sequence[EnteredOrder]],
        results: Sequence[OrderResult],
        state_digest: str,
    ) -> PhaseRecord:
        """Append an adjudicated phase.

        Args:
            phase: the phase id (``S1901M``).
            orders_by_nation: each nation's orders as entered, in the order given to
                ``step``: canonical text, or ``(text, entered_by)``.
            results: ``Turn.results`` of that step (nations in sorted order).
            state_digest: :func:`canonical.state_digest` of ``Turn.state``.

        Raises:
            ValueError: the results do not match the orders, or a text is not canonical.
        """
        nations = self.header.nation_ids
        unknown = sorted(set(orders_by_nation) - set(nations))
        if unknown:
            raise ValueError(f"{unknown[0]!r} is not a nation of game {self.header.game_id}")
        it = iter(results)
        entries: dict[str, tuple[OrderEntry, ...]] = {}
        for nation in sorted(orders_by_nation):
            out = []
            for item in orders_by_nation[nation]:
                text, by = (item, "") if isinstance(item, str) else item
                r = next(it, None)
                if r is None or r.nation != nation or format_order(r.order) != text:
                    got = "no result" if r is None else f"{r.nation} {format_order(r.order)!r}"
                    raise ValueError(f"{phase}: result for {nation} {text!r} expected, got {got}")
                out.append(OrderEntry(text, r.result, r.reason, by))
            if out:
                entries[nation] = tuple(out)
        if next(it, None) is not None:
            raise ValueError(f"{phase}: more results than orders")
        rec = PhaseRecord.build(phase, ((n, entries[n]) for n in nations if n in entries), state_digest)
        self._records.append(rec)
        return rec

    def add_turn(
        self,
        ruleset: Ruleset,
        orders: Mapping[str, Sequence[Order]],
        turn: Turn,
        entered_by: Mapping[str, str] | None = None,
    ) -> PhaseRecord:
        """Append the phase ``turn = step(ruleset, state, orders)`` adjudicated.

        ``entered_by`` names who entered each nation's orders when not its own player.
        """
        by = entered_by or {}
        texts = {n: [(format_order(o), by.get(n, "")) for o in os] for n, os in orders.items()}
        return self.add_phase(turn.phase, texts, turn.results, canonical.state_digest(turn.state))

    def add_event(
        self,
        event: str,
        by: str = "",
        reason: str = "",
        time: int | None = None,
        data: Mapping[str, Any] | None = None,
    ) -> EventRecord:
        """Append a logged event (press, pause, extend, rollback, replacement, board, note).

        Raises:
            ValueError: unknown kind, or ``data`` that is not plain (floats, bytes).
        """
        if event not in EVENT_KINDS:
            raise ValueError(f"unknown event kind {event!r}; known: {', '.join(EVENT_KINDS)}")
        payload = dict(data or {})
        check_plain(payload, "data")
        rec = EventRecord(event, by, reason, time, payload)
        self._records.append(rec)
        return rec

    def to_save(self) -> Save:
        return Save(self.header, self.initial, tuple(self._records))

    def to_bytes(self) -> bytes:
        return to_bytes(self.to_save())


def new_save(
    ruleset: Ruleset,
    game_id: str,
    title: str = "",
    *,
    players: Mapping[str, str | None] | None = None,
    settings: Mapping[str, Any] | None = None,
    created: int = 0,
    seed: int | None = None,
    ruleset_files: Mapping[str, str] | None = None,
    initial: GameState | None = None,
) -> GameRecord:
    """Start the record of a game.

    Args:
        ruleset: the scenario played.
        game_id: the game's id; ``title`` its display title.
        players: display names of the nations' players (every nation is listed; a missing
            one is unnamed).
        settings: plain data (deadlines, press rules, ...); no floats.
        created: creation time, integer UTC seconds.
        seed: the game's random seed, if it has one.
        ruleset_files: ``{file name: text}`` to embed the ruleset (so the save replays where
            it is not installed); ``None`` to rely on an installed ruleset with its digest.
        initial: the starting board (default: the scenario's).

    Raises:
        ValueError: a player for an unknown nation, or settings that are not plain.
    """
    names = dict(players or {})
    unknown = sorted(set(names) - set(ruleset.nation_ids))
    if unknown:
        raise ValueError(f"{unknown[0]!r} is not a nation of {ruleset.id}")
    plain_settings = dict(settings or {})
    check_plain(plain_settings, "settings")
    header = Header(
        game_id=game_id, title=title, ruleset_id=ruleset.id, ruleset_digest=ruleset.digest,
        nations=tuple((n, names.get(n)) for n in ruleset.nation_ids), created=int(created),
        seed=seed, settings=plain_settings,
        ruleset_files=None if ruleset_files is None else dict(ruleset_files),
    )
    return GameRecord(header, initial or initial_state(ruleset))


def record_game_from_turns(
    ruleset: Ruleset,
    played: Iterable[Any],
    game_id: str,
    title: str = "",
    **header: Any,
) -> Save:
    """A whole save from played phases: ``(state, orders, turn)`` tuples or objects with
    ``.state``, ``.orders`` and ``.turn`` (``server.selfplay.Played``).

    Keyword arguments go to :func:`new_save`; the initial state is the first phase's.
    """
    rec: GameRecord | None = None
    for item in played:
        state, orders, turn = (item.state, item.orders, item.turn) if hasattr(item, "turn") else item
        if rec is None:
            rec = new_save(ruleset, game_id, title, initial=state, **header)
        if turn.phase != phase_name(ruleset, state):
            raise ValueError(f"turn {turn.phase} was not played from a {phase_name(ruleset, state)} board")
        rec.add_turn(ruleset, orders, turn)
    if rec is None:
        rec = new_save(ruleset, game_id, title, **header)
    return rec.to_save()


__all__ = ["GameRecord", "EnteredOrder", "new_save", "record_game_from_turns"]
