"""``kessen-client``: the terminal client (I/O edge; the text comes from :mod:`client_cli.view`).

Each sub-command opens one connection, signs in, makes its requests and prints the result,
for people or, with ``--json``, for scripts. Without a sub-command, on a terminal, it starts
the interactive shell (:mod:`client_cli.interactive`). Exit codes: 0 success; 1 refused by the server
(its code and message are printed; also: an ``orders`` line was rejected, no results yet);
2 usage, configuration or connection error.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sys
from datetime import datetime
from pathlib import Path
from typing import Any, Awaitable, Callable, TextIO

from . import commands, config, view
from .connection import ClientError, ConnectError, Connection, Refused

PROG = "kessen-client"


class UsageError(Exception):
    """A problem with the command line or the config (exit code 2)."""


class Failure(Exception):
    """A non-server failure reported with exit code 1 (e.g. no results for that phase)."""


class Context:
    """What a command needs: the parsed arguments, the server URL, the token, the output."""

    def __init__(self, args: argparse.Namespace, out: TextIO) -> None:
        self.args, self.out = args, out
        self.config_path = Path(args.config) if args.config else config.default_path()
        try:
            self.stored = config.load(self.config_path)
        except ValueError as e:
            raise UsageError(str(e)) from None
        self.server = config.normalise_url(args.server or self.stored.get("server") or config.DEFAULT_SERVER)
        self.token = args.token or self.stored.get("token")
        self.json = bool(args.json)

    def need_token(self) -> str:
        if not self.token:
            raise UsageError(f"no token: run '{PROG} join CODE' with an invite code, "
                             f"'{PROG} login --token TOKEN', or pass --token")
        return self.token

    async def connect(self) -> Connection:
        return await Connection.open(self.server, token=self.need_token(), timeout=self.args.timeout)

    def emit(self, data: Any, text: str) -> None:
        """Print ``data`` as JSON with ``--json``, else ``text``."""
        if self.json:
            print(json.dumps(data, indent=2, sort_keys=True, default=str), file=self.out)
        else:
            print(text, file=self.out)


def _local_tz() -> Any:
    return datetime.now().astimezone().tzinfo


# ---- commands (each returns an exit code) ----------------------------------------------------

async def cmd_games(ctx: Context) -> int:
    async with await ctx.connect() as conn:
        reply = await conn.request("games")
    ctx.emit(reply["games"], view.render_games(reply["games"]))
    return 0


async def cmd_login(ctx: Context) -> int:
    async with await ctx.connect() as conn:
        welcome = conn.welcome
    config.save(ctx.config_path, {"server": ctx.server, "token": ctx.need_token()})
    ctx.emit(_public(welcome), view.render_welcome(welcome) + f"\nsaved server and token in {ctx.config_path}")
    return 0


def _public(welcome: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in welcome.items() if k not in ("type", "re")}


async def cmd_join(ctx: Context) -> int:
    a = ctx.args
    if a.game:
        async with await ctx.connect() as conn:
            reply = await conn.request("join", game=a.game, invite=a.code, **({"nation": a.nation} if a.nation else {}))
        ctx.emit(_public(reply), f"joined {reply['game']} as {reply['nation']}")
        return 0
    async with await Connection.open(ctx.server, invite=a.code, name=a.name, timeout=a.timeout) as conn:
        welcome = conn.welcome
    text = view.render_welcome(welcome)
    if welcome.get("token"):
        config.save(ctx.config_path, {"server": ctx.server, "token": welcome["token"]})
        if ctx.token and ctx.token != welcome["token"]:
            text += "\nnote: this invite registered a new player; the token stored before was replaced"
        text += f"\nyour token is saved in {ctx.config_path} (the server shows it only once)"
    ctx.emit(_public(welcome), text)
    return 0


async def cmd_board(ctx: Context) -> int:
    async with await ctx.connect() as conn:
        reply = await conn.request("game", game=ctx.args.game)
    ctx.emit(_public(reply), view.render_board(reply, _local_tz()))
    return 0


async def _phase(conn: Connection, game: str, phase: str | None) -> str:
    if phase:
        return phase.upper()
    return str((await conn.request("game", game=game))["phase"])


def _read_orders(args: argparse.Namespace) -> str:
    source = args.file or args.source or "-"
    if source == "-":
        if sys.stdin.isatty():
            print("type the orders, one per line; end with Ctrl-D", file=sys.stderr)
        return sys.stdin.read()
    try:
        return Path(source).read_text(encoding="utf-8")
    except OSError as e:
        raise UsageError(f"cannot read orders from {source}: {e.strerror or e}") from None


async def cmd_orders(ctx: Context) -> int:
    text = _read_orders(ctx.args)
    async with await ctx.connect() as conn:
        phase = await _phase(conn, ctx.args.game, ctx.args.phase)
        reply = await conn.request("orders", game=ctx.args.game, phase=phase, text=text)
    ctx.emit(_public(reply), view.render_orders_reply(reply))
    return commands.orders_exit_code(reply)


async def cmd_ready(ctx: Context) -> int:
    kind = "unready" if ctx.args.unready else "ready"
    async with await ctx.connect() as conn:
        phase = await _phase(conn, ctx.args.game, ctx.args.phase)
        reply = await conn.request(kind, game=ctx.args.game, phase=phase)
    ctx.emit(_public(reply), f"{reply['game']} {reply['phase']}: {'ready' if reply['ready'] else 'not ready'}")
    return 0


async def cmd_legal(ctx: Context) -> int:
    async with await ctx.connect() as conn:
        phase = await _phase(conn, ctx.args.game, ctx.args.phase)
        reply = await conn.request("legal", game=ctx.args.game, phase=phase)
    ctx.emit(reply["options"], view.render_legal(reply["options"]))
    return 0


async def cmd_results(ctx: Context) -> int:
    game = ctx.args.game
    async with await ctx.connect() as conn:
        await conn.request("resync", game=game, after=0)  # every push, then the reply
        pushes = list(conn.pushes.get(game, []))
    if ctx.args.all:
        done = commands.results_pushes(pushes)
        ctx.emit(done, "\n\n".join(view.render_results(p, _local_tz()) for p in done) or "no results yet")
        return 0
    push = commands.pick_results(pushes, ctx.args.phase)
    if push is None:
        done = commands.phases_done(pushes)
        raise Failure(f"no results for {ctx.args.phase or 'any phase'} of {game} yet"
                      + (f" (adjudicated: {', '.join(done)})" if done else ""))
    ctx.emit(push, view.render_results(push, _local_tz()))
    return 0


async def cmd_host_create(ctx: Context) -> int:
    a = ctx.args
    fields: dict[str, Any] = {"ruleset": a.ruleset, "title": a.title}
    if a.settings:
        try:
            fields["settings"] = json.loads(a.settings)
        except json.JSONDecodeError as e:
            raise UsageError(f"--settings is not JSON: {e}") from None
    async with await ctx.connect() as conn:
        reply = await conn.request("create_game", **fields)
    ctx.emit(_public(reply), f"created game {reply['game']} at {reply['phase']}; nations: {', '.join(reply['nations'])}")
    return 0


async def cmd_host_invite(ctx: Context) -> int:
    nations = ctx.args.nation or [None]
    out = []
    async with await ctx.connect() as conn:
        for n in nations:
            reply = await conn.request("invite", game=ctx.args.game, **({"nation": n} if n else {}))
            out.append({"nation": reply.get("nation"), "code": reply["code"]})
    text = "\n".join(f"invite {o['nation'] or '(any nation)'}: {o['code']}" for o in out)
    ctx.emit(out, text + "\neach code is shown only once; a player runs: kessen-client join CODE")
    return 0


async def cmd_shell(ctx: Context) -> int:
    from .interactive import run_shell

    from .reconnect import Reconnecting

    token, timeout = ctx.need_token(), ctx.args.timeout
    state, key = ctx.config_path.parent / "state.json", config.state_key(ctx.server, token)
    conn = Reconnecting(lambda: Connection.open(ctx.server, token=token, timeout=timeout), timeout=timeout,
                        notify=lambda line: print(f"! {line}", flush=True))
    await conn.start(config.load_seqs(state, key))
    try:
        return await run_shell(conn, ctx.config_path.parent / "history", _local_tz())
    finally:
        config.save_seqs(state, key, conn.last_seq)  # the next run resyncs from here
        await conn.close()


# ---- the command line ------------------------------------------------------------------------

def _common(defaults: bool) -> argparse.ArgumentParser:
    """Options accepted before or after the sub-command (``SUPPRESS`` keeps the outer value)."""
    d = (lambda v: v) if defaults else (lambda v: argparse.SUPPRESS)
    p = argparse.ArgumentParser(add_help=False)
    g = p.add_argument_group("connection and output")
    g.add_argument("--server", default=d(None), help="server URL, ws://HOST:PORT (default: the config file's, "
                   f"else {config.DEFAULT_SERVER})")
    g.add_argument("--token", default=d(None), help="your user token (default: the config file's)")
    g.add_argument("--config", default=d(None), help="config file (default $XDG_CONFIG_HOME/kessen/client.toml)")
    g.add_argument("--json", action="store_true", default=d(False), help="print JSON instead of text")
    g.add_argument("--timeout", type=float, default=d(15.0), help="seconds to wait for the server (default 15)")
    return p


def build_parser() -> argparse.ArgumentParser:
    common = _common(False)
    parser = argparse.ArgumentParser(
        prog=PROG, parents=[_common(True)],
        description="Terminal client for a Kessen game server.",
        epilog="exit codes: 0 success; 1 refused by the server (or a rejected order line); "
               "2 usage, config or connection error")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    def add(name: str, fn: Callable[[Context], Awaitable[int]], help: str, parent: Any = sub) -> argparse.ArgumentParser:
        p = parent.add_parser(name, parents=[common], help=help, description=help[0].upper() + help[1:] + ".")
        p.set_defaults(func=fn)
        return p

    add("shell", cmd_shell, "interactive mode (the default on a terminal): a prompt with history and "
        "completion of commands, legal orders and place names")
    add("games", cmd_games, "list the server's games with their phase, your nation and free nations")

    p = add("join", cmd_join, "sign in with an invite code; a new player's token is saved in the config file")
    p.add_argument("code", metavar="CODE", help="the invite code (i7.xxxx) the host gave you")
    p.add_argument("--name", help="your player name (default: the server picks playerN)")
    p.add_argument("--game", help="with a stored token: join this game with the code, as the same user")
    p.add_argument("--nation", help="with --game: the nation to claim if the code names none")

    add("login", cmd_login, "check a token (--token) and save it and --server in the config file")

    p = add("board", cmd_board, "show a game: phase, deadline, nations with centres and units, who is ready")
    p.add_argument("game", metavar="GAME")

    p = add("orders", cmd_orders, "submit your whole set of orders for the current phase (replaces earlier ones)")
    p.add_argument("game", metavar="GAME")
    p.add_argument("source", nargs="?", metavar="FILE", help="file of orders, one per line; '-' or none: stdin")
    p.add_argument("-f", "--file", help="same as FILE")
    p.add_argument("--phase", help="the phase the orders are for (default: the game's current phase)")
    p.epilog = "prints the normalised orders, units still missing orders, and rejected lines by line number; " \
               "exit code 1 if a line was rejected"

    p = add("ready", cmd_ready, "mark yourself ready for the current phase (or not, with --unready)")
    p.add_argument("game", metavar="GAME")
    p.add_argument("--unready", action="store_true", help="withdraw the ready flag")
    p.add_argument("--phase", help="default: the game's current phase")

    p = add("legal", cmd_legal, "list your legal orders for the current phase")
    p.add_argument("game", metavar="GAME")
    p.add_argument("--phase", help="default: the game's current phase")

    p = add("results", cmd_results, "show a phase's results: every order with its result and reason")
    p.add_argument("game", metavar="GAME")
    p.add_argument("--phase", help="the phase (S1901M); default: the last adjudicated")
    p.add_argument("--all", action="store_true", help="every adjudicated phase")

    h = sub.add_parser("host", help="host tools: create games, invite players", description="Host tools.")
    hsub = h.add_subparsers(dest="host_command", metavar="SUBCOMMAND")
    h.set_defaults(func=None, subparser=h)
    p = add("create", cmd_host_create, "create a game (needs a host account)", hsub)
    p.add_argument("--ruleset", required=True, help="ruleset id, e.g. classic")
    p.add_argument("--title", required=True, help="the game's title")
    p.add_argument("--settings", help="game settings as JSON (see PROTOCOL.md), e.g. '{\"start\": \"full\"}'")
    p = add("invite", cmd_host_invite, "make invite codes for a game you host", hsub)
    p.add_argument("game", metavar="GAME")
    p.add_argument("--nation", action="append", help="bind the code to a nation (repeat for several codes)")
    return parser


def main(argv: list[str] | None = None, out: TextIO | None = None, err: TextIO | None = None) -> int:
    """Run one sub-command; returns the exit code."""
    out, err = out or sys.stdout, err or sys.stderr
    parser = build_parser()
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):  # --help, usage errors
            args = parser.parse_args(argv)
    except SystemExit as e:
        return int(e.code or 0)
    func = getattr(args, "func", None)
    if func is None and args.command is None and sys.stdin.isatty() and out.isatty():
        func = cmd_shell
    if func is None:
        (getattr(args, "subparser", None) or parser).print_help(out)
        return 2
    try:
        ctx = Context(args, out)
        return asyncio.run(func(ctx))
    except Refused as e:
        _error(args, err, out, {"error": e.code, "message": e.message, "field": e.field}, f"refused: {e.code}: {e.message}")
        return 1
    except Failure as e:
        _error(args, err, out, {"error": "failed", "message": str(e)}, str(e))
        return 1
    except (UsageError, ConnectError, ClientError) as e:
        _error(args, err, out, {"error": "connection" if isinstance(e, ConnectError) else "usage",
                                "message": str(e)}, str(e))
        return 2
    except KeyboardInterrupt:
        return 130


def _error(args: argparse.Namespace, err: TextIO, out: TextIO, data: dict[str, Any], text: str) -> None:
    if getattr(args, "json", False):
        print(json.dumps(data, sort_keys=True), file=out)
    print(f"{PROG}: {text}", file=err)


if __name__ == "__main__":
    sys.exit(main())
