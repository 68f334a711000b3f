"""Load and validate a ruleset folder (``scenario.toml`` + ``map.toml``), see RULESETS.md.

The loader is the only place that reads ruleset files; :func:`parse_ruleset` takes their
text, so the engine itself stays free of I/O. Every error is a :class:`RulesetError` that
names the file, the entry and the fix.
"""

from __future__ import annotations

import hashlib
import re
import tomllib
from typing import Any, Mapping

import attrs

from .errors import RulesetError
from .rules import RuleOptions, make_options

TERRAINS = ("land", "coast", "sea")
PHASE_KINDS = ("movement", "retreat", "adjustment")
_ID = re.compile(r"^[a-z][a-z0-9_-]*$")
_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")


@attrs.frozen
class Nation:
    """A playable nation."""

    id: str
    name: str
    adjective: str
    colour: str


@attrs.frozen
class Province:
    """A space on the map. ``coasts`` is empty unless the coast is split (``stp``)."""

    id: str
    name: str
    terrain: str
    centre: bool = False
    home: str | None = None
    aliases: tuple[str, ...] = ()
    coasts: tuple[str, ...] = ()
    anchor: tuple[float, float] = (0.0, 0.0)

    @property
    def is_sea(self) -> bool:
        return self.terrain == "sea"


@attrs.frozen
class Season:
    """One season of the calendar and the phases it holds, in order."""

    id: str
    letter: str
    name: str
    phases: tuple[str, ...]
    ownership: bool = False


@attrs.frozen
class Railway:
    """A rail network: ``links`` between land provinces (a line or a graph).

    ``users`` is a tuple of nation ids, or ``("controllers",)``: whoever controls every
    province on the route. ``capacity``: rail moves per nation per phase on this network.
    """

    id: str
    name: str
    aliases: tuple[str, ...]
    links: tuple[tuple[str, str], ...]
    users: tuple[str, ...]
    capacity: int
    line: tuple[str, ...] = ()  # the stations in order when the network is a line

    @property
    def stations(self) -> frozenset[str]:
        return frozenset(p for link in self.links for p in link)

    def route(self, origin: str, dest: str) -> tuple[str, ...]:
        """Provinces from ``origin`` to ``dest`` along the network (both included), or ``()``.

        A line is followed in order; a graph takes the shortest route, ties broken by
        province id so the choice is deterministic.
        """
        if origin == dest:
            return ()
        adj: dict[str, list[str]] = {}
        for a, b in self.links:
            adj.setdefault(a, []).append(b)
            adj.setdefault(b, []).append(a)
        if origin not in adj or dest not in adj:
            return ()
        prev: dict[str, str] = {origin: ""}
        frontier = [origin]
        while frontier and dest not in prev:
            nxt = []
            for p in frontier:
                for n in sorted(adj[p]):
                    if n not in prev:
                        prev[n] = p
                        nxt.append(n)
            frontier = nxt
        if dest not in prev:
            return ()
        path = [dest]
        while path[-1] != origin:
            path.append(prev[path[-1]])
        return tuple(reversed(path))


@attrs.frozen
class Canal:
    """A canal province joining two seas for fleets, with its holder's permission."""

    province: str
    name: str
    joins: tuple[str, str]


