"""Tests for server.engine.ruleset: loading the shipped rulesets and validating broken ones.

Every broken ruleset below is the real ``rulesets/classic`` text with one small edit; each
test checks that the :class:`RulesetError` names the file, the entry and a fix.
"""

from __future__ import annotations

import json
import shutil
import string
import tomllib
from pathlib import Path
from typing import Any, Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from server import cli
from server.engine.errors import RulesetError
from server.engine.ruleset import Ruleset, parse_ruleset
from server.engine.state import initial_state, phase_name
from server.ruleset_files import ROOT, read_folder

CLASSIC = ROOT / "rulesets" / "classic"
COLONIAL = ROOT / "rulesets" / "colonial"
FOLDER = "rulesets/classic"

Files = dict[str, str]


@pytest.fixture(scope="module")
def classic_files() -> Files:
    return read_folder(CLASSIC)


def load(files: Files) -> Ruleset:
    return parse_ruleset(files, folder=FOLDER)


# --- text edits -------------------------------------------------------------------------


def replace_once(text: str, old: str, new: str) -> str:
    """Replace the one occurrence of ``old``; fail loudly if the file no longer has it."""
    assert text.count(old) == 1, f"expected exactly one {old!r} in the ruleset text"
    return text.replace(old, new)


def in_province(text: str, pid: str, old: str, new: str) -> str:
    """Replace ``old`` by ``new`` inside the ``[provinces.pid]`` block only."""
    head = f"[provinces.{pid}]\n"
    start = text.index(head)
    end = text.find("\n[", start + len(head))
    end = len(text) if end < 0 else end
    block = text[start:end]
    return text[:start] + replace_once(block, old, new) + text[end:]


Edit = Callable[[Files], None]


def on_map(pid: str, old: str, new: str) -> Edit:
    def edit(files: Files) -> None:
        files["map.toml"] = in_province(files["map.toml"], pid, old, new)

    return edit


def on_scenario(old: str, new: str) -> Edit:
    def edit(files: Files) -> None:
        files["scenario.toml"] = replace_once(files["scenario.toml"], old, new)

    return edit


def both(*edits: Edit) -> Edit:
    def edit(files: Files) -> None:
        for e in edits:
            e(files)

    return edit


def drop(name: str) -> Edit:
    def edit(files: Files) -> None:
        del files[name]

    return edit


ONE_SEASON = (
    'seasons = [\n  { id = "winter", letter = "W", name = "Winter", phases = ["adjustment"], '
    "ownership = true },\n]"
)
CLASSIC_SEASONS_START = "seasons = [\n"

