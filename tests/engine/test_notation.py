"""Tests for server.engine.notation: reading and writing orders.

The fixture ruleset below is a small inline map (so these tests do not depend on the
shipped rulesets); the tests at the end also run against rulesets/classic and
rulesets/colonial when those folders are present.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from server.engine.errors import AmbiguousNameError, OrderSyntaxError
from server.engine.notation import format_order, parse_location, parse_order, parse_orders
from server.engine.orders import (
    Build,
    Convoy,
    Disband,
    Hold,
    Move,
    Order,
    Permit,
    Retreat,
    Support,
    Waive,
)
from server.engine.ruleset import Ruleset, parse_ruleset

SCENARIO = """
id = "mini"
name = "Mini"

[victory]
centres = 3

[calendar]
seasons = [
  { id = "spring", letter = "S", phases = ["movement", "retreat"] },
  { id = "fall", letter = "F", phases = ["movement", "retreat"], ownership = true },
  { id = "winter", letter = "W", phases = ["adjustment"] },
]

[nations.england]
name = "England"
colour = "#2e3192"

[nations.france]
name = "France"
colour = "#0055a4"

[nations.russia]
name = "Russia"
colour = "#7f7f7f"

[start]
year = 1901
season = "spring"

[start.units]
england = ["F lon"]
france = ["A par", "A mar"]
russia = ["F stp/sc", "A mos"]
"""

MAP = """
[provinces.par]
name = "Paris"
terrain = "land"
centre = true
home = "france"
anchor = [48.86, 2.35]
army = ["bur", "gas", "pic", "bre"]

[provinces.bur]
name = "Burgundy"
terrain = "land"
anchor = [47.0, 4.8]
army = ["par", "mar", "gas", "pic", "bel"]

[provinces.mar]
name = "Marseilles"
terrain = "coast"
centre = true
home = "france"
anchor = [43.3, 5.4]
army = ["bur", "gas", "spa"]
fleet = ["lyo", "spa/sc"]

[provinces.gas]
name = "Gascony"
terrain = "coast"
anchor = [44.0, 0.0]
army = ["par", "bur", "mar", "spa", "bre"]
fleet = ["bre", "mao", "spa/nc"]

[provinces.spa]
name = "Spain"
terrain = "coast"
centre = true
anchor = [40.4, -3.7]
army = ["gas", "mar", "por"]
fleet = { nc = ["gas", "mao", "por"], sc = ["mar", "lyo", "mao", "por"] }

[provinces.por]
name = "Portugal"
terrain = "coast"
centre = true
anchor = [38.7, -9.1]
army = ["spa"]
fleet = ["mao", "spa/nc", "spa/sc"]

[provinces.bre]
name = "Brest"
terrain = "coast"
centre = true
anchor = [48.4, -4.5]
army = ["par", "gas", "pic"]
fleet = ["mao", "eng", "gas", "pic"]

[provinces.pic]
name = "Picardy"
terrain = "coast"
anchor = [49.9, 2.3]
army = ["par", "bur", "bel", "bre"]
fleet = ["bre", "eng", "bel"]

[provinces.bel]
name = "Belgium"
terrain = "coast"
centre = true
anchor = [50.8, 4.4]
army = ["pic", "bur"]
fleet = ["pic", "eng", "nth"]

[provinces.lon]
name = "London"
terrain = "coast"
centre = true
home = "england"
anchor = [51.5, -0.1]
fleet = ["eng", "nth"]

[provinces.stp]
name = "St Petersburg"
aliases = ["StP"]
terrain = "coast"
centre = true
home = "russia"
anchor = [59.9, 30.3]
army = ["mos"]
fleet = { nc = ["bar"], sc = ["bot"] }

[provinces.mos]
name = "Moscow"
terrain = "land"
centre = true
home = "russia"
anchor = [55.8, 37.6]
army = ["stp", "vla"]

[provinces.vla]
name = "Vladivostok"
terrain = "land"
anchor = [43.1, 131.9]
army = ["mos", "irk"]

[provinces.irk]
name = "Irkutsk"
terrain = "land"
anchor = [52.3, 104.3]
army = ["vla"]