@attrs.frozen(eq=False)
class Ruleset:
    """A validated scenario: nations, map, calendar, start and rule options.

    Lookup tables are built once here so the adjudicator only reads dicts.
    Locations are province ids, or ``prov/coast`` for a fleet on a split coast.
    """

    id: str
    name: str
    description: str
    digest: str
    nations: tuple[Nation, ...]
    provinces: Mapping[str, Province]
    army_adj: Mapping[str, frozenset[str]]
    fleet_adj: Mapping[str, frozenset[str]]
    seasons: tuple[Season, ...]
    victory_centres: int
    start_year: int
    start_season: str
    start_units: tuple[tuple[str, str, str], ...]  # (nation, "A"|"F", location)
    start_centres: tuple[tuple[str, str], ...]  # (province, nation)
    options: RuleOptions
    impassable: Mapping[str, tuple[str, tuple[float, float]]] = attrs.field(factory=dict)
    extra: Mapping[str, Any] = attrs.field(factory=dict)
    railways: tuple[Railway, ...] = ()
    canals: tuple[Canal, ...] = ()
    frozen: Mapping[str, frozenset[str]] = attrs.field(factory=dict)  # season -> provinces
    fortresses: Mapping[str, int] = attrs.field(factory=dict)  # province -> extra defence
    offmap: frozenset[str] = frozenset()
    briefing: Mapping[str, str] = attrs.field(factory=dict)
    # hand-drawn outlines (shapes.toml): id -> polygons of (lat, lon); they take precedence
    # over the shapes the map renderer grows from the anchors
    drawn: Mapping[str, tuple[tuple[tuple[float, float], ...], ...]] = attrs.field(factory=dict)
    # derived
    fleet_reach: Mapping[str, frozenset[str]] = attrs.field(init=False)
    names: Mapping[str, tuple[str, ...]] = attrs.field(init=False)
    nation_ids: tuple[str, ...] = attrs.field(init=False)
    centres: frozenset[str] = attrs.field(init=False)
    homes: Mapping[str, tuple[str, ...]] = attrs.field(init=False)
    any_adj: Mapping[str, frozenset[str]] = attrs.field(init=False)
    sea_adj: Mapping[str, frozenset[str]] = attrs.field(init=False)
    not_counted: Mapping[str, frozenset[str]] = attrs.field(init=False)
    loc_prov: Mapping[str, str] = attrs.field(init=False)
    seas: frozenset[str] = attrs.field(init=False)
    season_index: Mapping[str, int] = attrs.field(init=False)
    fleet_to: Mapping[str, Mapping[str, tuple[str, ...]]] = attrs.field(init=False)

    def __attrs_post_init__(self) -> None:
        reach = {loc: frozenset(province_of(d) for d in ds) for loc, ds in self.fleet_adj.items()}
        object.__setattr__(self, "fleet_reach", reach)
        object.__setattr__(self, "nation_ids", tuple(n.id for n in self.nations))
        object.__setattr__(
            self, "centres", frozenset(p.id for p in self.provinces.values() if p.centre)
        )
        homes: dict[str, list[str]] = {n.id: [] for n in self.nations}
        for p in sorted(self.provinces.values(), key=lambda p: p.id):
            if p.home:
                homes[p.home].append(p.id)
        object.__setattr__(self, "homes", {k: tuple(v) for k, v in homes.items()})
        names: dict[str, set[str]] = {}
        for p in self.provinces.values():
            for n in (p.id, p.name, *p.aliases):
                names.setdefault(normalise_name(n), set()).add(p.id)
        object.__setattr__(self, "names", {k: tuple(sorted(v)) for k, v in names.items()})
        anyadj: dict[str, set[str]] = {p: set() for p in self.provinces}
        for p, ds in self.army_adj.items():
            anyadj[p].update(ds)
        for loc, ds in self.fleet_reach.items():
            anyadj[province_of(loc)].update(ds)
        object.__setattr__(self, "any_adj", {k: frozenset(v) for k, v in anyadj.items()})
        # province -> provinces a fleet there can reach from any of its coasts (convoy routes)
        sea: dict[str, set[str]] = {}
        for loc, ds in self.fleet_reach.items():
            sea.setdefault(province_of(loc), set()).update(ds)
        object.__setattr__(self, "sea_adj", {k: frozenset(v) for k, v in sea.items()})
        lp = {p: p for p in self.provinces}
        lp.update({loc: province_of(loc) for loc in self.fleet_adj})
        object.__setattr__(self, "loc_prov", lp)
        object.__setattr__(self, "season_index", {s.id: i for i, s in enumerate(self.seasons)})
        # fleet location -> destination province -> the locations (coasts) it can reach there
        to: dict[str, dict[str, list[str]]] = {}
        for loc, ds in self.fleet_adj.items():
            for d in sorted(ds):
                to.setdefault(loc, {}).setdefault(province_of(d), []).append(d)
        object.__setattr__(self, "fleet_to", {k: {p: tuple(v) for p, v in m.items()} for k, m in to.items()})
        object.__setattr__(self, "seas", frozenset(p.id for p in self.provinces.values() if p.terrain == "sea"))
        # conditional supply centres: centre -> nations it does not count for (DATC 7.A)
        cond = self.extra.get("conditional_centres", {})
        object.__setattr__(self, "not_counted", {c: frozenset(t.get("not_for", ())) for c, t in cond.items()})

    def __repr__(self) -> str:
        return f"<Ruleset {self.id} {len(self.provinces)} provinces digest={self.digest[:12]}>"

    # --- geography -------------------------------------------------------------------
    def fleet_locations(self, province: str) -> tuple[str, ...]:
        """Where a fleet may stand in ``province``: its coasts, or the province itself."""
        p = self.provinces[province]
        if p.terrain == "land":
            return ()
        return tuple(f"{province}/{c}" for c in p.coasts) if p.coasts else (province,)

    def season(self, season_id: str) -> Season:
        return self.seasons[self.season_index[season_id]]

    def nation(self, nation_id: str) -> Nation:
        for n in self.nations:
            if n.id == nation_id:
                return n
        raise KeyError(nation_id)


def province_of(location: str) -> str:
    """``'stp/nc'`` -> ``'stp'``; ``'par'`` -> ``'par'``.

    >>> province_of("stp/nc"), province_of("par")
    ('stp', 'par')
    """
    i = location.find("/")
    return location if i < 0 else location[:i]


