"""``kessen`` command line (I/O edge). Each sub-command is a small function over the pure core.

Exit codes: 0 success, 1 a check failed (verification, ruleset), 2 usage or malformed input.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any, Sequence

from . import __version__
from .engine.errors import CaseError, KessenError, RulesetError


def _die(message: str, code: int = 2) -> int:
    print(f"kessen: {message}", file=sys.stderr)
    return code


# ---- adjudicate --------------------------------------------------------------------------
def cmd_adjudicate(args: argparse.Namespace) -> int:
    from .conformance import run_case
    from .ruleset_files import load

    try:
        text = sys.stdin.read() if args.case == "-" else Path(args.case).read_text(encoding="utf-8")
    except OSError as e:
        return _die(f"cannot read {args.case}: {e.strerror}")
    except UnicodeDecodeError:
        return _die(f"{args.case} is not UTF-8 text")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        return _die(f"{args.case}: not valid JSON (line {e.lineno}, column {e.colno}): {e.msg}")
    cases = data if isinstance(data, list) else [data]
    outputs = []
    for i, case in enumerate(cases):
        try:
            outputs.append(run_case(case, load))
        except CaseError as e:
            return _die(str(e))
        except RulesetError as e:
            cid = case.get("id", f"#{i}") if isinstance(case, dict) else f"#{i}"
            return _die(f"case {cid}: field 'variant': {e}")
    for out in outputs:
        print(json.dumps(out, sort_keys=False))
    return 0


# ---- ruleset check -----------------------------------------------------------------------
def cmd_ruleset_check(args: argparse.Namespace) -> int:
    from .ruleset_files import load_path, rulesets_dir

    path = Path(args.path)
    if not path.exists() and (rulesets_dir() / args.path).is_dir():
        path = rulesets_dir() / args.path
    try:
        rs = load_path(path)
    except RulesetError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    from .engine.state import initial_state, phase_name

    terr: dict[str, int] = {}
    for p in rs.provinces.values():
        terr[p.terrain] = terr.get(p.terrain, 0) + 1
    print(f"ok  {rs.id}: {rs.name}")
    print(f"    {len(rs.provinces)} provinces ({', '.join(f'{v} {k}' for k, v in sorted(terr.items()))}), "
          f"{len(rs.centres)} supply centres, {rs.victory_centres} to win")
    print(f"    {len(rs.nations)} nations: {', '.join(n.name for n in rs.nations)}")
    st = initial_state(rs)
    print(f"    starts {phase_name(rs, st)} with {len(st.units)} units; "
          f"calendar {' / '.join(s.name + ' (' + ', '.join(s.phases) + ')' for s in rs.seasons)}")
    print(f"    rules: edition {rs.options.edition}; digest {rs.digest[:16]}")
    return 0


# ---- parser ------------------------------------------------------------------------------
def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="kessen", description="Kessen: a turn-based grand-strategy game server and adjudicator.")
    p.add_argument("--version", action="version", version=f"kessen {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    a = sub.add_parser("adjudicate", help="adjudicate conformance cases (DATC schema) and print one JSON line per case")
    a.add_argument("case", help="a JSON file holding one case or a list of cases, or - for stdin")
    a.set_defaults(func=cmd_adjudicate)

    r = sub.add_parser("ruleset", help="ruleset tools")
    rsub = r.add_subparsers(dest="ruleset_command", metavar="SUBCOMMAND")
    rc = rsub.add_parser("check", help="validate a ruleset folder and print a summary")
    rc.add_argument("path", help="a ruleset folder, or the id of an installed ruleset")
    rc.set_defaults(func=cmd_ruleset_check)

    from . import bench, render_cli, saves_cli, selfplay_cli, serve_cli

    selfplay_cli.add_parser(sub)
    saves_cli.add_parser(sub)
    render_cli.add_parser(sub)
    serve_cli.add_parser(sub)
    bench.add_parser(sub)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    func: Any = getattr(args, "func", None)
    if func is None:
        parser.print_help()
        return 2
    try:
        return int(func(args) or 0)
    except KessenError as e:
        return _die(str(e))
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `kessen stats ... | head`: the reader stopped; not an error
        try:
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # the last flush must not fail
        except (OSError, ValueError):
            pass
        return 0


if __name__ == "__main__":
    sys.exit(main())