[provinces.bar]
name = "Barents Sea"
terrain = "sea"
anchor = [72.0, 40.0]
fleet = ["stp/nc"]

[provinces.bot]
name = "Gulf of Bothnia"
terrain = "sea"
anchor = [63.0, 20.0]
fleet = ["stp/sc"]

[provinces.lyo]
name = "Gulf of Lyon"
terrain = "sea"
anchor = [42.5, 4.5]
fleet = ["mar", "spa/sc", "tys"]

[provinces.tys]
name = "Tyrrhenian Sea"
terrain = "sea"
anchor = [40.0, 12.0]
fleet = ["lyo"]

[provinces.tyr]
name = "Tyrolia"
terrain = "land"
anchor = [47.3, 11.4]
army = ["ven", "tri"]

[provinces.ven]
name = "Venice"
terrain = "coast"
centre = true
anchor = [45.4, 12.3]
army = ["tyr", "tri"]
fleet = ["tri"]

[provinces.tri]
name = "Trieste"
terrain = "coast"
centre = true
anchor = [45.6, 13.8]
army = ["tyr", "ven", "alb"]
fleet = ["ven", "alb"]

[provinces.alb]
name = "Albania"
terrain = "coast"
anchor = [41.3, 19.8]
army = ["tri"]
fleet = ["tri"]

[provinces.mao]
name = "Mid-Atlantic Ocean"
aliases = ["MAO", "Mid-Atlantic"]
terrain = "sea"
anchor = [44.0, -15.0]
fleet = ["gas", "spa/nc", "spa/sc", "por", "bre", "nao", "eng"]

[provinces.nao]
name = "North Atlantic Ocean"
aliases = ["NAO"]
terrain = "sea"
anchor = [55.0, -25.0]
fleet = ["mao"]

[provinces.nth]
name = "North Sea"
terrain = "sea"
anchor = [56.0, 3.0]
fleet = ["lon", "bel", "eng"]

[provinces.eng]
name = "English Channel"
terrain = "sea"
anchor = [50.2, -2.0]
fleet = ["lon", "bel", "pic", "bre", "mao", "nth"]
"""


RS = parse_ruleset({"scenario.toml": SCENARIO, "map.toml": MAP}, "tests/mini")
ROOT = Path(__file__).resolve().parents[2]


def load(name: str) -> Ruleset:
    folder = ROOT / "rulesets" / name
    files = {f: (folder / f).read_text(encoding="utf-8") for f in ("scenario.toml", "map.toml")}
    return parse_ruleset(files, f"rulesets/{name}")


def has_ruleset(name: str) -> bool:
    folder = ROOT / "rulesets" / name
    return (folder / "scenario.toml").is_file() and (folder / "map.toml").is_file()


def syntax_error(text: str, **kw: object) -> OrderSyntaxError:
    with pytest.raises(OrderSyntaxError) as info:
        parse_order(text, RS, **kw)  # type: ignore[arg-type]
    return info.value


# --- locations ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name, loc",
    [
        ("par", "par"),
        ("PAR", "par"),
        ("Paris", "par"),
        ("pArIs", "par"),
        ("North Sea", "nth"),
        ("north  sea", "nth"),
        ("Mid-Atlantic Ocean", "mao"),
        ("mid atlantic ocean", "mao"),
        ("Mid-Atlantic", "mao"),
        ("MAO", "mao"),
        ("NAO", "nao"),
        ("North Atlantic Ocean", "nao"),
        ("Gulf of Lyon", "lyo"),
        ("StP", "stp"),
        ("St Petersburg", "stp"),
        ("St. Petersburg", "stp"),
    ],
)
def test_location_names(name: str, loc: str) -> None:
    """Ids, names and aliases resolve in any case and punctuation."""
    assert parse_location(name, RS) == loc


@pytest.mark.parametrize(
    "name, loc",
    [
        ("stp/sc", "stp/sc"),
        ("stp(sc)", "stp/sc"),
        ("stp (sc)", "stp/sc"),
        ("STP/NC", "stp/nc"),
        ("stp / nc", "stp/nc"),
        ("St Petersburg (south coast)", "stp/sc"),
        ("St Petersburg/SC", "stp/sc"),
        ("StP (north)", "stp/nc"),
        ("stp/n", "stp/nc"),
        ("spa nc", "spa/nc"),
        ("spa SC", "spa/sc"),
        ("Spain north coast", "spa/nc"),
        ("Spain south", "spa/sc"),
        ("Spain (South Coast)", "spa/sc"),
    ],
)
def test_location_coasts(name: str, loc: str) -> None:
    """A coast may follow a slash, sit in brackets or follow as words."""
    assert parse_location(name, RS) == loc


@pytest.mark.parametrize(
    "name, loc",
    [
        ("Burg", "bur"),
        ("pic", "pic"),
        ("Pica", "pic"),
        ("North Atl", "nao"),
        ("St Peters", "stp"),
        ("Gulf of Both", "bot"),
    ],
)
def test_location_unambiguous_prefix(name: str, loc: str) -> None:
    """A prefix that only one province's names start with selects that province."""
    assert parse_location(name, RS) == loc


