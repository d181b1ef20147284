"""Row 5: latency under a paced load (row 6, recovery, is ``restore``).

- latency: its own input topics (prefix ``benchlat``); every profile first at full speed, a cjo
  worker catches up on them, then the events are produced at a fixed rate (half the sustained
  rate of one worker), each stamped with its production wall time. For every offer published,
  the delay is its ``published_at`` less the production time of its triggering record
  (``trigger_event_id``): the delay a subscriber feels, queueing in Kafka included. Offers fired
  by timers (a trial's expiry) have no triggering record and are not counted.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from bench import inbound
from bench.children import (
    cjo_worker,
    time_commits,
)
from bench.events import EventSet
from bench.inbound import Inbound
from bench.produce import produce_all, produce_paced
from bench.stages import Broker, input_ends, offer_topics, stage_env
from cjo import codec
from cjo.adapters.broker import free_port
from cjo.adapters.kafka_admin import create_topics, read_all
from cjo.summary import percentile

LATENCY_PREFIX = "benchlat"


@dataclass
class Latency:
    rate: float  # events/s produced
    events: int
    seconds: float
    offers: int  # offers published
    measured: list[int]  # ms, one per offer with a triggering record
    series: list[tuple[int, int]] = field(default_factory=list)  # (produced at, delay) ms
    inbound_idle: Inbound = field(default_factory=Inbound)  # next-best-offer, worker idle
    inbound_loaded: Inbound = field(default_factory=Inbound)  # ... under the paced load

    def p(self, q: float) -> float | None:
        return float(percentile(self.measured, q)) if self.measured else None

    def windows(self, step_s: float = 10.0) -> list[dict[str, float]]:
        """p50/p99/max per ``step_s`` of production time: is the tail steady or in bursts?"""
        if not self.series:
            return []
        origin = min(at for at, _ in self.series)
        groups: dict[int, list[int]] = {}
        for at, delay in self.series:
            groups.setdefault(int((at - origin) / 1000 // step_s), []).append(delay)
        return [{"from_s": n * step_s, "offers": len(d), "p50": percentile(d, 50),
                 "p99": percentile(d, 99), "max": max(d)} for n, d in sorted(groups.items())]


def run_latency(run: Broker, events: EventSet, rate: float, seconds: float,
                budget_s: float) -> Latency:
    inputs = run.inputs(LATENCY_PREFIX)
    create_topics(run.bootstrap, inputs.values(), run.partitions)
    produced = produce_all(run.bootstrap, inputs, events.profiles)
    env = stage_env(run, "lat", run.tmp / "lat", prefix=LATENCY_PREFIX)
    port = free_port()
    env["CJO_WEB_PORT"] = str(port)
    child = cjo_worker(env, run.tmp / "lat.log").start()
    group, marks = env["CJO_APP_ID"], [env["CJO_TOPIC_TICKS"]]
    imsis = sorted({e.key.decode() for e in events.profiles})[:2_000]
    try:
        profiles = input_ends(produced.ends, inputs, ("subscribers",))
        time_commits(run.bootstrap, group, profiles, [child], budget_s, marks=marks)
        idle = inbound.ask(port, imsis, threading.Event(), seconds=inbound.IDLE_SECONDS)
        count = min(len(events.events), max(1_000, int(rate * seconds)))
        asker = inbound.Asker(port, imsis)
        asker.start()
        try:
            paced = produce_paced(run.bootstrap, inputs, events.events[:count], rate)
        finally:
            loaded = asker.finish()
        ends = input_ends({**produced.ends, **paced.ends}, inputs)
        time_commits(run.bootstrap, group, ends, [child], budget_s, marks=marks)
    finally:
        child.stop()
    series: list[tuple[int, int]] = []
    offers = 0
    for record in read_all(run.bootstrap, offer_topics("lat", LATENCY_PREFIX)):
        if record.value is None:
            continue
        offer = codec.decode(record.value)[1]
        offers += 1
        at = paced.produced_at.get(offer["trigger_event_id"])
        if at is not None:
            series.append((at, offer["published_at"] - at))
    measured = sorted(delay for _, delay in series)
    return Latency(rate, count, paced.seconds, offers, measured, sorted(series), idle, loaded)