def normalise_name(text: str) -> str:
    """Case- and punctuation-insensitive key for province names.

    >>> normalise_name("St. Petersburg"), normalise_name("Mid-Atlantic")
    ('st petersburg', 'mid atlantic')
    """
    return " ".join(re.sub(r"[.\-_']", " ", text.lower()).split())


# --- loading ----------------------------------------------------------------------------


def parse_ruleset(files: Mapping[str, str], folder: str = "ruleset") -> Ruleset:
    """Validate a ruleset from the text of its files.

    Args:
        files: ``{"scenario.toml": text, "map.toml": text}``.
        folder: shown in error messages (``rulesets/classic``).

    Raises:
        RulesetError: naming the file, the entry and the fix.
    """
    for name in ("scenario.toml", "map.toml"):
        if name not in files:
            raise RulesetError(folder, "", f"{name} is missing", "every ruleset has scenario.toml and map.toml")
    digest = hashlib.sha256()
    for name in sorted(files):
        digest.update(name.encode() + b"\0" + files[name].encode() + b"\0")
    docs = {}
    for name in ("scenario.toml", "map.toml"):
        try:
            docs[name] = tomllib.loads(files[name])
        except tomllib.TOMLDecodeError as e:
            raise RulesetError(f"{folder}/{name}", "", f"not valid TOML: {e}", "fix the syntax") from None
    rs = _Builder(folder, docs["scenario.toml"], docs["map.toml"], digest.hexdigest()).build()
    if "shapes.toml" in files:
        rs = attrs.evolve(rs, drawn=_drawn_shapes(files["shapes.toml"], f"{folder}/shapes.toml", rs))
    return rs


def _drawn_shapes(text: str, file: str, rs: Ruleset) -> dict[str, tuple[tuple[tuple[float, float], ...], ...]]:
    """Validate ``shapes.toml``: ``[shapes.ID] outlines = [[[lat, lon], ...], ...]``."""
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise RulesetError(file, "", f"not valid TOML: {e}", "fix the syntax") from None
    table = doc.get("shapes")
    if not isinstance(table, dict) or set(doc) - {"shapes"}:
        raise RulesetError(file, "", "the file holds one [shapes] table", "write [shapes.ID] outlines = [...]")
    out = {}
    for sid, t in sorted(table.items()):
        entry = f"shapes.{sid}"
        if sid not in rs.provinces and sid not in rs.impassable:
            raise RulesetError(file, entry, f"{sid!r} is not a province or impassable area", "use an id from map.toml")
        outlines = t.get("outlines") if isinstance(t, dict) else None
        if not isinstance(outlines, list) or not outlines:
            raise RulesetError(file, entry, "outlines is missing", "write outlines = [[[lat, lon], [lat, lon], [lat, lon]]]")
        polys = []
        for poly in outlines:
            ok = isinstance(poly, list) and len(poly) >= 3 and all(
                isinstance(pt, list) and len(pt) == 2 and all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in pt)
                and -90 <= pt[0] <= 90 and -180 <= pt[1] <= 180 for pt in poly)
            if not ok:
                raise RulesetError(file, entry, "an outline is not a list of three or more [lat, lon] points", "fix the outline")
            polys.append(tuple((float(a), float(b)) for a, b in poly))
        out[sid] = tuple(polys)
    return out


