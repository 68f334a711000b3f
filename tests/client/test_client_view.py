"""The client's pure parts: text views of replies and pushes, the config file, the commands'
decisions, their doctests, and that they do no I/O."""

from __future__ import annotations

import ast
import doctest
from datetime import timedelta, timezone
from pathlib import Path

import pytest

import client_cli
from client_cli import commands, config, view

PKG = Path(client_cli.__file__).parent
VIEW = {
    "game": "g1", "title": "Test", "ruleset": "classic", "status": "active", "phase": "F1901R",
    "deadline": 1_800_000_000, "seq": 9, "nation": "france", "host": False, "acting": ["germany"],
    "state": {"year": 1901, "season": "F", "phase": "R",
              "units": [["france", "A", "bur"], ["germany", "A", "ruh"], ["france", "F", "stp/sc"]],
              "centres": [["par", "france"], ["mar", "france"], ["ber", "germany"]],
              "dislodged": [["germany", "A", "mun", "bur", False]], "standoffs": [], "winner": None},
    "seats": [{"nation": "france", "player": "Fred", "orders": True, "ready": True, "civil_disorder": False, "missed": 0},
              {"nation": "germany", "player": "Dora", "orders": False, "ready": False, "civil_disorder": True, "missed": 3},
              {"nation": "italy", "player": None, "orders": False, "ready": False, "civil_disorder": False, "missed": 0}],
    "orders": ["A bur H"],
}


@pytest.mark.parametrize("module", ["commands", "config", "view"])
def test_doctests(module: str) -> None:
    """The examples in the pure modules' docstrings hold."""
    mod = {"commands": commands, "config": config, "view": view}[module]
    result = doctest.testmod(mod)
    assert result.attempted > 0 and result.failed == 0


