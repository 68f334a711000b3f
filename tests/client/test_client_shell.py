"""The interactive shell against a real server: order lines are read with the server's parser
into a numbered draft, ``submit`` sends it, pushes are announced; the prompt_toolkit loop runs
on a pipe (no terminal) with history."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "server"))
from wsclient import ServerProcess, kessen, run

from client_cli.connection import Connection
from client_cli.interactive import Shell, run_shell

pytestmark = pytest.mark.slow


@pytest.fixture
def game(tmp_path: Path) -> Any:
    """A classic game started at once, the host's and France's connections' sign-in data."""
    r = kessen("user", "add", "boss", "--host", "--db", str(tmp_path / "k.db"))
    assert r.returncode == 0, r.stderr
    token = r.stdout.split("token: ")[1].split()[0]
    srv = ServerProcess(tmp_path).start()
    url = f"ws://127.0.0.1:{srv.port}"

    async def setup() -> tuple[str, str, str]:
        async with await Connection.open(url, token=token) as host:
            gid = (await host.request("create_game", ruleset="classic", title="t",
                                      settings={"start": {"at": 0}}))["game"]
            codes = [(await host.request("invite", game=gid, nation=n))["code"] for n in ("france", "germany")]
        async with await Connection.open(url, invite=codes[0], name="Fred") as fr:
            fr_token = fr.welcome["token"]
        return gid, fr_token, codes[1]

    try:
        gid, fr_token, de_code = run(setup())
        yield url, gid, fr_token, de_code
    finally:
        assert srv.stop() == 0


def test_shell_drafts_checks_and_submits_orders(game: Any) -> None:
    """Typed orders are normalised or refused locally with the parser's reason; the draft can be
    edited; submit, ready, board and results talk to the server; pushes are announced."""
    url, gid, token, de_code = game

    async def go() -> None:
        conn = await Connection.open(url, token=token)
        sh = Shell(conn)
        await sh.refresh()
        assert sh.prompt == f"{gid} S1901M> " and "A par - bur" in sh.legal and "burgundy" in sh.places
        assert await sh.execute("A Paris -> Gascony") == "added 1: A par - gas"
        assert await sh.execute("mar - spa") == "added 2: A mar - spa"  # unit letter from the board
        assert (await sh.execute("A xyz - bur")).startswith("not added: unknown province 'xyz'")
        assert await sh.execute("F bre - eng") == "added 3: F bre - eng"
        assert await sh.execute("del 1") == "removed A par - gas"
        assert await sh.execute("draft") == "  1  A mar - spa\n  2  F bre - eng"
        out = await sh.execute("submit")
        assert out.startswith("france S1901M: 2 orders accepted") and "missing: A par" in out
        assert "your orders:\n  A mar - spa\n  F bre - eng" in (await sh.execute("board"))
        assert (await sh.execute("use nosuch")).startswith("refused: not_found")
        assert await sh.execute("results") == "no results yet"
        sh.new_pushes()
        async with await Connection.open(url, invite=de_code, name="Dora"):
            pass  # Germany takes its seat: a push to everyone in the game
        await asyncio.wait_for(conn.changed.wait(), 5)
        await asyncio.sleep(0.2)
        assert "* " + gid + ": Dora plays germany" in sh.new_pushes()
        assert await sh.execute("ready") == "S1901M: ready"
        assert "help" in (await sh.execute("help")) and await sh.execute("quit") is None
        await conn.close()

    run(go())


def test_prompt_loop_on_a_pipe_keeps_history(game: Any, tmp_path: Path) -> None:
    """The prompt_toolkit loop reads lines, runs them and stops at 'quit'; lines go to history."""
    pytest.importorskip("prompt_toolkit")
    from prompt_toolkit.input import create_pipe_input
    from prompt_toolkit.output import DummyOutput

    url, gid, token, _ = game
    history = tmp_path / "cfg" / "history"

    async def go() -> None:
        async with await Connection.open(url, token=token) as conn:
            with create_pipe_input() as pipe:
                pipe.send_text("A par - bur\nsubmit\nquit\n")
                assert await run_shell(conn, history, input=pipe, output=DummyOutput()) == 0
        async with await Connection.open(url, token=token) as conn:
            view = await conn.request("game", game=gid)
            assert view["orders"] == ["A par - bur"]

    run(go())
    assert "submit" in history.read_text()
