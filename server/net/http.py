"""Plain HTTP on the websocket port: the published game folders and a spectator page per game.

``websockets`` calls :func:`process_request` for every opening handshake. A request with an
``Upgrade`` header goes on to the websocket handshake; any other is answered here:

* ``GET /games/<game>/`` -> the spectator page (HTML, no JavaScript): the latest position
  map, the latest results post, the supply-centre history, links to every phase's files;
* ``GET /games/<game>/<file>`` -> a file of that game's folder (png, txt, md, json);
* anything else -> 404.

Only what :mod:`server.net.publish` wrote is served, and it only writes adjudicated phases.
File names must match a strict pattern (no ``/``, no ``..``) and exist in the folder.
"""

from __future__ import annotations

import asyncio
import html
import http
import json
import re
from pathlib import Path
from typing import Any

from websockets.datastructures import Headers
from websockets.http11 import Request, Response

from .publish import GAME_RE

FILE_RE = re.compile(r"(?:index\.json|[A-Za-z0-9][A-Za-z0-9_-]{0,120}"
                     r"(?:\.bbcode\.txt|\.discord\.txt|\.txt|\.md|\.png))")
TYPES = {".png": "image/png", ".txt": "text/plain; charset=utf-8",
         ".md": "text/markdown; charset=utf-8", ".json": "application/json"}
MAX_FILE = 32 * 1024 * 1024


def response(status: int, body: bytes, content_type: str = "text/plain; charset=utf-8") -> Response:
    headers = Headers([("Content-Type", content_type), ("Content-Length", str(len(body))),
                       ("Connection", "close"), ("X-Content-Type-Options", "nosniff"),
                       ("Cache-Control", "no-cache")])
    return Response(status, http.HTTPStatus(status).phrase, headers, body)


def not_found() -> Response:
    return response(404, b"not found\n")


def is_websocket(request: Request) -> bool:
    return "upgrade" in request.headers or "Upgrade" in request.headers


def route(games_dir: str, path: str) -> Response:
    """The answer to ``GET path`` (blocking file reads: run it in a thread)."""
    path = path.split("?", 1)[0]
    parts = path.split("/")
    if len(parts) != 4 or parts[0] != "" or parts[1] != "games" or not GAME_RE.fullmatch(parts[2]):
        return not_found()
    folder = Path(games_dir) / parts[2]
    name = parts[3]
    if name == "":
        return page(folder, parts[2])
    if not FILE_RE.fullmatch(name) or ".." in name:
        return not_found()
    file = folder / name
    try:
        if not file.is_file() or file.is_symlink() or file.stat().st_size > MAX_FILE:
            return not_found()
        body = file.read_bytes()
    except OSError:
        return not_found()
    suffix = file.suffix
    return response(200, body, TYPES.get(suffix, "application/octet-stream"))


def _index(folder: Path) -> dict[str, Any] | None:
    try:
        index = json.loads((folder / "index.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(index, dict) or not isinstance(index.get("phases"), list) or not index["phases"]:
        return None
    return index


def page(folder: Path, game: str) -> Response:
    """The spectator page of ``game`` (404 before its first phase is published)."""
    index = _index(folder)
    if index is None:
        return not_found()
    e = html.escape
    title = str(index.get("title") or game)
    phases = [p for p in index["phases"] if isinstance(p, dict) and isinstance(p.get("phase"), str)]
    last = phases[-1]
    files = {f for p in phases for f in p.get("files", []) if isinstance(f, str) and FILE_RE.fullmatch(f)}
    stem = f"{game}_{last['phase']}"
    out = ["<!doctype html>", "<html lang=\"en\"><head><meta charset=\"utf-8\">",
           f"<title>{e(title)} - {e(last['phase'])}</title>",
           "<style>body{font-family:sans-serif;margin:1em 2em;max-width:1200px}"
           "img{max-width:100%;border:1px solid #888}pre{background:#f4f4f4;padding:1em;overflow:auto}"
           "table{border-collapse:collapse}td,th{border:1px solid #aaa;padding:2px 6px;text-align:right}"
           "th:first-child,td:first-child{text-align:left}</style></head><body>",
           f"<h1>{e(title)}</h1>",
           f"<p>Game {e(game)} ({e(str(index.get('ruleset', '')))}); "
           f"last phase processed: {e(str(last.get('name') or last['phase']))}.</p>"]
    if f"{stem}_position.png" in files:
        out.append(f"<h2>Position after {e(last['phase'])}</h2>"
                   f"<p><img src=\"{e(stem)}_position.png\" alt=\"the board after {e(last['phase'])}\"></p>")
    post = None
    for suffix in (".md", ".txt"):
        if f"{stem}{suffix}" in files:
            try:
                post = (folder / f"{stem}{suffix}").read_text(encoding="utf-8")
                break
            except OSError:
                pass
    if post is not None:
        out.append(f"<h2>Results of {e(last['phase'])}</h2><pre>{e(post)}</pre>")
    nations = sorted({n for p in phases for n in (p.get("centres") or {})})
    out.append("<h2>Supply centres</h2><table><tr><th>phase</th>"
               + "".join(f"<th>{e(n)}</th>" for n in nations) + "</tr>")
    for p in phases:
        c = p.get("centres") or {}
        out.append(f"<tr><td>{e(p['phase'])}</td>" + "".join(f"<td>{e(str(c.get(n, 0)))}</td>" for n in nations)
                   + "</tr>")
    out.append("</table><h2>Phases</h2><ul>")
    for p in reversed(phases):
        links = [f"<a href=\"{e(f)}\">{e(f)}</a>" for f in p.get("files", [])
                 if isinstance(f, str) and FILE_RE.fullmatch(f)]
        out.append(f"<li>{e(p['phase'])}: {' '.join(links)}</li>")
    out.append("</ul><p><a href=\"index.json\">index.json</a></p></body></html>")
    return response(200, "\n".join(out).encode("utf-8"), "text/html; charset=utf-8")


def make_process_request(games_dir: str) -> Any:
    """A ``process_request`` for :func:`websockets.asyncio.server.serve`."""
    async def process_request(connection: Any, request: Request) -> Response | None:
        if is_websocket(request):
            return None
        return await asyncio.to_thread(route, games_dir, request.path)
    return process_request


__all__ = ["make_process_request", "route", "FILE_RE"]