# (id, edit, file, entry, words the problem must contain, words the fix must contain)
BROKEN: list[tuple[str, Edit, str, str, tuple[str, ...], tuple[str, ...]]] = [
    ("unknown-id-in-adjacency", on_map("mun", '"tyr"]', '"tyr", "xyz"]'),
     "map.toml", "provinces.mun", ("unknown province", "xyz"), ("declare",)),
    ("unknown-id-in-fleet-list", on_map("nth", '"yor"]', '"yor", "atl"]'),
     "map.toml", "provinces.nth", ("unknown province", "atl"), ("fix the id",)),
    ("one-way-army-edge", on_map("mun", '"bur", ', ""),
     "map.toml", "provinces.mun", ("one-way", "bur", "mun"), ("add 'bur'", "mun")),
    ("one-way-fleet-edge", on_map("nth", '"bel", ', ""),
     "map.toml", "provinces.nth", ("one-way", "bel", "nth"), ("add 'bel'",)),
    ("split-coast-without-edges", on_map("stp", 'sc = ["bot", "fin", "lvn"]', "sc = []"),
     "map.toml", "provinces.stp", ("coast 'sc'", "no edges"), ("add",)),
    ("duplicate-alias-any-case",
     both(on_map("bel", "aliases = []", 'aliases = ["LowLands"]'),
          on_map("hol", 'aliases = ["Netherlands"', 'aliases = ["lowlands", "Netherlands"')),
     "map.toml", "provinces.hol", ("lowlands", "bel"), ("unique",)),
    ("alias-is-another-id", on_map("bel", "aliases = []", 'aliases = ["HOL"]'),
     "map.toml", "provinces.bel", ("HOL", "another province"), ("remove",)),
    ("home-not-a-centre", on_map("mun", "centre = true\n", ""),
     "map.toml", "provinces.mun", ("home centre of germany", "not a supply centre"), ("centre = true",)),
    ("home-of-unknown-nation", on_map("mun", 'home = "germany"', 'home = "bavaria"'),
     "map.toml", "provinces.mun", ("bavaria", "not a nation"), ("germany",)),
    ("fleet-edge-to-split-coast-without-coast", on_map("mao", '"spa/nc", ', '"spa", '),
     "map.toml", "provinces.mao", ("spa", "must name a coast"), ("spa/nc", "spa/sc")),
    ("fleet-edge-to-missing-coast", on_map("mao", '"spa/nc", ', '"spa/ec", '),
     "map.toml", "provinces.mao", ("spa/ec", "coast"), ("fix the coast",)),
    ("army-edge-to-sea", on_map("lon", 'army = ["wal", "yor"]', 'army = ["nth", "wal", "yor"]'),
     "map.toml", "provinces.lon", ("army edge to sea", "nth"), ("armies",)),
    ("fleet-edge-to-land", on_map("nth", '"yor"]', '"yor", "bur"]'),
     "map.toml", "provinces.nth", ("fleet edge to land", "bur"), ("fleets",)),
    ("land-province-with-fleet-edges", on_map("mun", 'army = [', 'fleet = ["bal"]\narmy = ['),
     "map.toml", "provinces.mun", ("land province", "fleet"), ("remove fleet",)),
    ("anchor-out-of-range", on_map("mun", "anchor = [48.70, 11.00]", "anchor = [98.70, 11.00]"),
     "map.toml", "provinces.mun", ("anchor", "98.7", "latitude"), ("anchor = [",)),
    ("start-fleet-inland", on_scenario('"A mun"', '"F mun"'),
     "scenario.toml", "start.units.germany", ("F mun", "cannot stand on mun"), ("coast or sea",)),
    ("start-fleet-on-split-coast-without-coast", on_scenario('"F stp/sc"', '"F stp"'),
     "scenario.toml", "start.units.russia", ("F stp", "cannot stand"), ("stp/nc", "stp/sc")),
    ("start-army-at-sea", on_scenario('"F tri"', '"A adr"'),
     "scenario.toml", "start.units.austria", ("A adr", "cannot stand on adr"), ("land or coast",)),
    ("start-unit-of-unknown-nation", on_scenario('turkey = ["F ank"', 'ottoman = ["F ank"'),
     "scenario.toml", "start.units.ottoman", ("ottoman", "not a nation"), ("declared nation",)),
    ("start-centre-not-a-centre", on_scenario('austria = ["bud", "tri", "vie"]', 'austria = ["boh", "bud", "tri", "vie"]'),
     "scenario.toml", "start.centres.austria", ("boh", "not a supply centre"), ("supply centres only",)),
    ("bad-colour", on_scenario('colour = "#e06666"', 'colour = "red"'),
     "scenario.toml", "nations.austria", ("colour", "red"), ("#c48f85",)),
    ("unknown-rule-option", on_scenario('edition = "datc-3.0"', 'edition = "datc-3.0"\nbogus_rule = true'),
     "scenario.toml", "rules", ("unknown rule option", "bogus_rule"), ("known",)),
    ("unknown-edition", on_scenario('edition = "datc-3.0"', 'edition = "datc-9.9"'),
     "scenario.toml", "rules", ("unknown edition", "datc-9.9", "datc-3.0"), ("known edition",)),
    ("bad-option-value", on_scenario('edition = "datc-3.0"', 'edition = "datc-3.0"\ncivil_disorder = "coin-toss"'),
     "scenario.toml", "rules", ("civil_disorder", "coin-toss", "distance-2023"), ("known",)),
    ("victory-beyond-centres", on_scenario("centres = 18", "centres = 35"),
     "scenario.toml", "victory", ("35", "34 centres"), ("between 1 and",)),
    ("no-ownership-season", on_scenario(", ownership = true", ""),
     "scenario.toml", "calendar", ("ownership",), ("mark the season",)),
    # checks added with these tests (see ruleset.py _calendar)
    ("no-movement-phase",
     both(on_scenario(CLASSIC_SEASONS_START, ONE_SEASON + "\nold_seasons = [\n"),
          on_scenario('season = "spring"', 'season = "winter"')),
     "scenario.toml", "calendar", ("no season has a movement phase",), ("movement",)),
    ("ownership-without-movement",
     both(on_scenario(", ownership = true", ""),
          on_scenario('phases = ["adjustment"] }', 'phases = ["adjustment"], ownership = true }')),
     "scenario.toml", "calendar.seasons[2]", ("winter", "ownership", "no movement phase"), ("movement phase",)),
    ("retreat-before-movement", on_scenario('phases = ["movement", "retreat"] }', 'phases = ["retreat", "movement"] }'),
     "scenario.toml", "calendar.seasons[0]", ("out of order",), ("movement, retreat, adjustment",)),
    ("retreat-without-movement", on_scenario('phases = ["movement", "retreat"] }', 'phases = ["retreat"] }'),
     "scenario.toml", "calendar.seasons[0]", ("retreat", "no movement phase"), ("movement",)),
    ("phase-twice", on_scenario('phases = ["adjustment"] }', 'phases = ["adjustment", "adjustment"] }'),
     "scenario.toml", "calendar.seasons[2]", ("adjustment",), ("once",)),
    ("duplicate-season-id", on_scenario('id = "winter"', 'id = "spring"'),
     "scenario.toml", "calendar.seasons[2]", ("spring", "twice"), ("own id",)),
    ("invalid-toml", on_map("mun", 'name = "Munich"', 'name = "Munich'),
     "map.toml", "", ("not valid TOML", "line"), ("syntax",)),
    ("invalid-toml-scenario", on_scenario("[victory]", "[victory"),
     "scenario.toml", "", ("not valid TOML", "line"), ("syntax",)),
]