class _Builder:
    def __init__(self, folder: str, scen: dict[str, Any], geo: dict[str, Any], digest: str) -> None:
        self.folder, self.scen, self.geo, self.digest = folder, scen, geo, digest
        self.sf, self.mf = f"{folder}/scenario.toml", f"{folder}/map.toml"

    def err(self, file: str, entry: str, problem: str, fix: str = "") -> RulesetError:
        return RulesetError(file, entry, problem, fix)

    def need(self, table: Mapping[str, Any], key: str, typ: type | tuple[type, ...], file: str, entry: str) -> Any:
        if not isinstance(table, Mapping):
            raise self.err(file, entry, f"must be a table, not {table!r}", f"write it as a table holding {key} = ...")
        if key not in table:
            raise self.err(file, entry, f"'{key}' is missing", f"add {key} = ...")
        value = table[key]
        if not isinstance(value, typ) or (typ is int and isinstance(value, bool)):
            types = (typ,) if isinstance(typ, type) else typ
            tname = " or ".join(_TYPE_NAMES.get(t, t.__name__) for t in types)
            raise self.err(file, entry, f"'{key}' must be a {tname}, not {value!r}", f"write {key} as a {tname}")
        return value

    def optional(self, table: Mapping[str, Any], key: str, typ: type | tuple[type, ...], default: Any, file: str, entry: str) -> Any:
        """``table[key]`` when present (checked like :meth:`need`), else ``default``."""
        return self.need(table, key, typ, file, entry) if key in table else default

    def table_of_lists(self, table: Mapping[str, Any], file: str, entry: str) -> dict[str, list[str]]:
        """A table whose values are lists of strings (``[start.units]``, ``[start.centres]``)."""
        if not isinstance(table, Mapping):
            raise self.err(file, entry, f"must be a table, not {table!r}", f"write [{entry}] with one list per nation")
        for key, value in table.items():
            if not isinstance(value, list) or not all(isinstance(x, str) for x in value):
                raise self.err(file, f"{entry}.{key}", f"must be a list of strings, not {value!r}", f"write {key} = [\"...\"]")
        return dict(table)

    def build(self) -> Ruleset:
        sf, scen = self.sf, self.scen
        rid = self.need(scen, "id", str, sf, "id")
        if not _ID.match(rid):
            raise self.err(sf, "id", f"id {rid!r} is not lower case letters, digits and '-'", "rename it")
        nations = self._nations()
        nation_ids = {n.id for n in nations}
        provinces, army, fleet, impassable = self._map(nation_ids)
        seasons = self._calendar()
        rules = scen.get("rules", {})
        if not isinstance(rules, dict):
            raise self.err(sf, "rules", "must be a table", "write [rules] edition = \"datc-3.0\"")
        overrides = {k: v for k, v in rules.items() if k != "edition"}
        edition = self.optional(rules, "edition", str, "datc-3.0", sf, "rules")
        try:
            options = make_options(edition, overrides)
        except (KeyError, ValueError) as e:
            msg = e.args[0] if e.args else str(e)
            raise self.err(sf, "rules", msg, "use a known edition and option") from None
        victory = self.need(self.optional(scen, "victory", dict, {}, sf, "victory"), "centres", int, sf, "victory")
        ncentres = sum(1 for p in provinces.values() if p.centre)
        if not 0 < victory <= ncentres:
            raise self.err(sf, "victory", f"centres = {victory} but the map has {ncentres} centres", "pick a number between 1 and the number of centres")
        start = self.need(scen, "start", dict, sf, "start")
        year = self.need(start, "year", int, sf, "start")
        season = self.need(start, "season", str, sf, "start")
        if season not in {s.id for s in seasons}:
            raise self.err(sf, "start", f"season {season!r} is not in the calendar", f"use one of {', '.join(s.id for s in seasons)}")
        units = self._start_units(start, nation_ids, provinces, army, fleet)
        centres = self._start_centres(start, nation_ids, provinces)
        special = self._special(nation_ids, provinces, army, fleet, seasons)
        return Ruleset(
            id=rid, name=self.need(scen, "name", str, sf, "name"),
            description=self.optional(scen, "description", str, "", sf, "description"), digest=self.digest,
            nations=nations, provinces=provinces, army_adj=army, fleet_adj=fleet,
            seasons=seasons, victory_centres=victory, start_year=year, start_season=season,
            start_units=units, start_centres=centres, options=options,
            impassable=impassable, extra={k: v for k, v in scen.items() if k not in _SCENARIO_KEYS},
            **special,
        )

    def _nations(self) -> tuple[Nation, ...]:
        table = self.need(self.scen, "nations", dict, self.sf, "nations")
        out = []
        for nid in sorted(table):
            entry = f"nations.{nid}"
            if not _ID.match(nid):
                raise self.err(self.sf, entry, f"nation id {nid!r} must be lower case", "rename it")
            t = table[nid]
            colour = self.need(t, "colour", str, self.sf, entry)
            if not _COLOUR.match(colour):
                raise self.err(self.sf, entry, f"colour {colour!r} is not #rrggbb", "write it like \"#c48f85\"")
            name = self.need(t, "name", str, self.sf, entry)
            out.append(Nation(nid, name, self.optional(t, "adjective", str, name, self.sf, entry), colour))
        if len(out) < 1:
            raise self.err(self.sf, "nations", "no nations", "declare at least one [nations.ID]")
        return tuple(out)

    def _calendar(self) -> tuple[Season, ...]:
        cal = self.need(self.scen, "calendar", dict, self.sf, "calendar")
        seasons = self.need(cal, "seasons", list, self.sf, "calendar")
        out, letters, ids = [], set(), set()
        for i, s in enumerate(seasons):
            entry = f"calendar.seasons[{i}]"
            if not isinstance(s, dict):
                raise self.err(self.sf, entry, "must be a table", "write { id = ..., letter = ..., phases = [...] }")
            sid = self.need(s, "id", str, self.sf, entry)
            if sid in ids:
                raise self.err(self.sf, entry, f"season id {sid!r} is used twice", "give each season its own id")
            ids.add(sid)
            letter = self.need(s, "letter", str, self.sf, entry)
            if len(letter) != 1 or not letter.isupper() or letter in letters:
                raise self.err(self.sf, entry, f"letter {letter!r} must be one upper-case letter, unique", "pick another letter")
            letters.add(letter)
            phases = self.need(s, "phases", list, self.sf, entry)
            for ph in phases:
                if ph not in PHASE_KINDS:
                    raise self.err(self.sf, entry, f"unknown phase {ph!r}", f"use {', '.join(PHASE_KINDS)}")
            if not phases:
                raise self.err(self.sf, entry, "no phases", "list at least one phase")
            if len(set(phases)) != len(phases) or phases != sorted(phases, key=PHASE_KINDS.index):
                raise self.err(self.sf, entry, f"phases {phases!r} repeat or are out of order", "list each phase once, in the order movement, retreat, adjustment")
            if "retreat" in phases and "movement" not in phases:
                raise self.err(self.sf, entry, "a retreat phase but no movement phase to retreat from", "add \"movement\" before \"retreat\" or remove the retreat")
            name = self.optional(s, "name", str, sid.title(), self.sf, entry)
            out.append(Season(sid, letter, name, tuple(phases), self.optional(s, "ownership", bool, False, self.sf, entry)))
        # the game advances from one movement phase to the next (turn._advance)
        if not any("movement" in s.phases for s in out):
            raise self.err(self.sf, "calendar", "no season has a movement phase", "add \"movement\" to the phases of a season")
        if not any(s.ownership for s in out):
            raise self.err(self.sf, "calendar", "no season sets ownership = true", "mark the season after which centres change hands")
        for i, season in enumerate(out):
            # centres change hands when a season's fighting ends (turn._close_season)
            if season.ownership and "movement" not in season.phases:
                raise self.err(self.sf, f"calendar.seasons[{i}]", f"season {season.id!r} sets ownership = true but has no movement phase, so centres would never change hands", "set ownership on a season with a movement phase")
        return tuple(out)

    def _map(self, nation_ids: set[str]) -> tuple[dict[str, Province], dict[str, frozenset[str]], dict[str, frozenset[str]], dict[str, tuple[str, tuple[float, float]]]]:
        mf = self.mf
        table = self.need(self.geo, "provinces", dict, mf, "provinces")
        provinces: dict[str, Province] = {}
        raw_army: dict[str, list[str]] = {}
        raw_fleet: dict[str, list[str]] = {}
        for pid in sorted(table):
            entry = f"provinces.{pid}"
            t = table[pid]
            if not _ID.match(pid) or "/" in pid:
                raise self.err(mf, entry, f"province id {pid!r} must be lower case letters and digits", "rename it")
            if not isinstance(t, dict):
                raise self.err(mf, entry, "must be a table", "write [provinces.ID] with name, terrain, ...")
            terrain = self.need(t, "terrain", str, mf, entry)
            if terrain not in TERRAINS:
                raise self.err(mf, entry, f"terrain {terrain!r} is unknown", "use land, coast or sea")
            home = self.optional(t, "home", str, None, mf, entry)
            centre = self.optional(t, "centre", bool, False, mf, entry)
            if home is not None:
                if home not in nation_ids:
                    raise self.err(mf, entry, f"home {home!r} is not a nation", f"use one of {', '.join(sorted(nation_ids))}")
                if not centre:
                    raise self.err(mf, entry, f"home centre of {home} is not a supply centre", "add centre = true or remove home")
            if centre and terrain == "sea":
                raise self.err(mf, entry, "a sea cannot be a supply centre", "remove centre = true")
            anchor = self._anchor(t, mf, entry)
            aliases = t.get("aliases", [])
            if not isinstance(aliases, list) or not all(isinstance(a, str) for a in aliases):
                raise self.err(mf, entry, "aliases must be a list of strings", "write aliases = [\"...\"]")
            fl = t.get("fleet")
            coasts: tuple[str, ...] = ()
            if terrain == "land" and fl is not None:
                raise self.err(mf, entry, "a land province has fleet edges", "remove fleet or make it a coast")
            if terrain == "sea" and t.get("army") is not None:
                raise self.err(mf, entry, "a sea has army edges", "remove army or make it a coast")
            if isinstance(fl, dict):
                coasts = tuple(sorted(fl))
                for c in coasts:
                    if not isinstance(fl[c], list) or not fl[c]:
                        raise self.err(mf, entry, f"coast {c!r} has no edges", "add one")
                    raw_fleet[f"{pid}/{c}"] = fl[c]
            elif isinstance(fl, list):
                raw_fleet[pid] = fl
            elif terrain != "land" and fl is not None:
                raise self.err(mf, entry, "fleet must be a list or a table of coasts", "write fleet = [...]")
            elif terrain == "sea":
                raise self.err(mf, entry, "a sea has no fleet edges", "add fleet = [...]")
            if terrain != "sea":
                raw_army[pid] = t.get("army", [])
                if not isinstance(raw_army[pid], list):
                    raise self.err(mf, entry, "army must be a list", "write army = [...]")
            provinces[pid] = Province(pid, self.need(t, "name", str, mf, entry), terrain, centre, home, tuple(aliases), coasts, anchor)
        self._check_names(provinces)
        army = self._edges(raw_army, provinces, "army")
        fleet = self._edges(raw_fleet, provinces, "fleet")
        impassable = {}
        for iid, t in sorted(self.optional(self.geo, "impassable", dict, {}, mf, "impassable").items()):
            entry = f"impassable.{iid}"
            if iid in provinces:
                raise self.err(mf, entry, f"{iid!r} is also a province", "rename one of them")
            impassable[iid] = (self.need(t, "name", str, mf, entry), self._anchor(t, mf, entry))
        return provinces, army, fleet, impassable

    def _anchor(self, t: Mapping[str, Any], file: str, entry: str) -> tuple[float, float]:
        a = self.need(t, "anchor", list, file, entry)
        if len(a) != 2 or not all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in a) or not (-90 <= a[0] <= 90 and -180 <= a[1] <= 180):
            raise self.err(file, entry, f"anchor {a!r} is not [latitude, longitude]", "write anchor = [48.85, 2.35]")
        return (float(a[0]), float(a[1]))

    def _check_names(self, provinces: Mapping[str, Province]) -> None:
        seen: dict[str, str] = {}
        for p in provinces.values():
            own = {normalise_name(p.id)}
            for n in (p.name, *p.aliases):
                key = normalise_name(n)
                if not key:
                    raise self.err(self.mf, f"provinces.{p.id}", "an empty alias", "remove it")
                owner = seen.get(key)
                if owner is not None and owner != p.id:
                    raise self.err(self.mf, f"provinces.{p.id}", f"name or alias {n!r} is also used by {owner}", "make aliases unique across the map")
                if key in provinces and key != p.id:
                    raise self.err(self.mf, f"provinces.{p.id}", f"alias {n!r} is the id of another province", "remove the alias")
                seen[key] = p.id
            for k in own:
                seen.setdefault(k, p.id)

    def _edges(self, raw: Mapping[str, list[str]], provinces: Mapping[str, Province], kind: str) -> dict[str, frozenset[str]]:
        mf = self.mf
        out: dict[str, frozenset[str]] = {}
        for loc, targets in raw.items():
            entry = f"provinces.{province_of(loc)}"
            clean = set()
            for d in targets:
                if not isinstance(d, str):
                    raise self.err(mf, entry, f"{kind} edge {d!r} is not a string", "write province ids")
                prov = province_of(d)
                if prov not in provinces:
                    raise self.err(mf, entry, f"{kind} edge to unknown province {d!r}", "fix the id or declare the province")
                target = provinces[prov]
                if kind == "army" and target.terrain == "sea":
                    raise self.err(mf, entry, f"army edge to sea {d!r}", "armies only move over land and coast")
                if kind == "fleet":
                    if target.terrain == "land":
                        raise self.err(mf, entry, f"fleet edge to land province {d!r}", "fleets only move along coasts and seas")
                    if target.coasts and d == prov:
                        raise self.err(mf, entry, f"fleet edge to {d!r} must name a coast", f"write one of {', '.join(prov + '/' + c for c in target.coasts)}")
                    if "/" in d and d.split("/", 1)[1] not in target.coasts:
                        raise self.err(mf, entry, f"{d!r} names a coast that {prov} does not have", "fix the coast")
                if prov == province_of(loc):
                    raise self.err(mf, entry, f"{kind} edge from {loc} to itself", "remove it")
                clean.add(d)
            out[loc] = frozenset(clean)
        for loc, targets in out.items():
            for d in targets:
                if loc not in out.get(d, ()):
                    raise self.err(mf, f"provinces.{province_of(d)}", f"one-way {kind} edge: {loc} lists {d} but {d} does not list {loc}", f"add {loc!r} to {kind} of {province_of(d)} or remove it from {province_of(loc)}")
        return out

    def _special(self, nation_ids: set[str], provinces: Mapping[str, Province], army: Mapping[str, frozenset[str]],
                 fleet: Mapping[str, frozenset[str]], seasons: tuple[Season, ...]) -> dict[str, Any]:
        """Validate the special-rule tables (RULESETS.md, 'Special rules')."""
        sf, scen = self.sf, self.scen
        for key in scen:
            if key not in _SCENARIO_KEYS and key not in _SPECIAL_KEYS:
                raise self.err(sf, key, f"unknown table {key!r}", f"use one of {', '.join(sorted(_SCENARIO_KEYS | _SPECIAL_KEYS))}")

        def province(value: Any, entry: str, what: str = "province") -> str:
            if not isinstance(value, str) or value not in provinces:
                raise self.err(sf, entry, f"unknown {what} {value!r}", "use a province id from map.toml")
            return value

        def table(key: str) -> dict[str, Any]:
            return self.optional(scen, key, dict, {}, sf, key)  # type: ignore[no-any-return]

        def entry_table(t: Any, entry: str) -> Mapping[str, Any]:
            if not isinstance(t, Mapping):
                raise self.err(sf, entry, f"must be a table, not {t!r}", f"write [{entry}] with its keys")
            return t

        for cid, t in sorted(table("conditional_centres").items()):
            entry = f"conditional_centres.{cid}"
            province(cid, entry)
            if not provinces[cid].centre:
                raise self.err(sf, entry, f"{cid} is not a supply centre", "declare centre = true in map.toml or remove the entry")
            for n in self.need(t, "not_for", list, sf, entry):
                if not isinstance(n, str) or n not in nation_ids:
                    raise self.err(sf, entry, f"{n!r} is not a nation", "list nation ids")
        railways = []
        for rid, t in sorted(table("railways").items()):
            entry = f"railways.{rid}"
            t = entry_table(t, entry)
            if not _ID.match(rid):
                raise self.err(sf, entry, f"railway id {rid!r} must be lower case", "rename it")
            if ("path" in t) == ("links" in t):
                raise self.err(sf, entry, "give either path (a line) or links (a graph)", "write path = [\"a\", \"b\", ...]")
            line: tuple[str, ...] = ()
            if "path" in t:
                line = tuple(province(p, entry) for p in self.need(t, "path", list, sf, entry))
                if len(line) < 2 or len(set(line)) != len(line):
                    raise self.err(sf, entry, "a path needs two or more distinct stations", "list the stations in order")
                links = tuple(zip(line, line[1:]))
            else:
                raw = self.need(t, "links", list, sf, entry)
                if not raw or not all(isinstance(x, list) and len(x) == 2 for x in raw):
                    raise self.err(sf, entry, "links must be pairs of provinces", "write links = [[\"a\", \"b\"], ...]")
                links = tuple((province(a, entry), province(b, entry)) for a, b in raw)
            for a, b in links:
                for p in (a, b):
                    if provinces[p].terrain == "sea":
                        raise self.err(sf, entry, f"station {p} is a sea", "railways join land and coast provinces")
                if a == b:
                    raise self.err(sf, entry, f"link from {a} to itself", "remove it")
            users = t.get("users", "controllers")
            if users == "controllers":
                user_t: tuple[str, ...] = ("controllers",)
            elif isinstance(users, list) and users and all(isinstance(u, str) and u in nation_ids for u in users):
                user_t = tuple(users)
            else:
                raise self.err(sf, entry, f"users {users!r} is not a list of nations or \"controllers\"", "write users = [\"russia\"] or users = \"controllers\"")
            capacity = t.get("capacity", 1)
            if not isinstance(capacity, int) or isinstance(capacity, bool) or capacity < 1:
                raise self.err(sf, entry, f"capacity {capacity!r} must be a whole number >= 1", "write capacity = 1")
            aliases = tuple(self.optional(t, "aliases", list, [], sf, entry))
            if not all(isinstance(a, str) for a in aliases):
                raise self.err(sf, entry, "aliases must be a list of strings", "write aliases = [\"...\"]")
            name = self.optional(t, "name", str, rid, sf, entry)
            railways.append(Railway(rid, name, aliases, links, user_t, capacity, line))
        names: dict[str, str] = {}
        for r in railways:
            for a in (r.id, *r.aliases):
                key = normalise_name(a)
                if key in names and names[key] != r.id:
                    raise self.err(sf, f"railways.{r.id}", f"name {a!r} is also used by railway {names[key]}", "make railway aliases unique")
                if key in provinces:
                    raise self.err(sf, f"railways.{r.id}", f"name {a!r} is also a province id", "rename the alias")
                names[key] = r.id
        canals = []
        for cid, t in sorted(table("canals").items()):
            entry = f"canals.{cid}"
            province(cid, entry)
            joins = self.need(t, "joins", list, sf, entry)
            if len(joins) != 2 or not all(isinstance(j, str) and j in provinces and provinces[j].terrain == "sea" for j in joins):
                raise self.err(sf, entry, f"joins {joins!r} must name two seas", "write joins = [\"med\", \"red\"]")
            if provinces[cid].terrain != "coast":
                raise self.err(sf, entry, f"canal province {cid} is not a coast", "a canal lies on a coastal province")
            canals.append(Canal(cid, self.optional(t, "name", str, cid, sf, entry), (joins[0], joins[1])))
        frozen: dict[str, frozenset[str]] = {}
        season_ids = {s.id for s in seasons}
        for sid, provs in sorted(self.table_of_lists(table("frozen"), sf, "frozen").items()):
            if sid not in season_ids:
                raise self.err(sf, f"frozen.{sid}", f"{sid!r} is not a season", f"use one of {', '.join(sorted(season_ids))}")
            frozen[sid] = frozenset(province(p, f"frozen.{sid}") for p in provs)
            for p in frozen[sid]:
                if provinces[p].terrain == "land":
                    raise self.err(sf, f"frozen.{sid}", f"{p} is inland; only coasts and seas freeze for fleets", "remove it")
        fortresses: dict[str, int] = {}
        for fid, t in sorted(table("fortresses").items()):
            entry = f"fortresses.{fid}"
            province(fid, entry)
            d = self.need(t, "defence", int, sf, entry)
            if d < 1:
                raise self.err(sf, entry, "defence must be at least 1", "write defence = 1")
            fortresses[fid] = d
        offmap = frozenset(province(p, "offmap") for p in self.optional(table("offmap"), "provinces", list, [], sf, "offmap"))
        briefing = {}
        for n, text in sorted(table("briefing").items()):
            if n not in nation_ids:
                raise self.err(sf, f"briefing.{n}", f"{n!r} is not a nation", "use a nation id")
            briefing[n] = str(text)
        return {"railways": tuple(railways), "canals": tuple(canals), "frozen": frozen,
                "fortresses": fortresses, "offmap": offmap, "briefing": briefing}

    def _start_units(self, start: Mapping[str, Any], nation_ids: set[str], provinces: Mapping[str, Province], army: Mapping[str, Any], fleet: Mapping[str, Any]) -> tuple[tuple[str, str, str], ...]:
        units = self.table_of_lists(start.get("units", {}), self.sf, "start.units")
        out, taken = [], {}
        for nid in sorted(units):
            entry = f"start.units.{nid}"
            if nid not in nation_ids:
                raise self.err(self.sf, entry, f"{nid!r} is not a nation", "use a declared nation")
            for text in units[nid]:
                parts = str(text).split()
                if len(parts) != 2 or parts[0].upper() not in ("A", "F"):
                    raise self.err(self.sf, entry, f"unit {text!r} is not like 'A par' or 'F stp/sc'", "fix the notation")
                kind, loc = parts[0].upper(), parts[1].lower()
                prov = province_of(loc)
                if prov not in provinces:
                    raise self.err(self.sf, entry, f"unit {text!r} stands on unknown province {prov!r}", "fix the id")
                if kind == "A" and loc not in army:
                    raise self.err(self.sf, entry, f"army {text!r} cannot stand on {loc}", "armies stand on land or coast")
                if kind == "F" and loc not in fleet:
                    p = provinces[prov]
                    fix = f"name a coast: {', '.join(prov + '/' + c for c in p.coasts)}" if p.coasts else "fleets stand on coast or sea"
                    raise self.err(self.sf, entry, f"fleet {text!r} cannot stand on {loc}", fix)
                if prov in taken:
                    raise self.err(self.sf, entry, f"{prov} already holds a unit of {taken[prov]}", "one unit per province")
                taken[prov] = nid
                out.append((nid, kind, loc))
        return tuple(sorted(out, key=lambda u: u[2]))

    def _start_centres(self, start: Mapping[str, Any], nation_ids: set[str], provinces: Mapping[str, Province]) -> tuple[tuple[str, str], ...]:
        owners: dict[str, str] = {}
        for nid, provs in sorted(self.table_of_lists(start.get("centres", {}), self.sf, "start.centres").items()):
            entry = f"start.centres.{nid}"
            if nid not in nation_ids:
                raise self.err(self.sf, entry, f"{nid!r} is not a nation", "use a declared nation")
            for p in provs:
                if p not in provinces or not provinces[p].centre:
                    raise self.err(self.sf, entry, f"{p!r} is not a supply centre", "list supply centres only")
                if p in owners:
                    raise self.err(self.sf, entry, f"{p} is also owned by {owners[p]}", "give each centre one owner")
                owners[p] = nid
        return tuple(sorted(owners.items()))


_TYPE_NAMES = {dict: "table", list: "list", str: "string", int: "whole number", bool: "boolean (true or false)", float: "number"}

_SCENARIO_KEYS = {
    "id", "name", "description", "rules", "victory", "calendar", "nations", "start",
    "railways", "canals", "frozen", "fortresses", "offmap", "briefing",
}
_SPECIAL_KEYS = {"conditional_centres", "railways", "canals", "frozen", "fortresses", "offmap", "briefing"}

