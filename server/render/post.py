"""Results posts (PURE): one :class:`~server.render.results.Results` in four markups.

* ``bbcode``: tags XenForo and phpBB both read (``[b] [i] [u] [color] [list] [*] [code]``;
  no ``[table]``, which phpBB lacks: the centre table is aligned text in ``[code]``);
* ``markdown``: Reddit, GitHub, Discourse (headings, lists, pipe tables);
* ``discord``: a list of messages of at most :data:`DISCORD_LIMIT` characters, no tables;
* ``text``: plain text for email.

:func:`render_post` returns a list of messages (one for every format but Discord).
"""

from __future__ import annotations

import re
from typing import Callable

from .results import CentreRow, Results

FORMATS = ("bbcode", "markdown", "discord", "text")
DISCORD_LIMIT = 2000
RESULT_COLOUR = {"succeeds": "#1b7f2a", "fails": "#c0101c", "illegal": "#7a7a7a", "void": "#7a7a7a"}


def _signed(n: int) -> str:
    return f"+{n}" if n > 0 else ("\u00b10" if n == 0 else f"\u2212{-n}")


def _who(name: str, player: str | None) -> str:
    return f"{name} ({player})" if player else name


def _outcome(result: str, reason: str | None) -> str:
    return f"{result}: {reason}" if reason else result


def centre_table(rows: tuple[CentreRow, ...]) -> list[str]:
    """The centre table as aligned plain-text lines."""
    head = ("Nation", "Player", "Centres", "Change", "Units")
    body = [(r.name, r.player or "-", str(r.after), _signed(r.change), str(r.units)) for r in rows]
    widths = [max(len(x[k]) for x in [head, *body]) for k in range(5)]

    def line(cells: tuple[str, ...]) -> str:
        return "  ".join(c.ljust(widths[k]) if k < 2 else c.rjust(widths[k])
                         for k, c in enumerate(cells)).rstrip()

    return [line(head), "  ".join("-" * w for w in widths), *(line(b) for b in body)]


def _next(r: Results) -> list[str]:
    if r.winner:
        return [f"The game is over: {r.winner} wins."]
    out = [f"Next phase: {r.next_phase_name} ({r.next_phase})"]
    t = r.timing
    if t.deadline_utc:
        out.append(f"Deadline: {t.deadline_utc}" + (f" / {t.deadline_local}" if t.deadline_local else ""))
    return out


def _meta(r: Results) -> list[str]:
    out = [f"Game {r.game_id} ({r.ruleset})"]
    if r.timing.processed:
        out.append(f"Processed {r.timing.processed}")
    return out


# --- plain text -------------------------------------------------------------------------------


def render_text(r: Results) -> str:
    """Plain text for email: sections in capitals, orders aligned."""
    title = f"{r.title} \u2014 {r.phase_name} ({r.phase})"
    out = [title, "=" * len(title), *_meta(r), f"State digest: {r.digest}", ""]
    out += ["HEADLINES"] + ([f"- {h}" for h in r.headlines] or ["- nothing changed hands"]) + [""]
    out.append("ORDERS")
    for n in r.orders:
        out.append(_who(n.name, n.player))
        if not n.orders:
            out.append("  (no orders)")
            continue
        width = max(len(o.text) for o in n.orders)
        for o in n.orders:
            by = f"  [entered by {o.by}]" if o.by else ""
            out.append(f"  {o.text.ljust(width)}  {_outcome(o.result, o.reason)}{by}")
    out.append("")
    if r.dislodged:
        out.append("DISLODGED")
        out += [f"- {d.unit} ({d.nation}), attacked from {d.attacked_from}: "
                f"{'may retreat to ' + ', '.join(d.options) if d.options else 'no retreat, disbanded'}"
                for d in r.dislodged]
        out.append("")
    out += [f"SUPPLY CENTRES ({r.victory} to win)", *centre_table(r.centres), ""]
    out += ["NEXT", *_next(r), ""]
    if r.housekeeping:
        out += ["HOUSEKEEPING", *(f"- {h}" for h in r.housekeeping), ""]
    return "\n".join(out).rstrip() + "\n"


# --- Markdown -------------------------------------------------------------------------------

_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|~])")


def md_escape(s: str) -> str:
    """Backslash-escape Markdown punctuation in free text.

    >>> md_escape("a_b | c*")
    'a\\\\_b \\\\| c\\\\*'
    """
    return _MD_SPECIAL.sub(r"\\\1", s)