def test_location_exact_beats_prefix() -> None:
    """An exact id wins over a longer name it is a prefix of (tyr, not Tyrrhenian Sea)."""
    assert parse_location("tyr", RS) == "tyr"
    assert parse_location("Tyrr", RS) == "tys"


@pytest.mark.parametrize(
    "name, candidates",
    [
        ("north", ["nao", "nth"]),
        ("North", ["nao", "nth"]),
        ("gulf", ["bot", "lyo"]),
        ("ty", ["tyr", "tys"]),
    ],
)
def test_location_ambiguous_lists_candidates(name: str, candidates: list[str]) -> None:
    """A prefix shared by several provinces raises AmbiguousNameError listing their ids sorted."""
    with pytest.raises(AmbiguousNameError) as info:
        parse_location(name, RS)
    assert info.value.candidates == candidates
    assert info.value.column == 1
    assert ", ".join(candidates) in str(info.value)


def test_location_ambiguous_is_order_syntax_error() -> None:
    """AmbiguousNameError is an OrderSyntaxError, so one except clause catches both."""
    with pytest.raises(OrderSyntaxError):
        parse_location("north", RS)


def test_location_unknown_suggests_close_match() -> None:
    """An unknown name names itself and suggests the closest province name."""
    with pytest.raises(OrderSyntaxError) as info:
        parse_location("Parsi", RS)
    assert "unknown province 'Parsi'" in info.value.message
    assert "did you mean Paris?" in info.value.message
    assert info.value.column == 1


def test_location_unknown_multiword_suggestion() -> None:
    """A misspelt multi-word name is matched as a whole for the suggestion."""
    with pytest.raises(OrderSyntaxError, match="did you mean St Petersburg"):
        parse_location("Sant Petersburg", RS)


def test_location_unknown_without_suggestion() -> None:
    """A name close to nothing is reported without a suggestion."""
    with pytest.raises(OrderSyntaxError) as info:
        parse_location("Zzyzx", RS)
    assert info.value.message == "unknown province 'Zzyzx'"


def test_location_error_column_is_relative_to_text() -> None:
    """With text and column given, errors point into the whole order text."""
    with pytest.raises(OrderSyntaxError) as info:
        parse_location("Parsi", RS, text="A Parsi H", column=3)
    assert info.value.column == 3
    assert info.value.text == "A Parsi H"


def test_location_missing_coast_of_province() -> None:
    """A coast the province lacks is an error naming it and listing the real coasts."""
    with pytest.raises(OrderSyntaxError) as info:
        parse_location("spa/ec", RS)
    assert info.value.message == "spa has no ec coast: its coasts are nc, sc"
    assert info.value.column == 5


def test_location_coast_on_undivided_province() -> None:
    """A coast on a province without split coasts is an error."""
    with pytest.raises(OrderSyntaxError) as info:
        parse_location("par/nc", RS)
    assert "par has no coasts" in info.value.message
    assert info.value.column == 5


def test_location_unknown_coast_word() -> None:
    """A word after a slash that is no coast is an error at that word."""
    with pytest.raises(OrderSyntaxError) as info:
        parse_location("stp/xx", RS)
    assert info.value.message.startswith("unknown coast 'xx'")
    assert info.value.column == 5


