"""Statistics over replayed games, with numpy (PURE).

Per game (:func:`game_stats`): supply centres and units per nation at the end of every
year, eliminations, the result (a solo or a draw among the survivors), and who supported
whom. Over many games (:func:`aggregate`): mean centres per nation per year, results,
eliminations and the summed support matrix.
"""

from __future__ import annotations

from collections import Counter
from typing import Any, Iterable, Sequence

import attrs
import numpy as np

from ..engine.adjustments import centre_counts
from ..engine.orders import Support
from ..engine.outcome import FAILS, SUCCEEDS
from ..engine.ruleset import Ruleset, province_of
from ..engine.state import GameState
from ..saves.model import PhaseRecord, Save
from ..saves.verify import replay_steps


@attrs.frozen(eq=False)
class GameStats:
    """One game's figures; array rows follow ``nations``, columns ``years``.

    ``supports[i, j]`` counts the supports nation ``i`` gave to units of nation ``j`` that
    were matched (the supported unit did what the support said, whether or not the support
    was cut); ``supports_ok`` only those that held.
    """

    game_id: str
    ruleset_id: str
    nations: tuple[str, ...]
    years: np.ndarray
    centres: np.ndarray
    units: np.ndarray
    eliminated: tuple[tuple[str, int], ...]
    winner: str | None
    survivors: tuple[str, ...]
    supports: np.ndarray
    supports_ok: np.ndarray
    phases: int

    @property
    def result(self) -> str:
        if self.winner:
            return f"solo {self.winner}"
        return f"draw {len(self.survivors)}-way"


def game_stats(ruleset: Ruleset, save: Save) -> GameStats:
    """Replay ``save`` (checking it as it goes) and gather its figures.

    Raises:
        SaveError: the save does not replay.
    """
    nations = ruleset.nation_ids
    idx = {n: k for k, n in enumerate(nations)}
    end_of_year: dict[int, GameState] = {}
    supports = np.zeros((len(nations), len(nations)), dtype=np.int64)
    supports_ok = np.zeros_like(supports)
    eliminated: list[tuple[str, int]] = []
    state = save.initial
    phases = 0
    for s in replay_steps(ruleset, save):
        if isinstance(s.record, PhaseRecord) and s.turn is not None:
            phases += 1
            owner = {u.province: u.nation for u in s.before.units}
            for r in s.turn.results:
                o = r.order
                if isinstance(o, Support) and r.result in (SUCCEEDS, FAILS):
                    target = owner.get(province_of(o.target))
                    if target is not None:
                        supports[idx[r.nation], idx[target]] += 1
                        if r.result == SUCCEEDS:
                            supports_ok[idx[r.nation], idx[target]] += 1
        end_of_year[s.before.year] = s.after
        state = s.after
    first = save.initial.year
    last = max(end_of_year) if end_of_year else first
    years = np.arange(first, last + 1, dtype=np.int64)
    centres = np.zeros((len(nations), len(years)), dtype=np.int64)
    units = np.zeros_like(centres)
    current = save.initial
    for col, y in enumerate(years):
        current = end_of_year.get(int(y), current)
        counts = centre_counts(ruleset, current.centres)
        centres[:, col] = [counts[n] for n in nations]
        per = Counter(u.nation for u in current.units)
        units[:, col] = [per[n] for n in nations]
    # eliminated: no centre and no unit at the end of a year, having had some before
    present = (centres > 0) | (units > 0)
    for k, n in enumerate(nations):
        gone = np.flatnonzero(~present[k])
        if len(gone) and (gone[0] > 0 or _had_any(save.initial, n)):
            eliminated.append((n, int(years[gone[0]])))
    eliminated.sort(key=lambda e: (e[1], e[0]))
    final_counts = centre_counts(ruleset, state.centres)
    alive = {u.nation for u in state.units}
    survivors = tuple(n for n in nations if final_counts[n] > 0 or n in alive)
    return GameStats(save.header.game_id, ruleset.id, nations, years, centres, units,
                     tuple(eliminated), state.winner, survivors, supports, supports_ok, phases)


def _had_any(state: GameState, nation: str) -> bool:
    return any(u.nation == nation for u in state.units) or any(o == nation for _, o in state.centres)


@attrs.frozen(eq=False)
class Aggregate:
    """Figures over many games of one ruleset; ``mean_centres`` is NaN past a game's end."""

    ruleset_id: str
    nations: tuple[str, ...]
    games: int
    years: np.ndarray
    mean_centres: np.ndarray
    mean_units: np.ndarray
    solos: dict[str, int]
    draws: int
    eliminations: dict[str, int]
    supports: np.ndarray
    phases: int


def aggregate(stats: Sequence[GameStats]) -> Aggregate:
    """Combine games of one ruleset (the year axis is the union of their years).

    Raises:
        ValueError: no games, or games of different rulesets.
    """
    if not stats:
        raise ValueError("no games to aggregate")
    rulesets = {s.ruleset_id for s in stats}
    if len(rulesets) > 1:
        raise ValueError(f"games of several rulesets: {', '.join(sorted(rulesets))}")
    nations = stats[0].nations
    y0 = min(int(s.years[0]) for s in stats)
    y1 = max(int(s.years[-1]) for s in stats)
    years = np.arange(y0, y1 + 1, dtype=np.int64)
    stack_c = np.full((len(stats), len(nations), len(years)), np.nan)
    stack_u = np.full_like(stack_c, np.nan)
    for k, s in enumerate(stats):
        a = int(s.years[0]) - y0
        stack_c[k, :, a:a + len(s.years)] = s.centres
        stack_u[k, :, a:a + len(s.years)] = s.units
    with np.errstate(invalid="ignore"):
        counted = (~np.isnan(stack_c)).sum(axis=0)
        mean_c = np.where(counted > 0, np.nansum(stack_c, axis=0) / np.maximum(counted, 1), np.nan)
        mean_u = np.where(counted > 0, np.nansum(stack_u, axis=0) / np.maximum(counted, 1), np.nan)
    solos = Counter(s.winner for s in stats if s.winner)
    elim = Counter(n for s in stats for n, _ in s.eliminated)
    return Aggregate(
        stats[0].ruleset_id, nations, len(stats), years, mean_c, mean_u,
        {n: solos[n] for n in nations}, sum(1 for s in stats if not s.winner),
        {n: elim[n] for n in nations}, np.sum([s.supports for s in stats], axis=0), sum(s.phases for s in stats),
    )


