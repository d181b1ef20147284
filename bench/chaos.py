"""`--burst` and `--soak MINUTES`: one cjo worker under a load that changes, or that lasts.

Each runs on input topics of its own (prefix ``burst`` or ``soak``): every profile first at full
speed, the worker catches up on them, then the events are produced on a rate schedule, each stamped
with its production wall time (as the latency row does). A sampler reads the worker's RSS and
the group's lag (records produced but not yet committed) every second. Per offer, the latency
is its ``published_at`` less the production time of its triggering record.

- burst: steady rate, then ten times that rate for a while, then the steady rate again; per
  phase the p50/p99 latency (by the production time of the triggering record), the peak RSS,
  the largest lag, and the recovery time: after the burst, how long until the p99 of every
  later 5 s window is back under the steady phase's p99;
- soak: the steady rate for MINUTES; one line a minute: RSS, p50/p99 latency, throughput
  (records committed in that minute), the worker's and the broker's CPU and the machine's load
  average (the figures of a shared machine need it); then the verdict: p99 under 1 s in every
  minute after the warm-up, and RSS flat (:func:`soak_verdict`).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from bench.children import (
    Child,
    cjo_worker,
    committed_now,
    cpu_seconds,
    load_average,
    time_commits,
)
from bench.events import Event, EventSet
from bench.produce import Produced, produce_all, produce_due
from bench.stages import Broker, input_ends, offer_topics, stage_env
from cjo import codec
from cjo.adapters.kafka_admin import create_topics, read_all
from cjo.summary import percentile

WINDOW_S = 5.0  # recovery is judged on windows of this many seconds of production time
MB = 1024 * 1024


@dataclass(frozen=True)
class Phase:
    name: str
    rate: float  # events/s
    seconds: float

    @property
    def events(self) -> int:
        return int(self.rate * self.seconds)


@dataclass
class Sample:
    at: float  # seconds since the paced load began
    rss: int
    lag: int
    committed: int
    load1: float = 0.0  # the machine's 1-minute load average
    worker_cpu_s: float = 0.0  # CPU time used so far, worker and broker
    broker_cpu_s: float = 0.0


@dataclass
class LoadRun:
    phases: list[Phase]
    started: float  # wall time (epoch s) the paced load began
    samples: list[Sample] = field(default_factory=list)
    series: list[tuple[float, int]] = field(default_factory=list)  # (s since start, delay ms)
    offers: int = 0
    base: int = 0  # records committed when the paced load began (the profiles)

    def delays(self, start: float, end: float) -> list[int]:
        return sorted(d for at, d in self.series if start <= at < end)

    def bounds(self, name: str) -> tuple[float, float]:
        start = 0.0
        for phase in self.phases:
            if phase.name == name:
                return start, start + phase.seconds
            start += phase.seconds
        raise KeyError(name)


def due_times(phases: Sequence[Phase]) -> Iterator[float]:
    """Seconds from the start at which each event is due: evenly spaced within each phase."""
    start = 0.0
    for phase in phases:
        for k in range(phase.events):
            yield start + k / phase.rate
        start += phase.seconds


def produce_schedule(bootstrap: str, topics: Mapping[str, str], events: Iterable[Event],
                     phases: Sequence[Phase], report: Produced) -> Produced:
    """The events on the phases' rates one after the other, each stamped like produce_paced."""
    return produce_due(bootstrap, topics, events, due_times(phases), report)


class Sampler(threading.Thread):
    """Every second: the worker's RSS, the group's lag against what was produced so far, the
    worker's and the broker's CPU time, the load average."""

    def __init__(self, bootstrap: str, group: str, topics: list[str], child: Child,
                 produced: Produced, origin: float, broker_pid: int | None = None) -> None:
        super().__init__(daemon=True)
        self.broker_pid = broker_pid
        self.bootstrap, self.group, self.topics = bootstrap, group, topics
        self.child, self.produced, self.origin = child, produced, origin
        self.samples: list[Sample] = []
        self._halt = threading.Event()

    def run(self) -> None:
        while not self._halt.wait(1.0):
            committed = committed_now(self.bootstrap, self.group, self.topics)
            if committed is None:  # a transient coordinator error: the next second
                continue
            try:
                ends = dict(self.produced.ends)  # written by the producer's delivery reports
            except RuntimeError:  # changed size while copied: next second
                continue
            done = sum(max(committed.get(tp, -1), 0) for tp in ends)
            pid = self.child.proc.pid if self.child.proc is not None else None
            self.samples.append(Sample(time.time() - self.origin, self.child.rss_bytes(),
                                       max(0, sum(ends.values()) - done), done, load_average(),
                                       cpu_seconds(pid), cpu_seconds(self.broker_pid)))

    def stop(self) -> list[Sample]:
        self._halt.set()
        self.join(30)
        return self.samples


