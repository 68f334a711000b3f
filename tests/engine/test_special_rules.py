"""The special-rule tables of a ruleset (railways, canals, conditional centres, frozen
provinces, fortresses) are validated on load, with errors naming file, entry and fix."""

from __future__ import annotations

import pytest

from server.engine.errors import RulesetError
from server.engine.ruleset import parse_ruleset
from server.ruleset_files import read_folder, rulesets_dir


def _colonial(extra: str = "", replace: tuple[str, str] | None = None) -> dict[str, str]:
    files = read_folder(rulesets_dir() / "colonial")
    text = files["scenario.toml"]
    if replace:
        assert replace[0] in text
        text = text.replace(*replace)
    files["scenario.toml"] = text + extra
    return files


def _error(files: dict[str, str]) -> str:
    with pytest.raises(RulesetError) as info:
        parse_ruleset(files, folder="rulesets/colonial")
    return str(info.value)


def test_colonial_declares_tsr_suez_and_hong_kong() -> None:
    """The Colonial ruleset loads with the TSR line, the Suez canal and Hong Kong's rule."""
    rs = parse_ruleset(_colonial(), folder="rulesets/colonial")
    (tsr,) = rs.railways
    assert tsr.line == ("mos", "prm", "oms", "kra", "irk", "vla") and tsr.users == ("russia",) and tsr.capacity == 1
    assert rs.canals[0].province == "egy" and set(rs.canals[0].joins) == {"med", "red"}
    assert rs.not_counted == {"hon": frozenset({"china"})}


def test_route_follows_a_line_in_either_direction() -> None:
    """A line's route runs station by station, both ways, and is empty off the line."""
    tsr = parse_ruleset(_colonial(), folder="rulesets/colonial").railways[0]
    assert tsr.route("mos", "kra") == ("mos", "prm", "oms", "kra")
    assert tsr.route("vla", "oms") == ("vla", "irk", "kra", "oms")
    assert tsr.route("mos", "pek") == ()


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (("path = [\"mos\", \"prm\", \"oms\", \"kra\", \"irk\", \"vla\"]", "path = [\"mos\", \"xyz\"]"), "[railways.tsr]: unknown province 'xyz'"),
        (("path = [\"mos\", \"prm\", \"oms\", \"kra\", \"irk\", \"vla\"]", "path = [\"mos\", \"med\"]"), "station med is a sea"),
        (("users = [\"russia\"]", "users = [\"prussia\"]"), "is not a list of nations"),
        (("capacity = 1", "capacity = 0"), "capacity 0 must be a whole number >= 1"),
        (("joins = [\"med\", \"red\"]", "joins = [\"med\", \"egy\"]"), "[canals.egy]: joins"),
        (("not_for = [\"china\"]", "not_for = [\"qing\"]"), "[conditional_centres.hon]: 'qing' is not a nation"),
    ],
)
def test_bad_special_tables_are_rejected(edit: tuple[str, str], expected: str) -> None:
    """A broken special-rule entry gives one error naming the file and the entry."""
    message = _error(_colonial(replace=edit))
    assert "rulesets/colonial/scenario.toml" in message and expected in message


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ("\n[frozen]\nmonsoon = [\"vla\"]\n", "[frozen.monsoon]: 'monsoon' is not a season"),
        ("\n[frozen]\nwinter = [\"pek\"]\n", "pek is inland"),
        ("\n[fortresses.por]\ndefence = 0\n", "[fortresses.por]: defence must be at least 1"),
        ("\n[fortresses.xyz]\ndefence = 1\n", "[fortresses.xyz]: unknown province 'xyz'"),
        ("\n[mountains]\nx = 1\n", "[mountains]: unknown table 'mountains'"),
        ("\n[conditional_centres.nan]\nnot_for = [\"china\"]\n", "nan is not a supply centre"),
        ("\n[railways.ts2]\naliases = [\"TSR\"]\npath = [\"mos\", \"prm\"]\nusers = [\"russia\"]\n", "is also used by railway"),
        ("\n[railways.bad]\npath = [\"mos\", \"prm\"]\nlinks = [[\"mos\", \"prm\"]]\n", "give either path (a line) or links (a graph)"),
    ],
)
def test_bad_added_tables_are_rejected(extra: str, expected: str) -> None:
    """Added special tables with mistakes are refused with a message saying what to fix."""
    assert expected in _error(_colonial(extra=extra))


def test_graph_network_takes_the_shortest_route() -> None:
    """A network given as links routes along the fewest links, ties broken by id."""
    rs = parse_ruleset(_colonial(extra='\n[railways.grid]\nlinks = [["mos", "prm"], ["prm", "oms"], ["mos", "akm"], ["akm", "oms"]]\nusers = "controllers"\ncapacity = 2\n'), folder="rulesets/colonial")
    grid = next(r for r in rs.railways if r.id == "grid")
    assert grid.route("mos", "oms") == ("mos", "akm", "oms")
    assert grid.users == ("controllers",) and grid.capacity == 2
