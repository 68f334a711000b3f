"""``kessen-client`` against a real ``kessen serve`` on loopback: a host creates a classic game,
invites seven players who join with the codes, orders go in (one bad line each, reported by
line number), everyone is ready and the results come back; in text and in ``--json``."""

from __future__ import annotations

import json
import os
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "server"))
from wsclient import ROOT, ServerProcess  # the server tests' helpers

from clienthelp import NATIONS, cli, host_token, ok, ok_json

from client_cli import config
from client_cli.app import build_parser

pytestmark = pytest.mark.slow


@pytest.fixture
def server(tmp_path: Path) -> Any:
    token = host_token(tmp_path)
    srv = ServerProcess(tmp_path).start()
    srv.host_token = token  # type: ignore[attr-defined]
    try:
        yield srv
    finally:
        assert srv.stop() == 0


def test_a_game_from_creation_to_results(server: Any, tmp_path: Path) -> None:
    """Create, invite, join, order (a bad line is reported with its number), ready all and read
    the results, alternating text and JSON output."""
    url = f"ws://127.0.0.1:{server.port}"
    hcfg = str(tmp_path / "host.toml")
    out = ok("--config", hcfg, "--server", url, "--token", server.host_token, "login")
    assert "signed in as boss" in out and config.load(Path(hcfg)) == {"server": url, "token": server.host_token}

    created = ok_json("host", "create", "--ruleset", "classic", "--title", "Client test", "--config", hcfg)
    game = created["game"]
    assert created["phase"] == "S1901M" and sorted(created["nations"]) == list(NATIONS)

    text = ok("--config", hcfg, "host", "invite", game, *(a for n in NATIONS[:4] for a in ("--nation", n)))
    codes = {ln.split()[1].rstrip(":"): ln.split()[2] for ln in text.splitlines() if ln.startswith("invite ")}
    for item in ok_json("--config", hcfg, "host", "invite", game, *(a for n in NATIONS[4:] for a in ("--nation", n))):
        codes[item["nation"]] = item["code"]
    assert sorted(codes) == list(NATIONS)

    cfg = {n: str(tmp_path / f"{n}.toml") for n in NATIONS}
    for i, n in enumerate(NATIONS):
        args = ("--config", cfg[n], "--server", url, "join", codes[n], "--name", n.title())
        if i % 2:
            welcome = ok_json(*args)
            assert welcome["games"][0]["nation"] == n and welcome["token"].startswith("u")
        else:
            assert f"you play {n}" in ok(*args)
        stored = config.load(Path(cfg[n]))
        assert stored["server"] == url and stored["token"].startswith("u")
        assert stat.S_IMODE(os.stat(cfg[n]).st_mode) == 0o600

    listed = ok_json("--config", cfg["france"], "games")
    assert [(g["game"], g["status"], g["nation"]) for g in listed] == [(game, "active", "france")]
    assert "active  S1901M  france" in ok("--config", cfg["france"], "games")

    fr = tmp_path / "france.txt"
    fr.write_text("# France, spring 1901\nA Paris -> Burgundy\nA Mar - Nowhere\nF bre - mao\n")
    code, out, err = cli("--config", cfg["france"], "orders", game, "--file", str(fr))
    assert code == 1, (out, err)  # a rejected line
    assert "  A par - bur\n  F bre - mao\n" in out and "missing: A mar" in out
    assert "line 3: A Mar - Nowhere:" in out

    de = tmp_path / "germany.txt"
    de.write_text("A mun - ruh\nA ber - kie - x\n")
    code, out, _ = cli("--config", cfg["germany"], "orders", game, str(de), "--json")
    reply = json.loads(out)
    assert code == 1 and reply["orders"] == ["A mun - ruh"] and sorted(reply["missing"]) == ["A ber", "F kie"]
    assert [(r["line"], r["text"]) for r in reply["rejected"]] == [(2, "A ber - kie - x")]

    board = ok("--config", cfg["france"], "board", game)
    assert "active at S1901M" in board and "deadline: 2027-01-16 08:00 UTC" in board
    assert "your orders:\n  A par - bur\n  F bre - mao" in board
    view = ok_json("--config", cfg["germany"], "board", game)
    seats = {s["nation"]: s for s in view["seats"]}
    assert view["nation"] == "germany" and seats["france"]["orders"] and not seats["italy"]["orders"]
    assert view["orders"] == ["A mun - ruh"]

    assert "par:\n  A par H\n" in ok("--config", cfg["france"], "legal", game)
    assert ok("--config", cfg["austria"], "ready", game).strip() == f"{game} S1901M: ready"
    assert ok_json("--config", cfg["austria"], "ready", game, "--unready")["ready"] is False
    code, _, err = cli("--config", cfg["italy"], "results", game)
    assert code == 1 and "no results" in err
    for i, n in enumerate(NATIONS):
        if i % 2:
            assert ok_json("--config", cfg[n], "ready", game)["ready"] is True
        else:
            ok("--config", cfg[n], "ready", game)

    deadline = time.monotonic() + 15
    while cli("--config", cfg["italy"], "results", game)[0] != 0:
        assert time.monotonic() < deadline, "S1901M was never adjudicated"
        time.sleep(0.2)
    text = ok("--config", cfg["italy"], "results", game, "--phase", "s1901m")
    assert text.startswith("results of S1901M\n") and "next: F1901M" in text
    assert "france\n  A par - bur  succeeds\n  F bre - mao  succeeds" in text
    res = ok_json("--config", hcfg, "results", game)
    assert res["phase"] == "S1901M" and res["next"] == "F1901M"
    assert ["germany", "A mun - ruh", "succeeds", None] in res["results"]
    assert [p["phase"] for p in ok_json("--config", hcfg, "results", game, "--all")] == ["S1901M"]
    assert ok_json("--config", hcfg, "board", game)["phase"] == "F1901M"

    code, out, err = cli("--config", cfg["france"], "orders", game, str(fr), "--phase", "S1901M", "--json")
    assert code == 1 and json.loads(out)["error"] == "stale_phase" and "refused: stale_phase" in err