def run_load(run: Broker, events: EventSet, phases: list[Phase], budget_s: float) -> LoadRun:
    stage = run.prefix  # "burst", "soak": inputs, outputs and group of their own
    inputs = run.inputs()
    create_topics(run.bootstrap, inputs.values(), run.partitions)
    profiles = produce_all(run.bootstrap, inputs, events.profiles)
    env = stage_env(run, stage, run.tmp / "data")
    child = cjo_worker(env, run.tmp / f"{stage}.log").start()
    group, marks = env["CJO_APP_ID"], [env["CJO_TOPIC_TICKS"]]
    topics = [inputs[s] for s in inputs]
    try:
        time_commits(run.bootstrap, group, input_ends(profiles.ends, inputs, ("subscribers",)),
                     [child], budget_s, marks=marks)
        report = Produced(ends=dict(profiles.ends))
        origin = time.time()
        sampler = Sampler(run.bootstrap, group, topics, child, report, origin, run.broker_pid)
        sampler.start()
        try:
            count = sum(p.events for p in phases)
            produce_schedule(run.bootstrap, inputs, events.events[:count], phases, report)
            time_commits(run.bootstrap, group, input_ends(report.ends, inputs), [child],
                         budget_s, marks=marks)
        finally:
            samples = sampler.stop()
    finally:
        child.stop()
    result = LoadRun(phases, origin, samples, base=sum(profiles.ends.values()))
    for record in read_all(run.bootstrap, offer_topics(stage, run.prefix)):
        if record.value is None:
            continue
        offer = codec.decode(record.value)[1]
        result.offers += 1
        at = report.produced_at.get(offer["trigger_event_id"])
        if at is not None:
            result.series.append((at / 1000 - origin, offer["published_at"] - at))
    result.series.sort()
    return result


def burst_phases(rate: float, quick: bool) -> list[Phase]:
    steady, burst, after = (20.0, 20.0, 60.0) if quick else (60.0, 60.0, 120.0)
    return [Phase("before", rate, steady), Phase("burst", rate * 10, burst),
            Phase("after", rate, after)]


def _p(values: Sequence[int], q: float) -> float | None:
    return float(percentile(list(values), q)) if values else None


def windows(load: LoadRun, phase: str, since: float | None = None) -> list[dict[str, Any]]:
    """p50/p99 per ``WINDOW_S`` of production time over ``phase`` (from ``since``, its start by
    default); ``from_s`` counts from there."""
    start, end = load.bounds(phase)
    origin = start if since is None else since
    found: list[dict[str, Any]] = []
    t = origin
    while t < end:
        delays = load.delays(t, min(t + WINDOW_S, end))
        found.append({"from_s": t - origin, "offers": len(delays),
                      "p50_ms": _p(delays, 50), "p99_ms": _p(delays, 99)})
        t += WINDOW_S
    return found


def after_windows(load: LoadRun) -> list[dict[str, Any]]:
    """The windows from the burst's end to the run's end."""
    return windows(load, "after")


def steady_window_p99(load: LoadRun) -> float | None:
    """The worst window p99 of the steady phase before the burst: the bar a window after the
    burst must clear (a window's p99 against the phase's p99 would fail half of steady ones)."""
    found = [w["p99_ms"] for w in windows(load, "before") if w["p99_ms"] is not None]
    return max(found) if found else None


