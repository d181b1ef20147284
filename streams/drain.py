"""SIGTERM drains the worker before faust stops it.

1. ``/readyz`` answers 503 ("draining") at once, and keeps doing so;
2. after ``CJO_DRAIN_DELAY_S`` (time for a load balancer or Kubernetes to stop sending inbound
   requests; input still flows meanwhile), input stops: no new fetch is handed to the
   processor, and the batch in hand is finished (its offers published, its state stored);
3. what is processed and durable is committed;
4. faust stops: it commits again, closes the tables, and the consumer leaves the group (a
   LeaveGroup request, so the group rebalances at once; with static membership,
   ``CJO_GROUP_INSTANCE_ID``, it keeps the member for a session timeout instead, by design).

A second SIGTERM or SIGINT stops at once (faust's own stop). Kubernetes: the pod's
``terminationGracePeriodSeconds`` must exceed the drain delay plus a batch plus faust's stop.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Callable
from typing import Any

import faust

from cjo import logs
from streams.faust_pins import BatchConsumer
from streams.health import Health

log = logs.get("cjo.worker")


class DrainingWorker(faust.Worker):
    """faust's worker; its first SIGTERM/SIGINT drains (see the module) before the stop."""

    health: Health
    consumer: BatchConsumer
    drain_delay_s: float = 0.0
    on_ready: Callable[[], None] | None = None
    _drain: asyncio.Future[Any] | None = None

    def _on_sigterm(self) -> None:
        self._drain_then_stop(signal.SIGTERM)

    def _on_sigint(self) -> None:
        self._drain_then_stop(signal.SIGINT)

    def _drain_then_stop(self, sig: signal.Signals) -> None:
        if self._drain is not None:  # a second signal: stop now
            super()._on_sigterm()
            return
        self.health.draining = True
        self._drain = asyncio.ensure_future(self._drain_and_stop(sig), loop=self.loop)

    async def _drain_and_stop(self, sig: signal.Signals) -> None:
        log.info("draining", signal=sig.name, delay_s=self.drain_delay_s)
        try:
            if self.drain_delay_s:
                await asyncio.sleep(self.drain_delay_s)
            await self.consumer.stop_input()
            await self.consumer.commit()
            log.info("drained", uncommitted=self.consumer.uncommitted())
        except Exception as exc:  # faust's stop commits what it can anyway
            log.warning("drain_failed", error=repr(exc))
        finally:
            super()._on_sigterm()

    async def on_startup_finished(self) -> None:
        await super().on_startup_finished()
        if self.on_ready is not None:
            self.on_ready()
