"""Save-file sub-commands of ``kessen`` (I/O edge): verify, replay, export, import, stats.

Exit codes: 0 success; 1 a file failed (verification, a differing phase under
``--recheck``, an unreadable input); 2 usage. A bad file prints one line,
``error  FILE  record 17 (phase F1903M): chain mismatch``, never a traceback.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import re
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence, TypeVar

from .engine.errors import KessenError

T = TypeVar("T")
R = TypeVar("R")


def _err(path: str | Path, message: str) -> str:
    return f"error  {path}  {message}"


def _default_jobs() -> int:
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1))


def _map(func: Callable[[T], R], items: Sequence[T], jobs: int, progress: bool, desc: str) -> Iterator[R]:
    """``func`` over ``items`` in order, in ``jobs`` processes, with a tqdm bar on stderr."""
    from tqdm import tqdm

    bar = tqdm(total=len(items), desc=desc, unit="file", file=sys.stderr, disable=not progress,
               dynamic_ncols=True)
    try:
        if jobs <= 1 or len(items) <= 1:
            for item in items:
                yield func(item)
                bar.update(1)
        else:
            chunk = max(1, len(items) // (jobs * 16))
            with ProcessPoolExecutor(max_workers=jobs) as pool:
                for result in pool.map(func, items, chunksize=chunk):
                    yield result
                    bar.update(1)
    finally:
        bar.close()


def _emit(line: str, progress: bool) -> None:
    if progress:
        from tqdm import tqdm

        tqdm.write(line, file=sys.stdout)
    else:
        print(line, flush=False)


# ---- verify --------------------------------------------------------------------------------


def _verify_one(path: Path) -> tuple[str, Any]:
    from .saves.files import verify_file

    return str(path), verify_file(path)


def cmd_verify(args: argparse.Namespace) -> int:
    from .saves.files import find_saves

    files = find_saves(args.paths)
    if not files:
        print(_err(" ".join(args.paths), "no .kessen files found"))
        return 1
    progress = not args.no_progress and (len(files) > 1 or any(Path(p).is_dir() for p in args.paths))
    failed = 0
    for path, report in _map(_verify_one, files, args.jobs, progress, "verify"):
        if report.ok:
            _emit(f"ok  {report.game_id}  {report.phases} phases  chain ok", progress)
        else:
            failed += 1
            _emit(_err(path, str(report.problem)), progress)
    sys.stdout.flush()
    if len(files) > 1:
        print(f"{len(files)} files: {len(files) - failed} ok, {failed} failed", file=sys.stderr)
    return 1 if failed else 0


# ---- replay --------------------------------------------------------------------------------


def cmd_replay(args: argparse.Namespace) -> int:
    from .saves.files import open_save
    from .saves.model import SaveError
    from .saves.replay import board_at, board_plain, board_text

    try:
        save, ruleset = open_save(args.file)
        board = board_at(ruleset, save, args.phase)
    except SaveError as e:
        print(_err(args.file, str(e)))
        return 1
    except KeyError as e:
        print(_err(args.file, str(e.args[0])))
        return 1
    if args.json:
        print(json.dumps(board_plain(ruleset, board), indent=1, ensure_ascii=False))
    else:
        print(board_text(ruleset, board, save.header.title))
    return 0


# ---- export --------------------------------------------------------------------------------


def _safe_name(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("._") or "game"


def cmd_export(args: argparse.Namespace) -> int:
    from .saves.files import find_saves, open_save, write_bytes_atomic
    from .saves.model import SaveError
    from .saves.replay import TABLES, export_json, merge_rows, table_rows

    files = find_saves(args.paths)
    if not files:
        print(_err(" ".join(args.paths), "no .kessen files found"))
        return 1
    out = Path(args.out)
    failed = 0
    parts = []
    for f in files:
        try:
            save, ruleset = open_save(f)
            if args.format == "json":
                target = out / f"{_safe_name(f.stem)}.json"
                write_bytes_atomic(target, export_json(save).encode("utf-8"))
                print(f"wrote {target}")
            else:
                parts.append(table_rows(ruleset, save))
        except SaveError as e:
            failed += 1
            print(_err(f, str(e)))
    if args.format == "csv" and parts:
        rows = merge_rows(parts)
        out.mkdir(parents=True, exist_ok=True)
        for name, columns in TABLES.items():
            target = out / f"{name}.csv"
            with open(target, "w", newline="", encoding="utf-8") as fh:
                w = csv.writer(fh, lineterminator="\n")
                w.writerow(columns)
                w.writerows(rows[name])
            print(f"wrote {target}  {len(rows[name])} rows")
    return 1 if failed else 0


# ---- import --------------------------------------------------------------------------------


def _read_text(path: str) -> str:
    from .saves.model import Problem, SaveError

    try:
        return sys.stdin.read() if path == "-" else Path(path).read_text(encoding="utf-8")
    except OSError as e:
        raise SaveError(Problem("file", f"cannot read: {e.strerror or e}")) from None
    except UnicodeDecodeError:
        raise SaveError(Problem("file", "not UTF-8 text")) from None


def cmd_import_json(args: argparse.Namespace) -> int:
    from .saves.files import write_bytes_atomic
    from .saves.format import to_bytes
    from .saves.model import Problem, SaveError
    from .saves.replay import save_from_export

    try:
        text = _read_text(args.file)
        try:
            doc = json.loads(text)
        except json.JSONDecodeError as e:
            raise SaveError(Problem("file", f"not JSON (line {e.lineno}, column {e.colno}): {e.msg}")) from None
        except RecursionError:
            raise SaveError(Problem("file", "not a Kessen export: nested too deeply")) from None
        save = save_from_export(doc)
        data = to_bytes(save)
    except SaveError as e:
        print(_err(args.file, str(e)))
        return 1
    out = Path(args.out) if args.out else Path(args.file).with_suffix(".kessen")
    write_bytes_atomic(out, data)
    print(f"ok  {save.header.game_id}  {save.phase_count} phases  -> {out}")
    return 0


def cmd_import_mila(args: argparse.Namespace) -> int:
    from .saves.files import installed_files, ruleset_for, write_bytes_atomic
    from .saves.format import to_bytes
    from .saves.mila import MilaError, convert_game, games_from_text
    from .saves.model import SaveError
    from .saves.verify import verify_save
    from .ruleset_files import load

    try:
        ruleset = load(args.ruleset)
        files = installed_files(args.ruleset) if args.embed_ruleset else None
        games = games_from_text(_read_text(args.file), args.file)
    except (SaveError, KessenError) as e:
        print(_err(args.file, str(e)))
        return 1
    many = len(games) > 1
    if args.out:
        out = Path(args.out)
    else:
        out = Path(args.file).with_suffix("") if many else Path(args.file).with_suffix(".kessen")
    if many and out.exists() and not out.is_dir():
        print(_err(out, "with several games, -o names a directory"))
        return 2
    checked = differing = explained = failed = 0
    for g in games:
        try:
            imp = convert_game(ruleset, g, ruleset_files=files)
            report = verify_save(imp.save, ruleset_for(imp.save.header))
            if not report.ok:
                raise SaveError(report.problem)  # type: ignore[arg-type]
        except (MilaError, SaveError) as e:
            failed += 1
            print(_err(args.file, str(e)))
            continue
        target = out / f"{_safe_name(imp.save.header.game_id)}.kessen" if many else out
        write_bytes_atomic(target, to_bytes(imp.save))
        checked += imp.phases
        differing += len(imp.diffs)
        explained += sum(1 for d in imp.diffs if d.explanation)
        if args.recheck:
            for d in imp.diffs:
                print(f"  {d}")
        print(f"ok  {imp.save.header.game_id}  {imp.phases} phases  {len(imp.diffs)} differ  -> {target}")
    if args.recheck or many:
        detail = f" ({explained} explained by a DATC preference, {differing - explained} unexplained)" if differing else ""
        print(f"total  {len(games)} games  {checked} phases checked  {differing} phases differing{detail}")
    if failed:
        return 1
    if args.recheck:
        counted = differing - explained if args.allow_datc else differing
        return 1 if counted else 0
    return 0


# ---- stats ---------------------------------------------------------------------------------


def _stats_one(path: Path) -> tuple[str, Any, str]:
    from .analysis.stats import game_stats
    from .saves.files import open_save
    from .saves.model import SaveError

    try:
        save, ruleset = open_save(path)
        return str(path), game_stats(ruleset, save), ""
    except SaveError as e:
        return str(path), None, str(e)


def cmd_stats(args: argparse.Namespace) -> int:
    from .analysis.stats import aggregate, aggregate_plain, aggregate_text, centre_series, game_plain, game_text
    from .saves.files import find_saves

    files = find_saves(args.paths)
    if not files:
        print(_err(" ".join(args.paths), "no .kessen files found"))
        return 1
    progress = not args.no_progress and any(Path(p).is_dir() for p in args.paths) and len(files) > 1
    stats, failed = [], 0
    for path, st, problem in _map(_stats_one, files, args.jobs, progress, "stats"):
        if st is None:
            failed += 1
            print(_err(path, problem), file=sys.stderr if args.json else sys.stdout)
        else:
            stats.append(st)
    if not stats:
        return 1
    groups: dict[str, list[Any]] = {}
    for s in stats:
        groups.setdefault(s.ruleset_id, []).append(s)
    if len(stats) == 1:
        print(json.dumps(game_plain(stats[0]), indent=1) if args.json else game_text(stats[0]))
    elif args.json:
        print(json.dumps({"games": [game_plain(s) for s in stats],
                          "aggregate": [aggregate_plain(aggregate(g)) for g in groups.values()]}, indent=1))
    else:
        for g in groups.values():
            print(aggregate_text(aggregate(g)))
    code = 1 if failed else 0
    if args.plot:
        from .analysis.plot import PlotUnavailable, plot_centres
        from .saves.files import installed_ruleset

        first = next(iter(groups.values()))
        nations, years, centres = centre_series(first if len(first) == 1 else aggregate(first))
        rs = installed_ruleset(first[0].ruleset_id)
        colours = {n.id: n.colour for n in rs.nations} if rs is not None else None
        title = (f"{first[0].game_id}: supply centres" if len(first) == 1
                 else f"{len(first)} games ({first[0].ruleset_id}): mean supply centres")
        try:
            plot_centres(args.plot, nations, years, centres, colours=colours, title=title)
        except PlotUnavailable as e:
            print(f"kessen stats: {e}", file=sys.stderr)
            return 1
        print(f"wrote {args.plot}", file=sys.stderr)
    return code


# ---- parser --------------------------------------------------------------------------------


def add_parser(sub: Any) -> None:
    """Add ``verify``, ``replay``, ``export``, ``import`` and ``stats`` to ``kessen``."""
    jobs = _default_jobs()

    v = sub.add_parser("verify", help="verify save files: re-adjudicate every phase, check the chain")
    v.add_argument("paths", nargs="+", metavar="FILE|DIR", help="save files, or directories of *.kessen")
    v.add_argument("--jobs", "-j", type=int, default=jobs, help=f"processes (default: all cores, {jobs})")
    v.add_argument("--no-progress", action="store_true", help="no progress bar")
    v.set_defaults(func=cmd_verify)

    r = sub.add_parser("replay", help="show the board at any phase of a saved game")
    r.add_argument("file", metavar="FILE")
    r.add_argument("--phase", help="phase id such as S1905M (default: the board after the last phase)")
    r.add_argument("--json", action="store_true", help="print JSON instead of text")
    r.set_defaults(func=cmd_replay)

    e = sub.add_parser("export", help="export saved games as JSON (whole game) or CSV tables")
    e.add_argument("paths", nargs="+", metavar="FILE|DIR")
    e.add_argument("--format", choices=("json", "csv"), required=True)
    e.add_argument("--out", required=True, metavar="DIR", help="output directory")
    e.set_defaults(func=cmd_export)

    i = sub.add_parser("import", help="make a save from a JSON export or a MILA saved game")
    isub = i.add_subparsers(dest="import_format", metavar="FORMAT")
    ij = isub.add_parser("json", help="a Kessen JSON export (gives back the identical save)")
    ij.add_argument("file", metavar="FILE.json")
    ij.add_argument("-o", "--out", metavar="OUT.kessen")
    ij.set_defaults(func=cmd_import_json)
    im = isub.add_parser("mila", help="MILA diplomacy saved games (one JSON game, or JSON lines)")
    im.add_argument("file", metavar="FILE.json")
    im.add_argument("-o", "--out", metavar="OUT", help="the save (one game) or a directory (many games)")
    im.add_argument("--recheck", action="store_true",
                    help="report every phase whose recorded board differs from Kessen's adjudication")
    im.add_argument("--allow-datc", action="store_true",
                    help="with --recheck, exit 0 when every difference is a named DATC preference")
    im.add_argument("--ruleset", default="classic", help="installed ruleset (default classic)")
    im.add_argument("--embed-ruleset", action="store_true", help="embed the ruleset files in the save")
    im.set_defaults(func=cmd_import_mila)
    i.set_defaults(func=lambda a: (i.print_help(), 2)[1])

    s = sub.add_parser("stats", help="statistics over saved games (numpy)")
    s.add_argument("paths", nargs="+", metavar="FILE|DIR")
    s.add_argument("--plot", metavar="OUT.png", help="draw centre counts over time (needs matplotlib)")
    s.add_argument("--json", action="store_true", help="print JSON")
    s.add_argument("--jobs", "-j", type=int, default=jobs, help=f"processes (default {jobs})")
    s.add_argument("--no-progress", action="store_true")
    s.set_defaults(func=cmd_stats)