def test_refusals_and_connection_errors(server: Any, tmp_path: Path) -> None:
    """A refused request exits 1 with the server's code; a server that is down, a missing token
    or bad settings exit 2, each with a one-line message."""
    url = f"ws://127.0.0.1:{server.port}"
    base = ("--config", str(tmp_path / "c.toml"), "--server", url)

    code, out, err = cli(*base, "--token", "u1.wrong", "games")
    assert code == 1 and out == "" and err == "kessen-client: refused: auth_failed: that token is not valid\n"
    code, out, _ = cli(*base, "--token", "u1.wrong", "games", "--json")
    assert code == 1 and json.loads(out)["error"] == "auth_failed"

    code, _, err = cli(*base, "games")
    assert code == 2 and "no token" in err
    code, _, err = cli(*base, "join", "i99.nope")
    assert code == 1 and "auth_failed" in err

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        free = s.getsockname()[1]
    code, out, err = cli("--config", str(tmp_path / "c.toml"), "--server", f"127.0.0.1:{free}",
                         "--token", server.host_token, "games")
    assert code == 2 and "is the server running?" in err and len(err.splitlines()) == 1

    tok = ("--token", server.host_token)
    code, _, err = cli(*base, *tok, "host", "create", "--ruleset", "nosuch", "--title", "x")
    assert code == 1 and "refused: not_found" in err
    code, _, err = cli(*base, *tok, "host", "create", "--ruleset", "classic", "--title", "x", "--settings", "{bad")
    assert code == 2 and "--settings is not JSON" in err
    code, _, err = cli(*base, *tok, "board", "nosuch")
    assert code == 1 and "refused: not_found" in err

    # a player (not a host) may neither create games nor invite
    game = ok_json(*base, *tok, "host", "create", "--ruleset", "classic", "--title", "x")["game"]
    codes = ok_json(*base, *tok, "host", "invite", game, "--nation", "france")
    pcfg = str(tmp_path / "p.toml")
    ok("--config", pcfg, "--server", url, "join", codes[0]["code"])
    code, _, err = cli("--config", pcfg, "host", "invite", game)
    assert code == 1 and "refused: forbidden" in err
    code, _, err = cli("--config", pcfg, "orders", game, str(tmp_path / "missing.txt"))
    assert code == 2 and "cannot read orders" in err
    code, _, err = cli("--config", pcfg, "ready", game)
    assert code == 1 and "refused: not_started" in err

    # an existing player joins a second game with a code, keeping the same account
    game2 = ok_json(*base, *tok, "host", "create", "--ruleset", "classic", "--title", "y")["game"]
    code2 = ok_json(*base, *tok, "host", "invite", game2)[0]["code"]
    before = config.load(Path(pcfg))
    assert ok("--config", pcfg, "join", code2, "--game", game2, "--nation", "italy").strip() == f"joined {game2} as italy"
    assert config.load(Path(pcfg)) == before
    assert {g["game"]: g["nation"] for g in ok_json("--config", pcfg, "games")} == {game: "france", game2: "italy"}