def recovery_s(load: LoadRun, bar: float, q: str = "p99_ms") -> float | None:
    """Seconds after the burst until the ``q`` latency of every later window is at or under
    ``bar`` (``p99_ms``: the whole tail is back; ``p50_ms``: the typical offer is); None if
    the last window judged is still over it. The run's last window is not judged: it holds the
    end of the input, which the event-time merge releases only after its idle wait."""
    recovered: float | None = None
    for window in after_windows(load)[:-1]:
        value = window[q]
        if value is not None and value > bar:
            recovered = None
        elif recovered is None and value is not None:
            recovered = window["from_s"]
    return recovered


def burst_report(load: LoadRun) -> dict[str, Any]:
    phases: dict[str, Any] = {}
    for phase in load.phases:
        start, end = load.bounds(phase.name)
        delays = load.delays(start, end)
        during = [s for s in load.samples if start <= s.at < end] or load.samples[-1:]
        phases[phase.name] = {
            "rate": phase.rate, "seconds": phase.seconds, "offers": len(delays),
            "p50_ms": _p(delays, 50), "p99_ms": _p(delays, 99),
            "max_lag": max((s.lag for s in during), default=0),
            "peak_rss_mb": round(max((s.rss for s in during), default=0) / MB, 1)}
    steady_p99 = phases["before"]["p99_ms"]
    bar = steady_window_p99(load)
    return {"phases": phases, "peak_rss_mb": round(max(s.rss for s in load.samples) / MB, 1)
            if load.samples else None,
            "max_lag": max((s.lag for s in load.samples), default=0),
            "steady_p99_ms": steady_p99,
            "steady_window_p99_ms": bar,
            "recovery_s": None if bar is None else recovery_s(load, bar),
            "recovery_p50_s": None if steady_p99 is None else recovery_s(load, steady_p99,
                                                                          "p50_ms"),
            "after_windows": after_windows(load),
            "offers": load.offers, "measured": len(load.series)}


def burst_text(report: dict[str, Any]) -> str:
    lines = ["burst: phase, rate/s, seconds, offers measured, p50/p99 ms, max lag, peak RSS MB"]
    for name, p in report["phases"].items():
        lines.append(f"  {name:6} {p['rate']:>7,.0f} {p['seconds']:>5.0f} {p['offers']:>7,} "
                     f"{_ms(p['p50_ms'])}/{_ms(p['p99_ms'])} {p['max_lag']:>9,} "
                     f"{p['peak_rss_mb']:>7,.1f}")
    lines.append(f"  peak RSS {report['peak_rss_mb']} MB, max lag {report['max_lag']:,} records")
    lines.append(f"  recovery: every later {WINDOW_S:.0f} s window's p99 under the worst steady "
                 f"window p99 ({_ms(report['steady_window_p99_ms'])} ms): "
                 f"{_s(report['recovery_s'])}; its p50 under the steady p99 "
                 f"({_ms(report['steady_p99_ms'])} ms): {_s(report['recovery_p50_s'])}")
    lines.append(f"  after the burst, per {WINDOW_S:.0f} s (p50/p99 ms): " + ", ".join(
        f"{_ms(w['p50_ms'])}/{_ms(w['p99_ms'])}" for w in report["after_windows"]))
    return "\n".join(lines)


def _s(seconds: float | None) -> str:
    return "not within the after phase" if seconds is None else f"{seconds:.0f} s"


def _cpu_pct(samples: Sequence[Sample], field_name: str) -> float | None:
    """CPU used between the first and the last sample, % of one core."""
    if len(samples) < 2 or samples[-1].at <= samples[0].at:
        return None
    used = float(getattr(samples[-1], field_name) - getattr(samples[0], field_name))
    return round(100 * used / (samples[-1].at - samples[0].at), 1)


