"""``GET /metrics``: what the worker did and where it stands, in Prometheus' text format.

The hot path only adds to plain counters (``Tally``, kept by the processor and the inbound API);
the Prometheus families are made from them when scraped (``WorkerCollector``), on a registry of
the worker's own (not faust's sensor, whose histograms are in milliseconds and whose names break
Prometheus' conventions). Names follow them: a ``cjo_`` prefix, base units (seconds), ``_total``
on counters. The families are listed in docs/operations.md, "Metrics".
"""

from __future__ import annotations

import bisect
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector

from cjo.stream_registry import CHANNELS, STREAMS
from cjo.timers import TIMER_PREFIX, due_bound

# ingest to publish: milliseconds on a quiet worker, seconds in a catch-up
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
# an inbound answer: the owner's, or forwarded once
INBOUND_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0)
TIMER_COUNT_CAP = 1_000_000  # per partition: a count stops there (said by the "capped" label)
TIMER_COUNT_EVERY_S = 10.0  # timers are counted in RocksDB at most this often
_TIMERS_END = TIMER_PREFIX[:-1] + bytes([TIMER_PREFIX[-1] + 1])


class Buckets:
    """A cumulative histogram, as Prometheus keeps one: counts per upper bound, sum, count."""

    def __init__(self, bounds: Sequence[float]) -> None:
        self.bounds = tuple(bounds)
        self.counts = [0] * (len(self.bounds) + 1)  # the last: above every bound (+Inf)
        self.sum = 0.0

    def observe(self, value: float) -> None:
        self.counts[bisect.bisect_left(self.bounds, value)] += 1
        self.sum += value

    @property
    def count(self) -> int:
        return sum(self.counts)

    def cumulative(self) -> list[tuple[str, int]]:
        rows, running = [], 0
        for bound, count in zip((*map(str, self.bounds), "+Inf"), self.counts, strict=True):
            running += count
            rows.append((bound, running))
        return rows


def reason_kind(reason: str) -> str:
    """A decision reason without its details (``late:2h>1h`` -> ``late``): a bounded label."""
    return reason.split(":", 1)[0]


@dataclass
class Tally:
    """What the processor and the inbound API counted since the worker started."""

    decisions: Counter[tuple[str, str]] = field(default_factory=Counter)  # (outcome, reason)
    decided_total: int = 0  # decisions, each once
    offers: Counter[str] = field(default_factory=Counter)  # channel (lower case)
    latency: Buckets = field(default_factory=lambda: Buckets(LATENCY_BUCKETS))
    inbound: dict[str, Buckets] = field(default_factory=dict)  # answer -> seconds

    def decided(self, decisions: Sequence[Mapping[str, Any]], offers: Sequence[Mapping[str, Any]],
                now_ms: int) -> None:
        """A published step's decisions and offers; each decision's ingest-to-publish time."""
        observe = self.latency.observe
        self.decided_total += len(decisions)
        for decision in decisions:
            reasons = decision["reasons"] or [""]
            for reason in reasons:
                self.decisions[(decision["outcome"], reason_kind(reason))] += 1
            observe(max(0, now_ms - decision["ingested_at"]) / 1000)
        for offer in offers:
            self.offers[offer["channel"].lower()] += 1

    def answered(self, answer: str, seconds: float) -> None:
        buckets = self.inbound.get(answer)
        if buckets is None:
            buckets = self.inbound[answer] = Buckets(INBOUND_BUCKETS)
        buckets.observe(seconds)


@dataclass(frozen=True)
class TimerCount:
    partition: int
    stored: int
    due: int


def count_timers(db: Any, watermark: int, cap: int = TIMER_COUNT_CAP) -> tuple[int, int]:
    """(timers stored, of which due at the watermark) in a partition's rocksdict database."""
    bound = due_bound(watermark)
    stored = due = 0
    for key in db.keys(from_key=TIMER_PREFIX):
        if key >= _TIMERS_END or stored >= cap:
            break
        stored += 1
        if key < bound:
            due += 1
    return stored, due


class WorkerSource:
    """What the collector reads from the running worker (``streams.app`` provides it)."""

    counts: Callable[[], Mapping[str, int]]
    tally: Callable[[], Tally]
    lag: Callable[[], Mapping[tuple[str, int], int]]  # (topic, partition) -> records behind
    timers: Callable[[], list[TimerCount]]
    model: Callable[[], tuple[int | None, Mapping[str, float | None]]]  # version, AUC per model
    rebalances: Callable[[], int]
    ready: Callable[[], bool]