def render_markdown(r: Results) -> str:
    """Markdown (Reddit, GitHub, Discourse): headings, lists and pipe tables."""
    e = md_escape
    out = [f"# {e(r.title)} \u2014 {e(r.phase_name)} ({r.phase})", ""]
    out += [" \u00b7 ".join(e(m) for m in _meta(r)) + f" \u00b7 state digest `{r.digest}`", ""]
    out += ["## Headlines", ""]
    out += [f"- {e(h)}" for h in r.headlines] or ["- nothing changed hands"]
    out += ["", "## Orders", ""]
    for n in r.orders:
        out += [f"### {e(_who(n.name, n.player))}", ""]
        if not n.orders:
            out += ["No orders.", ""]
            continue
        out += ["| Order | Result | Reason |", "|---|---|---|"]
        for o in n.orders:
            reason = e(o.reason) if o.reason else ""
            if o.by:
                reason = (reason + "; " if reason else "") + f"entered by {e(o.by)}"
            res = f"**{o.result}**" if o.result != "succeeds" else o.result
            out.append(f"| `{o.text}` | {res} | {reason} |")
        out.append("")
    if r.dislodged:
        out += ["## Dislodged", ""]
        out += [f"- `{d.unit}` ({e(d.nation)}), attacked from {d.attacked_from}: "
                f"{'may retreat to ' + ', '.join(d.options) if d.options else 'no retreat, disbanded'}"
                for d in r.dislodged]
        out.append("")
    out += [f"## Supply centres ({r.victory} to win)", "",
            "| Nation | Player | Centres | Change | Units |", "|---|---|---:|---:|---:|"]
    out += [f"| {e(c.name)} | {e(c.player or '-')} | {c.after} | {_signed(c.change)} | {c.units} |"
            for c in r.centres]
    out += ["", "## Next", ""] + [e(x) for x in _next(r)]
    if r.housekeeping:
        out += ["", "## Housekeeping", ""] + [f"- {e(h)}" for h in r.housekeeping]
    return "\n".join(out).rstrip() + "\n"


# --- BBCode -----------------------------------------------------------------------------------


def bb_escape(s: str) -> str:
    """Brackets in free text would open tags; show them as parentheses.

    >>> bb_escape("[b]hi[/b]")
    '(b)hi(/b)'
    """
    return s.replace("[", "(").replace("]", ")")


def render_bbcode(r: Results) -> str:
    """BBCode for XenForo and phpBB (module docstring)."""
    e = bb_escape
    out = [f"[b]{e(r.title)} \u2014 {e(r.phase_name)} ({r.phase})[/b]"]
    out += [e(m) for m in _meta(r)] + [f"State digest: {r.digest}", ""]
    out += ["[u][b]Headlines[/b][/u]", "[list]"]
    out += [f"[*]{e(h)}" for h in r.headlines] or ["[*]nothing changed hands"]
    out += ["[/list]", "", "[u][b]Orders[/b][/u]"]
    for n in r.orders:
        if not n.orders:
            out += [f"[b]{e(_who(n.name, n.player))}[/b]: [i]no orders[/i]"]
            continue
        out += [f"[b]{e(_who(n.name, n.player))}[/b]", "[list]"]
        for o in n.orders:
            res = f"[color={RESULT_COLOUR.get(o.result, '#000000')}]{o.result}[/color]"
            reason = f": {e(o.reason)}" if o.reason else ""
            by = f" [i](entered by {e(o.by)})[/i]" if o.by else ""
            out.append(f"[*]{e(o.text)} \u2014 {res}{reason}{by}")
        out.append("[/list]")
    if r.dislodged:
        out += ["", "[u][b]Dislodged[/b][/u]", "[list]"]
        out += [f"[*]{d.unit} ({e(d.nation)}), attacked from {d.attacked_from}: "
                f"{'may retreat to ' + ', '.join(d.options) if d.options else 'no retreat, disbanded'}"
                for d in r.dislodged]
        out.append("[/list]")
    out += ["", f"[u][b]Supply centres[/b][/u] ({r.victory} to win)",
            "[code]" + "\n".join(e(x) for x in centre_table(r.centres)) + "[/code]"]
    out += ["", "[u][b]Next[/b][/u]"] + [e(x) for x in _next(r)]
    if r.housekeeping:
        out += ["", "[u][b]Housekeeping[/b][/u]", "[list]"]
        out += [f"[*]{e(h)}" for h in r.housekeeping] + ["[/list]"]
    return "\n".join(out).rstrip() + "\n"


