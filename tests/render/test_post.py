"""Results posts: golden files on the sample saves, and well-formed markup on every phase."""

from __future__ import annotations

import re

import pytest

from server.render.post import DISCORD_LIMIT, FORMATS, render_post, split_messages
from server.render.results import Timing, phase_results
from server.saves.replay import board_at

from .conftest import check_golden, played_boards, sample

GOLDEN_PHASES = [
    ("classic-convoys-retreats.kessen", "S1902M"),  # a dislodgement with retreat options
    ("classic-convoys-retreats.kessen", "S1902R"),  # a retreat phase
    ("classic-convoys-retreats.kessen", "F1902M"),  # replayed after a rollback: housekeeping
    ("classic-convoys-retreats.kessen", "W1902A"),  # builds and removals
    ("colonial-selfplay-10y.kessen", "F1871M"),
    ("east-asia-1904-selfplay-10y.kessen", "S1909M"),
]
BREAK = "\n----- message break -----\n"


def _post_text(msgs: list[str]) -> str:
    return BREAK.join(msgs) if len(msgs) > 1 else msgs[0]


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize(("name", "phase"), GOLDEN_PHASES)
def test_golden_posts(name, phase, fmt):
    """Each format's post of a sample phase equals its golden file."""
    save, rs = sample(name)
    results = phase_results(rs, save, board_at(rs, save, phase))
    ext = {"bbcode": "bbcode", "markdown": "md", "discord": "discord.txt", "text": "txt"}[fmt]
    check_golden(f"{name.removesuffix('.kessen')}-{phase}.{ext}", _post_text(render_post(results, fmt)))


# --- well-formedness -------------------------------------------------------------------------

_TAG = re.compile(r"\[(/?)([a-z*]+)(=[^\]]*)?\]")
BB_TAGS = {"b", "i", "u", "color", "list", "code", "*"}


def assert_bbcode_balanced(text: str) -> None:
    """Every tag is known and closed in order; [*] only inside [list]; nothing inside [code]."""
    stack: list[str] = []
    for m in _TAG.finditer(text):
        closing, tag = m.group(1) == "/", m.group(2)
        if stack and stack[-1] == "code" and not (closing and tag == "code"):
            continue
        assert tag in BB_TAGS, f"unknown tag [{tag}]"
        if tag == "*":
            assert stack and stack[-1] == "list", "[*] outside [list]"
            continue
        if closing:
            assert stack and stack[-1] == tag, f"[/{tag}] closes {stack[-1:] or 'nothing'}"
            stack.pop()
        else:
            stack.append(tag)
    assert not stack, f"unclosed tags {stack}"


def _cells(line: str) -> list[str]:
    body = line.strip()
    assert body.startswith("|") and body.endswith("|"), line
    return [c.strip() for c in re.split(r"(?<!\\)\|", body[1:-1])]


def assert_markdown_tables(text: str) -> int:
    """Every pipe table has a header, a separator row and rows of the same width."""
    lines = text.split("\n")
    k = tables = 0
    while k < len(lines):
        if not lines[k].startswith("|"):
            k += 1
            continue
        block = []
        while k < len(lines) and lines[k].startswith("|"):
            block.append(lines[k])
            k += 1
        head, sep, *rows = block
        width = len(_cells(head))
        assert all(re.fullmatch(r":?-{3,}:?", c) for c in _cells(sep)), sep
        assert len(_cells(sep)) == width
        for row in rows:
            assert len(_cells(row)) == width, row
        tables += 1
    return tables


def test_posts_well_formed_on_every_phase(games):
    """Every phase of a game in every ruleset gives balanced BBCode, parsable Markdown tables
    and Discord messages within the limit."""
    for rid, (rs, save) in games.items():
        for board in played_boards(rs, save):
            r = phase_results(rs, save, board)
            assert_bbcode_balanced(render_post(r, "bbcode")[0])
            md = render_post(r, "markdown")[0]
            assert assert_markdown_tables(md) >= 1 + sum(1 for n in r.orders if n.orders)
            msgs = render_post(r, "discord")
            assert msgs and all(0 < len(m) <= DISCORD_LIMIT for m in msgs), rid
            assert not any(line.startswith("|") for m in msgs for line in m.split("\n"))
            text = render_post(r, "text")[0]
            for n in r.orders:
                for o in n.orders:
                    assert o.text in text and o.text in md


def test_every_order_and_reason_is_shown(games):
    """Each order of the phase appears with its result and the engine's reason text."""
    rs, save = games["classic"]
    for board in played_boards(rs, save):
        text = render_post(phase_results(rs, save, board), "text")[0]
        for _, entries in board.record.orders:
            for e in entries:
                want = f"{e.result}: {e.reason.text()}" if e.reason else e.result
                assert any(e.text in line and want in line for line in text.split("\n"))


def test_long_discord_post_splits_at_lines():
    """A post longer than one message is split at line ends, every message within the limit."""
    blocks = ["\n".join(f"- line {k} " + "x" * 60 for k in range(80)), "y" * 2500]
    msgs = split_messages(blocks)
    assert len(msgs) >= 4 and all(len(m) <= DISCORD_LIMIT for m in msgs)
    assert msgs[0].endswith("x" * 60)


def test_deadline_line_only_with_timing(games):
    """The deadline line appears, in UTC and local time, only when the timing gives one."""
    rs, save = games["classic"]
    board = played_boards(rs, save)[0]
    plain = render_post(phase_results(rs, save, board), "text")[0]
    assert "Deadline" not in plain and "Processed" not in plain
    t = Timing("2026-01-01 12:00 UTC", "2026-01-03 12:00 UTC", "2026-01-03 13:00 CET (Europe/Paris)")
    for fmt in FORMATS:
        out = "\n".join(render_post(phase_results(rs, save, board, t), fmt))
        assert "2026-01-03 12:00 UTC" in out and "Europe/Paris" in out and "2026-01-01 12:00 UTC" in out


def test_markup_in_names_is_escaped(games):
    """A player name with markup cannot open tags or break tables."""
    rs, save = games["classic"]
    board = played_boards(rs, save)[0]
    r = phase_results(rs, save, board)
    import attrs

    evil = attrs.evolve(r, orders=tuple(attrs.evolve(n, player="[b]x|y*_") for n in r.orders))
    assert_bbcode_balanced(render_post(evil, "bbcode")[0])
    assert_markdown_tables(render_post(evil, "markdown")[0])
    assert "[b]x" not in render_post(evil, "bbcode")[0]


def test_final_board_has_no_post(games):
    """Asking for the results of the board no phase was played from is an error."""
    rs, save = games["classic"]
    with pytest.raises(ValueError, match="no phase was played"):
        phase_results(rs, save, board_at(rs, save, None))
