"""Publishing adjudicated phases: results posts and maps in each game's folder (I/O edge).

After a phase's transaction has committed, the service calls :meth:`Publisher.phase_done`,
which hands a job to one background worker *process* (rendering a map takes seconds and may
load a ~1 GB land mask: never in the server process, never on the event loop). The worker
(:func:`publish_phase`) opens the database read-only, exports the game as a save
(:func:`server.storage.export.build_save`, so only adjudicated phases are ever read: orders
not yet adjudicated live in another table and are never looked at), and writes into
``<games_dir>/<game>/``::

    <game>_<phase>.bbcode.txt  .md  .discord.txt (messages separated by a line ---)  .txt
    <game>_<phase>_orders.png   the board the phase was played from, with its orders
    <game>_<phase>_position.png the board after the phase
    index.json                  {"game", "title", "ruleset", "phases": [{"phase", "name",
                                 "processed", "files": [...], "centres": {nation: n}}]}

Each file is written atomically (temporary file and rename). A failure is logged and never
touches the game. :mod:`server.net.http` serves these folders.
"""

from __future__ import annotations

import concurrent.futures
import json
import logging
import multiprocessing
import os
import re
from pathlib import Path

log = logging.getLogger("kessen.publish")

GAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")
"""A game id that may name a folder (ids are ``g`` + hex, or given by the command line)."""

POST_FORMATS = (("bbcode", ".bbcode.txt"), ("markdown", ".md"), ("discord", ".discord.txt"),
                ("text", ".txt"))
DISCORD_SEPARATOR = "\n---\n"


def _lower_priority() -> None:
    """The worker yields the CPU to the game server: many phases adjudicated at one deadline
    keep it rendering for minutes, and players' requests come first."""
    try:
        os.nice(10)
    except (OSError, AttributeError):
        pass


def default_games_dir(db: str) -> str:
    """``<folder of the database>/games``."""
    return str(Path(db).resolve().parent / "games")


# ---- the worker process --------------------------------------------------------------------
def publish_phase(db: str, games_dir: str, game: str, phase: str, maps: bool = True) -> list[str]:
    """Write the posts and maps of ``phase`` (its latest occurrence) and update index.json.

    Runs in the worker process. Returns the names of the files written.
    """
    from ..render.post import render_post
    from ..render.results import phase_results
    from ..render_cli import timing_for
    from ..saves.files import ruleset_for, write_bytes_atomic
    from ..saves.format import parse, to_bytes
    from ..saves.replay import boards
    from ..storage.export import build_save
    from ..storage.repository import ReadOnlyRepository

    if not GAME_RE.fullmatch(game):
        raise ValueError(f"game id {game!r} cannot name a folder")
    repo = ReadOnlyRepository(db)
    try:
        data = to_bytes(build_save(repo, game))
        processed = {p["phase"]: p["processed"] for p in repo.phases(game)}  # latest occurrence wins
        row = repo.game(game)
        current = (row["phase"], row["deadline"]) if row is not None else (None, None)
    finally:
        repo.close()
    parsed = parse(data, strict=True)
    if parsed.save is None or parsed.problems:
        raise ValueError(f"the export of {game} does not read back: {parsed.problems[:1]}")
    save = parsed.save
    ruleset = ruleset_for(save.header)

    played, after = None, None
    all_boards = list(boards(ruleset, save))
    for k, b in enumerate(all_boards):
        if b.record is not None and b.phase == phase:
            played, after = b, all_boards[k + 1]
    if played is None or after is None:
        raise KeyError(f"game {game} has no adjudicated phase {phase}")

    folder = Path(games_dir) / game
    stem = f"{game}_{phase}"
    written: list[str] = []
    settings = dict(save.header.settings)
    # the next deadline, when the game is still at the phase this post announces
    deadline = current[1] if current[0] is not None and current[0] == after.phase else None
    zones = [s.get("tz") for s in (settings.get("deadlines") or {}).values() if isinstance(s, dict)]
    zone = settings.get("timezone") or next((z for z in zones if z and z != "UTC"), None)
    results = phase_results(ruleset, save, played,
                            timing_for(settings, processed.get(phase), zone, deadline))
    for fmt, suffix in POST_FORMATS:
        msgs = render_post(results, fmt)
        text = DISCORD_SEPARATOR.join(msgs) if fmt == "discord" else msgs[0]
        write_bytes_atomic(folder / f"{stem}{suffix}", text.encode("utf-8"))
        written.append(f"{stem}{suffix}")
    if maps:
        from ..render.svg import render_map
        from ..render_cli import rasterise, shapes_for

        shapes = shapes_for(ruleset)
        for name, board, orders in (("orders", played, True), ("position", after, False)):
            svg = render_map(ruleset, shapes, board, orders=orders, title=save.header.title)
            write_bytes_atomic(folder / f"{stem}_{name}.png", rasterise(svg))
            written.append(f"{stem}_{name}.png")

    index_path = folder / "index.json"
    try:
        index = json.loads(index_path.read_text(encoding="utf-8"))
        entries = [e for e in index["phases"] if isinstance(e, dict) and e.get("phase") != phase]
    except (OSError, ValueError, KeyError, TypeError):
        entries = []
    entries.append({"phase": phase, "name": results.phase_name, "processed": processed.get(phase),
                    "files": written, "centres": {r.nation: r.after for r in results.centres}})
    order = {b.phase: k for k, b in enumerate(all_boards)}  # entries in the order played
    entries.sort(key=lambda e: order.get(e.get("phase"), len(order)))
    entries = [e for e in entries if e.get("phase") in order]
    index = {"game": game, "title": save.header.title, "ruleset": ruleset.id, "phases": entries}
    write_bytes_atomic(index_path, json.dumps(index, indent=1, sort_keys=True).encode("utf-8"))
    written.append("index.json")
    return written