# --- Discord --------------------------------------------------------------------------------

_DC_SPECIAL = re.compile(r"([\\`*_~|])")


def dc_escape(s: str) -> str:
    """Escape Discord markdown in free text."""
    return _DC_SPECIAL.sub(r"\\\1", s)


def split_messages(blocks: list[str], limit: int = DISCORD_LIMIT) -> list[str]:
    """Pack text blocks into messages of at most ``limit`` characters.

    Blocks are kept whole when they fit, else split at line ends (a line longer than the
    limit is cut).

    >>> split_messages(["a" * 5, "b" * 5], limit=8)
    ['aaaaa', 'bbbbb']
    """
    msgs: list[str] = []
    cur = ""
    lines: list[str] = []
    for block in blocks:
        lines.extend(block.split("\n") + [""])
    for line in lines:
        while len(line) > limit:
            if cur:
                msgs.append(cur.rstrip("\n"))
                cur = ""
            msgs.append(line[:limit])
            line = line[limit:]
        cand = f"{cur}\n{line}" if cur else line
        if len(cand) > limit:
            msgs.append(cur.rstrip("\n"))
            cur = line
        else:
            cur = cand
    if cur.strip():
        msgs.append(cur.rstrip("\n"))
    return [m for m in (m.strip("\n") for m in msgs) if m]


def render_discord(r: Results, limit: int = DISCORD_LIMIT) -> list[str]:
    """Discord messages (at most ``limit`` characters each, no tables)."""
    e = dc_escape
    head = [f"## {e(r.title)} \u2014 {e(r.phase_name)} ({r.phase})",
            " \u00b7 ".join(e(m) for m in _meta(r)) + f" \u00b7 digest `{r.digest[:16]}`"]
    blocks = ["\n".join(head)]
    blocks.append("\n".join(["**Headlines**"] + ([f"- {e(h)}" for h in r.headlines]
                                                  or ["- nothing changed hands"])))
    for n in r.orders:
        lines = [f"**{e(_who(n.name, n.player))}**"] + ([] if n.orders else ["- _no orders_"])
        for o in n.orders:
            mark = "" if o.result == "succeeds" else "**"
            reason = f" \u2014 {e(o.reason)}" if o.reason else ""
            by = f" _(entered by {e(o.by)})_" if o.by else ""
            lines.append(f"- `{o.text}` {mark}{o.result}{mark}{reason}{by}")
        blocks.append("\n".join(lines))
    if r.dislodged:
        blocks.append("\n".join(["**Dislodged**"] + [
            f"- `{d.unit}` ({e(d.nation)}), attacked from {d.attacked_from}: "
            f"{'may retreat to ' + ', '.join(d.options) if d.options else 'no retreat, disbanded'}"
            for d in r.dislodged]))
    blocks.append("\n".join([f"**Supply centres** ({r.victory} to win)"] + [
        f"- {e(_who(c.name, c.player))}: **{c.after}** ({_signed(c.change)}), {c.units} units"
        for c in r.centres]))
    blocks.append("\n".join(["**Next**"] + [e(x) for x in _next(r)]))
    if r.housekeeping:
        blocks.append("\n".join(["**Housekeeping**"] + [f"- {e(h)}" for h in r.housekeeping]))
    return split_messages(blocks, limit)


_RENDER: dict[str, Callable[[Results], str]] = {
    "bbcode": render_bbcode, "markdown": render_markdown, "text": render_text,
}


def render_post(r: Results, fmt: str) -> list[str]:
    """The post in ``fmt`` (one of :data:`FORMATS`) as a list of messages.

    Raises:
        ValueError: an unknown format.
    """
    if fmt == "discord":
        return render_discord(r)
    if fmt not in _RENDER:
        raise ValueError(f"unknown post format {fmt!r}: use one of {', '.join(FORMATS)}")
    return [_RENDER[fmt](r)]


__all__ = ["FORMATS", "DISCORD_LIMIT", "render_post", "render_text", "render_markdown",
           "render_bbcode", "render_discord", "split_messages", "centre_table", "md_escape",
           "bb_escape", "dc_escape"]