def test_location_unclosed_bracket() -> None:
    """A coast in brackets needs the closing bracket."""
    with pytest.raises(OrderSyntaxError) as info:
        parse_location("stp (sc", RS)
    assert info.value.message == "expected ')' after the coast"


def test_location_trailing_text() -> None:
    """Text after the location is rejected at its column."""
    with pytest.raises(OrderSyntaxError) as info:
        parse_location("par bur", RS)
    assert info.value.column == 5


def test_location_empty() -> None:
    """An empty name is an error, not a crash."""
    with pytest.raises(OrderSyntaxError, match="expected a province"):
        parse_location("", RS)


# --- orders -----------------------------------------------------------------------------

ORDERS: list[tuple[str, Order]] = [
    # hold
    ("A par H", Hold("A", "par")),
    ("A par hold", Hold("A", "par")),
    ("A par holds", Hold("A", "par")),
    ("A par stands", Hold("A", "par")),
    ("Army Paris Holds", Hold("A", "par")),
    ("  a PAR h  ", Hold("A", "par")),
    # move
    ("A par - bur", Move("A", "par", "bur")),
    ("A par -> bur", Move("A", "par", "bur")),
    ("A par \u2192 bur", Move("A", "par", "bur")),
    ("A par-bur", Move("A", "par", "bur")),
    ("A par to bur", Move("A", "par", "bur")),
    ("A par moves to bur", Move("A", "par", "bur")),
    ("A par moves bur", Move("A", "par", "bur")),
    ("A par m bur", Move("A", "par", "bur")),
    ("A Paris - Burgundy", Move("A", "par", "bur")),
    ("Army Paris -> Burg", Move("A", "par", "bur")),
    ("F Mid-Atlantic Ocean - North Atlantic Ocean", Move("F", "mao", "nao")),
    ("F North Atlantic - Mid-Atlantic", Move("F", "nao", "mao")),
    ("F North Sea - English Channel", Move("F", "nth", "eng")),
    ("Fleet Gulf of Lyon - Spain (south coast)", Move("F", "lyo", "spa/sc")),
    ("F gas - spa/nc", Move("F", "gas", "spa/nc")),
    ("F St Petersburg/SC - bot", Move("F", "stp/sc", "bot")),
    ("F stp nc - bar", Move("F", "stp/nc", "bar")),
    ("A lon - bel via convoy", Move("A", "lon", "bel", via_convoy=True)),
    ("A lon - bel by convoy", Move("A", "lon", "bel", via_convoy=True)),
    ("A LON - BEL VIA", Move("A", "lon", "bel", via_convoy=True)),
    ("A irk - vla via rail", Move("A", "irk", "vla", via="rail")),
    ("A mos - vla via tsr", Move("A", "mos", "vla", via="tsr")),
    ("A mos - TSR - vla", Move("A", "mos", "vla", via="tsr")),
    ("A Moscow -> tsr -> Vladivostok", Move("A", "mos", "vla", via="tsr")),
    # support
    ("A tyr S A ven", Support("A", "tyr", "A", "ven")),
    ("A tyr supports A ven", Support("A", "tyr", "A", "ven")),
    ("A tyr S A ven H", Support("A", "tyr", "A", "ven")),
    ("A tyr support army Venice holds", Support("A", "tyr", "A", "ven")),
    ("F mar S F gas - spa/nc", Support("F", "mar", "F", "gas", "spa/nc")),
    ("F mar supports F gas to spa(nc)", Support("F", "mar", "F", "gas", "spa/nc")),
    ("A bur S A par -> pic", Support("A", "bur", "A", "par", "pic")),
    ("F eng S F North Sea - Belgium", Support("F", "eng", "F", "nth", "bel")),
    # convoy
    ("F nth C A lon - bel", Convoy("F", "nth", "A", "lon", "bel")),
    ("F nth convoys A lon to bel", Convoy("F", "nth", "A", "lon", "bel")),
    ("F nth C lon - bel", Convoy("F", "nth", "A", "lon", "bel")),
    ("Fleet North Sea convoy Army London -> Belgium", Convoy("F", "nth", "A", "lon", "bel")),
    # retreat
    ("F tri R alb", Retreat("F", "tri", "alb")),
    ("F tri retreats to alb", Retreat("F", "tri", "alb")),
    ("F tri retreat alb", Retreat("F", "tri", "alb")),
    ("A PAR R PIC", Retreat("A", "par", "pic")),
    # disband / remove
    ("D A pic", Disband("A", "pic")),
    ("A pic D", Disband("A", "pic")),
    ("A pic disband", Disband("A", "pic")),
    ("disband A pic", Disband("A", "pic")),
    ("remove A pic", Disband("A", "pic")),
    ("A pic remove", Disband("A", "pic")),
    ("A PAR D", Disband("A", "par")),
    # build
    ("B A par", Build("A", "par")),
    ("build A par", Build("A", "par")),
    ("A par B", Build("A", "par")),
    ("A par build", Build("A", "par")),
    ("F STP/NC B", Build("F", "stp/nc")),
    ("build fleet stp/nc", Build("F", "stp/nc")),
    ("B F stp", Build("F", "stp")),
    ("B A stp/nc", Build("A", "stp/nc")),
    # waive and canal permission
    ("waive", Waive()),
    ("WAIVE", Waive()),
    ("SC F lyo - tys", Permit("F", "lyo", "tys")),
    ("permit F lyo - tys", Permit("F", "lyo", "tys")),
    ("sc fleet Gulf of Lyon to Tyrrhenian Sea", Permit("F", "lyo", "tys")),
]