class WorkerCollector(Collector):
    def __init__(self, source: WorkerSource) -> None:
        self._source = source

    def collect(self) -> Iterator[Metric]:
        source = self._source
        counts = source.counts()
        tally = source.tally()
        events = CounterMetricFamily("cjo_events", "input records decided, per stream",
                                     labels=["stream"])
        for stream in STREAMS:
            events.add_metric([stream], counts.get(stream, 0))
        yield events
        dead = CounterMetricFamily("cjo_dead_letters", "records dead-lettered, by why: invalid "
                                   "(refused on arrival), processing (deciding raised), timer "
                                   "(firing raised)", labels=["kind"])
        for kind, key in (("invalid", "dead_letters"), ("processing", "failed"),
                          ("timer", "timers_failed")):
            dead.add_metric([kind], counts.get(key, 0))
        yield dead
        decisions = CounterMetricFamily("cjo_decisions", "decisions by outcome and reason (a "
                                        "decision counts once per reason it gives)",
                                        labels=["outcome", "reason"])
        for (outcome, reason), n in sorted(tally.decisions.items()):
            decisions.add_metric([outcome, reason], n)
        yield decisions
        offers = CounterMetricFamily("cjo_offers", "offers published, per channel",
                                     labels=["channel"])
        for channel in CHANNELS:
            offers.add_metric([channel], tally.offers.get(channel, 0))
        yield offers
        yield _histogram("cjo_ingest_to_publish_seconds", "from an input record's arrival at "
                         "the worker to its decisions acknowledged by the broker", [],
                         [([], tally.latency)])
        yield _histogram("cjo_inbound_request_seconds", "inbound next-best-offer requests, by "
                         "who answered: owner, forwarded (to the owner) or degraded (default)",
                         ["answer"], [([a], b) for a, b in sorted(tally.inbound.items())])
        fired = CounterMetricFamily("cjo_timers_fired", "durable timers fired")
        fired.add_metric([], counts.get("timers_fired", 0))
        yield fired
        stored = GaugeMetricFamily("cjo_timers_stored", "durable timers waiting, per owned "
                                   "partition (counted every few seconds)", labels=["partition"])
        due = GaugeMetricFamily("cjo_timers_due", "of those, due at the partition's watermark "
                                "(fired by the next tick or record)", labels=["partition"])
        for timers in source.timers():
            stored.add_metric([str(timers.partition)], timers.stored)
            due.add_metric([str(timers.partition)], timers.due)
        yield stored
        yield due
        lag = GaugeMetricFamily("cjo_consumer_lag", "records of an owned input partition not "
                                "committed yet (end offset less committed offset)",
                                labels=["topic", "partition"])
        for (topic, partition), behind in sorted(source.lag().items()):
            lag.add_metric([topic, str(partition)], behind)
        yield lag
        version, aucs = source.model()
        model = GaugeMetricFamily("cjo_model_version", "version of the model snapshot deciding "
                                  "(-1: none yet)")
        model.add_metric([], -1 if version is None else version)
        yield model
        auc = GaugeMetricFamily("cjo_model_auc", "progressive ROC AUC of each trigger's model "
                                "(each response scored before it was learnt)", labels=["model"])
        for model_id, value in sorted(aucs.items()):
            if value is not None:
                auc.add_metric([model_id], value)
        yield auc
        rebalances = CounterMetricFamily("cjo_rebalances", "consumer group rebalances this "
                                         "worker went through")
        rebalances.add_metric([], source.rebalances())
        yield rebalances
        ready = GaugeMetricFamily("cjo_ready", "1 when /readyz answers 200")
        ready.add_metric([], 1 if source.ready() else 0)
        yield ready


def _histogram(name: str, doc: str, labels: list[str],
               series: list[tuple[list[str], Buckets]]) -> HistogramMetricFamily:
    family = HistogramMetricFamily(name, doc, labels=labels)
    for values, buckets in series:
        family.add_metric(values, buckets.cumulative(), buckets.sum)
    return family


class TimerCounts:
    """Timers counted per owned partition at most every ``TIMER_COUNT_EVERY_S`` (a scan of
    RocksDB), off the event loop."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._at = -TIMER_COUNT_EVERY_S
        self.last: list[TimerCount] = []

    def due(self) -> bool:
        return self._clock() - self._at >= TIMER_COUNT_EVERY_S

    def count(self, partitions: Mapping[int, tuple[Any, int]]) -> list[TimerCount]:
        """``partitions``: partition -> (database, watermark). Blocking: run in a thread."""
        self._at = self._clock()
        counted = []
        for partition, (db, watermark) in sorted(partitions.items()):
            stored, due = count_timers(db, watermark)
            counted.append(TimerCount(partition, stored, due))
        self.last = counted
        return counted
