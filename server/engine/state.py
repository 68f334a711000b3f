"""The game state: a frozen value, changed only by building a new one.

Collections are tuples sorted by a stable key, so two equal states are equal field by
field and encode to the same canonical bytes (see ``canonical.py``).
"""

from __future__ import annotations

from typing import Iterable, Mapping

from operator import itemgetter

import attrs

from .errors import StateError
from .ruleset import Ruleset, province_of

PHASE_LETTER = {"movement": "M", "retreat": "R", "adjustment": "A"}
LETTER_PHASE = {v: k for k, v in PHASE_LETTER.items()}


class Unit(tuple):  # type: ignore[type-arg]
    """A unit on the board: ``Unit("france", "A", "par")``; fleets on split coasts name it.

    An immutable tuple ``(nation, kind, loc, province)`` (the adjudicator builds many per
    second); ``province`` is derived from ``loc``. Units order by nation, kind, location.
    """

    __slots__ = ()

    def __new__(cls, nation: str, kind: str, loc: str) -> Unit:
        i = loc.find("/")
        return tuple.__new__(cls, (nation, kind, loc, loc if i < 0 else loc[:i]))

    def __getnewargs__(self) -> tuple[str, str, str]:
        return (self[0], self[1], self[2])

    nation = property(itemgetter(0), doc="the owning nation")
    kind = property(itemgetter(1), doc='"A" (army) or "F" (fleet)')
    loc = property(itemgetter(2), doc="location, with coast for a fleet on a split coast")
    province = property(itemgetter(3), doc="the province of ``loc``")

    def __repr__(self) -> str:
        return f"Unit({self[0]!r}, {self[1]!r}, {self[2]!r})"

    def __str__(self) -> str:
        return f"{self[0]} {self[1]} {self[2]}"


@attrs.frozen(order=True)
class Dislodged:
    """A unit dislodged in the movement phase, waiting to retreat.

    ``attacker_from`` is the province the dislodging unit came from; ``convoyed`` tells
    whether it came by convoy (the 2023 rules then allow a retreat to that province).
    """

    unit: Unit
    attacker_from: str
    convoyed: bool = False


@attrs.frozen
class GameState:
    """The board at the start of a phase.

    ``centres`` pairs each owned supply centre with its owner; ``standoffs`` lists
    provinces left empty by a bounce in the preceding movement phase (retreat phases only).
    ``winner`` is set once a nation reaches the victory target.
    """

    year: int
    season: str
    phase: str
    units: tuple[Unit, ...]
    centres: tuple[tuple[str, str], ...]
    dislodged: tuple[Dislodged, ...] = ()
    standoffs: tuple[str, ...] = ()
    winner: str | None = None

    @classmethod
    def build(
        cls,
        year: int,
        season: str,
        phase: str,
        units: Iterable[Unit],
        centres: Mapping[str, str] | Iterable[tuple[str, str]],
        dislodged: Iterable[Dislodged] = (),
        standoffs: Iterable[str] = (),
        winner: str | None = None,
    ) -> GameState:
        """Named constructor that sorts every collection into canonical order."""
        items = centres.items() if isinstance(centres, Mapping) else centres
        return cls(
            year, season, phase,
            tuple(sorted(units, key=lambda u: u.loc)),
            tuple(sorted(items)),
            tuple(sorted(dislodged, key=lambda d: d.unit.loc)),
            tuple(sorted(set(standoffs))),
            winner,
        )

    def unit_at(self, province: str) -> Unit | None:
        """The unit standing in ``province`` (any coast), if any."""
        for u in self.units:
            if u.province == province:
                return u
        return None

    def owners(self) -> dict[str, str]:
        """``{centre: nation}`` for owned centres."""
        return dict(self.centres)

    def centre_counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for _, n in self.centres:
            counts[n] = counts.get(n, 0) + 1
        return counts


def phase_name(ruleset: Ruleset, state: GameState) -> str:
    """Short phase id: ``S1901M``; ``F1901R``; ``W1901A``."""
    return f"{ruleset.season(state.season).letter}{state.year}{PHASE_LETTER[state.phase]}"


def parse_phase(ruleset: Ruleset, text: str) -> tuple[int, str, str]:
    """``"S1901M"`` -> ``(1901, "spring", "movement")``.

    Raises:
        ValueError: the text is not a phase of this ruleset's calendar.
    """
    t = text.strip().upper()
    if len(t) < 3 or t[-1] not in LETTER_PHASE or not t[1:-1].isdigit():
        raise ValueError(f"phase {text!r} is not like S1901M")
    for s in ruleset.seasons:
        if s.letter == t[0]:
            kind = LETTER_PHASE[t[-1]]
            if kind not in s.phases:
                raise ValueError(f"season {s.id} has no {kind} phase")
            return int(t[1:-1]), s.id, kind
    raise ValueError(f"no season with letter {t[0]!r} in {ruleset.id}")


def initial_state(ruleset: Ruleset) -> GameState:
    """The scenario's starting board."""
    season = ruleset.season(ruleset.start_season)
    return GameState.build(
        ruleset.start_year, season.id, season.phases[0],
        (Unit(n, k, loc) for n, k, loc in ruleset.start_units),
        ruleset.start_centres,
    )


def check_state(ruleset: Ruleset, state: GameState) -> None:
    """Raise StateError if the state does not fit the ruleset."""
    seen: set[str] = set()
    for u in state.units:
        prov = province_of(u.loc)
        if u.nation not in ruleset.nation_ids:
            raise StateError(f"unit {u}: unknown nation {u.nation!r}")
        if prov not in ruleset.provinces:
            raise StateError(f"unit {u}: unknown province {prov!r}")
        if u.kind == "A" and u.loc not in ruleset.army_adj:
            raise StateError(f"unit {u}: an army cannot stand on {u.loc}")
        if u.kind == "F" and u.loc not in ruleset.fleet_adj:
            raise StateError(f"unit {u}: a fleet cannot stand on {u.loc}")
        if prov in seen:
            raise StateError(f"two units in {prov}")
        seen.add(prov)
    for c, n in state.centres:
        if c not in ruleset.centres:
            raise StateError(f"{c} is not a supply centre")
        if n not in ruleset.nation_ids:
            raise StateError(f"centre {c}: unknown nation {n!r}")
