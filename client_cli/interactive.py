"""The interactive shell of ``kessen-client`` (I/O: one connection and a prompt_toolkit prompt).

:class:`Shell` runs one typed line (:meth:`Shell.execute`) against the connection and returns
the text to show; it keeps the current game, the draft of orders and what completion needs.
Orders typed at the prompt are read with the server's own parser
(:func:`client_cli.commands.check_order_line`) and kept in a numbered draft; ``submit`` sends
the whole draft, so the server's rejected line numbers are the draft's. A mistyped line gets the
closest legal order as a suggestion (:func:`client_cli.commands.suggest`) that ``y`` takes.
``press``, ``inbox`` (conversations grouped by correspondents), ``history`` and ``vote`` act on
the current game.

:func:`run_shell` adds the prompt: history in the config directory, completion of commands,
game ids, legal orders, nations and place names (:func:`client_cli.commands.complete`). Pushes
(results, press, reminders, host actions) are announced as they arrive
(:func:`client_cli.view.render_push`) through prompt_toolkit's ``patch_stdout``, which prints
them above the prompt and redraws the line being typed, untouched; after one that moves the
current game the prompt shows the new phase (:meth:`Shell.follow`). A command's own reply is
written directly, before the next prompt, so pasted lines and their replies stay in order.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any, Iterable

from . import commands, view
from .connection import ConnectError, Connection, Refused, fetch_inbox

PHASE_EVENTS = ("started", "adjudicated", "rolled_back", "deadline", "ended", "event", "seat")
"""Pushes after which the shell fetches the current game's view again (prompt, legal orders)."""

HELP = "\n".join(f"  {k:<8} {v}" for k, v in commands.SHELL_COMMANDS.items()) + \
    "\n  anything else is an order line (A par - bur) added to the draft;" \
    "\n  after 'did you mean: ...', 'y' takes the suggested order"


