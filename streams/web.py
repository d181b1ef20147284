"""The worker's HTTP endpoints, on faust's web server (``CJO_WEB_PORT``, ``CJO_WEB_BIND``).

``GET /livez`` and ``GET /readyz`` (``streams.health``): 200 with ``{"status": "ok"}``, else
503 with the reason. faust's own table and router pages are off (they serve table data to
anyone, and route by faust's key hashing, not by the partition the producer chose). aiohttp's
access log is off (faust runs it so): cjo logs each request itself, by route, never its path
(which may hold an IMSI).
"""

from __future__ import annotations

from typing import Any

import faust

from streams.health import Health


def install_health(app: faust.App, health: Health) -> Health:
    @app.page("/livez", name="livez")
    async def livez(self: Any, request: Any) -> Any:
        ok, why = health.live()
        return self.json({"status": "ok" if ok else "failing", "reason": why},
                         status=200 if ok else 503)

    @app.page("/readyz", name="readyz")
    async def readyz(self: Any, request: Any) -> Any:
        ok, why = health.ready()
        return self.json({"status": "ok" if ok else "not_ready", "reason": why},
                         status=200 if ok else 503)

    @app.timer(interval=1.0)
    async def watch_commits() -> None:
        health.observe()

    return health