def test_module_entry_point_reads_orders_from_stdin(server: Any, tmp_path: Path) -> None:
    """``python -m client_cli.app orders GAME -`` reads the orders from standard input."""
    url = f"ws://127.0.0.1:{server.port}"
    base = ["--config", str(tmp_path / "h.toml"), "--server", url, "--token", server.host_token]
    game = ok_json(*base, "host", "create", "--ruleset", "classic", "--title", "x",
                   "--settings", '{"start": {"at": 0}}')["game"]
    code = ok_json(*base, "host", "invite", game, "--nation", "england")[0]["code"]
    pcfg = str(tmp_path / "p.toml")
    ok("--config", pcfg, "--server", url, "join", code)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    r = subprocess.run([sys.executable, "-m", "client_cli.app", "--config", pcfg, "orders", game, "-"],
                       input="F lon - nth\nA lvp - yor\nF edi H\n", capture_output=True, text=True,
                       env=env, timeout=60, check=False)
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("england S1901M: 3 orders accepted\n") and "missing: none" in r.stdout


@pytest.mark.parametrize("command", [[], ["shell"], ["games"], ["join"], ["login"], ["board"], ["orders"], ["ready"],
                                     ["legal"], ["results"], ["host"], ["host", "create"], ["host", "invite"]])
def test_every_command_has_help(command: list[str]) -> None:
    """``--help`` works for every sub-command and exits 0."""
    code, out, _ = cli(*command, "--help")
    assert code == 0 and out.startswith("usage: kessen-client")


def test_no_command_prints_help_and_exits_2() -> None:
    """Without a sub-command the client prints its help and exits 2 (usage)."""
    code, out, _ = cli()
    assert code == 2 and "COMMAND" in out
    assert build_parser().prog == "kessen-client"


def test_output_into_a_closed_pipe_is_not_an_error(monkeypatch: Any, tmp_path: Path) -> None:
    """`kessen-client board x 2>&1 | head -0`: the reader has gone away; no traceback, exit 0."""
    import io

    from client_cli import app

    class ClosedPipe(io.StringIO):
        def write(self, s: str) -> int:
            raise BrokenPipeError(32, "Broken pipe")

    silenced: list[bool] = []
    monkeypatch.setattr(app, "_silence_stdout", lambda: silenced.append(True))
    argv = ["--config", str(tmp_path / "none.toml"), "board", "x"]  # no token: a usage error is printed
    assert app.main(argv, out=ClosedPipe(), err=ClosedPipe()) == 0
    assert silenced == [True]