class Shell:
    """The state of one interactive session over an open connection."""

    def __init__(self, conn: Connection | Any, local: Any = None) -> None:
        self.conn, self.local = conn, local
        games = conn.welcome.get("games") or []
        self.game: str | None = games[0]["game"] if games else None
        self.view: dict[str, Any] | None = None
        self.ruleset: Any = None
        self.draft: list[str] = []
        self.legal: list[str] = []
        self.places: list[str] = []
        self.stale = False  # a push moved the current game: its view is fetched again
        self.suggestion: str | None = None  # a legal order offered for a mistyped line; 'y' takes it
        self.replaces: int | None = None  # ... in place of this draft line (an order that parsed but is not legal)
        self.game_ids: list[str] = [g["game"] for g in games]
        self.shown: dict[str, int] = {g["game"]: g.get("seq", 0) for g in games}
        self.shown.update(getattr(conn, "since", None) or {})  # resynced from a previous run's seqs

    def nations(self) -> list[str]:
        """The current game's nations, for completion."""
        return sorted(s["nation"] for s in (self.view or {}).get("seats", []))

    @property
    def prompt(self) -> str:
        if self.view is None:
            return "kessen> "
        return f"{self.view['game']} {self.view.get('phase') or '-'}> "

    async def refresh(self) -> None:
        """Fetch the current game's view; load its ruleset and legal orders for completion."""
        if self.game is None:
            self.view = None
            return
        self.view = await self.conn.request("game", game=self.game)
        if self.ruleset is None or self.ruleset.id != self.view.get("ruleset"):
            try:
                from server.ruleset_files import load
                self.ruleset = load(str(self.view.get("ruleset")))
            except Exception:  # noqa: BLE001 - a ruleset this install lacks: the server still checks
                self.ruleset = None
            if self.ruleset is not None:
                self.places = sorted({p.id for p in self.ruleset.provinces.values()}
                                     | {p.name.lower() for p in self.ruleset.provinces.values()})
        self.legal = []
        if self.view.get("nation") and self.view.get("status") == "active":
            try:
                got = await self.conn.request("legal", game=self.game, phase=self.view["phase"])
                self.legal = sorted(o for opts in got["options"].values() for o in opts)
            except Refused:
                pass

    def new_pushes(self) -> list[str]:
        """Announcements for the pushes not shown yet."""
        lines = []
        for game, pushes in self.conn.pushes.items():
            for p in pushes:
                if p.get("seq", 0) > self.shown.get(game, 0):
                    lines.append(view.render_push(p, self.local))
                    self.shown[game] = p["seq"]
                    if game == self.game and p.get("event") in PHASE_EVENTS:
                        self.stale = True
        return lines

    async def follow(self) -> str | None:
        """After a push that moved the current game (a new phase, a rollback, a deadline): fetch
        its view again; if the phase changed, empty the draft (it was for the old phase) and
        say so."""
        if not self.stale:
            return None
        self.stale = False
        old = (self.view or {}).get("phase")
        try:
            await self.refresh()
        except (Refused, ConnectError):
            return None
        new = (self.view or {}).get("phase")
        if new == old:
            return None
        note = f"now {new}" + (f"; the draft for {old} is emptied" if self.draft else "")
        self.draft, self.suggestion = [], None
        return note

    async def execute(self, line: str) -> str | None:
        """Run one line; returns the text to show, or None to leave.

        A lost connection is reported as ``not done: ...`` (with a
        :class:`~client_cli.reconnect.Reconnecting` connection the shell keeps going).
        """
        words = line.split()
        if not words:
            return ""
        cmd, rest = words[0].lower(), words[1:]
        offered, self.suggestion = self.suggestion, None
        if offered is not None and line.strip().lower() in ("y", "yes"):
            if self.replaces is not None and self.replaces < len(self.draft):
                self.draft[self.replaces] = offered
                return f"replaced {self.replaces + 1}: {offered}"
            self.draft.append(offered)
            return f"added {len(self.draft)}: {offered}"
        self.replaces = None
        try:
            return await self._run(cmd, rest, line.strip())
        except Refused as e:
            return f"refused: {e.code}: {e.message}"
        except ConnectError as e:  # a reconnecting connection keeps trying; the line was not confirmed
            return f"not done: {e}"

    async def _run(self, cmd: str, rest: list[str], line: str) -> str | None:
        if cmd in ("quit", "exit"):
            return None
        if cmd == "help":
            return HELP
        if cmd == "games":
            games = (await self.conn.request("games"))["games"]
            self.game_ids = [g["game"] for g in games]
            return view.render_games(games)
        if cmd == "use":
            if len(rest) != 1:
                return "use GAME"
            if rest[0] not in self.shown:
                await self.conn.request("watch", game=rest[0])
                self.shown[rest[0]] = self.conn.last_seq.get(rest[0], 0)
            self.game, self.draft = rest[0], []
            await self.refresh()
            return f"using {self.game}"
        if cmd not in commands.SHELL_COMMANDS:
            return self._add_order(line)
        if self.game is None:
            return "no game: 'games' lists them, 'use GAME' picks one"
        return await self._game_command(cmd, rest, line)

    async def _game_command(self, cmd: str, rest: list[str], line: str) -> str:
        assert self.game is not None
        if cmd == "board":
            await self.refresh()
            assert self.view is not None
            return view.render_board(self.view, self.local)
        if cmd == "legal":
            await self.refresh()
            return "\n".join(self.legal) or "nothing to order"
        if cmd == "draft":
            return "\n".join(f"{i:>3}  {o}" for i, o in enumerate(self.draft, 1)) or "the draft is empty"
        if cmd == "del":
            if len(rest) != 1 or not rest[0].isdigit() or not 1 <= int(rest[0]) <= len(self.draft):
                return f"del N, N from 1 to {len(self.draft)}"
            return f"removed {self.draft.pop(int(rest[0]) - 1)}"
        if cmd == "clear":
            self.draft = []
            return "the draft is empty"
        if cmd == "press":
            if len(rest) < 2:
                return "press TO[,TO] TEXT  (TO: a nation, all, or host)"
            try:
                to = commands.parse_recipients(rest[0])
            except ValueError as e:
                return str(e)
            text = line.split(None, 2)[2]
            reply = await self.conn.request("press", game=self.game, to=to, text=text)
            return f"sent press #{reply.get('id')} to {', '.join(to)}"
        if cmd == "inbox":
            got = await fetch_inbox(self.conn, self.game)
            me = self._me()
            threads = commands.threads(got, me)
            if rest:
                want = {r.lower() for r in ",".join(rest).split(",") if r}
                threads = [t for t in threads if want & set(t[0])]
                if not threads:
                    return f"no press with {', '.join(sorted(want))}"
            return view.render_threads(threads, self.local)
        if cmd == "history":
            events = (await self.conn.request("history", game=self.game))["events"]
            return view.render_history(events, self.local)
        if cmd == "results":
            await self.conn.request("resync", game=self.game, after=0)
            push = commands.pick_results(self.conn.pushes.get(self.game, []), rest[0] if rest else None)
            return view.render_results(push, self.local) if push else "no results yet"
        await self.refresh()
        assert self.view is not None
        phase = self.view["phase"]
        if cmd == "submit":
            reply = await self.conn.request("orders", game=self.game, phase=phase, text="\n".join(self.draft))
            return view.render_orders_reply(reply)
        if cmd == "vote":
            if len(rest) != 2 or rest[0].lower() not in ("draw", "concede"):
                return "vote draw|concede yes|no"
            try:
                value = commands.parse_flag(rest[1])
            except ValueError as e:
                return str(e)
            await self.conn.request("vote", game=self.game, phase=phase, kind=rest[0].lower(), value=value)
            what = "a draw" if rest[0].lower() == "draw" else "conceding"
            return f"{phase}: you vote {'for' if value else 'against'} {what}"
        reply = await self.conn.request(cmd, game=self.game, phase=phase)  # ready / unready
        return f"{phase}: {'ready' if reply['ready'] else 'not ready'}"

    def _me(self) -> str | None:
        """Who the user is in press: their nation, ``host`` for the host, else None."""
        v = self.view or {}
        return v.get("nation") or ("host" if v.get("host") else None)

    def _add_order(self, line: str) -> str:
        if self.ruleset is None:
            self.draft.append(line)
            return f"added {len(self.draft)}: {line}"
        units = commands.board_units((self.view or {}).get("state") or {})
        order, text = commands.check_order_line(line, self.ruleset, units)
        if order is None:
            self.suggestion = commands.suggest(line, self.legal)
            if self.suggestion is not None:
                return f"not added: {text}\ndid you mean: {self.suggestion}  ('y' adds it)"
            return f"not added: {text} ('help' lists the commands)"
        self.draft.append(text)
        if self.legal and text not in self.legal:
            self.suggestion = commands.suggest(line, self.legal)
            self.replaces = len(self.draft) - 1
            hint = f"\ndid you mean: {self.suggestion}  ('y' takes it instead)" \
                if self.suggestion and self.suggestion != text else ""
            return f"added {len(self.draft)}: {text}\nnote: not a legal order now; it would fail{hint}"
        return f"added {len(self.draft)}: {text}"