# ---- the server side -----------------------------------------------------------------------
class Publisher:
    """Hands phases to the worker process (created at the first job, shut down with the server)."""

    def __init__(self, db: str, games_dir: str, maps: bool = True) -> None:
        self.db, self.games_dir, self.maps = db, games_dir, maps
        self.pool: concurrent.futures.ProcessPoolExecutor | None = None
        self.pending: set[concurrent.futures.Future[list[str]]] = set()
        self.closed = False

    def phase_done(self, game: str, phase: str) -> None:
        """Queue ``phase`` of ``game`` (already committed). Never raises."""
        if self.closed:
            return
        try:
            if self.pool is None:  # spawn: the server has threads, a fork could copy a held lock
                self.pool = concurrent.futures.ProcessPoolExecutor(
                    max_workers=1, mp_context=multiprocessing.get_context("spawn"), initializer=_lower_priority)
            fut = self.pool.submit(publish_phase, self.db, self.games_dir, game, phase, self.maps)
        except Exception:
            log.exception("game %s: cannot queue the publishing of %s", game, phase)
            return
        self.pending.add(fut)
        fut.add_done_callback(lambda f: self._done(f, game, phase))

    def _done(self, fut: concurrent.futures.Future[list[str]], game: str, phase: str) -> None:
        self.pending.discard(fut)
        if fut.cancelled():
            return
        exc = fut.exception()
        if exc is not None:
            log.error("game %s: publishing %s failed: %s: %s", game, phase, type(exc).__name__, exc)
        else:
            log.info("game %s: published %s (%d files)", game, phase, len(fut.result()))

    def close(self, wait: bool = True) -> None:
        """Stop the worker: the job under way finishes (with ``wait``), queued ones are dropped."""
        self.closed = True
        if self.pool is not None:
            self.pool.shutdown(wait=wait, cancel_futures=True)
            self.pool = None


__all__ = ["Publisher", "publish_phase", "default_games_dir", "GAME_RE", "POST_FORMATS"]