def soak_report(load: LoadRun) -> list[dict[str, Any]]:
    minutes: list[dict[str, Any]] = []
    total = sum(p.seconds for p in load.phases)
    previous = load.base
    m = 0
    while m * 60 < total:
        start, end = m * 60.0, (m + 1) * 60.0
        delays = load.delays(start, end)
        inside = [s for s in load.samples if start <= s.at < end]
        last = inside[-1].committed if inside else previous
        minutes.append({"minute": m + 1, "rss_mb": round(max((s.rss for s in inside),
                                                              default=0) / MB, 1),
                        "p50_ms": _p(delays, 50), "p99_ms": _p(delays, 99),
                        "offers": len(delays), "records_per_s": round((last - previous) / 60),
                        "max_lag": max((s.lag for s in inside), default=0),
                        "worker_cpu_pct": _cpu_pct(inside, "worker_cpu_s"),
                        "broker_cpu_pct": _cpu_pct(inside, "broker_cpu_s"),
                        "load1": max((s.load1 for s in inside), default=0.0)})
        previous = last
        m += 1
    return minutes


P99_BAR_MS = 1000.0  # the bar: p99 under 1 s in every minute after the warm-up
RSS_FLAT = 0.10  # RSS "flat": the last minute within 10 % of the first one after the warm-up


def warmup_minutes(minutes: int) -> int:
    """The minutes left out of the verdict: RocksDB's memtables and block cache fill while every
    subscriber gets a first event (about 10 minutes at 100,000 subscribers and 400/s)."""
    return max(1, min(10, minutes // 6))


def soak_verdict(minutes: list[dict[str, Any]]) -> dict[str, Any]:
    """After the warm-up: the worst minute's p99 (every minute's must be under 1 s), and the
    RSS of the first and last minutes (flat: the last within 10 % of the first). The last
    minute's latency is left out when the run has more (it holds the end of the input, which
    the event-time merge releases after its idle wait)."""
    warm = warmup_minutes(len(minutes))
    judged = minutes[warm:]
    latency = judged[:-1] if len(judged) > 1 else judged
    p99s = [m["p99_ms"] for m in latency if m["p99_ms"] is not None]
    over = [m["minute"] for m in latency if m["p99_ms"] is not None and m["p99_ms"] >= P99_BAR_MS]
    rss = [m["rss_mb"] for m in judged if m["rss_mb"]]
    growth = (rss[-1] - rss[0]) / rss[0] if len(rss) > 1 else None
    return {"warmup_minutes": warm, "minutes_judged": len(latency),
            "worst_p99_ms": max(p99s) if p99s else None, "minutes_over_1s": over,
            "p99_met": bool(p99s) and not over,
            "rss_first_mb": rss[0] if rss else None, "rss_last_mb": rss[-1] if rss else None,
            "rss_max_mb": max(rss) if rss else None,
            "rss_growth": None if growth is None else round(growth, 3),
            "rss_flat": growth is not None and growth <= RSS_FLAT}


def verdict_text(verdict: dict[str, Any]) -> str:
    growth = verdict["rss_growth"]
    warm = verdict["warmup_minutes"]
    return (f"soak verdict, after {warm} minute{'s' if warm != 1 else ''} of warm-up: worst minute "
            f"p99 {_ms(verdict['worst_p99_ms'])} ms over {verdict['minutes_judged']} minutes "
            f"({'met' if verdict['p99_met'] else 'MISSED'}: p99 < 1 s in every minute"
            + (f"; over in minutes {verdict['minutes_over_1s']}" if verdict["minutes_over_1s"]
               else "") + f"); RSS {verdict['rss_first_mb']} -> {verdict['rss_last_mb']} MB "
            f"(max {verdict['rss_max_mb']}; "
            + ("-" if growth is None else f"{growth:+.1%}")
            + f", {'flat' if verdict['rss_flat'] else 'NOT flat'}: within 10 %)")


def soak_text(minutes: list[dict[str, Any]]) -> str:
    lines = ["soak: minute, RSS MB, p50/p99 ms, records/s committed, max lag, CPU % of a core "
             "(worker, broker), load average"]
    lines += [f"  {r['minute']:>3} {r['rss_mb']:>7,.1f} {_ms(r['p50_ms'])}/{_ms(r['p99_ms'])} "
              f"{r['records_per_s']:>7,} {r['max_lag']:>7,} {_pct(r.get('worker_cpu_pct'))} "
              f"{_pct(r.get('broker_cpu_pct'))} {r.get('load1', 0.0):5.2f}" for r in minutes]
    return "\n".join(lines)


def _pct(value: float | None) -> str:
    return "    -" if value is None else f"{value:5.0f}"


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:,.0f}"
