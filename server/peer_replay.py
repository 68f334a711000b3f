"""Replay the peer engine's recorded games (workload R20x20) and explain every difference.

Pure: takes parsed trace games (see tests/data/ref_trace_w20x20.jsonl.gz) and a ruleset.
Each phase's recorded orders are adjudicated under the project's rules (DATC 3.0). When the
board differs from the peer's, the phase is adjudicated again with the ``peer-compat``
edition, whose options are the peer's older DATC choices; if that reproduces the peer's
board, the difference is explained by those named choices (DATC 6.G.8: an army ordered
"via convoy" with no convoy ordered moves over land in the peer, fails in DATC 3.0).
Replay then continues from the peer's board so later phases are compared like for like.
"""

from __future__ import annotations

from typing import Any, Iterable

import attrs

from .engine.notation import parse_order
from .engine.rules import make_options
from .engine.ruleset import Ruleset
from .engine.state import Dislodged, GameState, Unit, initial_state, phase_name
from .engine.turn import step
from .selfplay import board_snapshot

EXPLANATION = "DATC 6.G.8: 'via convoy' with no convoy ordered moves over land in the peer; DATC 3.0: the move fails"


@attrs.frozen
class Difference:
    game: int
    phase: str
    explained: bool
    reason: str


@attrs.frozen
class ReplayReport:
    phases: int
    matching: int
    differences: tuple[Difference, ...]

    @property
    def unexplained(self) -> tuple[Difference, ...]:
        return tuple(d for d in self.differences if not d.explained)


def replay_trace(ruleset: Ruleset, games: Iterable[dict[str, Any]]) -> ReplayReport:
    """Replay every game; count phases whose board matches the peer's."""
    compat = attrs.evolve(ruleset, options=make_options("peer-compat", {}))
    phases = matching = 0
    diffs: list[Difference] = []
    for gi, game in enumerate(games):
        state = initial_state(ruleset)
        for ph in game["phases"]:
            name = phase_name(ruleset, state)
            if name != ph["phase"]:
                diffs.append(Difference(gi, ph["phase"], False, f"phase sequence differs: expected {ph['phase']}, engine is at {name}"))
                break
            orders = {p.lower(): [parse_order(t, ruleset) for t in ts] for p, ts in ph["orders"].items()}
            turn = step(ruleset, state, orders)
            phases += 1
            if board_snapshot(ruleset, turn.state) == ph["after"]:
                matching += 1
                state = turn.state
                continue
            again = step(compat, state, orders)
            if board_snapshot(ruleset, again.state) == ph["after"]:
                diffs.append(Difference(gi, ph["phase"], True, EXPLANATION))
                state = again.state
            else:
                diffs.append(Difference(gi, ph["phase"], False, "board differs from the peer's"))
                state = _state_from_board(ph["after"], again.state)
    return ReplayReport(phases, matching, tuple(diffs))


def _state_from_board(after: dict[str, Any], ours: GameState) -> GameState:
    known = {d.unit.loc: d for d in ours.dislodged}
    units, dislodged, centres = [], [], []
    for power, board in after.items():
        n = power.lower()
        for text in board["units"]:
            kind, loc = text.split()
            units.append(Unit(n, kind, loc.lower()))
        for text in board["dislodged"]:
            kind, loc = text.split()
            d = known.get(loc.lower())
            dislodged.append(Dislodged(Unit(n, kind, loc.lower()), d.attacker_from if d else "", d.convoyed if d else False))
        centres.extend((c.lower(), n) for c in board["centers"])
    return GameState.build(ours.year, ours.season, ours.phase, units, centres, dislodged, ours.standoffs)
