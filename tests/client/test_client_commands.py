"""Every scriptable sub-command of ``kessen-client`` end to end against a real ``kessen serve`` on
loopback, in text and in ``--json``: press and inbox, history, votes and absences, and the host
tools (pause, resume, extend, process, preview, rollback, replace, enter orders, advertise,
export); refusals exit 1 with the server's reason, usage errors exit 2."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Iterator

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "server"))
from wsclient import ROOT, ServerProcess, kessen

from clienthelp import Game, cli, host_token, make_game, ok, ok_json, refused, run, usage

from client_cli.app import build_parser

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    tmp = tmp_path_factory.mktemp("srv")
    token = host_token(tmp)
    srv = ServerProcess(tmp, args=("--no-render",)).start()
    srv.host_token = token  # type: ignore[attr-defined]
    srv.url = f"ws://127.0.0.1:{srv.port}"  # type: ignore[attr-defined]
    try:
        yield srv
    finally:
        assert srv.stop() == 0


@pytest.fixture
def game(server: Any, tmp_path: Path) -> Game:
    """A classic game started with all seven nations seated."""
    return make_game(server.url, server.host_token, tmp_path)


def deadline(g: Game) -> int:
    return int(ok_json(*g.as_("host"), "board", g.id)["deadline"])


def wait_results(g: Game, phase: str, timeout: float = 15) -> None:
    end = time.monotonic() + timeout
    while cli(*g.as_("host"), "results", g.id, "--phase", phase)[0] != 0:
        assert time.monotonic() < end, f"{phase} was never adjudicated"
        time.sleep(0.1)


# ---- press -----------------------------------------------------------------------------------

def test_press_to_nations_all_and_host_then_inbox(game: Game) -> None:
    """Press goes to named nations, to everyone and to the host; each reads what they may in
    their inbox, as lines, as conversations and as JSON; bad recipients are refused."""
    g = game
    out = ok(*g.as_("france"), "press", g.id, "--to", "Germany,italy", "Shall", "we", "talk?")
    assert out.startswith("sent press #") and out.rstrip().endswith("to germany, italy")
    sent = ok_json(*g.as_("germany"), "press", g.id, "--to", "france", "Yes: Burgundy stays empty.")
    assert isinstance(sent["id"], int)
    ok(*g.as_("italy"), "press", g.id, "--to", "all", "Peace in our time")
    ok(*g.as_("turkey"), "press", g.id, "--to", "host", "I may be late on Friday")
    ok(*g.as_("russia"), "press", g.id, "--to", "austria", "-", stdin="line one\nline two\n")

    text = ok(*g.as_("germany"), "inbox", g.id)
    assert "france -> germany, italy: Shall we talk?" in text
    assert "germany -> france: Yes: Burgundy stays empty." in text
    assert "italy -> all: Peace in our time" in text
    assert "turkey" not in text and "russia" not in text  # not addressed to Germany
    threads = ok(*g.as_("france"), "inbox", g.id, "--threads")
    assert "with germany (1 message):" in threads and "with germany, italy (1 message):" in threads
    assert "with all (1 message):" in threads
    msgs = ok_json(*g.as_("austria"), "inbox", g.id)
    assert [(m["from"], m["to"], m["text"]) for m in msgs] == [("italy", ["all"], "Peace in our time"),
                                                               ("russia", ["austria"], "line one\nline two")]
    assert {"id", "phase", "time"} <= set(msgs[0])
    host = ok_json(*g.as_("host"), "inbox", g.id)
    assert ("turkey", "I may be late on Friday") in [(m["from"], m["text"]) for m in host]
    after = ok_json(*g.as_("austria"), "inbox", g.id, "--after", str(msgs[0]["id"]))
    assert [m["from"] for m in after] == ["russia"]

    _, err = refused(*g.as_("france"), "press", g.id, "--to", "germany", "psst", "--grey", code="press_refused")
    assert "grey" in err  # grey press is off by default; the reason names the rule
    refused(*g.as_("france"), "press", g.id, "--to", "narnia", "hello", code="not_found")
    assert "recipient" in usage(*g.as_("france"), "press", g.id, "--to", ",", "hello")
    assert "--to" in usage(*g.as_("france"), "press", g.id, "hello")  # --to is required
    assert "empty" in usage(*g.as_("france"), "press", g.id, "--to", "all", "-")


def test_press_refused_where_the_game_forbids_it(server: Any, tmp_path: Path) -> None:
    """In a game with public press only, private press is refused (exit 1, the server's code),
    a broadcast goes through; outsiders may not read the inbox."""
    g = make_game(server.url, server.host_token, tmp_path, settings={"press": "public"})
    _, err = refused(*g.as_("france"), "press", g.id, "--to", "germany", "secret", code="press_refused")
    assert "public" in err
    ok(*g.as_("france"), "press", g.id, "--to", "all", "public")
    other = make_game(server.url, server.host_token, tmp_path / "other", seated=("france",))
    refused(*other.as_("france"), "inbox", g.id, code="forbidden")


# ---- history, pause, resume, extend -------------------------------------------------------------

def test_pause_resume_and_the_history(game: Game) -> None:
    """The host pauses (with a reason) and resumes; a second pause, a player's pause and a pause
    without a reason are refused; every player sees both actions in the history."""
    g = game
    before = deadline(g)
    out = ok(*g.as_("host"), "host", "pause", g.id, "--reason", "a player is ill")
    assert out.strip() == f"{g.id} paused; 1 d left on the deadline when resumed"
    assert ok_json(*g.as_("host"), "board", g.id)["status"] == "paused"
    refused(*g.as_("host"), "host", "pause", g.id, "--reason", "again", code="bad_state")
    refused(*g.as_("france"), "host", "pause", g.id, "--reason", "mine", code="forbidden")
    assert "--reason" in usage(*g.as_("host"), "host", "pause", g.id)

    reply = ok_json(*g.as_("host"), "host", "resume", g.id, "--reason", "better now")
    assert reply["status"] == "active" and reply["deadline"] == before  # the clock did not move
    refused(*g.as_("host"), "host", "resume", g.id, code="bad_state")

    text = ok(*g.as_("germany"), "history", g.id)
    lines = text.splitlines()
    assert len(lines) == 2 and "S1901M" in lines[0]
    assert "pause by boss: a player is ill (left: 86400)" in lines[0]
    assert "resume by boss: better now" in lines[1]
    events = ok_json(*g.as_("france"), "history", g.id)
    assert [(e["kind"], e["by"], e["reason"]) for e in events] == [("pause", "boss", "a player is ill"),
                                                                   ("resume", "boss", "better now")]
    refused(*g.as_("host"), "history", "nosuch", code="not_found")


def test_extend_by_hours_or_seconds_within_the_limit(game: Game) -> None:
    """extend moves the deadline by --hours or --seconds (one of them, positive); past the
    game's limit it is refused; only the host may extend."""
    g = game
    before = deadline(g)
    out = ok(*g.as_("host"), "host", "extend", g.id, "--hours", "1.5", "--reason", "holiday")
    assert out.startswith(f"{g.id} S1901M: deadline extended to ")
    assert deadline(g) == before + 5400
    reply = ok_json(*g.as_("host"), "host", "extend", g.id, "--seconds", "600")
    assert reply == {"game": g.id, "phase": "S1901M", "deadline": before + 6000, "extended": 6000}
    refused(*g.as_("host"), "host", "extend", g.id, "--hours", "48", code="over_limit")
    refused(*g.as_("host"), "host", "extend", g.id, "--seconds", "60", "--phase", "F1901M", code="stale_phase")
    refused(*g.as_("italy"), "host", "extend", g.id, "--seconds", "60", code="forbidden")
    assert "one of the arguments" in usage(*g.as_("host"), "host", "extend", g.id)
    assert "not allowed with" in usage(*g.as_("host"), "host", "extend", g.id, "--seconds", "5", "--hours", "1")
    assert "positive" in usage(*g.as_("host"), "host", "extend", g.id, "--seconds", "0")
    assert "invalid float" in usage(*g.as_("host"), "host", "extend", g.id, "--hours", "soon")


# ---- preview, process, rollback ---------------------------------------------------------------

def test_preview_process_and_rollback(game: Game, tmp_path: Path) -> None:
    """preview shows the results processing would give without storing them; process adjudicates
    at once (a wrong --phase is refused); rollback reopens the phase with the same board."""
    g = game
    ok(*g.as_("france"), "orders", g.id, "-", stdin="A par - bur\nA mar - spa\nF bre - mao\n")
    ok(*g.as_("germany"), "orders", g.id, "-", stdin="A mun - bur\n")
    text = ok(*g.as_("host"), "host", "preview", g.id)
    assert text.startswith("preview of S1901M (not processed; nothing was stored)\n")
    assert "\n  A mar - spa  succeeds\n" in text and "\n  A par - bur  fails: bounced at bur\n" in text
    assert "without orders: austria, england, italy, russia, turkey" in text and "next: F1901M" in text
    prev = ok_json(*g.as_("host"), "host", "preview", g.id)
    assert ["france", "F bre - mao", "succeeds", None] in prev["results"] and prev["next"] == "F1901M"
    refused(*g.as_("france"), "host", "preview", g.id, code="forbidden")
    assert ok_json(*g.as_("host"), "board", g.id)["phase"] == "S1901M"  # nothing stored

    refused(*g.as_("host"), "host", "process", g.id, "--phase", "F1901M", code="stale_phase")
    out = ok(*g.as_("host"), "host", "process", g.id, "--phase", "s1901m", "--reason", "all in")
    assert out.startswith(f"{g.id} S1901M: processing now")
    wait_results(g, "S1901M")
    assert ok_json(*g.as_("host"), "board", g.id)["phase"] == "F1901M"

    assert "--reason" in usage(*g.as_("host"), "host", "rollback", g.id)
    refused(*g.as_("host"), "host", "rollback", g.id, "--reason", "x", "--phase", "S1901M", code="stale_phase")
    out = ok(*g.as_("host"), "host", "rollback", g.id, "--reason", "Germany's orders were lost")
    assert out.startswith(f"{g.id}: rolled back from F1901M to S1901M, whose orders are open again; deadline ")
    board = ok_json(*g.as_("france"), "board", g.id)
    assert board["phase"] == "S1901M" and ["france", "A", "par"] in board["state"]["units"]
    refused(*g.as_("host"), "host", "rollback", g.id, "--reason", "again", code="bad_state")
    kinds = [e["kind"] for e in ok_json(*g.as_("italy"), "history", g.id)]
    assert [k for k in kinds if k != "preview"] == ["process", "rollback"] and "preview" in kinds
    ok(*g.as_("host"), "host", "process", g.id, "--json")  # the phase is played again
    wait_results(g, "S1901M")


# ---- seats and orders for others -----------------------------------------------------------------

def test_replace_a_player_and_advertise_the_seat(game: Game, tmp_path: Path) -> None:
    """replace without --name frees the seat and prints an invite a new player joins with;
    with a new --name it makes the account and prints its token once; advertise opens only a
    seat without a player (or in civil disorder)."""
    g = game
    out = ok(*g.as_("host"), "host", "replace", g.id, "france", "--reason", "gone quiet")
    assert out.startswith("france is open for a new player: invite i")
    code = out.split("invite ")[1].split()[0]
    refused(*g.as_("france"), "orders", g.id, "-", code="not_seated")
    out = ok(*g.as_("host"), "host", "advertise", g.id, "france")
    assert out.strip() == f"{g.id}: france is advertised as open"
    assert ok_json(*g.as_("host"), "host", "advertise", g.id, "france", "--off")["advertised"] is False
    refused(*g.as_("host"), "host", "advertise", g.id, "italy", code="bad_state")
    refused(*g.as_("host"), "host", "advertise", g.id, "narnia", code="not_found")
    new = str(tmp_path / "new.toml")
    assert "you play france" in ok("--config", new, "--server", g.url, "join", code, "--name", "Nell")

    reply = ok_json(*g.as_("host"), "host", "replace", g.id, "germany", "--name", "Gerd")
    assert reply["player"] == "Gerd" and reply["nation"] == "germany" and reply["token"].startswith("u")
    assert "invite" not in reply
    gerd = str(tmp_path / "gerd.toml")
    ok("--config", gerd, "--server", g.url, "--token", reply["token"], "login")
    assert ok_json("--config", gerd, "board", g.id)["nation"] == "germany"
    refused(*g.as_("host"), "host", "replace", g.id, "austria", "--name", "Gerd", code="already_seated")
    refused(*g.as_("italy"), "host", "replace", g.id, "austria", code="forbidden")
    kinds = [e["kind"] for e in ok_json(*g.as_("italy"), "history", g.id)]
    assert kinds == ["replace", "advertise", "advertise", "replace"]


def test_enter_orders_for_a_player(game: Game, tmp_path: Path) -> None:
    """The host enters a nation's orders from a file or stdin; rejected lines exit 1; the nation's
    player sees them as their orders."""
    g = game
    f = tmp_path / "italy.txt"
    f.write_text("A ven - tyr\nA rom - apu\nF nap - ion\n")
    out = ok(*g.as_("host"), "host", "enter-orders", g.id, "Italy", "--file", str(f), "--reason", "sent by mail")
    assert out.startswith("italy S1901M: 3 orders accepted\n") and "missing: none" in out
    assert ok_json(*g.as_("italy"), "board", g.id)["orders"] == ["A ven - tyr", "A rom - apu", "F nap - ion"]
    rc, out, _ = cli(*g.as_("host"), "host", "enter-orders", g.id, "italy", "-", "--json", stdin="A ven H\nA xx - yy\n")
    reply = json.loads(out)
    assert rc == 1 and reply["orders"] == ["A ven H"] and [r["line"] for r in reply["rejected"]] == [2]
    refused(*g.as_("italy"), "host", "enter-orders", g.id, "italy", "-", code="forbidden")
    refused(*g.as_("host"), "host", "enter-orders", g.id, "narnia", "-", code="not_found")
    assert "cannot read orders" in usage(*g.as_("host"), "host", "enter-orders", g.id, "italy", str(tmp_path / "no"))
    assert [e["kind"] for e in ok_json(*g.as_("italy"), "history", g.id)] == ["enter_orders", "enter_orders"]


def test_export_writes_a_save_that_verifies(game: Game, tmp_path: Path) -> None:
    """export writes the game's save to -o FILE; ``kessen verify`` accepts it; players may not."""
    g = game
    out_file = tmp_path / "g.kessen"
    out = ok(*g.as_("host"), "host", "export", g.id, "-o", str(out_file))
    assert out.startswith(f"wrote {out_file} (") and out_file.stat().st_size > 0
    r = kessen("verify", str(out_file))
    assert r.returncode == 0, r.stdout + r.stderr
    info = ok_json(*g.as_("host"), "host", "export", g.id, "--output", str(tmp_path / "h.kessen"))
    assert info == {"game": g.id, "name": f"{g.id}.kessen", "file": str(tmp_path / "h.kessen"),
                    "bytes": (tmp_path / "h.kessen").stat().st_size}
    assert info["bytes"] > out_file.stat().st_size  # the history now records the first export
    refused(*g.as_("france"), "host", "export", g.id, "-o", str(tmp_path / "x"), code="forbidden")
    assert "cannot write" in usage(*g.as_("host"), "host", "export", g.id, "-o", str(tmp_path / "no" / "dir" / "x"))
    assert "-o/--output" in usage(*g.as_("host"), "host", "export", g.id)


# ---- votes, absences, profile ---------------------------------------------------------------------

def test_vote_draw_and_concede(game: Game) -> None:
    """A player votes for or against a draw this phase; a bad value is a usage error; the host,
    who plays no nation, is refused."""
    g = game
    assert ok(*g.as_("france"), "vote", g.id, "draw", "yes").strip() == f"{g.id} S1901M: you vote for a draw"
    ok_json(*g.as_("germany"), "vote", g.id, "draw", "no")
    ok(*g.as_("turkey"), "vote", g.id, "concede", "no")
    assert "yes or no" in usage(*g.as_("france"), "vote", g.id, "draw", "maybe")
    assert "invalid choice" in usage(*g.as_("france"), "vote", g.id, "surrender", "yes")
    refused(*g.as_("host"), "vote", g.id, "draw", "yes", code="not_seated")
    refused(*g.as_("france"), "vote", g.id, "draw", "yes", "--phase", "F1901M", code="stale_phase")


def test_absence(game: Game) -> None:
    """A player records an absence with ISO times; a bad time or an end before the start is a
    usage error."""
    g = game
    out = ok(*g.as_("france"), "absence", g.id, "--from", "2027-01-16T00:00Z", "--to", "2027-01-18T00:00Z",
             "--reason", "travel")
    assert out.startswith(f"{g.id}: away from 2027-01-16 00:00 UTC")
    assert "\nthe deadline moved to " in out  # it fell inside the absence
    reply = ok_json(*g.as_("germany"), "absence", g.id, "--from", "2027-02-01", "--to", "2027-02-02")
    assert reply["nation"] == "germany" and reply["moved"] is False and reply["end"] - reply["start"] == 86400
    assert "ISO 8601" in usage(*g.as_("france"), "absence", g.id, "--from", "monday", "--to", "2027-01-18")
    assert "after" in usage(*g.as_("france"), "absence", g.id, "--from", "2027-01-18Z", "--to", "2027-01-16Z")
    refused(*g.as_("host"), "absence", g.id, "--from", "2027-01-16Z", "--to", "2027-01-17Z", code="not_seated")


def test_profile_time_zone(game: Game) -> None:
    """A user sets the time zone their reminders use."""
    assert ok(*game.as_("france"), "profile", "--tz", "Europe/Paris").strip() == "time zone: Europe/Paris"
    assert ok_json(*game.as_("france"), "profile") == {"tz": "Europe/Paris"}
    assert ok(*game.as_("germany"), "profile").startswith("time zone: not set")
    refused(*game.as_("france"), "profile", "--tz", "Mars/Olympus", code="bad_message")


# ---- help -------------------------------------------------------------------------------------

def _leaves(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _leaves(sub, (*path, name))
    yield path, parser


def test_every_option_of_every_command_is_described() -> None:
    """Every sub-command has a description, and every argument and option a help text."""
    seen = []
    for path, p in _leaves(build_parser()):
        seen.append(" ".join(path))
        assert p.description, path
        for a in p._actions:
            if isinstance(a, argparse._SubParsersAction):
                continue
            assert a.help and a.help != argparse.SUPPRESS, (path, a.dest)
    for cmd in ("press", "inbox", "history", "vote", "absence", "host pause", "host resume", "host extend",
                "host process", "host preview", "host rollback", "host replace", "host enter-orders",
                "host advertise", "host export", "host create", "host invite"):
        assert cmd in seen


@pytest.mark.parametrize("command", [["press"], ["inbox"], ["history"], ["vote"], ["absence"], ["profile"],
                                     *(["host", c] for c in ("pause", "resume", "extend", "process", "preview",
                                                             "rollback", "replace", "enter-orders", "advertise",
                                                             "export"))])
def test_new_commands_have_help(command: list[str]) -> None:
    """``--help`` of each new sub-command exits 0 and shows its usage."""
    code, out, _ = cli(*command, "--help")
    assert code == 0 and out.startswith(f"usage: kessen-client {' '.join(command)}")


def test_host_commands_run_as_the_installed_script(server: Any, tmp_path: Path) -> None:
    """``python -m client_cli.app host enter-orders GAME NATION -`` reads stdin in a real process."""
    g = make_game(server.url, server.host_token, tmp_path, seated=("england",), settings={"start": {"at": 0}})
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    r = subprocess.run([sys.executable, "-m", "client_cli.app", *g.as_("host"), "host", "enter-orders", g.id,
                        "england", "-"], input="F lon - nth\n", capture_output=True, text=True, env=env,
                       timeout=60, check=False)
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("england S1901M: 1 order accepted\n")


def test_inbox_follows_the_pages() -> None:
    """fetch_inbox asks again after the last message while the server says there is more."""
    from client_cli.connection import fetch_inbox

    class Fake:
        def __init__(self) -> None:
            self.asked: list[int] = []

        async def request(self, kind: str, /, **f: Any) -> dict[str, Any]:
            after = f.get("after", 0)
            self.asked.append(after)
            ids = [i for i in range(after + 1, min(after + 3, 6) + 1)]
            return {"messages": [{"id": i} for i in ids], "more": ids[-1] < 6}

    fake = Fake()
    got = run(fetch_inbox(fake, "g"))
    assert [m["id"] for m in got] == [1, 2, 3, 4, 5, 6] and fake.asked == [0, 3]