@pytest.mark.parametrize(("edit", "file", "entry", "problem", "fix"),
                         [pytest.param(*case[1:], id=case[0]) for case in BROKEN])
def test_broken_ruleset_error_names_file_entry_and_fix(
    classic_files: Files, edit: Edit, file: str, entry: str,
    problem: tuple[str, ...], fix: tuple[str, ...],
) -> None:
    """Each broken copy of classic raises a RulesetError naming the file, the entry and the fix."""
    files = dict(classic_files)
    edit(files)
    with pytest.raises(RulesetError) as info:
        load(files)
    e = info.value
    assert e.file == f"{FOLDER}/{file}"
    assert e.entry == entry
    assert e.fix, "every error suggests a fix"
    text = str(e)
    assert text.startswith(f"{FOLDER}/{file}")
    if entry:
        assert f"[{entry}]" in text
    for word in problem:
        assert word.lower() in e.problem.lower(), (word, e.problem)
    for word in fix:
        assert word.lower() in e.fix.lower(), (word, e.fix)
    assert text.endswith(f"; {e.fix}")


def test_each_broken_edit_really_changes_the_text(classic_files: Files) -> None:
    """Every edit above changes the ruleset text (so no case passes by accident)."""
    for case in BROKEN:
        files = dict(classic_files)
        case[1](files)
        assert files != classic_files, case[0]


