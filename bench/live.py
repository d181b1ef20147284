"""Rows 5 and 6: latency under a paced load, and recovery of a worker from the changelog.

- latency: its own input topics (prefix ``benchlat``); every profile first at full speed, a cjo
  worker catches up on them, then the events are produced at a fixed rate (half the sustained
  rate of one worker), each stamped with its production wall time. For every offer published,
  the delay is its ``published_at`` less the production time of its triggering record
  (``trigger_event_id``): the delay a subscriber feels, queueing in Kafka included. Offers fired
  by timers (a trial's expiry) have no triggering record and are not counted.
- recovery: after the one-worker run, a fresh worker with an empty data directory joins the same
  group; faust restores the state table from its changelog before processing. The time is read
  from faust's own log lines ("Restoring state from changelog topics" to "Done reading from
  changelog topics"), the records from the changelog's exact end offsets.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from bench.children import (
    StageFailed,
    StageTimeout,
    changelog_records,
    cjo_worker,
    log_time,
    time_commits,
)
from bench.events import EventSet
from bench.produce import produce_all, produce_paced
from bench.stages import Broker, CjoRun, input_ends, offer_topics, stage_env
from cjo import codec
from cjo.adapters.kafka_admin import create_topics, read_all
from cjo.summary import percentile

LATENCY_PREFIX = "benchlat"
RESTORE_START = "Restoring state from changelog topics"
RESTORE_DONE = "Done reading from changelog topics"


@dataclass
class Latency:
    rate: float  # events/s produced
    events: int
    seconds: float
    offers: int  # offers published
    measured: list[int]  # ms, one per offer with a triggering record
    series: list[tuple[int, int]] = field(default_factory=list)  # (produced at, delay) ms

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
    child = cjo_worker(env, run.tmp / "lat.log").start()
    group, marks = env["CJO_APP_ID"], [env["CJO_TOPIC_TICKS"]]
    try:
        profiles = input_ends(produced.ends, inputs, ("subscribers",))
        time_commits(run.bootstrap, group, profiles, [child], budget_s, marks=marks)
        count = min(len(events.events), max(1_000, int(rate * seconds)))
        paced = produce_paced(run.bootstrap, inputs, events.events[:count], rate)
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
    return Latency(rate, count, paced.seconds, offers, measured, sorted(series))


@dataclass
class Recovery:
    records: int
    seconds: float

    @property
    def rate(self) -> float:
        return self.records / self.seconds if self.seconds > 0 else 0.0


def restore_seconds(log: str) -> float | None:
    """Seconds between faust's restore start and end lines in a worker log; None if absent."""
    start = done = None
    for line in log.splitlines():
        if start is None and RESTORE_START in line:
            start = log_time(line)
        elif start is not None and RESTORE_DONE in line:
            done = log_time(line)
            break
    return None if start is None or done is None else done - start


def run_recovery(run: Broker, cjo: CjoRun, timeout_s: float) -> Recovery:
    records = changelog_records(run.bootstrap, cjo.app_id)
    env = {**cjo.env, "CJO_DATA_DIR": str(run.tmp / "recovery"), "CJO_LOG_LEVEL": "INFO"}
    log_path = run.tmp / "recovery.log"
    child = cjo_worker(env, log_path).start()
    deadline = time.monotonic() + timeout_s
    try:
        while (seconds := restore_seconds(_read(log_path))) is None:
            if not child.alive:
                raise StageFailed(f"the recovering worker died:\n{child.log_tail()}")
            if time.monotonic() > deadline:
                raise StageTimeout(f"no '{RESTORE_DONE}' in {timeout_s:.0f} s ({log_path})")
            time.sleep(0.2)
    finally:
        child.stop()
    return Recovery(records, seconds)


def _read(path: Path) -> str:
    try:
        return path.read_text(errors="replace")
    except OSError:
        return ""