@pytest.mark.parametrize("text, order", ORDERS, ids=[t for t, _ in ORDERS])
def test_parse_order_forms(text: str, order: Order) -> None:
    """Every accepted spelling of an order parses to the same order value."""
    assert parse_order(text, RS) == order


def test_parse_order_keeps_impossible_orders() -> None:
    """Orders that read fine but are impossible parse; judging them is the adjudicator's job."""
    assert parse_order("A par - mos", RS) == Move("A", "par", "mos")
    assert parse_order("F par H", RS) == Hold("F", "par")


# --- the units mapping --------------------------------------------------------------------

UNITS = {
    "par": ("A", "par"),
    "pic": ("A", "pic"),
    "ven": ("A", "ven"),
    "gas": ("F", "gas"),
    "stp": ("F", "stp/sc"),
    "lyo": ("F", "lyo"),
}


@pytest.mark.parametrize(
    "text, order",
    [
        ("Par - Bur", Move("A", "par", "bur")),
        ("Paris H", Hold("A", "par")),
        ("stp/sc - bot", Move("F", "stp/sc", "bot")),
        ("StP - bot", Move("F", "stp", "bot")),
        ("A tyr S ven", Support("A", "tyr", "A", "ven")),
        ("F mar S gas - spa/nc", Support("F", "mar", "F", "gas", "spa/nc")),
        ("D pic", Disband("A", "pic")),
        ("pic D", Disband("A", "pic")),
        ("SC lyo - tys", Permit("F", "lyo", "tys")),
        ("F tyr S A ven", Support("F", "tyr", "A", "ven")),
    ],
)
def test_units_fill_omitted_letter(text: str, order: Order) -> None:
    """With units given, an omitted unit letter is taken from the unit standing there."""
    assert parse_order(text, RS, units=UNITS) == order


def test_units_never_override_written_letter() -> None:
    """A written unit letter is kept even when the board disagrees."""
    assert parse_order("F par H", RS, units=UNITS) == Hold("F", "par")


def test_units_missing_unit_is_an_error() -> None:
    """An omitted letter for an empty province is an error naming the province."""
    e = syntax_error("Bur - Par", units=UNITS)
    assert e.message == "no unit in bur: write A or F"
    assert e.column == 1


def test_build_letter_is_never_filled() -> None:
    """A build names the new unit, so its letter is required even with units."""
    e = syntax_error("B par", units=UNITS)
    assert e.message == "unit type missing: write A or F"
    assert e.column == 3


# --- errors -----------------------------------------------------------------------------