# --- wrongly typed values ----------------------------------------------------------------


def toml_value(x: Any) -> str:
    """``x`` as an inline TOML value (JSON strings are valid TOML basic strings)."""
    if isinstance(x, dict):
        return "{ " + ", ".join(f"{json.dumps(k)} = {toml_value(v)}" for k, v in x.items()) + " }"
    if isinstance(x, list):
        return "[" + ", ".join(toml_value(v) for v in x) + "]"
    if isinstance(x, bool):
        return "true" if x else "false"
    if isinstance(x, str):
        return json.dumps(x)
    return repr(x)


def toml_text(doc: dict[str, Any]) -> str:
    """A whole TOML document, one top-level key per line."""
    return "".join(f"{json.dumps(k)} = {toml_value(v)}\n" for k, v in doc.items())


def plain_docs(files: Files) -> dict[str, dict[str, Any]]:
    """The parsed TOML of each file, as fresh plain data."""
    return {name: json.loads(json.dumps(tomllib.loads(text))) for name, text in files.items()}


Path_ = tuple[str | int, ...]
_DELETE = object()


def set_value(doc: dict[str, Any], path: Path_, value: Any) -> None:
    parent: Any = doc
    for key in path[:-1]:
        parent = parent[key]
    if value is _DELETE:
        del parent[path[-1]]
    else:
        parent[path[-1]] = value


def test_serialised_classic_still_loads(classic_files: Files) -> None:
    """The TOML writer used below reproduces classic faithfully (so errors come from the edits)."""
    docs = plain_docs(classic_files)
    rs = load({name: toml_text(doc) for name, doc in docs.items()})
    assert len(rs.provinces) == 75 and len(rs.centres) == 34


WRONG_TYPES: list[tuple[str, Path_, Any, str, tuple[str, ...]]] = [
    ("scenario.toml", ("nations", "austria"), 3, "nations.austria", ("must be a table",)),
    ("scenario.toml", ("nations", "austria", "adjective"), 1, "nations.austria", ("adjective", "string")),
    ("scenario.toml", ("description",), 5, "description", ("description", "string")),
    ("scenario.toml", ("victory",), 18, "victory", ("victory", "table")),
    ("scenario.toml", ("victory", "centres"), "18", "victory", ("centres", "whole number")),
    ("scenario.toml", ("rules", "edition"), ["datc-3.0"], "rules", ("edition", "string")),
    ("scenario.toml", ("calendar", "seasons", 1, "ownership"), "yes", "calendar.seasons[1]", ("ownership", "boolean")),
    ("scenario.toml", ("calendar", "seasons", 0, "name"), 7, "calendar.seasons[0]", ("name", "string")),
    ("scenario.toml", ("start", "units", "germany"), "A mun", "start.units.germany", ("list of strings",)),
    ("scenario.toml", ("start", "units"), -1, "start.units", ("must be a table",)),
    ("scenario.toml", ("start", "centres"), "x", "start.centres", ("must be a table",)),
    ("scenario.toml", ("start", "centres", "england", 0), {}, "start.centres.england", ("list of strings",)),
    ("map.toml", ("provinces", "mun", "home"), {"a": 1}, "provinces.mun", ("home", "string")),
    ("map.toml", ("provinces", "mun", "centre"), "yes", "provinces.mun", ("centre", "boolean")),
    ("map.toml", ("impassable",), "swi", "impassable", ("impassable", "table")),
]


@pytest.mark.parametrize(("name", "path", "value", "entry", "problem"), WRONG_TYPES,
                         ids=[".".join(map(str, c[1])) for c in WRONG_TYPES])