# --- text and plain forms ------------------------------------------------------------------


def _table(row_names: Sequence[str], col_names: Sequence[str], values: np.ndarray, fmt: str = "{:>5d}") -> list[str]:
    width = max(len(n) for n in row_names)
    head = " " * width + "".join(f"{c:>6}" for c in col_names)
    lines = [head]
    for name, row in zip(row_names, values):
        cells = []
        for v in row:
            if isinstance(v, float) and np.isnan(v):
                cells.append(f"{'-':>6}")
            else:
                cells.append(" " + fmt.format(v))
        lines.append(f"{name:<{width}}" + "".join(cells))
    return lines


def game_text(s: GameStats) -> str:
    """One game's figures as terminal text."""
    years = [str(int(y)) for y in s.years]
    lines = [f"{s.game_id} ({s.ruleset_id}): {len(years)} years {years[0]}-{years[-1]}, "
             f"{s.phases} phases; result: {s.result}"
             + ("" if s.winner else f" ({', '.join(s.survivors)})")]
    lines.append("supply centres at the end of each year")
    lines += _table(s.nations, years, s.centres)
    lines.append("units at the end of each year")
    lines += _table(s.nations, years, s.units)
    elim = ", ".join(f"{n} {y}" for n, y in s.eliminated) or "none"
    lines.append(f"eliminated: {elim}")
    lines.append("supports (row nation supported column nation's units; matched supports)")
    short = [n[:5] for n in s.nations]
    lines += _table(s.nations, short, s.supports)
    return "\n".join(lines)


def aggregate_text(a: Aggregate) -> str:
    """Figures over many games as terminal text."""
    years = [str(int(y)) for y in a.years]
    solos = ", ".join(f"{n} {c}" for n, c in a.solos.items() if c) or "none"
    lines = [f"{a.games} games ({a.ruleset_id}), {a.phases} phases, years {years[0]}-{years[-1]}",
             f"results: {a.draws} draws; solos: {solos}",
             "eliminations: " + (", ".join(f"{n} {c}" for n, c in a.eliminations.items() if c) or "none"),
             "survival (share of games a nation is still in at the end): "
             + ", ".join(f"{n} {100 * (a.games - a.eliminations.get(n, 0)) / max(1, a.games):.1f}%" for n in a.nations),
             "mean supply centres at the end of each year"]
    lines += _table(a.nations, years, a.mean_centres, "{:>5.1f}")
    lines.append("supports over all games (row nation supported column nation's units)")
    lines += _table(a.nations, [n[:5] for n in a.nations], a.supports)
    return "\n".join(lines)


def game_plain(s: GameStats) -> dict[str, Any]:
    """JSON-ready form of :class:`GameStats`."""
    return {
        "game": s.game_id, "ruleset": s.ruleset_id, "nations": list(s.nations),
        "years": s.years.tolist(), "phases": s.phases,
        "centres": {n: s.centres[k].tolist() for k, n in enumerate(s.nations)},
        "units": {n: s.units[k].tolist() for k, n in enumerate(s.nations)},
        "eliminated": [{"nation": n, "year": y} for n, y in s.eliminated],
        "result": s.result, "winner": s.winner, "survivors": list(s.survivors),
        "supports": s.supports.tolist(), "supports_held": s.supports_ok.tolist(),
    }


def aggregate_plain(a: Aggregate) -> dict[str, Any]:
    """JSON-ready form of :class:`Aggregate` (NaN as null)."""
    def clean(row: np.ndarray) -> list[float | None]:
        return [None if np.isnan(v) else round(float(v), 3) for v in row]
    return {
        "ruleset": a.ruleset_id, "games": a.games, "phases": a.phases, "nations": list(a.nations),
        "years": a.years.tolist(),
        "mean_centres": {n: clean(a.mean_centres[k]) for k, n in enumerate(a.nations)},
        "mean_units": {n: clean(a.mean_units[k]) for k, n in enumerate(a.nations)},
        "solos": a.solos, "draws": a.draws, "eliminations": a.eliminations,
        "supports": a.supports.tolist(),
    }


def centre_series(items: Iterable[GameStats] | Aggregate) -> tuple[tuple[str, ...], np.ndarray, np.ndarray]:
    """``(nations, years, centres[nation, year])`` to plot: one game, or the mean of many."""
    if isinstance(items, Aggregate):
        return items.nations, items.years, items.mean_centres
    games = list(items)
    if len(games) == 1:
        g = games[0]
        return g.nations, g.years, g.centres.astype(float)
    a = aggregate(games)
    return a.nations, a.years, a.mean_centres


__all__ = [
    "GameStats", "game_stats", "Aggregate", "aggregate", "game_text", "aggregate_text",
    "game_plain", "aggregate_plain", "centre_series",
]
