"""``kessen-client``: the terminal client (I/O edge; the text comes from :mod:`client_cli.view`).

Each sub-command opens one connection, signs in, makes its requests and prints the result,
for people or, with ``--json``, for scripts: the player's (``games``, ``board``, ``orders``,
``ready``, ``results``, ``press``, ``inbox``, ``history``, ``vote``, ``absence``, ...) and the
host's (``host create``, ``pause``, ``extend``, ``process``, ``rollback``, ``replace``,
``enter-orders``, ``export``, ...). Requests that act on a phase name the game's current phase,
fetched first with ``game`` unless ``--phase`` is given. Without a sub-command, on a terminal, it starts
the interactive shell (:mod:`client_cli.interactive`). Exit codes: 0 success; 1 refused by the server
(its code and message are printed; also: an ``orders`` line was rejected, no results yet);
2 usage, configuration or connection error.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import sys
from datetime import datetime
from pathlib import Path
from typing import Any, Awaitable, Callable, TextIO

from . import commands, config, view
from .connection import ClientError, ConnectError, Connection, Refused, fetch_inbox

PROG = "kessen-client"
GAME_HELP = f"the game's id ('{PROG} games' lists them)"


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


def _text(words: list[str], what: str) -> str:
    """The words of a message; ``-`` alone: read it from standard input."""
    if words == ["-"]:
        if sys.stdin.isatty():
            print(f"type the {what}; end with Ctrl-D", file=sys.stderr)
        text = sys.stdin.read().strip()
    else:
        text = " ".join(words).strip()
    if not text:
        raise UsageError(f"the {what} is empty")
    return text


async def cmd_press(ctx: Context) -> int:
    a = ctx.args
    try:
        to = commands.parse_recipients(a.to)
    except ValueError as e:
        raise UsageError(f"--to: {e}") from None
    fields: dict[str, Any] = {"game": a.game, "to": to, "text": _text(a.text, "message")}
    if a.grey:
        fields["grey"] = True
    async with await ctx.connect() as conn:
        reply = await conn.request("press", **fields)
    ctx.emit(_public(reply), f"sent press #{reply.get('id')} to {', '.join(to)}{' (anonymously)' if a.grey else ''}")
    return 0


async def cmd_inbox(ctx: Context) -> int:
    a = ctx.args
    async with await ctx.connect() as conn:
        messages = await fetch_inbox(conn, a.game, a.after or 0)
        me = None
        if a.threads:
            view_ = await conn.request("game", game=a.game)
            me = view_.get("nation") or ("host" if view_.get("host") else None)
    if a.threads:
        text = view.render_threads(commands.threads(messages, me), _local_tz())
    else:
        text = view.render_inbox(messages, _local_tz())
    ctx.emit(messages, text)
    return 0


async def cmd_history(ctx: Context) -> int:
    async with await ctx.connect() as conn:
        reply = await conn.request("history", game=ctx.args.game)
    events = reply.get("events", [])
    ctx.emit(events, view.render_history(events, _local_tz()))
    return 0


async def cmd_vote(ctx: Context) -> int:
    a = ctx.args
    try:
        value = commands.parse_flag(a.value)
    except ValueError as e:
        raise UsageError(str(e)) from None
    async with await ctx.connect() as conn:
        phase = await _phase(conn, a.game, a.phase)
        reply = await conn.request("vote", game=a.game, phase=phase, kind=a.kind, value=value)
    what = "a draw" if a.kind == "draw" else "conceding"
    ctx.emit(_public(reply), f"{a.game} {phase}: you vote {'for' if value else 'against'} {what}")
    return 0


async def cmd_absence(ctx: Context) -> int:
    a = ctx.args
    try:
        start, end = commands.parse_when(a.start, _local_tz()), commands.parse_when(a.end, _local_tz())
    except ValueError as e:
        raise UsageError(str(e)) from None
    if end <= start:
        raise UsageError("--to must be after --from")
    async with await ctx.connect() as conn:
        reply = await conn.request("absence", game=a.game, start=start, end=end,
                                   **({"reason": a.reason} if a.reason else {}))
    text = f"{a.game}: away from {view.when(start, _local_tz())} to {view.when(end, _local_tz())}"
    if reply.get("moved"):
        text += f"\nthe deadline moved to {view.when(reply.get('deadline'), _local_tz())}"
    ctx.emit(_public(reply), text)
    return 0


async def cmd_profile(ctx: Context) -> int:
    async with await ctx.connect() as conn:
        reply = await conn.request("profile", **({"tz": ctx.args.tz} if ctx.args.tz else {}))
    ctx.emit(_public(reply), f"time zone: {reply.get('tz') or 'not set (each game shows its own)'}")
    return 0


async def cmd_host_pause(ctx: Context) -> int:
    async with await ctx.connect() as conn:
        reply = await conn.request("pause", game=ctx.args.game, reason=ctx.args.reason)
    left = reply.get("left")
    ctx.emit(_public(reply), f"{reply.get('game')} paused"
             + (f"; {view.duration(left)} left on the deadline when resumed" if left is not None else ""))
    return 0


async def cmd_host_resume(ctx: Context) -> int:
    async with await ctx.connect() as conn:
        reply = await conn.request("resume", game=ctx.args.game,
                                   **({"reason": ctx.args.reason} if ctx.args.reason else {}))
    ctx.emit(_public(reply), f"{reply.get('game')} {reply.get('status', 'resumed')}; "
             f"deadline {view.when(reply.get('deadline'), _local_tz())}")
    return 0


async def cmd_host_extend(ctx: Context) -> int:
    a = ctx.args
    seconds = a.seconds if a.seconds is not None else round(a.hours * 3600)
    if seconds <= 0:
        raise UsageError("the extension must be positive")
    async with await ctx.connect() as conn:
        phase = await _phase(conn, a.game, a.phase)
        reply = await conn.request("extend", game=a.game, phase=phase, seconds=int(seconds),
                                   **({"reason": a.reason} if a.reason else {}))
    ctx.emit(_public(reply), f"{reply.get('game')} {reply.get('phase')}: deadline extended to "
             f"{view.when(reply.get('deadline'), _local_tz())}")
    return 0


async def cmd_host_process(ctx: Context) -> int:
    a = ctx.args
    async with await ctx.connect() as conn:
        phase = await _phase(conn, a.game, a.phase)
        reply = await conn.request("process", game=a.game, phase=phase, **({"reason": a.reason} if a.reason else {}))
    ctx.emit(_public(reply), f"{a.game} {phase}: processing now (the results arrive as usual: "
             f"{PROG} results {a.game})")
    return 0


async def cmd_host_preview(ctx: Context) -> int:
    a = ctx.args
    async with await ctx.connect() as conn:
        phase = await _phase(conn, a.game, a.phase)
        reply = await conn.request("preview", game=a.game, phase=phase)
    ctx.emit(_public(reply), view.render_preview(reply))
    return 0


async def cmd_host_rollback(ctx: Context) -> int:
    a = ctx.args
    async with await ctx.connect() as conn:
        phase = await _phase(conn, a.game, a.phase)
        reply = await conn.request("rollback", game=a.game, phase=phase, reason=a.reason)
    ctx.emit(_public(reply), f"{reply.get('game')}: rolled back from {phase} to {reply.get('phase')}, whose orders "
             f"are open again; deadline {view.when(reply.get('deadline'), _local_tz())}")
    return 0


async def cmd_host_replace(ctx: Context) -> int:
    a = ctx.args
    fields: dict[str, Any] = {"game": a.game, "nation": a.nation.lower()}
    if a.name:
        fields["name"] = a.name
    if a.reason:
        fields["reason"] = a.reason
    async with await ctx.connect() as conn:
        reply = await conn.request("replace", **fields)
    if reply.get("invite"):
        text = (f"{reply.get('nation')} is open for a new player: invite {reply['invite']}\n"
                f"the code is shown only once; the player runs: {PROG} join CODE")
    else:
        text = f"{reply.get('nation')} is now played by {reply.get('player')}"
        if reply.get("token"):
            text += (f"\na new account: its token is {reply['token']} (shown only once); the player runs: "
                     f"{PROG} login --token TOKEN")
    ctx.emit(_public(reply), text)
    return 0


async def cmd_host_enter_orders(ctx: Context) -> int:
    a = ctx.args
    text = _read_orders(a)
    async with await ctx.connect() as conn:
        phase = await _phase(conn, a.game, a.phase)
        reply = await conn.request("enter_orders", game=a.game, phase=phase, nation=a.nation.lower(), text=text,
                                   **({"reason": a.reason} if a.reason else {}))
    reply.setdefault("nation", a.nation.lower())
    ctx.emit(_public(reply), view.render_orders_reply(reply))
    return commands.orders_exit_code(reply)


async def cmd_host_advertise(ctx: Context) -> int:
    a = ctx.args
    async with await ctx.connect() as conn:
        reply = await conn.request("advertise", game=a.game, nation=a.nation.lower(), value=not a.off)
    on = reply.get("advertised", not a.off)
    state = "advertised as open" if on else "no longer advertised"
    ctx.emit(_public(reply), f"{reply.get('game')}: {reply.get('nation')} is {state}")
    return 0


async def cmd_host_export(ctx: Context) -> int:
    a = ctx.args
    async with await ctx.connect() as conn:
        reply = await conn.request("export", game=a.game)
    data = reply.get("save")
    if not isinstance(data, (bytes, bytearray)):
        raise Failure("the server sent no save")
    out = Path(a.output)
    try:
        out.write_bytes(bytes(data))
    except OSError as e:
        raise UsageError(f"cannot write {out}: {e.strerror or e}") from None
    info = {"game": reply.get("game"), "name": reply.get("name"), "file": str(out), "bytes": len(data)}
    ctx.emit(info, f"wrote {out} ({len(data)} bytes; check it with: kessen verify {out})")
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
    p.add_argument("game", metavar="GAME", help=GAME_HELP)

    p = add("orders", cmd_orders, "submit your whole set of orders for the current phase (replaces earlier ones)")
    p.add_argument("game", metavar="GAME", help=GAME_HELP)
    p.add_argument("source", nargs="?", metavar="FILE", help="file of orders, one per line; '-' or none: stdin")
    p.add_argument("-f", "--file", help="same as FILE")
    p.add_argument("--phase", help="the phase the orders are for (default: the game's current phase)")
    p.epilog = "prints the normalised orders, units still missing orders, and rejected lines by line number; " \
               "exit code 1 if a line was rejected"

    p = add("ready", cmd_ready, "mark yourself ready for the current phase (or not, with --unready)")
    p.add_argument("game", metavar="GAME", help=GAME_HELP)
    p.add_argument("--unready", action="store_true", help="withdraw the ready flag")
    p.add_argument("--phase", help="default: the game's current phase")

    p = add("legal", cmd_legal, "list your legal orders for the current phase")
    p.add_argument("game", metavar="GAME", help=GAME_HELP)
    p.add_argument("--phase", help="default: the game's current phase")

    p = add("results", cmd_results, "show a phase's results: every order with its result and reason")
    p.add_argument("game", metavar="GAME", help=GAME_HELP)
    p.add_argument("--phase", help="the phase (S1901M); default: the last adjudicated")
    p.add_argument("--all", action="store_true", help="every adjudicated phase")

    p = add("press", cmd_press, "send press (a message) to other players in a game")
    p.add_argument("game", metavar="GAME", help=GAME_HELP)
    p.add_argument("text", nargs="+", metavar="TEXT", help="the message (quote it, or give several words); "
                   "'-': read it from standard input")
    p.add_argument("--to", required=True, metavar="NATION[,NATION]",
                   help="recipients: nations separated by commas, 'all' (everyone: broadcast) or 'host' "
                        "(the game's host; may be combined with nations)")
    p.add_argument("--grey", action="store_true", help="send anonymously (grey press), if the game allows it")
    p.epilog = "whether private press, broadcasts or grey press are allowed is a game setting; a refusal exits 1"

    p = add("inbox", cmd_inbox, "read the press you sent and received in a game, oldest first")
    p.add_argument("game", metavar="GAME", help=GAME_HELP)
    p.add_argument("--after", type=int, metavar="ID", help="only messages after this message number")
    p.add_argument("--threads", action="store_true", help="group the messages into conversations by correspondents")

    p = add("history", cmd_history, "show a game's history: host actions (pauses, extensions, rollbacks, "
            "replacements, entered orders) and other events, with who, why and when")
    p.add_argument("game", metavar="GAME", help=GAME_HELP)

    p = add("vote", cmd_vote, "vote for or against a draw, or to concede, this phase")
    p.add_argument("game", metavar="GAME", help=GAME_HELP)
    p.add_argument("kind", choices=("draw", "concede"), help="draw: end the game shared among the survivors; "
                   "concede: concede the game")
    p.add_argument("value", metavar="yes|no", help="your vote")
    p.add_argument("--phase", help="default: the game's current phase")

    p = add("absence", cmd_absence, "record a period you will be away from a game (the host sees it; a "
            "deadline that falls inside it moves, within the game's limit)")
    p.add_argument("game", metavar="GAME", help=GAME_HELP)
    p.add_argument("--from", dest="start", required=True, metavar="ISO",
                   help="start, ISO 8601 (2027-01-15 or 2027-01-15T18:00; your local time unless it ends in Z "
                        "or an offset)")
    p.add_argument("--to", dest="end", required=True, metavar="ISO", help="end, same format")
    p.add_argument("--reason", help="why (shown to the host)")

    p = add("profile", cmd_profile, "show or set your profile: the time zone your reminders show deadlines in")
    p.add_argument("--tz", metavar="ZONE", help="an IANA time zone, e.g. Europe/London or Asia/Tokyo; '' clears it; "
                   "without --tz the profile is only shown")

    h = sub.add_parser("host", help="host tools: create games, invite players, pause, extend, process, "
                       "roll back, replace players, enter orders, export",
                       description="Host tools for the games you host. "
                       "Every action is recorded in the game's history with its reason.")
    hsub = h.add_subparsers(dest="host_command", metavar="SUBCOMMAND")
    h.set_defaults(func=None, subparser=h)
    p = add("create", cmd_host_create, "create a game (needs a host account)", hsub)
    p.add_argument("--ruleset", required=True, help="ruleset id, e.g. classic")
    p.add_argument("--title", required=True, help="the game's title")
    p.add_argument("--settings", help="game settings as JSON (see PROTOCOL.md), e.g. '{\"start\": \"full\"}'")
    p = add("invite", cmd_host_invite, "make invite codes for a game you host", hsub)
    p.add_argument("game", metavar="GAME", help=GAME_HELP)
    p.add_argument("--nation", action="append", help="bind the code to a nation (repeat for several codes)")

    p = add("pause", cmd_host_pause, "pause a game: the deadline stops until resumed", hsub)
    p.add_argument("game", metavar="GAME", help=GAME_HELP)
    p.add_argument("--reason", required=True, help="why (shown to the players and kept in the history)")

    p = add("resume", cmd_host_resume, "resume a paused game: the deadline runs again with the time that was "
            "left (at least the game's minimum)", hsub)
    p.add_argument("game", metavar="GAME", help=GAME_HELP)
    p.add_argument("--reason", help="why (kept in the history)")

    p = add("extend", cmd_host_extend, "move the current phase's deadline later", hsub)
    p.add_argument("game", metavar="GAME", help=GAME_HELP)
    g = p.add_mutually_exclusive_group(required=True)
    g.add_argument("--seconds", type=int, metavar="N", help="extend by N seconds")
    g.add_argument("--hours", type=float, metavar="H", help="extend by H hours (1.5 = 90 minutes)")
    p.add_argument("--reason", help="why (shown to the players and kept in the history)")
    p.add_argument("--phase", help="default: the game's current phase")

    p = add("process", cmd_host_process, "process (adjudicate) the current phase now, without waiting for the "
            "deadline; missing orders are treated as at the deadline", hsub)
    p.add_argument("game", metavar="GAME", help=GAME_HELP)
    p.add_argument("--phase", help="the phase to process, as a guard (S1901M): refused if it is not the current "
                   "one; default: the game's current phase")
    p.add_argument("--reason", help="why (kept in the history)")

    p = add("preview", cmd_host_preview, "show what processing the current phase now would give (nothing is stored "
            "or shown to the players)", hsub)
    p.add_argument("game", metavar="GAME", help=GAME_HELP)
    p.add_argument("--phase", help="default: the game's current phase")

    p = add("rollback", cmd_host_rollback, "undo the last adjudicated phase: its orders are open again with a new "
            "deadline", hsub)
    p.add_argument("game", metavar="GAME", help=GAME_HELP)
    p.add_argument("--reason", required=True, help="why (shown to the players and kept in the history)")
    p.add_argument("--phase", help="the game's current phase, as a guard against rolling back twice "
                   "(default: the current phase)")

    p = add("replace", cmd_host_replace, "replace a nation's player: with --name, that user (an account is made "
            "if the name is new, and its token printed); else the seat is freed and a new invite code printed", hsub)
    p.add_argument("game", metavar="GAME", help=GAME_HELP)
    p.add_argument("nation", metavar="NATION", help="the nation, e.g. france")
    p.add_argument("--name", help="the player who takes over the nation (an existing user, or a new account)")
    p.add_argument("--reason", help="why (kept in the history)")

    p = add("enter-orders", cmd_host_enter_orders, "enter a nation's orders for the current phase on the "
            "player's behalf (replaces theirs)", hsub)
    p.add_argument("game", metavar="GAME", help=GAME_HELP)
    p.add_argument("nation", metavar="NATION", help="the nation, e.g. france")
    p.add_argument("source", nargs="?", metavar="FILE", help="file of orders, one per line; '-' or none: stdin")
    p.add_argument("-f", "--file", help="same as FILE")
    p.add_argument("--phase", help="default: the game's current phase")
    p.add_argument("--reason", help="why (shown to the player and kept in the history)")
    p.epilog = "exit code 1 if a line was rejected (the others are stored)"

    p = add("advertise", cmd_host_advertise, "advertise a nation without a player or in civil disorder as open to a "
            "standby player, who takes it with join", hsub)
    p.add_argument("game", metavar="GAME", help=GAME_HELP)
    p.add_argument("nation", metavar="NATION", help="the nation, e.g. france")
    p.add_argument("--off", action="store_true", help="stop advertising it")

    p = add("export", cmd_host_export, "download the game as a save file (.kessen; verify it with kessen verify)", hsub)
    p.add_argument("game", metavar="GAME", help=GAME_HELP)
    p.add_argument("-o", "--output", required=True, metavar="FILE", help="the file to write")
    return parser


def main(argv: list[str] | None = None, out: TextIO | None = None, err: TextIO | None = None) -> int:
    """Run one sub-command; returns the exit code."""
    try:
        return _main(argv, out, err)
    except BrokenPipeError:  # `kessen-client board demo | head`: the reader stopped; not an error
        _silence_stdout()
        return 0


def _main(argv: list[str] | None, out: TextIO | None, err: TextIO | None) -> int:
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


def _silence_stdout() -> None:
    """Point stdout at /dev/null so that the interpreter's last flush does not fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


def _error(args: argparse.Namespace, err: TextIO, out: TextIO, data: dict[str, Any], text: str) -> None:
    if getattr(args, "json", False):
        print(json.dumps(data, sort_keys=True), file=out)
    print(f"{PROG}: {text}", file=err)


if __name__ == "__main__":
    sys.exit(main())