def test_wrongly_typed_value_is_named(
    classic_files: Files, name: str, path: Path_, value: Any, entry: str, problem: tuple[str, ...],
) -> None:
    """A value of the wrong type raises a RulesetError naming the file, the entry and the fix."""
    docs = plain_docs(classic_files)
    set_value(docs[name], path, value)
    with pytest.raises(RulesetError) as info:
        load({n: toml_text(d) for n, d in docs.items()})
    e = info.value
    assert (e.file, e.entry) == (f"{FOLDER}/{name}", entry)
    assert e.fix
    for word in problem:
        assert word in e.problem, (word, e.problem)


@st.composite
def value_paths(draw: st.DrawFn, doc: dict[str, Any]) -> Path_:
    """A path to some value of ``doc``: a random walk down from a top-level key, so every
    table (however small) is reached about as often as the large ones."""
    path: list[str | int] = []
    node: Any = doc
    while isinstance(node, (dict, list)) and node:
        key = draw(st.sampled_from(sorted(node) if isinstance(node, dict) else range(len(node))))
        path.append(key)
        node = node[key]
        if draw(st.integers(0, 2)) == 0:
            break
    return tuple(path)


ODD_VALUES = st.sampled_from(["", "x", "A", "F", "par", "stp/nc", 0, -1, 10**6, 1.5, True, [], {}, ["x"], [1],
                              [[1]], {"a": 1}, _DELETE])


SHIPPED = {"classic": read_folder(CLASSIC), "colonial": read_folder(COLONIAL)}


@pytest.mark.parametrize("which", sorted(SHIPPED))
@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_any_odd_value_gives_a_ruleset_error(which: str, data: st.DataObject) -> None:
    """Replacing any value of a shipped ruleset by one of another type (or deleting it) loads or raises RulesetError, nothing else."""
    docs = plain_docs(SHIPPED[which])
    name = data.draw(st.sampled_from(sorted(docs)), label="file")
    path = data.draw(value_paths(docs[name]), label="path")
    value = data.draw(ODD_VALUES, label="value")
    if value is _DELETE and isinstance(path[-1], int):
        value = "null"  # list items are replaced, not deleted (TOML has no null)
    set_value(docs[name], path, value)
    folder = f"rulesets/{which}"
    try:
        parse_ruleset({n: toml_text(d) for n, d in docs.items()}, folder=folder)
    except RulesetError as e:
        assert e.file.startswith(folder) and e.problem


@pytest.mark.parametrize("name", ["scenario.toml", "map.toml"])
def test_missing_file_is_named(classic_files: Files, name: str) -> None:
    """A ruleset without one of its two files names the folder, the missing file and the fix."""
    files = dict(classic_files)
    del files[name]
    with pytest.raises(RulesetError) as info:
        load(files)
    assert info.value.file == FOLDER
    assert f"{name} is missing" in str(info.value)
    assert "scenario.toml and map.toml" in info.value.fix


def test_error_is_a_value_error(classic_files: Files) -> None:
    """RulesetError is caught by callers that catch ValueError."""
    files = dict(classic_files)
    on_scenario("centres = 18", "centres = 0")(files)
    with pytest.raises(ValueError):
        load(files)


# --- the real rulesets --------------------------------------------------------------------


def test_classic_loads_with_the_standard_numbers(classic_files: Files) -> None:
    """Classic has 75 provinces, 34 centres, 18 to win, and starts S1901M with 22 units."""
    rs = load(classic_files)
    assert len(rs.provinces) == 75
    assert len(rs.centres) == 34
    assert rs.victory_centres == 18
    state = initial_state(rs)
    assert phase_name(rs, state) == "S1901M"
    assert len(state.units) == 22
    assert len(rs.nations) == 7
    assert sum(len(h) for h in rs.homes.values()) == 22
    assert rs.provinces["stp"].coasts == ("nc", "sc")


def test_colonial_loads_with_its_numbers() -> None:
    """Colonial has 119 provinces and 58 supply centres."""
    rs = parse_ruleset(read_folder(COLONIAL), folder="rulesets/colonial")
    assert len(rs.provinces) == 119
    assert len(rs.centres) == 58
    assert phase_name(rs, initial_state(rs)) == "S1870M"