@pytest.mark.parametrize("module", ["commands", "view"])
def test_pure_modules_do_no_io(module: str) -> None:
    """``view`` and ``commands`` import nothing that does I/O and only pure parts of the server."""
    tree = ast.parse((PKG / f"{module}.py").read_text())
    names = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    names |= {f"{'.' * n.level}{n.module or ''}" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    banned = ("asyncio", "socket", "os", "sqlite3", "time", "random", "websockets", "msgpack", "subprocess",
              ".connection", ".app", "server.net", "server.storage", "server.saves.files")
    assert not [n for n in names if n.split(".")[0] in banned or n in banned or n.startswith(banned[-3:])]


def test_board_shows_phase_deadline_nations_and_readiness() -> None:
    """The board names phase and deadline (UTC and local), each nation's player, centres and
    units, who acts, has orders in and is ready, the dislodged units and your own orders."""
    text = view.render_board(VIEW, timezone(timedelta(hours=9), "JST"))
    lines = text.splitlines()
    assert lines[0] == "g1: Test (classic), active at F1901R"
    assert lines[1] == "deadline: 2027-01-15 08:00 UTC (2027-01-15 17:00 JST local)"
    assert lines[2] == "you: france"
    assert lines[3].split() == ["nation", "player", "centres", "units", "acts", "orders", "ready"]
    assert lines[4].split() == ["france", "*", "Fred", "2", "A", "bur,", "F", "stp/sc", "-", "yes", "yes"]
    assert "Dora [civil disorder]" in lines[5] and lines[5].split()[-3:] == ["yes", "-", "-"]
    assert lines[6].split()[:3] == ["italy", "(free)", "0"]
    assert "dislodged: germany A mun (by bur)" in text
    assert text.endswith("your orders:\n  A bur H")


def test_board_in_utc_has_no_local_part() -> None:
    """When the local zone is UTC the deadline is printed once."""
    assert "deadline: 2027-01-15 08:00 UTC\n" in view.render_board(VIEW, timezone.utc)
    assert "deadline: none" in view.render_board({**VIEW, "deadline": None})


def test_results_show_each_order_with_result_and_reason() -> None:
    """Results list every nation's orders with the result and the engine's reason, then events,
    retreat options, missed nations and the next phase."""
    push = {"event": "adjudicated", "phase": "S1901M", "next": "F1901M", "deadline": 1_800_000_000,
            "results": [["france", "A par - bur", "fails", ["bounced", "bur", None, None]],
                        ["germany", "A mun - bur", "fails", ["bounced", "bur", None, None]],
                        ["france", "F bre - mao", "succeeds", None]],
            "events": [["dislodged", "italy", "ven", None]], "retreat_options": [["A ven", "italy", ["pie", "tus"]]],
            "removed": [], "missed": ["turkey"], "civil_disorder": [], "winner": None}
    text = view.render_results(push)
    why = view.reason_text(["bounced", "bur", None, None])
    assert why and "bur" in why
    assert f"france\n  A par - bur  fails: {why}\n  F bre - mao  succeeds\ngermany\n" in text
    assert "events:\n  dislodged italy ven" in text
    assert "retreat options: italy A ven: pie, tus" in text
    assert "missed: turkey" in text and text.endswith("next: F1901M, deadline 2027-01-15 08:00 UTC")
    assert view.render_results({**push, "winner": "france"}).endswith("winner: france")


def test_orders_reply_in_an_adjustment_phase() -> None:
    """An adjustment reply shows the count still due."""
    text = view.render_orders_reply({"phase": "W1901A", "nation": "france", "orders": ["B A par"],
                                     "missing": 1, "due": 2, "rejected": []})
    assert text == "france W1901A: 1 order accepted\n  B A par\nmissing: 1\ndue: +2"


def test_games_and_legal_and_welcome() -> None:
    """The games list, legal orders and the sign-in summary are readable tables and lists."""
    assert view.render_games([]) == "no games"
    text = view.render_games([{"game": "g1", "title": "T", "ruleset": "classic", "status": "forming",
                               "phase": "S1901M", "free": ["italy"], "nation": None}])
    assert text.splitlines()[1].split() == ["g1", "T", "classic", "forming", "S1901M", "-", "italy"]
    text = view.render_games([{"game": "g1", "title": "T", "ruleset": "classic", "status": "active",
                               "phase": "F1901M", "free": [], "advertised": ["russia"], "nation": None}])
    assert text.splitlines()[1].endswith("russia (standby)")
    assert view.render_legal({"par": ["A par H", "A par - bur"]}) == "par:\n  A par H\n  A par - bur"
    assert view.render_legal({}) == "nothing to order"
    w = view.render_welcome({"name": "Fred", "user": 2, "role": "player",
                             "games": [{"game": "g1", "title": "T", "phase": "S1901M", "nation": "france"}]})
    assert w == "signed in as Fred (user 2, player)\n  g1: T at S1901M, you play france"


def test_config_round_trip_and_location(tmp_path: Path) -> None:
    """The config file is written with the tiny writer, read back with tomllib, merged on save,
    and lives under XDG_CONFIG_HOME (else ~/.config)."""
    path = tmp_path / "kessen" / "client.toml"
    assert config.load(path) == {}
    config.save(path, {"server": "ws://h:1", "token": 'u1.a"b\\c'})
    config.save(path, {"token": "u2.new"})
    assert config.load(path) == {"server": "ws://h:1", "token": "u2.new"}
    assert config.default_path({"HOME": "/home/x"}) == Path("/home/x/.config/kessen/client.toml")
    path.write_text("server = [")
    with pytest.raises(ValueError, match="not valid TOML"):
        config.load(path)


def test_pick_results_by_phase() -> None:
    """The results of a named phase, else the latest; none before any adjudication."""
    assert commands.pick_results([], None) is None
    pushes = [{"event": "adjudicated", "phase": "S1901M", "seq": 3}, {"event": "status", "seq": 4}]
    assert commands.pick_results(pushes, "S1901M") == pushes[0]


@pytest.mark.parametrize("push, line", [
    ({"event": "press", "id": 3, "from": "france", "to": ["austria", "italy"], "text": "Hi", "phase": "S1901M",
      "time": 1_800_000_000}, "* g1 press #3 S1901M 2027-01-15 08:00 UTC  france -> austria, italy: Hi"),
    ({"event": "press", "id": 4, "from": None, "to": ["austria"], "text": "Boo", "phase": "S1901M"},
     "* g1 press #4 S1901M  (anonymous) -> austria: Boo"),
    ({"event": "event", "n": 2, "phase": "S1901M", "kind": "extend", "by": "boss", "reason": "weekend",
      "time": 1_800_000_000, "data": {"seconds": 3600}},
     "* g1 2  S1901M  2027-01-15 08:00 UTC  extend by boss: weekend (seconds: 3600)"),
    ({"event": "reminder", "phase": "S1901M", "deadline": 1_800_003_600, "seconds_left": 3600,
      "missing": ["F bre"]},
     "* g1 S1901M: reminder: the deadline is in 1 h 00 min, 2027-01-15 09:00 UTC; still missing: F bre"),
    ({"event": "deadline", "phase": "S1901M", "deadline": 1_800_000_000, "reason": "absence"},
     "* g1 S1901M: deadline now 2027-01-15 08:00 UTC (absence)"),
    ({"event": "orders_entered", "phase": "S1901M", "nation": "italy", "text": "A ven H", "by": "boss"},
     "* g1 S1901M: boss entered orders for italy"),
    ({"event": "rolled_back", "phase": "S1901M", "deadline": 1_800_000_000},
     "* g1 rolled back to S1901M; deadline 2027-01-15 08:00 UTC"),
    ({"event": "vote", "phase": "S1901M", "nation": "france", "kind": "draw", "value": True},
     "* g1 S1901M: france votes yes on a draw"),
    ({"event": "ended", "phase": "F1905M", "result": "draw", "winner": None, "survivors": ["france", "italy"]},
     "* g1 ended at F1905M: draw (survivors: france, italy)"),
    ({"event": "ended", "phase": "F1910M", "winner": "turkey"}, "* g1 ended at F1910M: turkey wins"),
])
def test_new_pushes_read_as_one_line(push: dict, line: str) -> None:
    """Press, history events, reminders, deadline moves, host-entered orders, rollbacks, votes and
    the end of a game each show as one line (UTC, no local zone given)."""
    assert view.render_push({"game": "g1", "seq": 1, **push}) == line


def test_threads_and_history_render() -> None:
    """Press grouped by correspondents shows a header per conversation; an empty history says so."""
    msgs = [{"id": 1, "from": "france", "to": ["austria"], "text": "a", "phase": "S1901M"},
            {"id": 2, "from": "austria", "to": ["france"], "text": "b", "phase": "S1901M"},
            {"id": 3, "from": "italy", "to": ["all"], "text": "c", "phase": "S1901M"}]
    text = view.render_threads(commands.threads(msgs, "austria"))
    assert text.splitlines() == ["with france (2 messages):", "  #1 S1901M  france -> austria: a",
                                 "  #2 S1901M  austria -> france: b", "with all (1 message):",
                                 "  #3 S1901M  italy -> all: c"]
    assert view.render_threads([]) == "no press" and view.render_history([]) == "no events yet"


def test_suggestion_then_y_takes_it() -> None:
    """A mistyped order offers the closest legal order; 'y' adds it; any other line drops the offer;
    a parsed but illegal order is kept with a note, and 'y' replaces it."""
    import asyncio

    from client_cli.interactive import Shell
    from server.ruleset_files import load

    class Conn:
        welcome: dict = {"games": []}
        pushes: dict = {}

    sh = Shell(Conn())
    sh.game = "g1"
    sh.ruleset, sh.view = load("classic"), VIEW | {"state": {"units": [["austria", "A", "vie"], ["austria", "A", "bud"]]}}
    sh.legal = ["A vie - bud", "A vie - boh", "A vie - gal", "A bud - ser", "A bud - rum"]
    run = lambda line: asyncio.run(sh.execute(line))  # noqa: E731
    assert run("A Vie - Bdu").endswith("did you mean: A vie - bud  ('y' adds it)")
    assert run("y") == "added 1: A vie - bud"
    assert run("A Vie - Bdu").startswith("not added") and run("draft") == "  1  A vie - bud"
    assert run("y").startswith("not added")  # the offer was dropped by the line before
    out = run("A bud - tri")
    assert out.startswith("added 2: A bud - tri\nnote: not a legal order now") and "A bud - " in out
    assert run("y").startswith("replaced 2: A bud - ") and len(sh.draft) == 2
