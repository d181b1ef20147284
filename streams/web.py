"""The worker's HTTP endpoints, on faust's web server (``CJO_WEB_PORT``, ``CJO_WEB_BIND``).

- ``GET /livez``, ``GET /readyz`` (``streams.health``): 200 with ``{"status": "ok"}``, else 503
  with the reason;
- ``GET /metrics`` (``streams.metrics``): Prometheus' text format;
- the inbound API (``streams.inbound``);
- ``GET /dashboard`` (``streams.dashboard``): the live page, fed by server-sent events.

faust's own table and router pages are off (they serve table data to anyone, and route by faust's
key hashing, not by the partition the producer chose). aiohttp's access log is off (faust runs it
so): the inbound API logs each request itself, by route and with the subscriber hashed, never its
path (which holds an IMSI).
"""

from __future__ import annotations

import asyncio
from typing import Any

import faust
from aiohttp.web import Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from cjo.settings import Settings
from streams.dashboard import install_dashboard
from streams.health import Health
from streams.inbound import InboundApi, install_inbound
from streams.metrics import TimerCounts, WorkerCollector, WorkerSource
from streams.processor import Processor


def install_web(app: faust.App, settings: Settings, processor: Processor, table: Any,
                url: str) -> Health:
    """Every endpoint on the app's web server; returns the worker's health."""
    health = install_health(app, Health(app, settings.topics.inputs().values(),
                                        settings.liveness_stall_s))
    install_metrics(app, processor, health)
    api = InboundApi(app, settings, processor, table, health, url)
    install_inbound(app, api, settings)
    feed = install_dashboard(app, settings, lambda: health.draining or bool(app.should_stop))

    @app.on_before_shutdown.connect  # type: ignore[arg-type]  # faust's signal typing
    async def close_client(sender: Any, **kwargs: Any) -> None:
        await api.close()
        feed.stop()  # the dashboard's reader thread, if a page started it

    return health


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


def install_metrics(app: faust.App, processor: Processor, health: Health) -> CollectorRegistry:
    """``GET /metrics`` on a registry of the worker's own; returns it."""
    timers = TimerCounts()
    source = WorkerSource()
    source.counts = lambda: processor.counts
    source.tally = lambda: processor.tally
    source.lag = lambda: {(tp.topic, tp.partition): max(0, end - committed)
                          for tp, (committed, end) in health.offsets().items()}
    source.timers = lambda: timers.last
    source.model = lambda: _model(processor)
    source.rebalances = lambda: int(getattr(app, "rebalancing_count", 0))
    source.ready = lambda: health.ready()[0]
    registry = CollectorRegistry(auto_describe=False)
    registry.register(WorkerCollector(source))

    @app.page("/metrics", name="metrics")
    async def metrics(self: Any, request: Any) -> Any:
        if timers.due():
            await asyncio.to_thread(timers.count, processor.owned())
        body = await asyncio.to_thread(generate_latest, registry)
        return Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})

    return registry


def _model(processor: Processor) -> tuple[int | None, dict[str, float | None]]:
    scorer = processor.knowledge.scorer
    if scorer is None:
        return None, {}
    return scorer.version, {mid: scorer.auc(mid) for mid in scorer.model_ids()}