ERRORS = [
    ("", "empty order", 1),
    ("   ", "empty order", 1),
    ("A Par -", "expected a province after '-'", 7),
    ("A Par - H", "expected a province after '-'", 9),
    ("A par to", "expected a province after 'to'", 7),
    ("A", "expected a province after 'A'", 1),
    ("F nth C A", "expected a province after 'A'", 9),
    ("A par S", "expected a province after 'S'", 7),
    ("A par S H", "expected a province after 'S'", 9),
    ("A par", "order word missing after 'par': write H, -, S, C, R, D or B", 3),
    ("A par X bur", "unknown order word 'X'", 7),
    ("X par H", "unknown order word 'X'", 1),
    ("R A pic", "unknown order word 'R'", 1),
    ("A par / bur", "unknown coast 'bur': write nc, sc, ec or wc", 9),
    ("A par - bur xyz", "unexpected 'xyz'", 13),
    ("A par H now", "unexpected 'now'", 9),
    ("A par - bur - pic", "unexpected '-'", 13),
    ("waive now", "unexpected 'now'", 7),
    ("F nth C A lon", "expected '-' and the destination after 'lon'", 11),
    ("SC F lyo", "expected '-' after 'lyo'", 6),
    ("Par - Bur", "unit type missing: write A or F", 1),
    ("A tyr S ven", "unit type missing: write A or F", 9),
    ("B par", "unit type missing: write A or F", 3),
    ("A lon - bel by", "expected 'convoy' after 'by'", 13),
    ("A lon - bel via -", "expected 'convoy' or a railway after 'via'", 17),
    ("A mos R vla via tsr", "a retreat cannot go via tsr", 13),
    ("F spa/ec - mao", "spa has no ec coast: its coasts are nc, sc", 7),
    ("A par nc - bur", "par has no coasts: write par alone", 7),
    ("A Parsi - bur", "unknown province 'Parsi': did you mean Paris?", 3),
    ("A par - Burgandy", "unknown province 'Burgandy': did you mean Burgundy?", 9),
    ("england: A par H", "unknown order word 'england:'", 1),
]


@pytest.mark.parametrize("text, message, column", ERRORS, ids=[e[0] or "<empty>" for e in ERRORS])
def test_parse_order_errors(text: str, message: str, column: int) -> None:
    """Unreadable text raises OrderSyntaxError with a short message and the 1-based column."""
    e = syntax_error(text)
    assert e.message == message
    assert e.column == column
    assert e.text == text


def test_error_str_shows_column_and_text() -> None:
    """str() of a syntax error shows the message, the column and the order text."""
    assert str(syntax_error("A Par -")) == "expected a province after '-' (column 7): 'A Par -'"


def test_ambiguous_name_in_order() -> None:
    """An ambiguous name inside an order lists the candidates at the name's column."""
    with pytest.raises(AmbiguousNameError) as info:
        parse_order("F north - eng", RS)
    assert info.value.candidates == ["nao", "nth"]
    assert info.value.column == 3
    assert info.value.text == "F north - eng"


def test_ambiguous_multiword_prefix() -> None:
    """A multi-word prefix shared by two names is ambiguous too."""
    with pytest.raises(AmbiguousNameError) as info:
        parse_order("F gulf of - mar", RS)
    assert info.value.candidates == ["bot", "lyo"]
    assert info.value.name == "gulf of"


def test_prefix_never_swallows_order_words() -> None:
    """A multi-word prefix never ends in an order word: 'North S' is not read as North Sea."""
    with pytest.raises(AmbiguousNameError):
        parse_order("F North S F eng", RS)
    with pytest.raises(AmbiguousNameError):
        parse_location("Gulf of B", RS)  # B is build; write "Gulf of Both"


# --- parse_orders -----------------------------------------------------------------------


def test_parse_orders_lines() -> None:
    """Lines are numbered from 1, trimmed, comments and blanks skipped, errors returned."""
    text = "# France\n  A par - bur  \n\n// fleets\nF gas - spa/nc\nA par - \n   \nF north - eng\n"
    got = parse_orders(text, RS)
    assert [(n, line) for n, line, _ in got] == [
        (2, "A par - bur"),
        (5, "F gas - spa/nc"),
        (6, "A par -"),
        (8, "F north - eng"),
    ]
    assert got[0][2] == Move("A", "par", "bur")
    assert got[1][2] == Move("F", "gas", "spa/nc")
    assert isinstance(got[2][2], OrderSyntaxError) and got[2][2].column == 7
    assert isinstance(got[3][2], AmbiguousNameError)


