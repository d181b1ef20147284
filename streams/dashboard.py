"""``GET /dashboard``: a live page of what the fleet does, for a marketing lead to leave open.

- ``GET /dashboard``: the page (``streams/dashboard_static/``: HTML, its script and stylesheet,
  and uPlot 1.6.32, vendored from npm with its licence: no CDN, it works offline);
- ``GET /dashboard/events``: server-sent events, one JSON snapshot a second
  (``cjo.report.live_figures``); the browser's ``EventSource`` reconnects by itself. A stream
  ends when the worker drains or stops, so an open page never holds a shutdown up;
- ``GET /dashboard/snapshot``: the same snapshot once, as JSON (for curl and scripts);
- ``GET /dashboard/static/{name}``: the page's files.

The figures are the whole fleet's, whichever worker serves the page: its feed
(``cjo.adapters.dashboard_feed``) reads the output topics and the group's offsets, and starts
with the first request (a worker nobody looks at reads nothing). Read-only and aggregated:
nothing personal, no token needed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import faust
import orjson
from aiohttp.web import Response, StreamResponse

from cjo.adapters.dashboard_feed import DashboardFeed
from cjo.settings import Settings

STATIC = Path(__file__).resolve().parent / "dashboard_static"
EVERY_S = 1.0
_TYPES = {".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8",
          ".css": "text/css; charset=utf-8"}


def _files() -> dict[str, tuple[bytes, str]]:
    return {path.name: (path.read_bytes(), _TYPES[path.suffix])
            for path in STATIC.iterdir() if path.suffix in _TYPES}


def install_dashboard(app: faust.App, settings: Settings,
                      stopping: Callable[[], bool]) -> DashboardFeed:
    """The dashboard's pages on the app's web server. ``stopping``: true once the worker drains
    or stops (open event streams then end)."""
    feed = DashboardFeed(settings)
    files = _files()

    @app.page("/dashboard", name="dashboard")
    async def page(self: Any, request: Any) -> Any:
        feed.start()
        body, content_type = files["index.html"]
        return Response(body=body, content_type=content_type.split(";")[0], charset="utf-8",
                        headers={"Cache-Control": "no-cache"})

    @app.page("/dashboard/static/{name}", name="dashboard_static")
    async def static(self: Any, request: Any, name: str) -> Any:
        if name not in files:
            return self.json({"error": "not found"}, status=404)
        body, content_type = files[name]
        return Response(body=body, content_type=content_type.split(";")[0], charset="utf-8",
                        headers={"Cache-Control": "max-age=3600"})

    @app.page("/dashboard/snapshot", name="dashboard_snapshot")
    async def snapshot(self: Any, request: Any) -> Any:
        feed.start()
        return self.json(feed.snapshot())

    @app.page("/dashboard/events", name="dashboard_events")
    async def events(self: Any, request: Any) -> Any:
        feed.start()
        response = StreamResponse(headers={"Content-Type": "text/event-stream",
                                           "Cache-Control": "no-cache",
                                           "X-Accel-Buffering": "no"})
        await response.prepare(request)
        try:
            await response.write(b"retry: 2000\n\n")
            while not stopping():
                await response.write(b"data: " + orjson.dumps(feed.snapshot()) + b"\n\n")
                await asyncio.sleep(EVERY_S)
        except (ConnectionError, RuntimeError):  # the page was closed
            pass
        return response

    return feed