def _completer(shell: Shell) -> Any:
    from prompt_toolkit.completion import Completer, Completion

    class ShellCompleter(Completer):  # type: ignore[misc]
        def get_completions(self, document: Any, complete_event: Any) -> Iterable[Any]:
            for text, back in commands.complete(document.text_before_cursor, games=shell.game_ids,
                                                legal=shell.legal, places=shell.places,
                                                nations=shell.nations()):
                yield Completion(text, start_position=-back)

    return ShellCompleter()


async def run_shell(conn: Connection | Any, history: Path, local: Any = None, *, input: Any = None,
                    output: Any = None) -> int:
    """The prompt loop until ``quit`` or end of input; returns the exit code."""
    from prompt_toolkit import PromptSession
    from prompt_toolkit.history import FileHistory
    from prompt_toolkit.patch_stdout import patch_stdout

    history.parent.mkdir(parents=True, exist_ok=True)
    shell = Shell(conn, local)
    await shell.refresh()
    away = shell.new_pushes()  # older history is in 'results' and 'board'
    session: Any = PromptSession(history=FileHistory(str(history)), completer=_completer(shell),
                                 input=input, output=output)

    async def announce() -> None:
        while True:
            await conn.changed.wait()
            conn.changed.clear()
            for line in shell.new_pushes():
                print(line, flush=True)
            note = await shell.follow()
            if note:
                print(note, flush=True)
            session.app.invalidate()  # the prompt names the phase

    print(view.render_welcome(conn.welcome) + "\n'help' lists the commands; Tab completes", flush=True)
    if away and getattr(conn, "since", None):  # the last run's seqs were saved: show what it missed
        print(f"{len(away)} update{'s' if len(away) != 1 else ''} since your last session:", flush=True)
        print("\n".join(away), flush=True)
    direct = sys.stdout  # between prompts, replies go straight out, in order with the typed lines
    with patch_stdout():
        task = asyncio.create_task(announce())
        try:
            while True:
                try:
                    line = await session.prompt_async(lambda: shell.prompt)
                except KeyboardInterrupt:
                    continue
                except EOFError:
                    break
                try:
                    out = await shell.execute(line)
                except Exception as e:  # noqa: BLE001 - a client bug must not end the session
                    out = f"client error: {type(e).__name__}: {e}"
                if out is None:
                    break
                if out:
                    print(out, file=direct, flush=True)
        finally:
            task.cancel()
    return 0


__all__ = ["HELP", "Shell", "run_shell"]