def test_parse_orders_uses_units() -> None:
    """parse_orders passes units on to every line."""
    assert parse_orders("Par - Bur", RS, units=UNITS) == [(1, "Par - Bur", Move("A", "par", "bur"))]


def test_parse_orders_empty() -> None:
    """Empty text gives no orders."""
    assert parse_orders("", RS) == []


ORDER_TYPES = (Hold, Move, Support, Convoy, Retreat, Disband, Build, Waive, Permit)


@given(st.text(max_size=60))
def test_parse_orders_never_raises(text: str) -> None:
    """parse_orders returns an order or an OrderSyntaxError for any text whatever."""
    for _, _, got in parse_orders(text, RS):
        assert isinstance(got, (OrderSyntaxError, *ORDER_TYPES))


WORDS = (
    "A F par Paris - -> S C H R D B via convoy tsr north sea stp / ( ) nc sc coast Mid-Atlantic"
    " to waive SC x"
).split()


@given(st.lists(st.sampled_from(WORDS), max_size=8))
def test_parse_order_word_soup(words: list[str]) -> None:
    """Any sequence of order-like words parses or raises OrderSyntaxError, never anything else."""
    try:
        parse_order(" ".join(words), RS)
    except OrderSyntaxError:
        pass


# --- format_order and the round trip ------------------------------------------------------

FORMATS: list[tuple[Order, str]] = [
    (Hold("A", "par"), "A par H"),
    (Move("A", "par", "bur"), "A par - bur"),
    (Move("A", "lon", "bel", via_convoy=True), "A lon - bel via convoy"),
    (Move("A", "mos", "vla", via="tsr"), "A mos - vla via tsr"),
    (Support("A", "tyr", "A", "ven"), "A tyr S A ven"),
    (Support("F", "mar", "F", "gas", "spa/nc"), "F mar S F gas - spa/nc"),
    (Convoy("F", "nth", "A", "lon", "bel"), "F nth C A lon - bel"),
    (Retreat("F", "tri", "alb"), "F tri R alb"),
    (Disband("A", "pic"), "D A pic"),
    (Build("F", "stp/nc"), "B F stp/nc"),
    (Waive(), "waive"),
    (Permit("F", "lyo", "tys"), "SC F lyo - tys"),
]


@pytest.mark.parametrize("order, text", FORMATS, ids=[t for _, t in FORMATS])
def test_format_order(order: Order, text: str) -> None:
    """format_order writes lower-case ids, upper-case unit letters and one-letter order words."""
    assert format_order(order) == text
    assert parse_order(text, RS) == order


def test_format_order_rejects_non_orders() -> None:
    """format_order raises TypeError for something that is not an order."""
    with pytest.raises(TypeError):
        format_order("A par H")  # type: ignore[arg-type]


def locations(ruleset: Ruleset) -> list[str]:
    out = []
    for pid, p in sorted(ruleset.provinces.items()):
        out.append(pid)
        out.extend(f"{pid}/{c}" for c in p.coasts)
    return out


def orders(ruleset: Ruleset) -> st.SearchStrategy[Order]:
    """Every kind of order over the ruleset's locations (``via`` from a few railway names)."""
    unit = st.sampled_from(["A", "F"])
    loc = st.sampled_from(locations(ruleset))
    return st.one_of(
        st.builds(Hold, unit, loc),
        st.builds(Move, unit, loc, loc, st.booleans(), st.sampled_from(["", "tsr", "rail", "bam"])),
        st.builds(Support, unit, loc, unit, loc, st.none() | loc),
        st.builds(Convoy, unit, loc, unit, loc, loc),
        st.builds(Retreat, unit, loc, loc),
        st.builds(Disband, unit, loc),
        st.builds(Build, unit, loc),
        st.just(Waive()),
        st.builds(Permit, unit, loc, loc),
    )


@given(orders(RS))
def test_round_trip(order: Order) -> None:
    """parse_order(format_order(o)) == o for every order over the fixture map."""
    text = format_order(order)
    assert parse_order(text, RS) == order
    assert parse_order(text.upper(), RS) == order


# --- the shipped rulesets ---------------------------------------------------------------

