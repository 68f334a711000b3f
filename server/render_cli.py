"""``kessen post`` and ``kessen map`` (I/O edge over :mod:`server.render`).

``post`` prints a phase's results post (BBCode, Markdown, Discord messages or text);
``map`` writes the board as SVG, or PNG through resvg (the ``maps`` extra). The land mask
(``global-land-mask``, also in ``maps``) is read here, and the province shapes it gives are
cached per ruleset digest under the user's cache directory.

Exit codes: 0 success; 1 an unreadable or altered save; 2 usage (unknown phase, format,
output suffix, or the ``maps`` extra is missing).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from .engine.errors import KessenError


def _die(message: str, code: int = 2) -> int:
    print(f"kessen: {message}", file=sys.stderr)
    return code


def _board(save: Any, ruleset: Any, phase: str | None, played: bool) -> Any:
    """The board of ``phase``; with ``played`` and no phase, the last phase played."""
    from .saves.replay import board_at, boards

    if phase is None and played:
        last = None
        for b in boards(ruleset, save):
            if b.record is not None:
                last = b
        if last is None:
            raise KeyError("this game has no phase played yet")
        return last
    return board_at(ruleset, save, phase)


# ---- times ---------------------------------------------------------------------------------
def _stamp(t: datetime) -> str:
    return t.strftime("%Y-%m-%d %H:%M")


def timing_for(settings: dict[str, Any], processed: int | None, tz_name: str | None,
               deadline: int | None = None) -> Any:
    """Display times for a post: processing time, and the next deadline: ``deadline`` (UTC
    seconds, as the server knows it) or, for a save, the settings' ``deadline_hours`` after
    the processing time.

    ``tz_name`` (or the settings' ``timezone``) adds the deadline in the host's time zone.
    """
    from .render.results import Timing

    if processed is None:
        return Timing()
    at = datetime.fromtimestamp(processed, timezone.utc)
    hours = settings.get("deadline_hours")
    if deadline is not None:
        due = datetime.fromtimestamp(deadline, timezone.utc)
    elif not isinstance(hours, int) or isinstance(hours, bool) or hours <= 0:
        return Timing(processed=f"{_stamp(at)} UTC")
    else:
        due = at + timedelta(hours=hours)
    local = None
    zone = tz_name or settings.get("timezone")
    if isinstance(zone, str) and zone:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            lt = due.astimezone(ZoneInfo(zone))
            local = f"{_stamp(lt)} {lt.tzname()} ({zone})"
        except (ZoneInfoNotFoundError, ValueError):
            local = None
    return Timing(processed=f"{_stamp(at)} UTC", deadline_utc=f"{_stamp(due)} UTC", deadline_local=local)


def _epoch(text: str) -> int:
    if text.isdigit():
        return int(text)
    t = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if t.tzinfo is None:
        t = t.replace(tzinfo=timezone.utc)
    return int(t.timestamp())


def open_save_or_game(target: str, db: str) -> Any:
    """``(save, ruleset)`` of a .kessen file, or of a game of the server database ``db``."""
    from .saves.files import open_save, ruleset_for

    if Path(target).is_file() or target.endswith(".kessen") or not Path(db).is_file():
        return open_save(target)
    from .saves.format import parse, to_bytes
    from .storage.export import build_save
    from .storage.repository import ReadOnlyRepository

    repo = ReadOnlyRepository(db)
    try:
        if repo.game(target) is None:
            raise FileNotFoundError(f"no save file, and no game {target!r} in {db}")
        save = parse(to_bytes(build_save(repo, target)), strict=True).save
    finally:
        repo.close()
    return save, ruleset_for(save.header)


# ---- post ----------------------------------------------------------------------------------
def cmd_post(args: argparse.Namespace) -> int:
    from .render.post import render_post
    from .render.results import phase_results

    try:
        processed = _epoch(args.processed) if args.processed else None
    except ValueError:
        return _die(f"--processed {args.processed!r}: give UTC seconds or an ISO time")
    try:
        save, ruleset = open_save_or_game(args.save, args.db)
    except (KessenError, KeyError, OSError) as e:
        return _die(f"{args.save}: {e}", 1)
    try:
        board = _board(save, ruleset, args.phase, played=True)
        results = phase_results(ruleset, save, board,
                                timing_for(dict(save.header.settings), processed, args.timezone))
    except (KeyError, ValueError) as e:
        return _die(str(e.args[0]) if e.args else str(e))
    msgs = render_post(results, args.format)
    if args.format == "discord":
        for k, m in enumerate(msgs):
            if k:
                print(f"\n----- message {k + 1} of {len(msgs)} -----\n")
            print(m)
    else:
        sys.stdout.write(msgs[0])
    return 0


# ---- map -----------------------------------------------------------------------------------
def cache_dir() -> Path:
    """Where computed shapes are kept: ``$XDG_CACHE_HOME/kessen/shapes`` or ``~/.cache/...``."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "kessen" / "shapes"


def land_mask() -> Any:
    """The ``is_land(lats, lons)`` function of ``global-land-mask`` (loads ~1 GB, ~1-3 s).

    Raises:
        ImportError: the ``maps`` extra is not installed.
    """
    from global_land_mask import globe

    return globe.is_land


def shapes_for(ruleset: Any, use_cache: bool = True) -> Any:
    """The ruleset's province shapes, from the cache file or computed (and cached)."""
    from .render.geometry import SHAPES_VERSION, MapShapes, map_shapes
    from .saves.files import write_bytes_atomic

    path = cache_dir() / f"{ruleset.id}-{ruleset.digest[:24]}-v{SHAPES_VERSION}.json"
    if use_cache and path.is_file():
        try:
            shapes = MapShapes.from_plain(json.loads(path.read_text(encoding="utf-8")))
            if shapes.ruleset_digest == ruleset.digest:
                return shapes
        except (OSError, ValueError):
            pass  # a bad cache file is recomputed
    shapes = map_shapes(ruleset, land_mask())
    if use_cache:
        try:
            write_bytes_atomic(path, json.dumps(shapes.to_plain()).encode("utf-8"))
        except OSError:
            pass  # caching is best effort
    return shapes


def rasterise(svg: str, scale: float = 1.0) -> bytes:
    """PNG bytes of ``svg`` through resvg (``resvg-py``, a self-contained wheel)."""
    import resvg_py

    return bytes(resvg_py.svg_to_bytes(svg_string=svg, zoom=scale) if scale != 1.0
                 else resvg_py.svg_to_bytes(svg_string=svg))


def cmd_map(args: argparse.Namespace) -> int:
    from .render.svg import render_map
    from .saves.files import write_bytes_atomic

    out = Path(args.output)
    suffix = out.suffix.lower()
    if suffix not in (".svg", ".png"):
        return _die(f"{out}: the output must end in .svg or .png")
    if args.scale <= 0 or args.scale > 8:
        return _die("--scale must be in (0, 8]")
    try:
        save, ruleset = open_save_or_game(args.save, args.db)
    except (KessenError, KeyError, OSError) as e:
        return _die(f"{args.save}: {e}", 1)
    try:
        board = _board(save, ruleset, args.phase, played=args.orders)
    except (KeyError, ValueError) as e:
        return _die(str(e.args[0]) if e.args else str(e))
    t0 = time.perf_counter()
    try:
        shapes = shapes_for(ruleset, use_cache=not args.no_cache)
    except ImportError as e:
        return _die(f"map drawing needs the 'maps' extra (pip install 'kessen[maps]'): {e}")
    svg = render_map(ruleset, shapes, board, orders=args.orders, title=save.header.title)
    if suffix == ".png":
        try:
            data = rasterise(svg, args.scale)
        except ImportError as e:
            return _die(f"PNG output needs the 'maps' extra (pip install 'kessen[maps]'): {e}")
    else:
        data = svg.encode("utf-8")
    write_bytes_atomic(out, data)
    if args.verbose:
        print(f"{out}: {len(data)} bytes, {board.phase}, {time.perf_counter() - t0:.2f} s", file=sys.stderr)
    return 0


def add_parser(sub: Any) -> None:
    """Add the ``post`` and ``map`` sub-commands to ``kessen``'s sub-parsers."""
    p = sub.add_parser("post", help="print a phase's results post (BBCode, Markdown, Discord, text)")
    p.add_argument("save", metavar="SAVE_OR_GAME", help="a .kessen file, or a game id of the server database (--db)")
    p.add_argument("--db", default="kessen.db", help="the server database for a game id (default: ./kessen.db)")
    p.add_argument("--phase", help="the phase played, e.g. S1901M (default: the last one)")
    p.add_argument("--format", choices=("bbcode", "markdown", "discord", "text"), default="text")
    p.add_argument("--processed", help="when the phase was processed (UTC seconds or ISO time); "
                   "with the save's deadline_hours setting this adds the next deadline")
    p.add_argument("--timezone", help="the host's time zone (IANA name) for the deadline; "
                   "default: the save's 'timezone' setting")
    p.set_defaults(func=cmd_post)

    m = sub.add_parser("map", help="draw the board as SVG or PNG")
    m.add_argument("save", metavar="SAVE_OR_GAME", help="a .kessen file, or a game id of the server database (--db)")
    m.add_argument("--db", default="kessen.db", help="the server database for a game id (default: ./kessen.db)")
    m.add_argument("--phase", help="the board at the start of this phase (default: the latest board; "
                   "with --orders the last phase played)")
    m.add_argument("--orders", action="store_true", help="draw the phase's orders and results")
    m.add_argument("-o", "--output", required=True, help="OUT.svg or OUT.png")
    m.add_argument("--scale", type=float, default=1.0, help="PNG zoom (default 1)")
    m.add_argument("--no-cache", action="store_true", help="recompute the province shapes")
    m.add_argument("-v", "--verbose", action="store_true", help="print size and time")
    m.set_defaults(func=cmd_map)


__all__ = ["add_parser", "cmd_post", "cmd_map", "timing_for", "shapes_for", "rasterise",
           "land_mask", "cache_dir"]