def test_classic_adjacency_is_symmetric(classic_files: Files) -> None:
    """Every army and fleet edge of the loaded classic map appears on both of its ends."""
    rs = load(classic_files)
    for adj in (rs.army_adj, rs.fleet_adj):
        for loc, dests in adj.items():
            for d in dests:
                assert loc in adj[d], (loc, d)


# --- digest -------------------------------------------------------------------------------


def test_digest_is_stable(classic_files: Files) -> None:
    """Equal file texts give equal digests, whatever the order of the files mapping."""
    a = load(dict(classic_files))
    b = load({k: "".join(list(classic_files[k])) for k in reversed(sorted(classic_files))})
    assert a.digest == b.digest
    assert len(a.digest) == 64


def _safe_spans(files: Files) -> list[tuple[str, int, int]]:
    """Spans of text whose bytes can be changed without breaking the ruleset."""
    scen, geo = files["scenario.toml"], files["map.toml"]
    d0 = scen.index('description = "') + len('description = "')
    d1 = scen.index('"', d0)
    m1 = geo.index("\n")  # the first comment line of map.toml
    return [("scenario.toml", d0, d1), ("map.toml", 2, m1)]


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_digest_changes_with_any_byte(classic_files: Files, data: st.DataObject) -> None:
    """Changing one character of either file (in a description or comment) changes the digest."""
    name, lo, hi = data.draw(st.sampled_from(_safe_spans(classic_files)))
    i = data.draw(st.integers(lo, hi - 1))
    text = classic_files[name]
    new_char = data.draw(st.sampled_from([c for c in string.ascii_letters if c != text[i]]))
    changed = dict(classic_files)
    changed[name] = text[:i] + new_char + text[i + 1:]
    before, after = load(classic_files), load(changed)
    assert after.digest != before.digest
    assert len(after.provinces) == len(before.provinces)


@pytest.mark.parametrize("name", ["scenario.toml", "map.toml"])
def test_digest_changes_with_trailing_whitespace(classic_files: Files, name: str) -> None:
    """Even a byte that changes no meaning (a trailing newline) changes the digest."""
    changed = dict(classic_files)
    changed[name] += "\n"
    assert load(changed).digest != load(classic_files).digest


# --- kessen ruleset check -----------------------------------------------------------------


@pytest.mark.parametrize("target", [str(CLASSIC), "classic"])
def test_ruleset_check_prints_summary(capsys: pytest.CaptureFixture[str], target: str) -> None:
    """`kessen ruleset check` on classic exits 0 and prints the numbers of the map."""
    code = cli.main(["ruleset", "check", target])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert out.startswith("ok  classic")
    for words in ("75 provinces", "34 supply centres", "18 to win", "S1901M", "22 units"):
        assert words in out
    assert err == ""


def test_ruleset_check_reports_a_broken_copy(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """`kessen ruleset check` on a broken copy exits 1 with one error line naming file and entry."""
    broken = tmp_path / "broken"
    shutil.copytree(CLASSIC, broken)
    geo = broken / "map.toml"
    geo.write_text(in_province(geo.read_text(encoding="utf-8"), "mun", 'home = "germany"', 'home = "bavaria"'),
                   encoding="utf-8")
    code = cli.main(["ruleset", "check", str(broken)])
    out, err = capsys.readouterr()
    assert code == 1
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("error: ")
    assert "map.toml [provinces.mun]" in lines[0]
    assert "bavaria" in lines[0]


def test_ruleset_check_reports_a_missing_folder(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """`kessen ruleset check` on a folder that does not exist exits 1 with one error line."""
    code = cli.main(["ruleset", "check", str(tmp_path / "nowhere")])
    _, err = capsys.readouterr()
    assert code == 1
    assert len(err.strip().splitlines()) == 1
    assert "no such ruleset folder" in err