needs_classic = pytest.mark.skipif(not has_ruleset("classic"), reason="no rulesets/classic")
needs_colonial = pytest.mark.skipif(not has_ruleset("colonial"), reason="no rulesets/colonial")


@pytest.fixture(scope="module")
def classic() -> Ruleset:
    return load("classic")


@pytest.fixture(scope="module")
def colonial() -> Ruleset:
    return load("colonial")


CLASSIC_ORDERS: list[tuple[str, Order]] = [
    # DATC notation
    ("F nth - pic", Move("F", "nth", "pic")),
    ("A lon - bel via convoy", Move("A", "lon", "bel", via_convoy=True)),
    ("F mar S F gas - spa/nc", Support("F", "mar", "F", "gas", "spa/nc")),
    ("F nth C A lon - bel", Convoy("F", "nth", "A", "lon", "bel")),
    ("F tri R alb", Retreat("F", "tri", "alb")),
    ("B F stp", Build("F", "stp")),
    ("D A pic", Disband("A", "pic")),
    # the peer's saved games
    ("A LON - NWY VIA", Move("A", "lon", "nwy", via_convoy=True)),
    ("F STP/SC - BOT", Move("F", "stp/sc", "bot")),
    ("A PAR S F BRE", Support("A", "par", "F", "bre")),
    ("F STP/NC B", Build("F", "stp/nc")),
    ("A PAR R PIC", Retreat("A", "par", "pic")),
    ("A PAR D", Disband("A", "par")),
    ("F BLA S F CON - BUL/SC", Support("F", "bla", "F", "con", "bul/sc")),
    # what players type
    ("F Mid - Spain (nc)", Move("F", "mao", "spa/nc")),
    ("A Paris - Burg", Move("A", "par", "bur")),
    ("F North Sea C A London - Belgium", Convoy("F", "nth", "A", "lon", "bel")),
    (
        "F Bulgaria (east coast) S F Black Sea - Constantinople",
        Support("F", "bul/ec", "F", "bla", "con"),
    ),
    ("F St. Petersburg north coast - Barents", Move("F", "stp/nc", "bar")),
    ("A tyr - ven", Move("A", "tyr", "ven")),
    ("F tyrr - ion", Move("F", "tys", "ion")),
]


@needs_classic
@pytest.mark.parametrize("text, order", CLASSIC_ORDERS, ids=[t for t, _ in CLASSIC_ORDERS])
def test_classic_orders(classic: Ruleset, text: str, order: Order) -> None:
    """DATC, peer and player spellings parse against rulesets/classic."""
    assert parse_order(text, classic) == order


@needs_classic
def test_classic_ambiguous_north(classic: Ruleset) -> None:
    """'north' on the classic map could be North Africa, North Atlantic or North Sea."""
    with pytest.raises(AmbiguousNameError) as info:
        parse_location("north", classic)
    assert info.value.candidates == ["naf", "nao", "nth"]


@needs_classic
def test_classic_suggestion(classic: Ruleset) -> None:
    """A misspelt classic province suggests the right one."""
    with pytest.raises(OrderSyntaxError, match="did you mean Munich"):
        parse_order("A Munchi - ruh", classic)


@needs_classic
@given(data=st.data())
def test_classic_round_trip(classic: Ruleset, data: st.DataObject) -> None:
    """parse_order(format_order(o)) == o for orders over every classic location."""
    order = data.draw(orders(classic))
    assert parse_order(format_order(order), classic) == order

COLONIAL_ORDERS: list[tuple[str, Order]] = [
    ("A mos - vla via tsr", Move("A", "mos", "vla", via="tsr")),
    ("A mos - TSR - vla", Move("A", "mos", "vla", via="tsr")),
    ("SC F med - red", Permit("F", "med", "red")),
    ("F ban/ec - gos", Move("F", "ban/ec", "gos")),
    ("F Mid - upp", Move("F", "mid", "upp")),
]


@needs_colonial
@pytest.mark.parametrize("text, order", COLONIAL_ORDERS, ids=[t for t, _ in COLONIAL_ORDERS])
def test_colonial_orders(colonial: Ruleset, text: str, order: Order) -> None:
    """Colonial railway and canal orders parse against rulesets/colonial."""
    assert parse_order(text, colonial) == order
